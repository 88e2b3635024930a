// pmdi-bench net: transport throughput (in memory, TCP loopback; plain and
// secure) and handshake latency, all in one process and one io_context.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <vector>

#include "bench.hpp"
#include "pmdi/net/loopback.hpp"
#include "pmdi/net/memory.hpp"
#include "pmdi/net/secure.hpp"
#include "pmdi/net/tcp.hpp"

namespace {

namespace asio = boost::asio;
namespace net = pmdi::net;
using namespace std::chrono_literals;

// Moves `count` messages of `size` bytes from a to b; seconds.
double stream(asio::io_context& io, net::transport& a, net::transport& b, std::size_t size, int count) {
  const std::vector<std::byte> payload(size, std::byte{0x5a});
  const auto limits = net::expect_type(1, size);
  const auto t0 = std::chrono::steady_clock::now();
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < count; ++i) co_await a.send(1, payload);
  }, asio::detached);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < count; ++i) (void)co_await b.receive(limits, net::after(30s));
  }, asio::detached);
  io.run();
  io.restart();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run(const pmdi::bench::args& args, pmdi::bench::report& r) {
  using pmdi::bench::median_seconds;
  asio::io_context io;
  pmdi::prg rng = pmdi::prg::from_os();
  const std::size_t size = 1 << 16;
  const int count = args.quick ? 200 : 2000;
  const int reps = args.quick ? 3 : 5;
  const double mb = double(size) * count / 1e6;
  r.note("throughput: " + std::to_string(count) + " messages of " + std::to_string(size) + " bytes, one direction");

  {
    auto [a, b] = net::memory_pair(io.get_executor(), "a", "b");
    const double t = median_seconds(reps, [&] { (void)stream(io, *a, *b, size, count); });
    r.metric("net", "memory_plain_mb_per_s", mb / t, "MB/s");
  }
  {
    auto [a, b] = net::memory_pair(io.get_executor(), "a", "b");
    auto [sa, sb] = net::secure_pair(io, std::move(a), std::move(b), rng);
    const double t = median_seconds(reps, [&] { (void)stream(io, *sa, *sb, size, count); });
    r.metric("net", "memory_secure_mb_per_s", mb / t, "MB/s");
  }
  {
    auto [a, b] = net::tcp_loopback_pair(io);
    const double t = median_seconds(reps, [&] { (void)stream(io, *a, *b, size, count); });
    r.metric("net", "tcp_plain_mb_per_s", mb / t, "MB/s");
  }
  {
    auto [a, b] = net::tcp_loopback_pair(io);
    auto [sa, sb] = net::secure_pair(io, std::move(a), std::move(b), rng);
    const double t = median_seconds(reps, [&] { (void)stream(io, *sa, *sb, size, count); });
    r.metric("net", "tcp_secure_mb_per_s", mb / t, "MB/s");
  }
  {
    const double t = median_seconds(args.quick ? 5 : 50, [&] {
      auto [a, b] = net::memory_pair(io.get_executor(), "a", "b");
      auto s = net::secure_pair(io, std::move(a), std::move(b), rng);
      pmdi::bench::keep(s);
    });
    r.metric("net", "handshake_in_memory_ms", t * 1e3, "ms");
  }
  {
    auto [a, b] = net::memory_pair(io.get_executor(), "a", "b");
    const double t = median_seconds(reps, [&] { (void)stream(io, *a, *b, 8, count * 10); });
    r.metric("net", "memory_small_msgs_per_s", count * 10 / t, "msg/s");
  }
  return 0;
}

const pmdi::bench::registrar reg("net", "transport throughput (memory/TCP, plain/secure) and handshake latency", run);

}  // namespace
