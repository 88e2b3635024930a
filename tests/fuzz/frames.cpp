// Fuzz target: the framing of every byte-stream transport (net/framing.hpp)
// over the in-memory pair: arbitrary bytes as what the peer sent, read
// message by message until the stream ends or a frame is refused.
#include "fuzz.hpp"
#include "pmdi/net/memory.hpp"

namespace net = pmdi::net;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  boost::asio::io_context io;
  auto ends = net::memory_pair(io.get_executor(), "client", "garbler[0]");
  auto& a = ends.first;
  auto& b = ends.second;
  a->stream().inject(pmdi::fuzz::bytes(data, size));
  a->shutdown();  // end of stream after the injected bytes
  // Types below 16 expected, each with its own limit (as a receiver's catalogue gives them).
  const net::type_limits limits = [](net::message_type t) -> std::optional<std::size_t> {
    if (t < 16) return std::size_t{1} << (t % 12 + 2);
    return std::nullopt;
  };
  pmdi::fuzz::expect_refusal_or_success([&] {
    pmdi::fuzz::run(io, [&]() -> boost::asio::awaitable<void> {
      for (;;) (void)co_await b->receive(limits, net::after(std::chrono::seconds(5)), "a fuzzed frame");
    }());
  });
  return 0;
}
