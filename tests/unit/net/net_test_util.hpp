#pragma once
// Runs coroutines to completion on one io_context and rethrows their failures.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <string>
#include <vector>

namespace pmdi::test {

namespace asio = boost::asio;

// Each entry runs as its own coroutine; the first failure is rethrown after io.run().
template <class... Awaitables>
void run_all(asio::io_context& io, Awaitables&&... tasks) {
  std::vector<std::exception_ptr> errors(sizeof...(tasks));
  std::size_t i = 0;
  (asio::co_spawn(io, std::forward<Awaitables>(tasks), [&errors, k = i++](std::exception_ptr e) { errors[k] = e; }),
   ...);
  io.run();
  io.restart();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

inline std::vector<std::byte> bytes_of(std::string_view s) {
  std::vector<std::byte> v(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) v[i] = static_cast<std::byte>(s[i]);
  return v;
}

}  // namespace pmdi::test
