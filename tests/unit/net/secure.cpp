// Secure channel: handshake, records, refusals, pairwise secrets.
#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>

#include "pmdi/net/loopback.hpp"
#include "pmdi/net/memory.hpp"
#include "pmdi/net/secure.hpp"
#include "pmdi/net/tcp.hpp"
#include "net_test_util.hpp"

namespace asio = boost::asio;
namespace net = pmdi::net;
using pmdi::test::bytes_of;
using pmdi::test::run_all;
using namespace std::chrono_literals;

namespace {

pmdi::prg fixed_prg(std::uint8_t tag) {
  pmdi::seed s{};
  s[0] = std::byte{tag};
  return pmdi::prg(s);
}

net::local_identity party(const std::string& name, std::uint8_t tag) {
  auto rng = fixed_prg(static_cast<std::uint8_t>(100 + tag));
  return {name, net::keygen(rng)};
}

net::type_limits up_to(std::size_t max) {
  return [max](net::message_type t) -> std::optional<std::size_t> {
    if (t < 100) return max;
    return std::nullopt;
  };
}

struct secure_pair {
  std::unique_ptr<net::secure_transport> a, b;  // a initiated, b accepted
  net::memory_transport* raw_a = nullptr;       // a's inner end (to tamper with)
  std::string error_a, error_b;
};

// Runs the handshake over an in-memory pair; errors are recorded, not thrown.
secure_pair handshake(asio::io_context& io, const net::local_identity& ia, const net::local_identity& ib,
                      const net::public_key& b_key_as_a_knows_it, const net::peer_directory& b_knows) {
  secure_pair p;
  auto [ta, tb] = net::memory_pair(io.get_executor(), ia.name, ib.name);
  p.raw_a = ta.get();
  auto rng_a = fixed_prg(1), rng_b = fixed_prg(2);
  std::unique_ptr<net::transport> ua = std::move(ta), ub = std::move(tb);
  run_all(
      io,
      [&]() -> asio::awaitable<void> {
        try {
          p.a = co_await net::secure_connect(std::move(ua), ia, ib.name, b_key_as_a_knows_it, rng_a, net::after(2s));
        } catch (const std::exception& e) {
          p.error_a = e.what();
        }
      }(),
      [&]() -> asio::awaitable<void> {
        try {
          p.b = co_await net::secure_accept(std::move(ub), ib, b_knows, rng_b, net::after(2s));
        } catch (const std::exception& e) {
          p.error_b = e.what();
        }
      }());
  return p;
}

}  // namespace

TEST_CASE("secure: handshake, round trip, counters and equal pair secrets", "[net][secure]") {
  asio::io_context io;
  const auto g = party("garbler[0]", 1), e = party("evaluator[0]", 2);
  auto p = handshake(io, g, e, e.keys.pk, {{"garbler[0]", g.keys.pk}});
  REQUIRE(p.error_a.empty());
  REQUIRE(p.error_b.empty());
  CHECK(p.b->names().peer == "garbler[0]");
  CHECK(std::equal(p.a->pair_secret().begin(), p.a->pair_secret().end(), p.b->pair_secret().begin()));

  const auto hs_wire = p.a->counters().wire_bytes_sent;
  const auto msg = bytes_of("labels of a_k");
  run_all(io, [&]() -> asio::awaitable<void> {
    co_await p.a->send(5, msg);
    co_await p.a->send(5, msg);
    auto m = co_await p.b->receive(up_to(100), net::after(1s), "labels");
    REQUIRE(m.payload == msg);
    m = co_await p.b->receive(up_to(100), net::after(1s), "labels");
    REQUIRE(m.payload == msg);
    co_await p.b->send(6, {});
    m = co_await p.a->receive(up_to(0), net::after(1s), "z");
    REQUIRE(m.type == 6);
  }());
  const auto ca = p.a->counters(), cb = p.b->counters();
  CHECK(ca.messages_sent == 2);
  CHECK(ca.payload_bytes_sent == 2 * msg.size());
  CHECK(ca.wire_bytes_sent == hs_wire + 2 * (net::frame_header_bytes + msg.size() + net::record_overhead));
  CHECK(cb.messages_received == 2);
  CHECK(cb.payload_bytes_received == 2 * msg.size());
  CHECK(cb.wire_bytes_received == ca.wire_bytes_sent);
  CHECK(ca.wire_bytes_received == cb.wire_bytes_sent);
  CHECK(ca.messages_received == 1);
  // The ciphertext on the wire is not the plaintext.
}

