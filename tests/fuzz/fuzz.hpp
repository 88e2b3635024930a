#pragma once
// Shared by the libFuzzer targets (tests/fuzz/*.cpp, docs/fuzzing.md): every
// parser of untrusted bytes must accept the input or throw pmdi::error (a
// decode_error, usage_error, ...). Anything else escaping (std::out_of_range,
// std::bad_alloc from an unchecked length, a crash, a sanitizer report) is a
// finding: it reaches libFuzzer, which stops and writes the input.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <span>
#include <string_view>

#include "pmdi/core/error.hpp"

namespace pmdi::fuzz {

[[nodiscard]] inline std::span<const std::byte> bytes(const std::uint8_t* data, std::size_t size) noexcept {
  return {reinterpret_cast<const std::byte*>(data), size};
}
[[nodiscard]] inline std::string_view text(const std::uint8_t* data, std::size_t size) noexcept {
  return {reinterpret_cast<const char*>(data), size};
}

// Calls f(); a pmdi::error is the expected refusal of bad input.
template <class F>
void expect_refusal_or_success(F&& f) {
  try {
    f();
  } catch (const pmdi::error&) {
  }
}

// Runs one coroutine on a fresh io_context to its end; rethrows what it threw.
template <class Awaitable>
void run(boost::asio::io_context& io, Awaitable&& a) {
  std::exception_ptr failed;
  boost::asio::co_spawn(io, std::forward<Awaitable>(a), [&](std::exception_ptr e) { failed = e; });
  io.run();
  io.restart();
  if (failed) std::rethrow_exception(failed);
}

}  // namespace pmdi::fuzz
