#pragma once
// Both ends of a link inside one process, for measurements: a TCP connection
// over 127.0.0.1, and the secure channel over two transports (fresh static
// keys, the real handshake). Each call runs `io` until the link is open.
//   auto [a, b] = net::tcp_loopback_pair(io);
//   auto [sa, sb] = net::secure_pair(io, std::move(a), std::move(b), rng);
// Or each end on an io_context of its own, as two processes would have them
// (both run, the second on a thread of its own, until the link is open):
//   auto [a, b] = net::tcp_loopback_pair(io_a, io_b);
//   auto [sa, sb] = net::secure_pair(io_a, io_b, std::move(a), std::move(b), rng);
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <thread>
#include <utility>

#include "pmdi/core/prg.hpp"
#include "pmdi/net/secure.hpp"
#include "pmdi/net/tcp.hpp"

namespace pmdi::net {

using transport_pair = std::pair<std::unique_ptr<transport>, std::unique_ptr<transport>>;

// Runs a (here) and b (on a thread of its own, unless it is a) until both
// are out of work, then makes them ready to run again. What either throws
// stops the other and is thrown here, after the thread has ended.
inline void run_both(boost::asio::io_context& a, boost::asio::io_context& b) {
  if (&a == &b) {
    a.run();
    a.restart();
    return;
  }
  std::exception_ptr failed_b;
  std::thread other([&] {
    try {
      b.run();
    } catch (...) {
      failed_b = std::current_exception();
      a.stop();
    }
  });
  try {
    a.run();
  } catch (...) {
    b.stop();
    other.join();
    throw;
  }
  other.join();
  a.restart();
  b.restart();
  if (failed_b) std::rethrow_exception(failed_b);
}

// End a on io_context a, end b on b.
[[nodiscard]] inline transport_pair tcp_loopback_pair(boost::asio::io_context& a, boost::asio::io_context& b) {
  using namespace std::chrono_literals;
  tcp_listener l(b.get_executor(), "b", "127.0.0.1", 0);
  transport_pair e;
  boost::asio::co_spawn(b, [&]() -> boost::asio::awaitable<void> { e.second = co_await l.accept(after(5s)); },
                        boost::asio::detached);
  boost::asio::co_spawn(a, [&]() -> boost::asio::awaitable<void> {
    e.first = co_await tcp_connect("a", "b", "127.0.0.1", l.port(), after(5s));
  }, boost::asio::detached);
  run_both(a, b);
  if (!e.first || !e.second) throw error("tcp_loopback_pair: the connection did not open");
  return e;
}

[[nodiscard]] inline transport_pair tcp_loopback_pair(boost::asio::io_context& io) { return tcp_loopback_pair(io, io); }

// The secure channel over transports a (on io_context io_a) and b (on io_b).
[[nodiscard]] inline std::pair<std::unique_ptr<secure_transport>, std::unique_ptr<secure_transport>> secure_pair(
    boost::asio::io_context& io_a, boost::asio::io_context& io_b, std::unique_ptr<transport> a,
    std::unique_ptr<transport> b, prg& rng) {
  using namespace std::chrono_literals;
  const local_identity ia{"a", keygen(rng)}, ib{"b", keygen(rng)};
  const peer_directory known{{"a", ia.keys.pk}};
  prg own_b = prg::from_os();  // on two threads, the two handshakes do not share a generator
  prg& rng_b = &io_a == &io_b ? rng : own_b;
  std::unique_ptr<secure_transport> sa, sb;
  boost::asio::co_spawn(io_a, [&]() -> boost::asio::awaitable<void> {
    sa = co_await secure_connect(std::move(a), ia, "b", ib.keys.pk, rng, after(5s));
  }, boost::asio::detached);
  boost::asio::co_spawn(io_b, [&]() -> boost::asio::awaitable<void> {
    sb = co_await secure_accept(std::move(b), ib, known, rng_b, after(5s));
  }, boost::asio::detached);
  run_both(io_a, io_b);
  if (!sa || !sb) throw error("secure_pair: the handshake did not complete");
  return {std::move(sa), std::move(sb)};
}

[[nodiscard]] inline std::pair<std::unique_ptr<secure_transport>, std::unique_ptr<secure_transport>> secure_pair(
    boost::asio::io_context& io, std::unique_ptr<transport> a, std::unique_ptr<transport> b, prg& rng) {
  return secure_pair(io, io, std::move(a), std::move(b), rng);
}

}  // namespace pmdi::net
