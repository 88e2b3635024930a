// pmdi-bench net: transport throughput (in memory, TCP loopback; plain and
// secure) and handshake latency, all in one process and one io_context.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <vector>

#include "bench.hpp"
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

struct tcp_ends {
  std::unique_ptr<net::transport> a, b;
};

tcp_ends tcp_pair(asio::io_context& io) {
  net::tcp_listener l(io.get_executor(), "b", "127.0.0.1", 0);
  tcp_ends e;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> { e.b = co_await l.accept(net::after(5s)); }, asio::detached);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    e.a = co_await net::tcp_connect("a", "b", "127.0.0.1", l.port(), net::after(5s));
  }, asio::detached);
  io.run();
  io.restart();
  return e;
}

std::pair<std::unique_ptr<net::transport>, std::unique_ptr<net::transport>> secure_over(
    asio::io_context& io, std::unique_ptr<net::transport> a, std::unique_ptr<net::transport> b, pmdi::prg& rng) {
  const net::local_identity ia{"a", net::keygen(rng)}, ib{"b", net::keygen(rng)};
  const net::peer_directory known{{"a", ia.keys.pk}};
  std::unique_ptr<net::secure_transport> sa, sb;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    sa = co_await net::secure_connect(std::move(a), ia, "b", ib.keys.pk, rng, net::after(5s));
  }, asio::detached);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    sb = co_await net::secure_accept(std::move(b), ib, known, rng, net::after(5s));
  }, asio::detached);
  io.run();
  io.restart();
  return {std::move(sa), std::move(sb)};
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
    auto [sa, sb] = secure_over(io, std::move(a), std::move(b), rng);
    const double t = median_seconds(reps, [&] { (void)stream(io, *sa, *sb, size, count); });
    r.metric("net", "memory_secure_mb_per_s", mb / t, "MB/s");
  }
  {
    auto e = tcp_pair(io);
    const double t = median_seconds(reps, [&] { (void)stream(io, *e.a, *e.b, size, count); });
    r.metric("net", "tcp_plain_mb_per_s", mb / t, "MB/s");
  }
  {
    auto e = tcp_pair(io);
    auto [sa, sb] = secure_over(io, std::move(e.a), std::move(e.b), rng);
    const double t = median_seconds(reps, [&] { (void)stream(io, *sa, *sb, size, count); });
    r.metric("net", "tcp_secure_mb_per_s", mb / t, "MB/s");
  }
  {
    const double t = median_seconds(args.quick ? 5 : 50, [&] {
      auto [a, b] = net::memory_pair(io.get_executor(), "a", "b");
      auto s = secure_over(io, std::move(a), std::move(b), rng);
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
