// Fuzz target: the handshake messages (net/secure.hpp), both sides, over the
// in-memory pair. The first byte picks the side under test:
//   even: the responder (secure_accept) reads the rest as what an initiator sent
//   odd:  the initiator (secure_connect) reads the rest as the responder's answer
// The peers' keys come from a fixed generator, so a recorded transcript in the
// corpus replays (its reply and key confirmation are deterministic).
#include "fuzz.hpp"
#include "pmdi/net/memory.hpp"
#include "pmdi/net/secure.hpp"

namespace net = pmdi::net;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  boost::asio::io_context io;
  pmdi::seed s{};
  pmdi::prg rng(s);
  const net::local_identity client{"client", net::keygen(rng)}, garbler{"garbler[0]", net::keygen(rng)};
  auto ends = net::memory_pair(io.get_executor(), "peer", "self");
  auto& a = ends.first;
  auto& b = ends.second;
  a->stream().inject(pmdi::fuzz::bytes(data + 1, size - 1));
  a->stream().close_outgoing();  // the side under test can still send its reply
  const auto until = net::after(std::chrono::seconds(5));
  pmdi::fuzz::expect_refusal_or_success([&] {
    if (data[0] % 2 == 0) {
      const net::peer_directory known{{"garbler[0]", garbler.keys.pk}};
      pmdi::fuzz::run(io, [&]() -> boost::asio::awaitable<void> {
        auto link = co_await net::secure_accept(std::move(b), client, known, rng, until);
        (void)co_await link->receive(net::expect_type(1, 1024), until, "a record");
      }());
    } else {
      pmdi::fuzz::run(io, [&]() -> boost::asio::awaitable<void> {
        auto link = co_await net::secure_connect(std::move(b), garbler, "client", client.keys.pk, rng, until);
        (void)co_await link->receive(net::expect_type(1, 1024), until, "a record");
      }());
    }
  });
  return 0;
}