TEST_CASE("secure: pair secrets differ between pairs and between sessions", "[net][secure]") {
  asio::io_context io;
  const auto c = party("client", 1), g = party("garbler[0]", 2), e = party("evaluator[0]", 3);
  auto ce = handshake(io, c, e, e.keys.pk, {{"client", c.keys.pk}, {"garbler[0]", g.keys.pk}});
  auto ge = handshake(io, g, e, e.keys.pk, {{"client", c.keys.pk}, {"garbler[0]", g.keys.pk}});
  REQUIRE(ce.a);
  REQUIRE(ge.a);
  const auto s1 = ce.a->pair_secret(), s2 = ge.a->pair_secret();
  CHECK(!std::equal(s1.begin(), s1.end(), s2.begin()));
  CHECK(std::equal(s2.begin(), s2.end(), ge.b->pair_secret().begin()));
  // The secret seeds pmdi::derive_seed directly.
  const auto seed_a = pmdi::derive_seed(ge.a->pair_master_key(), 7, "pmdi-ot3");
  const auto seed_b = pmdi::derive_seed(ge.b->pair_master_key(), 7, "pmdi-ot3");
  CHECK(seed_a == seed_b);
}

TEST_CASE("secure: tampered, replayed and reserved-type records are refused", "[net][secure]") {
  asio::io_context io;
  const auto g = party("garbler[1]", 1), e = party("evaluator[1]", 2);
  SECTION("tampered ciphertext") {
    auto p = handshake(io, g, e, e.keys.pk, {{"garbler[1]", g.keys.pk}});
    REQUIRE(p.a);
    std::string what;
    run_all(io, [&]() -> asio::awaitable<void> {
      co_await p.a->send(5, bytes_of("garbled table"));
      auto queued = p.raw_a->stream().queued_outgoing();
      queued[net::frame_header_bytes + 3] ^= std::byte{0x01};
      try {
        (void)co_await p.b->receive(up_to(100), net::after(1s), "garbled tables");
      } catch (const pmdi::decode_error& ex) {
        what = ex.what();
      }
    }());
    CHECK(what == "evaluator[1]: message type 0x0005 from garbler[1] failed authentication (tampered, replayed, "
                  "reordered or forged) while waiting for garbled tables");
  }
  SECTION("replayed record") {
    auto p = handshake(io, g, e, e.keys.pk, {{"garbler[1]", g.keys.pk}});
    REQUIRE(p.a);
    std::string what;
    run_all(io, [&]() -> asio::awaitable<void> {
      co_await p.a->send(5, bytes_of("z_k"));
      const auto q = p.raw_a->stream().queued_outgoing();
      const std::vector<std::byte> copy(q.begin(), q.end());
      (void)co_await p.b->receive(up_to(100), net::after(1s));
      p.raw_a->stream().inject(copy);
      try {
        (void)co_await p.b->receive(up_to(100), net::after(1s));
      } catch (const pmdi::decode_error& ex) {
        what = ex.what();
      }
    }());
    CHECK(what.find("failed authentication") != std::string::npos);
  }
  SECTION("reserved type cannot be sent or received as data") {
    auto p = handshake(io, g, e, e.keys.pk, {{"garbler[1]", g.keys.pk}});
    REQUIRE(p.a);
    CHECK_THROWS_AS(run_all(io, [&]() -> asio::awaitable<void> { co_await p.a->send(net::finished_type, {}); }()),
                    pmdi::usage_error);
  }
}

TEST_CASE("secure: unknown peers and wrong keys are refused at the handshake", "[net][secure]") {
  asio::io_context io;
  const auto g = party("garbler[0]", 1), e = party("evaluator[0]", 2), m = party("garbler[0]", 9);
  SECTION("unknown peer") {
    auto p = handshake(io, party("mallory", 5), e, e.keys.pk, {{"garbler[0]", g.keys.pk}});
    CHECK(!p.a);
    CHECK(!p.b);
    CHECK(p.error_b == "evaluator[0]: handshake with mallory refused: unknown peer 'mallory' is not in "
                       "the deployment file");
    CHECK(p.error_a == "mallory: handshake with evaluator[0] refused by the peer: 'mallory' is not a party this "
                       "one talks to");
  }
  SECTION("initiator's static key differs from the deployment file") {
    auto p = handshake(io, m, e, e.keys.pk, {{"garbler[0]", g.keys.pk}});
    CHECK(p.error_b == "evaluator[0]: handshake with garbler[0] refused: peer key does not match the deployment file");
    CHECK(p.error_a.find("garbler[0]: handshake with evaluator[0] refused by the peer: key does not match") == 0);
  }
  SECTION("responder's static key differs from the deployment file") {
    auto p = handshake(io, g, e, m.keys.pk, {{"garbler[0]", g.keys.pk}});
    CHECK(p.error_a == "garbler[0]: handshake with evaluator[0] refused: peer key does not match the deployment file");
    CHECK(!p.b);
  }
  SECTION("impostor with the listed public key but without its secret key") {
    net::local_identity impostor{"garbler[0]", {g.keys.pk, m.keys.sk}};
    auto p = handshake(io, impostor, e, e.keys.pk, {{"garbler[0]", g.keys.pk}});
    CHECK(!p.a);
    CHECK(!p.b);
    CHECK(p.error_b == "evaluator[0]: handshake with garbler[0] refused: peer key does not match the deployment file "
                       "(key confirmation failed)");
  }
}

