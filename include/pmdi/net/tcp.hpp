#pragma once
// TCP behind the transport interface: a listener that accepts, a connect that
// retries until its deadline (parties start in any order), and the shared
// framing. Every read and write races a timer (a parallel group that cancels
// the loser), so no wait outlives its deadline.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>

#include "pmdi/net/framing.hpp"

namespace pmdi::net {

namespace detail {

[[nodiscard]] inline bool is_closed(const boost::system::error_code& ec) noexcept {
  namespace e = asio::error;
  return ec == e::eof || ec == e::connection_reset || ec == e::broken_pipe || ec == e::connection_aborted ||
         ec == e::not_connected || ec == e::bad_descriptor || ec == e::shut_down || ec == e::operation_aborted;
}

[[nodiscard]] inline std::string endpoint_label(const asio::ip::tcp::endpoint& ep) {
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace detail

// A connected TCP socket as a byte_stream.
class tcp_stream {
 public:
  explicit tcp_stream(asio::ip::tcp::socket socket) : ex_(socket.get_executor()), socket_(std::move(socket)) {}

  [[nodiscard]] asio::awaitable<io_result> read_exact(std::span<std::byte> out, deadline until) {
    asio::steady_timer timer(socket_.get_executor(), until);
    auto [order, read_ec, n, timer_ec] =
        co_await asio::experimental::make_parallel_group(
            asio::async_read(socket_, asio::buffer(out.data(), out.size()), asio::deferred),
            timer.async_wait(asio::deferred))
            .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
    (void)timer_ec;
    co_return classify(order[0] == 1, read_ec, n);
  }

  // Reads `out` whole with a progress deadline: fails when no byte has
  // arrived for `stall`, however long the whole takes (the payload of a
  // large message over a slow link, once its header has come).
  [[nodiscard]] asio::awaitable<io_result> read_progress(std::span<std::byte> out, clock::duration stall) {
    return with_progress(out.size(), stall, [this, out](std::size_t done) {
      return socket_.async_read_some(asio::buffer(out.data() + done, out.size() - done), asio::deferred);
    });
  }

  // Writes header then body. `stall` is a progress deadline: the write fails
  // when no byte has moved for that long, however long the whole takes (a
  // 26 MB frame over a slow link is fine while bytes keep moving; a peer that
  // stops reading is caught within `stall` of its last byte).
  [[nodiscard]] asio::awaitable<io_result> write_all(std::span<const std::byte> header, std::span<const std::byte> body,
                                                     clock::duration stall) {
    const std::size_t total = header.size() + body.size();
    return with_progress(total, stall, [this, header, body, total](std::size_t done) {
      std::array<asio::const_buffer, 2> bufs{};
      if (done < header.size()) {
        bufs[0] = asio::buffer(header.data() + done, header.size() - done);
        bufs[1] = asio::buffer(body.data(), body.size());
      } else {
        bufs[0] = asio::buffer(body.data() + (done - header.size()), total - done);
      }
      return socket_.async_write_some(bufs, asio::deferred);  // the deferred operation keeps a copy of bufs
    });
  }

  void close() noexcept {
    boost::system::error_code ignored;
    if (socket_.is_open()) {
      socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
      socket_.close(ignored);
    }
  }

  [[nodiscard]] asio::any_io_executor get_executor() const { return ex_; }
  [[nodiscard]] asio::ip::tcp::socket& socket() noexcept { return socket_; }

 private:
  // Moves `total` bytes by steps: step(done) is one deferred read_some or
  // write_some from byte `done` on, raced against a timer of `stall` (a
  // progress deadline: the whole may take any time while bytes keep moving).
  template <class Step>
  [[nodiscard]] asio::awaitable<io_result> with_progress(std::size_t total, clock::duration stall, Step step) {
    std::size_t done = 0;
    asio::steady_timer timer(socket_.get_executor());
    while (done < total) {
      timer.expires_after(stall);
      auto [order, ec, n, timer_ec] =
          co_await asio::experimental::make_parallel_group(step(done), timer.async_wait(asio::deferred))
              .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
      (void)timer_ec;
      if (order[0] == 1 || ec) co_return classify(order[0] == 1, ec, done);
      done += n;
    }
    co_return io_result{io_status::ok, done, {}};
  }

  [[nodiscard]] static io_result classify(bool timer_won, const boost::system::error_code& ec, std::size_t n) {
    if (timer_won) return {io_status::timeout, n, {}};
    if (!ec) return {io_status::ok, n, {}};
    if (detail::is_closed(ec)) return {io_status::closed, n, ec};
    return {io_status::failed, n, ec};
  }

  asio::any_io_executor ex_;
  asio::ip::tcp::socket socket_;
};

using tcp_transport = framed_transport<tcp_stream>;

struct tcp_options {
  // A send, and a received message's payload once its header has come, fail
  // when no byte of it has moved for this long (a progress deadline, not a
  // bound on the whole frame); open_links() sets it to the deployment file's
  // receive deadline.
  clock::duration stall = std::chrono::seconds(60);
  clock::duration first_retry = std::chrono::milliseconds(10);
  clock::duration max_retry = std::chrono::milliseconds(250);
};

// Connects to host:port, retrying (refused, unreachable, not yet listening)
// with a growing pause until `until`; then throws timeout_error naming the peer.
[[nodiscard]] inline asio::awaitable<std::unique_ptr<transport>> tcp_connect(std::string self, std::string peer,
                                                                            std::string host, std::uint16_t port,
                                                                            deadline until, tcp_options opt = {}) {
  auto ex = co_await asio::this_coro::executor;
  const std::string where = host + ":" + std::to_string(port);
  asio::ip::tcp::resolver resolver(ex);
  asio::steady_timer pause(ex);
  clock::duration wait = opt.first_retry;
  boost::system::error_code last;
  const auto started = clock::now();
  for (;;) {
    auto [rec, results] = co_await resolver.async_resolve(host, std::to_string(port),
                                                          asio::as_tuple(asio::use_awaitable));
    if (!rec) {
      asio::ip::tcp::socket socket(ex);
      asio::steady_timer timer(ex, until);
      auto [order, cec, ep, tec] =
          co_await asio::experimental::make_parallel_group(asio::async_connect(socket, results, asio::deferred),
                                                           timer.async_wait(asio::deferred))
              .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
      (void)ep;
      (void)tec;
      if (order[0] == 0 && !cec) {
        socket.set_option(asio::ip::tcp::no_delay(true));
        co_return std::make_unique<tcp_transport>(tcp_stream(std::move(socket)), link_names{self, peer, where},
                                                  opt.stall);
      }
      last = cec;
    } else {
      last = rec;
    }
    if (clock::now() + wait >= until)
      throw timeout_error(self + ": could not connect to " + peer + " at " + where + " within " +
                          millis_label(clock::now() - started) + (last ? " (last error: " + last.message() + ")" : ""));
    pause.expires_after(wait);
    co_await pause.async_wait(asio::use_awaitable);
    wait = std::min(wait * 2, opt.max_retry);
  }
}

// Listens on host:port (port 0: an ephemeral port, see port()).
class tcp_listener {
 public:
  tcp_listener(asio::any_io_executor ex, std::string self, const std::string& host, std::uint16_t port,
               tcp_options opt = {})
      : self_(std::move(self)), acceptor_(ex), opt_(opt) {
    const asio::ip::tcp::endpoint ep(asio::ip::make_address(host), port);
    try {
      acceptor_.open(ep.protocol());
      acceptor_.set_option(asio::socket_base::reuse_address(true));
      acceptor_.bind(ep);
      acceptor_.listen();
    } catch (const boost::system::system_error& e) {
      throw error(self_ + ": cannot listen on " + host + ":" + std::to_string(port) + ": " + e.code().message());
    }
  }

  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  [[nodiscard]] std::string address() const { return detail::endpoint_label(acceptor_.local_endpoint()); }

  // The next incoming connection. The peer is not authenticated yet: its name
  // reads "peer at <address>" until the secure handshake sets it.
  [[nodiscard]] asio::awaitable<std::unique_ptr<transport>> accept(deadline until) {
    asio::ip::tcp::socket socket(acceptor_.get_executor());
    asio::steady_timer timer(acceptor_.get_executor(), until);
    auto [order, aec, tec] =
        co_await asio::experimental::make_parallel_group(acceptor_.async_accept(socket, asio::deferred),
                                                         timer.async_wait(asio::deferred))
            .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
    (void)tec;
    if (order[0] == 1)
      throw timeout_error(self_ + ": no peer connected to " + address() + " before the deadline");
    if (aec) throw error(self_ + ": accepting on " + address() + " failed: " + aec.message());
    socket.set_option(asio::ip::tcp::no_delay(true));
    const std::string where = detail::endpoint_label(socket.remote_endpoint());
    co_return std::make_unique<tcp_transport>(tcp_stream(std::move(socket)),
                                              link_names{self_, "unauthenticated peer", where}, opt_.stall);
  }

  void close() noexcept {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  std::string self_;
  asio::ip::tcp::acceptor acceptor_;
  tcp_options opt_;
};

}  // namespace pmdi::net
