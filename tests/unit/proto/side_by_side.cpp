// proto/side_by_side.hpp: both steps run to their end; when one fails, the
// other is cancelled and the first failure is what the caller sees, whichever
// operand it was (not the cancellation it caused).
#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <stdexcept>
#include <string>

#include "pmdi/proto/side_by_side.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// Waits on a timer (a long one stands for a step blocked on a peer).
asio::awaitable<void> wait_for(std::chrono::milliseconds d, int* done) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
  ++*done;
}

asio::awaitable<void> fail_after(std::chrono::milliseconds d, std::string what) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
  throw std::runtime_error(what);
}

// Runs `step` on a fresh io_context; returns the message of what it threw ("" if nothing).
template <class Step>
std::string run(Step step) {
  asio::io_context io;
  auto f = asio::co_spawn(io, std::move(step), asio::use_future);
  io.run();
  try {
    f.get();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("side_by_side returns when both steps have, and rethrows the first failure", "[proto][side_by_side]") {
  int done = 0;
  SECTION("both succeed") {
    CHECK(run(pmdi::proto::side_by_side(wait_for(5ms, &done), wait_for(1ms, &done))).empty());
    CHECK(done == 2);
  }
  SECTION("the second operand fails while the first waits: the second's error, the first cancelled") {
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(run(pmdi::proto::side_by_side(wait_for(10s, &done), fail_after(1ms, "second failed"))) == "second failed");
    CHECK(done == 0);
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  }
  SECTION("the first operand fails while the second waits") {
    CHECK(run(pmdi::proto::side_by_side(fail_after(1ms, "first failed"), wait_for(10s, &done))) == "first failed");
    CHECK(done == 0);
  }
  SECTION("both fail: the earlier failure") {
    CHECK(run(pmdi::proto::side_by_side(fail_after(20ms, "late"), fail_after(1ms, "early"))) == "early");
  }
}
