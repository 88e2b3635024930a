#pragma once
// The command line of pmdi's binaries (the per-role mains, the launcher,
// pmdi-keygen): one walk over argv, one set of error sentences.
//
//   cli_args a(argc, argv);
//   while (a.next())
//     if (!(a.flag("--quiet", o.quiet) || a.value("--party", o.party) ||
//           a.number("--images", o.images, 1, 1'000'000)))
//       a.unknown();
//
// Every argument is an option; an option that takes a value takes the next
// argument, whatever it looks like. flag/value/number store into their target
// and return true when the current option is theirs. Each mistake is a
// usage_error naming the option: "--images needs a value (see --help)",
// "--images: expected an integer in [1, 1000000], got 'x'",
// "unknown option '--imgaes' (see --help)".
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "pmdi/core/error.hpp"

namespace pmdi::run {

namespace detail {

// TEXT as a decimal integer in [lo, hi], or a usage_error naming `flag`.
[[nodiscard]] inline std::uint64_t parse_number(std::string_view flag, const std::string& text, std::uint64_t lo,
                                                std::uint64_t hi) {
  std::size_t end = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(text, &end);
  } catch (const std::exception&) {
    end = 0;
  }
  if (text.empty() || end != text.size() || text[0] == '-' || v < lo || v > hi)
    throw usage_error(std::string(flag) + ": expected an integer in [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "], got '" + text + "'");
  return v;
}

// What number() stores into: an integer, an optional integer or a duration.
template <class T>
struct number_target {
  [[nodiscard]] static T from(std::uint64_t n) { return static_cast<T>(n); }
};
template <class T>
struct number_target<std::optional<T>> {
  [[nodiscard]] static std::optional<T> from(std::uint64_t n) { return number_target<T>::from(n); }
};
template <class Rep, class Period>
struct number_target<std::chrono::duration<Rep, Period>> {
  [[nodiscard]] static std::chrono::duration<Rep, Period> from(std::uint64_t n) {
    return std::chrono::duration<Rep, Period>(static_cast<Rep>(n));
  }
};

}  // namespace detail

class cli_args {
 public:
  // `hint` ends the sentences about a missing value and an unknown option.
  cli_args(int argc, char** argv, std::string_view hint = " (see --help)") : argc_(argc), argv_(argv), hint_(hint) {}

  // Moves to the next option; false when there is none left.
  [[nodiscard]] bool next() {
    if (++i_ >= argc_) return false;
    current_ = argv_[i_];
    return true;
  }

  [[nodiscard]] std::string_view current() const { return current_; }

  // The current option is `name`, an option without a value.
  [[nodiscard]] bool flag(std::string_view name) const { return current_ == name; }
  bool flag(std::string_view name, bool& out) const {
    if (!flag(name)) return false;
    out = true;
    return true;
  }

  // The current option is `name`: `out` = the next argument (a string, a path).
  template <class T>
  bool value(std::string_view name, T& out) {
    if (current_ != name) return false;
    if (i_ + 1 >= argc_) throw usage_error(std::string(current_) + " needs a value" + hint_);
    out = std::string(argv_[++i_]);
    return true;
  }

  // The current option is `name`: `out` = the next argument, an integer in [lo, hi].
  template <class T>
  bool number(std::string_view name, T& out, std::uint64_t lo, std::uint64_t hi) {
    std::string text;
    if (!value(name, text)) return false;
    out = detail::number_target<T>::from(detail::parse_number(name, text, lo, hi));
    return true;
  }

  // The current option is none of those the caller knows.
  [[noreturn]] void unknown() const { throw usage_error("unknown option '" + std::string(current_) + "'" + hint_); }

 private:
  int argc_;
  char** argv_;
  std::string hint_;
  int i_ = 0;
  std::string_view current_;
};

}  // namespace pmdi::run