TEST_CASE("secure: over TCP on loopback", "[net][secure][tcp]") {
  asio::io_context io;
  const auto c = party("client", 1), g = party("garbler[0]", 2);
  net::tcp_listener listener(io.get_executor(), g.name, "127.0.0.1", 0);
  auto rng_c = fixed_prg(3), rng_g = fixed_prg(4);
  std::unique_ptr<net::secure_transport> sc, sg;
  run_all(
      io,
      [&]() -> asio::awaitable<void> {
        auto raw = co_await listener.accept(net::after(5s));
        const net::peer_directory known{{"client", c.keys.pk}};
        sg = co_await net::secure_accept(std::move(raw), g, known, rng_g, net::after(5s));
        auto m = co_await sg->receive(up_to(1 << 20), net::after(5s), "z_1");
        co_await sg->send(2, m.payload);
      }(),
      [&]() -> asio::awaitable<void> {
        auto raw = co_await net::tcp_connect(c.name, g.name, "127.0.0.1", listener.port(), net::after(5s));
        sc = co_await net::secure_connect(std::move(raw), c, g.name, g.keys.pk, rng_c, net::after(5s));
        std::vector<std::byte> z(50000, std::byte{7});
        co_await sc->send(1, z);
        auto m = co_await sc->receive(up_to(1 << 20), net::after(5s), "echo");
        REQUIRE(m.payload == z);
      }());
  CHECK(sg->names().peer == "client");
  CHECK(sg->peer_label().find("client at 127.0.0.1:") == 0);
  CHECK(std::equal(sc->pair_secret().begin(), sc->pair_secret().end(), sg->pair_secret().begin()));
}

TEST_CASE("secure: a loopback pair with an io_context per end, on two threads; a failure at either end ends both",
          "[net][secure]") {
  // a completion that throws a coroutine's failure out of run(), where run_both catches it
  const auto rethrow_failure = [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  };
  asio::io_context ia, ib;
  auto rng = fixed_prg(9);
  auto [ta, tb] = net::tcp_loopback_pair(ia, ib);
  auto [sa, sb] = net::secure_pair(ia, ib, std::move(ta), std::move(tb), rng);
  CHECK(std::equal(sa->pair_secret().begin(), sa->pair_secret().end(), sb->pair_secret().begin()));
  // a round trip, each end on its own thread
  std::vector<std::byte> echoed;
  asio::co_spawn(ia, [&]() -> asio::awaitable<void> {
    co_await sa->send(1, bytes_of("ping"));
    echoed = (co_await sa->receive(up_to(16), net::after(5s))).payload;
  }, rethrow_failure);
  asio::co_spawn(ib, [&]() -> asio::awaitable<void> {
    const auto m = co_await sb->receive(up_to(16), net::after(5s));
    co_await sb->send(1, m.payload);
  }, rethrow_failure);
  net::run_both(ia, ib);
  CHECK(echoed == bytes_of("ping"));
  // b fails while a waits on a 60 s deadline: the failure comes back at once, a stopped
  const auto t0 = std::chrono::steady_clock::now();
  asio::co_spawn(ia, [&]() -> asio::awaitable<void> { (void)co_await sa->receive(up_to(16), net::after(60s)); },
                 rethrow_failure);
  asio::co_spawn(ib, []() -> asio::awaitable<void> {
    throw pmdi::error("b failed");
    co_return;
  }, rethrow_failure);
  CHECK_THROWS_WITH(net::run_both(ia, ib), "b failed");
  CHECK(std::chrono::steady_clock::now() - t0 < 30s);
  // a's receive is still pending: closing its link ends it (an error), so nothing outlives the links
  sa->shutdown();
  CHECK_THROWS(ia.run());
}
