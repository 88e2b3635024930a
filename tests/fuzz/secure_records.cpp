// Fuzz target: secure records (net/secure.hpp) after a real handshake over
// the in-memory pair: frames of the fuzzer's choosing (type, length, bytes:
// forged, truncated, replayed or reordered ciphertexts) reach the receiving
// end, which must refuse each with a pmdi::error or accept a genuine one.
//   input: repeated [u8 kind][u16 length][length bytes]
//     kind 0: the bytes as a frame of type 1 (a forged record)
//     kind 1: a genuine record of those bytes, sealed by the sender
//     kind 2: the bytes raw onto the stream (no framing)
#include "fuzz.hpp"
#include "pmdi/net/memory.hpp"
#include "pmdi/net/secure.hpp"

namespace net = pmdi::net;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  boost::asio::io_context io;
  pmdi::seed s{};
  pmdi::prg rng(s);
  auto ends = net::memory_pair(io.get_executor(), "client", "evaluator[0]");
  auto* raw_a = ends.first.get();
  const net::local_identity ia{"client", net::keygen(rng)}, ib{"evaluator[0]", net::keygen(rng)};
  const net::peer_directory known{{"client", ia.keys.pk}};
  std::unique_ptr<net::secure_transport> a, b;
  pmdi::fuzz::run(io, [&]() -> boost::asio::awaitable<void> {
    using namespace boost::asio::experimental::awaitable_operators;
    const auto until = net::after(std::chrono::seconds(5));
    auto both = co_await (net::secure_connect(std::move(ends.first), ia, "evaluator[0]", ib.keys.pk, rng, until) &&
                          net::secure_accept(std::move(ends.second), ib, known, rng, until));
    a = std::move(std::get<0>(both));
    b = std::move(std::get<1>(both));
  }());
  const net::type_limits limits = [](net::message_type t) -> std::optional<std::size_t> {
    if (t < 8) return 4096;
    return std::nullopt;
  };
  pmdi::fuzz::expect_refusal_or_success([&] {
    pmdi::fuzz::run(io, [&]() -> boost::asio::awaitable<void> {
      std::size_t at = 0;
      while (at + 3 <= size) {
        const std::uint8_t kind = data[at] % 3;
        const std::size_t n = std::min<std::size_t>(data[at + 1] | std::size_t{data[at + 2]} << 8, size - at - 3);
        const auto body = pmdi::fuzz::bytes(data + at + 3, n);
        at += 3 + n;
        if (kind == 0) {
          const auto h = net::encode_frame_header(1, body.size());
          raw_a->stream().inject(h);
          raw_a->stream().inject(body);
        } else if (kind == 1) {
          co_await a->send(static_cast<net::message_type>(n % 8), body);
        } else {
          raw_a->stream().inject(body);
        }
      }
      raw_a->shutdown();
      for (;;) (void)co_await b->receive(limits, net::after(std::chrono::seconds(5)), "a fuzzed record");
    }());
  });
  return 0;
}
