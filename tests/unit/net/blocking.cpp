// Blocking handles on transports for thread-based callers.
#include <catch2/catch.hpp>

#include <thread>

#include "pmdi/net/blocking.hpp"
#include "pmdi/net/secure.hpp"
#include "net_test_util.hpp"

namespace net = pmdi::net;
using pmdi::test::bytes_of;
using namespace std::chrono_literals;

TEST_CASE("blocking: two threads talk over a secure in-memory link", "[net][blocking]") {
  auto io = std::make_shared<net::io_thread>();
  pmdi::prg rng(pmdi::seed{});
  auto ends = io->run(net::secure_memory_pair("garbler[0]", "evaluator[0]", rng));
  net::blocking_link g(io, std::move(ends.first)), e(io, std::move(ends.second));
  CHECK(g.pair_secret() == e.pair_secret());
  const auto limits = net::expect_type(3, 64);
  constexpr int rounds = 200;
  std::thread evaluator([&] {
    for (int i = 0; i < rounds; ++i) {
      auto m = e.receive(limits, 5s, "labels");
      e.send(3, m.payload);
    }
  });
  int ok = 0;
  for (int i = 0; i < rounds; ++i) {
    const auto msg = bytes_of("labels " + std::to_string(i));
    g.send(3, msg);
    ok += g.receive(limits, 5s, "z").payload == msg ? 1 : 0;
  }
  evaluator.join();
  CHECK(ok == rounds);
  CHECK(g.counters().messages_sent == rounds);
  CHECK(e.counters().messages_received == rounds);
  CHECK(e.counters().payload_bytes_received == g.counters().payload_bytes_sent);
}

TEST_CASE("blocking: timeout and closed peer surface as exceptions", "[net][blocking]") {
  auto io = std::make_shared<net::io_thread>();
  auto ends = io->call([&] { return net::memory_pair(io->executor(), "client", "cloud"); });
  net::blocking_link c(io, std::move(ends.first)), d(io, std::move(ends.second));
  const auto t0 = net::clock::now();
  CHECK_THROWS_AS(c.receive(net::expect_type(1, 8), 30ms, "Enc(c)"), pmdi::timeout_error);
  CHECK(net::clock::now() - t0 < 2s);
  CHECK_THROWS_AS(c.pair_secret(), pmdi::usage_error);
  std::thread closer([&] {
    std::this_thread::sleep_for(20ms);
    c.shutdown();
  });
  CHECK_THROWS_WITH(d.receive(net::expect_type(1, 8), 5s, "Enc(r)"),
                    "cloud: client closed the link while we waited for Enc(r)");
  closer.join();
}
