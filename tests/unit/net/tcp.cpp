// TCP transport on loopback (ephemeral ports).
#include <catch2/catch.hpp>

#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "pmdi/net/tcp.hpp"
#include "net_test_util.hpp"

namespace asio = boost::asio;
namespace net = pmdi::net;
using pmdi::test::bytes_of;
using pmdi::test::run_all;
using namespace std::chrono_literals;

namespace {
net::type_limits small_types() {
  return [](net::message_type t) -> std::optional<std::size_t> {
    if (t < 16) return 1 << 20;
    return std::nullopt;
  };
}

asio::awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

// n bytes: byte i is i % m.
std::vector<std::byte> pattern(std::size_t n, unsigned m) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>(i % m);
  return v;
}
}  // namespace

TEST_CASE("tcp: round trip on 127.0.0.1 with exact counters", "[net][tcp]") {
  asio::io_context io;
  net::tcp_listener listener(io.get_executor(), "garbler[0]", "127.0.0.1", 0);
  const std::uint16_t port = listener.port();
  REQUIRE(port != 0);
  std::unique_ptr<net::transport> server, client;
  const std::vector<std::byte> big = pattern(300000, 251);
  run_all(
      io,
      [&]() -> asio::awaitable<void> {
        server = co_await listener.accept(net::after(5s));
        auto m = co_await server->receive(small_types(), net::after(5s), "z_1");
        REQUIRE(m.type == 3);
        REQUIRE(m.payload == big);
        co_await server->send(4, bytes_of("ok"));
      }(),
      [&]() -> asio::awaitable<void> {
        client = co_await net::tcp_connect("client", "garbler[0]", "127.0.0.1", port, net::after(5s));
        co_await client->send(3, big);
        auto m = co_await client->receive(small_types(), net::after(5s), "ack");
        REQUIRE(m.payload == bytes_of("ok"));
      }());
  const auto c = client->counters(), s = server->counters();
  CHECK(c.messages_sent == 1);
  CHECK(c.payload_bytes_sent == big.size());
  CHECK(c.wire_bytes_sent == big.size() + net::frame_header_bytes);
  CHECK(c.wire_bytes_received == 2 + net::frame_header_bytes);
  CHECK(s.messages_received == 1);
  CHECK(s.wire_bytes_received == c.wire_bytes_sent);
  CHECK(s.wire_bytes_sent == c.wire_bytes_received);
  CHECK(client->peer_label() == "garbler[0] at 127.0.0.1:" + std::to_string(port));
}

TEST_CASE("tcp: connect retries until the listener appears", "[net][tcp]") {
  asio::io_context io;
  std::uint16_t port = 0;
  {
    net::tcp_listener probe(io.get_executor(), "evaluator[0]", "127.0.0.1", 0);
    port = probe.port();
  }
  std::unique_ptr<net::transport> a, b;
  std::optional<net::tcp_listener> late;
  run_all(
      io,
      [&]() -> asio::awaitable<void> {
        a = co_await net::tcp_connect("garbler[0]", "evaluator[0]", "127.0.0.1", port, net::after(5s));
        co_await a->send(1, bytes_of("x"));
      }(),
      [&]() -> asio::awaitable<void> {
        asio::steady_timer t(co_await asio::this_coro::executor, 60ms);
        co_await t.async_wait(asio::use_awaitable);
        late.emplace(io.get_executor(), "evaluator[0]", "127.0.0.1", port);
        b = co_await late->accept(net::after(5s));
        auto m = co_await b->receive(small_types(), net::after(5s));
        REQUIRE(m.payload == bytes_of("x"));
      }());
}

