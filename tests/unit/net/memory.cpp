// In-memory transport pair and the framing it shares with TCP.
#include <catch2/catch.hpp>

#include <boost/asio/use_awaitable.hpp>

#include "pmdi/net/memory.hpp"
#include "net_test_util.hpp"

namespace asio = boost::asio;
namespace net = pmdi::net;
using pmdi::test::bytes_of;
using pmdi::test::run_all;
using namespace std::chrono_literals;

namespace {

net::type_limits any_up_to(std::size_t max) {
  return [max](net::message_type t) -> std::optional<std::size_t> {
    if (t < 100) return max;
    return std::nullopt;
  };
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("memory pair: a buffer handed over arrives as it is, copied ones in order, read chunks freed", "[net][memory]") {
  asio::io_context io;
  auto [a, b] = net::memory_pair(io.get_executor(), "garbler[0]", "evaluator[0]");
  std::vector<std::byte> big(1 << 20);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::byte>(i * 7 + 3);
  const auto expected = big;
  const auto small = bytes_of("labels follow");
  run_all(
      io,
      [&]() -> asio::awaitable<void> {
        co_await a->send(5, small);          // copied
        co_await a->send(6, std::move(big));  // handed over
        co_await a->send(7, small);          // copied after it
        CHECK(a->stream().queued_outgoing().size() == 3 * net::frame_header_bytes + 2 * small.size() + expected.size());
        auto m = co_await b->receive(any_up_to(2 << 20), net::after(1s), "small");
        CHECK(m.payload == small);
        m = co_await b->receive(any_up_to(2 << 20), net::after(1s), "big");
        CHECK(m.type == 6);
        CHECK(m.payload == expected);
        m = co_await b->receive(any_up_to(2 << 20), net::after(1s), "small again");
        CHECK(m.payload == small);
        // handed over without the test hook's gathering: the receiver gets the sender's buffer
        std::vector<std::byte> again = expected;
        const std::byte* const again_at = again.data();
        co_await a->send(6, std::move(again));
        m = co_await b->receive(any_up_to(2 << 20), net::after(1s), "big again");
        CHECK(m.payload.data() == again_at);
        CHECK(m.payload == expected);
      }());
  CHECK(a->counters().payload_bytes_sent == 2 * small.size() + 2 * expected.size());
  CHECK(b->counters().payload_bytes_received == a->counters().payload_bytes_sent);
  CHECK(a->stream().queued_outgoing().empty());
}

TEST_CASE("memory pair: a second send or receive while one is in flight is refused, naming the link", "[net][memory]") {
  asio::io_context io;
  auto [a, b] = net::memory_pair(io.get_executor(), "garbler[0]", "evaluator[0]", std::nullopt, 16);
  const std::vector<std::byte> body(100, std::byte{7});
  std::string send_refused, receive_refused;
  net::message got;
  run_all(
      io, [&]() -> asio::awaitable<void> { co_await a->send(5, body); }(),  // 16 bytes fit: it waits for the reader
      [&]() -> asio::awaitable<void> {
        try {
          co_await a->send(6, body);
        } catch (const pmdi::usage_error& e) {
          send_refused = e.what();
        }
        got = co_await b->receive(any_up_to(128), net::after(1s), "body");  // waits for the rest of it
      }(),
      [&]() -> asio::awaitable<void> {
        try {
          (void)co_await b->receive(any_up_to(128), net::after(1s), "a second one");
        } catch (const pmdi::usage_error& e) {
          receive_refused = e.what();
        }
      }());
  CHECK(send_refused == "garbler[0]: two concurrent sends on the link to evaluator[0]");
  CHECK(receive_refused == "evaluator[0]: two concurrent receives on the link to garbler[0]");
  CHECK(got.type == 5);
  CHECK(got.payload == body);
}

TEST_CASE("memory pair: round trip both ways, counters exact", "[net][memory]") {
  asio::io_context io;
  auto [a, b] = net::memory_pair(io.get_executor(), "client", "garbler[0]");
  const auto hello = bytes_of("hello garbler");
  const auto reply = bytes_of("hi");
  run_all(
      io,
      [&]() -> asio::awaitable<void> {
        co_await a->send(7, hello);
        co_await a->send(8, {});
        auto m = co_await b->receive(any_up_to(64), net::after(1s), "hello");
        REQUIRE(m.type == 7);
        REQUIRE(m.payload == hello);
        m = co_await b->receive(any_up_to(64), net::after(1s), "empty");
        REQUIRE(m.type == 8);
        REQUIRE(m.payload.empty());
        co_await b->send(9, reply);
        m = co_await a->receive(net::expect_type(9, 2), net::after(1s), "reply");
        REQUIRE(m.payload == reply);
      }());

  const net::link_counters ca = a->counters(), cb = b->counters();
  CHECK(ca.messages_sent == 2);
  CHECK(ca.payload_bytes_sent == hello.size());
  CHECK(ca.wire_bytes_sent == hello.size() + 2 * net::frame_header_bytes);
  CHECK(ca.messages_received == 1);
  CHECK(ca.payload_bytes_received == reply.size());
  CHECK(ca.wire_bytes_received == reply.size() + net::frame_header_bytes);
  CHECK(cb.messages_sent == ca.messages_received);
  CHECK(cb.messages_received == ca.messages_sent);
  CHECK(cb.payload_bytes_received == ca.payload_bytes_sent);
  CHECK(cb.wire_bytes_received == ca.wire_bytes_sent);
  CHECK(cb.wire_bytes_sent == ca.wire_bytes_received);
}

TEST_CASE("memory pair: a receiver waiting first is woken by the send", "[net][memory]") {
  asio::io_context io;
  auto [a, b] = net::memory_pair(io.get_executor(), "evaluator[0]", "garbler[0]");
  std::vector<std::byte> got;
  run_all(
      io,
      [&]() -> asio::awaitable<void> {
        auto m = co_await b->receive(any_up_to(1 << 20), net::after(2s), "tables");
        got = std::move(m.payload);
      }(),
      [&]() -> asio::awaitable<void> {
        std::vector<std::byte> big(100000);
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::byte>(i * 7);
        co_await a->send(1, big);
      }());
  REQUIRE(got.size() == 100000);
  CHECK(got[99999] == static_cast<std::byte>(99999 * 7));
}

TEST_CASE("framing: an over-long length is refused before the payload arrives", "[net][framing]") {
  asio::io_context io;
  auto [a, b] = net::memory_pair(io.get_executor(), "client", "garbler[0]");
  // Only the header of a 4 GiB frame: the receiver must refuse without waiting or allocating.
  const auto h = net::encode_frame_header(3, 0xFFFFFFF0u);
  a->stream().inject(h);
  const auto msg = error_of([&] {
    run_all(io, [&]() -> asio::awaitable<void> { (void)co_await b->receive(any_up_to(1000), net::after(5s), "z"); }());
  });
  CHECK(msg.find("client") != std::string::npos);
  CHECK(msg.find("announces 4294967280 bytes, more than the 1000 allowed") != std::string::npos);
  CHECK(msg.find("garbler[0]: ") == 0);
  // The link is unusable afterwards: the same error again.
  CHECK(error_of([&] {
          run_all(io, [&]() -> asio::awaitable<void> { (void)co_await b->receive(any_up_to(1000), net::after(5s)); }());
        }) == msg);
}

TEST_CASE("framing: unknown type, bad reserved field and truncated frame are refused", "[net][framing]") {
  SECTION("unknown type") {
    asio::io_context io;
    auto [a, b] = net::memory_pair(io.get_executor(), "client", "garbler[0]");
    const auto msg = error_of([&] {
      run_all(
          io, [&]() -> asio::awaitable<void> { co_await a->send(500, bytes_of("x")); },
          [&]() -> asio::awaitable<void> { (void)co_await b->receive(any_up_to(10), net::after(5s), "the input"); }());
    });
    CHECK(msg == "garbler[0]: unexpected message type 0x01f4 from client while waiting for the input");
  }
  SECTION("reserved field") {
    asio::io_context io;
    auto [a, b] = net::memory_pair(io.get_executor(), "client", "garbler[0]");
    auto h = net::encode_frame_header(3, 0);
    h[7] = std::byte{1};
    a->stream().inject(h);
    const auto msg = error_of([&] {
      run_all(io, [&]() -> asio::awaitable<void> { (void)co_await b->receive(any_up_to(10), net::after(5s)); }());
    });
    CHECK(msg.find("reserved header field") != std::string::npos);
  }
  SECTION("truncated frame") {
    asio::io_context io;
    auto [a, b] = net::memory_pair(io.get_executor(), "client", "garbler[0]");
    const auto h = net::encode_frame_header(3, 10);
    a->stream().inject(h);
    a->stream().inject(bytes_of("abcd"));
    a->shutdown();
    const auto msg = error_of([&] {
      run_all(io, [&]() -> asio::awaitable<void> { (void)co_await b->receive(any_up_to(10), net::after(5s)); }());
    });
    CHECK(msg.find("garbler[0]: truncated frame from client: the link closed after 4 of 10 bytes") == 0);
  }
}

TEST_CASE("memory pair: a silent peer is a timeout within the deadline", "[net][deadline]") {
  asio::io_context io;
  auto [a, b] = net::memory_pair(io.get_executor(), "evaluator[1]", "garbler[1]");
  const auto t0 = net::clock::now();
  bool timed_out = false;
  std::string what;
  run_all(io, [&]() -> asio::awaitable<void> {
    try {
      (void)co_await a->receive(any_up_to(10), net::after(50ms), "garbled tables");
    } catch (const pmdi::timeout_error& e) {
      timed_out = true;
      what = e.what();
    }
  }());
  const auto waited = net::clock::now() - t0;
  CHECK(timed_out);
  CHECK(waited >= 50ms);
  CHECK(waited < 1s);
  CHECK(what.find("evaluator[1]: timed out after") == 0);
  CHECK(what.find("waiting for garbled tables from garbler[1]") != std::string::npos);
}

TEST_CASE("memory pair: a closed peer is an error naming it, never a hang", "[net][closed]") {
  asio::io_context io;
  auto [a, b] = net::memory_pair(io.get_executor(), "client", "cloud");
  std::string what;
  run_all(
      io,
      [&]() -> asio::awaitable<void> {
        try {
          (void)co_await a->receive(any_up_to(10), net::after(10s), "Enc(A c + s)");
        } catch (const net::peer_closed_error& e) {
          what = e.what();
        }
      }(),
      [&]() -> asio::awaitable<void> {
        b->shutdown();
        co_return;
      }());
  CHECK(what == "client: cloud closed the link while we waited for Enc(A c + s)");
  // Destroying an end closes it too.
  auto [c, d] = net::memory_pair(io.get_executor(), "client", "cloud");
  d.reset();
  CHECK_THROWS_AS(run_all(io, [&]() -> asio::awaitable<void> { (void)co_await c->receive(any_up_to(1), net::after(10s)); }()),
                  net::peer_closed_error);
}

TEST_CASE("memory pair: both ends report the secret it was made with, and only that pair", "[net][memory]") {
  asio::io_context io;
  pmdi::master_key k1{}, k2{};
  k1.fill(std::byte{0x11});
  k2.fill(std::byte{0x22});
  auto [a, b] = net::memory_pair(io.get_executor(), "client", "evaluator[0]", k1);
  auto [c, d] = net::memory_pair(io.get_executor(), "garbler[0]", "evaluator[0]", k2);
  auto [e, f] = net::memory_pair(io.get_executor(), "client", "cloud");
  REQUIRE(a->pair_secret().size() == k1.size());
  CHECK(std::equal(a->pair_secret().begin(), a->pair_secret().end(), k1.begin()));
  CHECK(std::equal(b->pair_secret().begin(), b->pair_secret().end(), k1.begin()));
  CHECK(std::equal(d->pair_secret().begin(), d->pair_secret().end(), k2.begin()));
  CHECK_FALSE(std::equal(c->pair_secret().begin(), c->pair_secret().end(), k1.begin()));
  // A pair made without one has none (the protocol then refuses to derive OT seeds).
  CHECK(e->pair_secret().empty());
  CHECK(f->pair_secret().empty());
}

TEST_CASE("memory pair with a capacity: a send waits for its reader, and times out when nobody reads", "[net][memory]") {
  SECTION("a message 64 times the capacity arrives whole while the reader reads") {
    asio::io_context io;
    auto [a, b] = net::memory_pair(io.get_executor(), "cloud", "client", std::nullopt, 1024);
    std::vector<std::byte> big(64 * 1024);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::byte>(i * 7 + 3);
    bool sent = false;
    std::size_t queued_when_sent = 0;
    run_all(
        io,
        [&]() -> asio::awaitable<void> {
          co_await a->send(7, big);
          sent = true;
          queued_when_sent = a->stream().queued_outgoing().size();
        }(),
        [&]() -> asio::awaitable<void> {
          auto m = co_await b->receive(any_up_to(big.size()), net::after(5s), "the answer");
          CHECK(m.payload == big);
        }());
    CHECK(sent);
    CHECK(queued_when_sent <= 1024);  // never more than the capacity unread
    CHECK(a->counters().wire_bytes_sent == big.size() + net::frame_header_bytes);
  }
  SECTION("two ends that both send before they read stop after the stall, each with the capacity moved") {
    asio::io_context io;
    auto [a, b] = net::memory_pair(io.get_executor(), "client", "cloud", std::nullopt, 1024);
    const std::vector<std::byte> body(4096, std::byte{1});
    net::io_result ra{}, rb{};
    run_all(
        io, [&]() -> asio::awaitable<void> { ra = co_await a->stream().write_all({}, body, 200ms); }(),
        [&]() -> asio::awaitable<void> { rb = co_await b->stream().write_all({}, body, 200ms); }());
    CHECK(ra.status == net::io_status::timeout);
    CHECK(rb.status == net::io_status::timeout);
    CHECK(ra.transferred == 1024);
    CHECK(rb.transferred == 1024);
  }
  SECTION("a writer waiting for room learns that the link closed") {
    asio::io_context io;
    auto [a, b] = net::memory_pair(io.get_executor(), "client", "cloud", std::nullopt, 16);
    const std::vector<std::byte> body(64, std::byte{2});
    net::io_result r{};
    run_all(
        io, [&]() -> asio::awaitable<void> { r = co_await a->stream().write_all({}, body, 5s); }(),
        [&]() -> asio::awaitable<void> {
          b->shutdown();
          co_return;
        }());
    CHECK(r.status == net::io_status::closed);
    CHECK(r.transferred == 16);
  }
}
