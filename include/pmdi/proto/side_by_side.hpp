#pragma once
// Two steps of one party side by side (the client's uploads and its reading
// of the cloud's answers, proto/client.hpp):
//
//   co_await side_by_side(a(), b());
//
// returns when both have returned. When one fails, the other is cancelled
// (it ends at its next wait, with operation_aborted) and the error of the one
// that failed first is rethrown: a party's error names the peer or step that
// failed, not the cancellation that failure caused. (Boost.Asio's `a && b`
// throws multiple_exceptions holding a's error whichever failed first.)
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>

namespace pmdi::proto {

[[nodiscard]] inline boost::asio::awaitable<void> side_by_side(boost::asio::awaitable<void> a,
                                                               boost::asio::awaitable<void> b) {
  namespace asio = boost::asio;
  const auto ex = co_await asio::this_coro::executor;
  auto [order, error_a, error_b] =
      co_await asio::experimental::make_parallel_group(asio::co_spawn(ex, std::move(a), asio::deferred),
                                                       asio::co_spawn(ex, std::move(b), asio::deferred))
          .async_wait(asio::experimental::wait_for_one_error(), asio::use_awaitable);
  const bool a_first = order[0] == 0;
  if (const auto& first = a_first ? error_a : error_b) std::rethrow_exception(first);
  if (const auto& second = a_first ? error_b : error_a) std::rethrow_exception(second);
}

}  // namespace pmdi::proto