TEST_CASE("tcp: errors name the peer (refused connect, silent and closed peer)", "[net][tcp]") {
  asio::io_context io;
  SECTION("nobody listens: timeout at the deadline") {
    std::uint16_t port = 0;
    {
      net::tcp_listener probe(io.get_executor(), "x", "127.0.0.1", 0);
      port = probe.port();
    }
    const auto t0 = net::clock::now();
    CHECK_THROWS_WITH(run_all(io, [&]() -> asio::awaitable<void> {
                        (void)co_await net::tcp_connect("client", "cloud", "127.0.0.1", port, net::after(150ms));
                      }()),
                      Catch::StartsWith("client: could not connect to cloud at 127.0.0.1:" + std::to_string(port)));
    CHECK(net::clock::now() - t0 < 2s);
  }
  SECTION("silent and closing peers") {
    net::tcp_listener listener(io.get_executor(), "cloud", "127.0.0.1", 0);
    std::unique_ptr<net::transport> server, client;
    std::string timeout_what, closed_what;
    run_all(
        io,
        [&]() -> asio::awaitable<void> {
          server = co_await listener.accept(net::after(5s));
          try {
            (void)co_await server->receive(small_types(), net::after(80ms), "Enc(r_1)");
          } catch (const pmdi::timeout_error& e) {
            timeout_what = e.what();
          }
          server->shutdown();
        }(),
        [&]() -> asio::awaitable<void> {
          client = co_await net::tcp_connect("client", "cloud", "127.0.0.1", listener.port(), net::after(5s));
          try {
            (void)co_await client->receive(small_types(), net::after(5s), "Enc(A c + s)");
          } catch (const net::peer_closed_error& e) {
            closed_what = e.what();
          }
        }());
    CHECK(timeout_what.find("cloud: timed out after") == 0);
    CHECK(timeout_what.find("waiting for Enc(r_1) from unauthenticated peer at 127.0.0.1:") != std::string::npos);
    CHECK(closed_what.find("client: cloud at 127.0.0.1:" + std::to_string(listener.port()) +
                           " closed the link while we waited for Enc(A c + s)") == 0);
  }
}

// A send's deadline is a progress deadline. A frame that
// takes far longer than the stall limit goes through while bytes keep moving
// (a slow link); a peer that stops reading fails the send within the limit.
TEST_CASE("tcp: a send fails only when no byte moves for the stall limit", "[net][tcp]") {
  asio::io_context io;
  net::tcp_options opt;
  opt.stall = 400ms;
  net::tcp_listener listener(io.get_executor(), "evaluator[0]", "127.0.0.1", 0, opt);
  const std::uint16_t port = listener.port();
  const std::vector<std::byte> big = pattern(16 << 20, 253);
  std::unique_ptr<net::transport> server, client;
  std::size_t read_total = 0;
  std::chrono::steady_clock::duration slow_send{};
  run_all(
      io,
      [&]() -> asio::awaitable<void> {  // a slow reader: 512 kB every 50 ms (about 10 MB/s)
        server = co_await listener.accept(net::after(5s));
        auto& sock = dynamic_cast<net::tcp_transport&>(*server).stream().socket();
        sock.set_option(asio::socket_base::receive_buffer_size(64 << 10));  // little in flight: the reader sets the pace
        std::vector<std::byte> chunk(512 << 10);
        while (read_total < big.size() + net::frame_header_bytes) {
          co_await pause(50ms);
          read_total += co_await asio::async_read(
              sock, asio::buffer(chunk.data(), std::min(chunk.size(), big.size() + net::frame_header_bytes - read_total)),
              asio::use_awaitable);
        }
      }(),
      [&]() -> asio::awaitable<void> {
        client = co_await net::tcp_connect("garbler[0]", "evaluator[0]", "127.0.0.1", port, net::after(5s), opt);
        dynamic_cast<net::tcp_transport&>(*client).stream().socket().set_option(
            asio::socket_base::send_buffer_size(64 << 10));
        const auto t0 = std::chrono::steady_clock::now();
        co_await client->send(3, big);
        slow_send = std::chrono::steady_clock::now() - t0;
      }());
  CHECK(read_total == big.size() + net::frame_header_bytes);
  CHECK(slow_send > 800ms);  // twice the stall limit, and it went through
  CHECK(client->counters().payload_bytes_sent == big.size());

  // A peer that reads nothing: the send stops within the stall limit of the
  // last byte the kernel took, naming the peer and how much went.
  std::unique_ptr<net::transport> silent, sender;
  std::string what;
  std::chrono::steady_clock::duration stalled{};
  run_all(
      io,
      [&]() -> asio::awaitable<void> { silent = co_await listener.accept(net::after(5s)); }(),
      [&]() -> asio::awaitable<void> {
        sender = co_await net::tcp_connect("garbler[0]", "evaluator[0]", "127.0.0.1", port, net::after(5s), opt);
        const auto t0 = std::chrono::steady_clock::now();
        try {
          co_await sender->send(3, big);
        } catch (const pmdi::timeout_error& e) {
          what = e.what();
        }
        stalled = std::chrono::steady_clock::now() - t0;
      }());
  CHECK_THAT(what, Catch::StartsWith("garbler[0]: sending type 0x0003 (16777216 bytes) to evaluator[0] at 127.0.0.1:" +
                                     std::to_string(port) + ": no byte moved for 400 ms ("));
  CHECK_THAT(what, Catch::EndsWith("of 16777224 bytes sent); the peer stopped reading"));
  CHECK(stalled >= 400ms);
  CHECK(stalled < 3s);
}

