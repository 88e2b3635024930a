// TCP transport on loopback (ephemeral ports).
#include <catch2/catch.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

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
}  // namespace

TEST_CASE("tcp: round trip on 127.0.0.1 with exact counters", "[net][tcp]") {
  asio::io_context io;
  net::tcp_listener listener(io.get_executor(), "garbler[0]", "127.0.0.1", 0);
  const std::uint16_t port = listener.port();
  REQUIRE(port != 0);
  std::unique_ptr<net::transport> server, client;
  std::vector<std::byte> big(300000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::byte>(i % 251);
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