// A receive's deadline bounds the wait for a message's header; its payload
// then has the same progress deadline as a send: a large message over a slow
// link arrives whole however long it takes while bytes keep coming, and a
// peer that stops sending in the middle is found within the stall limit.
TEST_CASE("tcp: a payload is read while its bytes keep coming, past the receive deadline", "[net][tcp]") {
  asio::io_context io;
  net::tcp_options opt;
  opt.stall = 600ms;
  net::tcp_listener listener(io.get_executor(), "evaluator[0]", "127.0.0.1", 0, opt);
  const std::uint16_t port = listener.port();
  const std::vector<std::byte> payload = pattern(1 << 20, 241);
  const net::frame_header header = net::encode_frame_header(3, payload.size());
  // Writes the header and the first `first` payload bytes, then the rest in
  // quarters 150 ms apart (stop: nothing more, the link held open 1.2 s).
  const auto slow_writer = [&](std::unique_ptr<net::transport>& link, std::size_t first,
                               bool stop) -> asio::awaitable<void> {
    link = co_await net::tcp_connect("garbler[0]", "evaluator[0]", "127.0.0.1", port, net::after(5s), opt);
    auto& sock = dynamic_cast<net::tcp_transport&>(*link).stream().socket();
    co_await asio::async_write(sock, asio::buffer(header.data(), header.size()), asio::use_awaitable);
    co_await asio::async_write(sock, asio::buffer(payload.data(), first), asio::use_awaitable);
    if (stop) {
      co_await pause(1200ms);
      co_return;
    }
    const std::size_t quarter = (payload.size() - first) / 4;
    for (std::size_t at = first; at < payload.size(); at += quarter) {
      co_await pause(150ms);
      co_await asio::async_write(sock, asio::buffer(payload.data() + at, std::min(quarter, payload.size() - at)),
                                 asio::use_awaitable);
    }
  };

  std::unique_ptr<net::transport> server, client;
  net::message got;
  std::chrono::steady_clock::duration took{};
  run_all(
      io,
      [&]() -> asio::awaitable<void> {
        server = co_await listener.accept(net::after(5s));
        const auto t0 = std::chrono::steady_clock::now();
        got = co_await server->receive(small_types(), net::after(250ms), "z_1");
        took = std::chrono::steady_clock::now() - t0;
      }(),
      slow_writer(client, 4096, false));
  CHECK(got.type == 3);
  CHECK(got.payload == payload);
  CHECK(took > 500ms);  // twice the receive deadline, and it arrived whole

  std::unique_ptr<net::transport> receiver, stalled;
  std::string what;
  std::chrono::steady_clock::duration waited{};
  run_all(
      io,
      [&]() -> asio::awaitable<void> {
        receiver = co_await listener.accept(net::after(5s));
        const auto t0 = std::chrono::steady_clock::now();
        try {
          (void)co_await receiver->receive(small_types(), net::after(5s), "z_1");
        } catch (const pmdi::timeout_error& e) {
          what = e.what();
        }
        waited = std::chrono::steady_clock::now() - t0;
      }(),
      slow_writer(stalled, 1000, true));
  CHECK_THAT(what, Catch::StartsWith("evaluator[0]: receiving type 0x0003 (1048576 bytes) from unauthenticated peer at "
                                     "127.0.0.1:"));
  CHECK_THAT(what, Catch::EndsWith(" for z_1: no byte came for 600 ms (1000 of 1048576 bytes received); the peer "
                                   "stopped sending"));
  CHECK(waited >= 600ms);
  CHECK(waited < 1200ms);
}
