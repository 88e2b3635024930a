#pragma once
// The command line of pmdi's binaries (the role binaries, the launcher,
// pmdi-keygen, pmdi-plan), on Boost.Program_options: each option declared
// once, with its target, its value's name and its help, which --help prints.
//
//   command_line c;
//   c.flag("quiet", o.quiet, "no progress lines")
//    .value("party", o.party, "ROLE", "this party")
//    .number("images", o.images, 1, 1'000'000, "N", "number of inferences");
//   c.parse(argc, argv);
//   if (c.help_asked()) std::cout << c.help();
//
// option() takes a conversion of its own (a digest, a ring "BITS/FRAC").
// value() stores the argument that follows its option (or follows '='),
// whatever it looks like; number() an integer in [lo, hi]. No abbreviations,
// no positional arguments, each option at most once. Each mistake is a
// usage_error naming the option: "--images needs a value (see --help)",
// "--images: expected an integer in [1, 1000000], got 'x'",
// "unknown option '--imgaes' (see --help)".
#include <boost/program_options/errors.hpp>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/positional_options.hpp>
#include <boost/program_options/value_semantic.hpp>
#include <boost/program_options/variables_map.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

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

class command_line {
  using po_description = boost::program_options::options_description;

 public:
  // `hint` ends the sentences about a mistake; --help (and -h) is declared.
  explicit command_line(std::string hint = " (see --help)") : hint_(std::move(hint)) {
    groups_.push_back(std::make_unique<po_description>("options"));
    flag("help,h", help_, "print this help and exit");
  }

  // Starts a group of options with its own heading in the help ("client only").
  command_line& group(const std::string& caption) {
    groups_.push_back(std::make_unique<po_description>(caption));
    return *this;
  }

  // An option without a value: `out` becomes true when it is given.
  command_line& flag(const char* name, bool& out, const char* help) {
    namespace po = boost::program_options;
    groups_.back()->add_options()(name, po::bool_switch()->notifier([&out](bool on) {
      if (on) out = true;
    }), help);
    return *this;
  }

  // An option whose value is a string or a path (or an optional one).
  template <class T>
  command_line& value(const char* name, T& out, const char* value_name, const char* help) {
    groups_.back()->add_options()(name, text()->value_name(value_name)->notifier([&out](const std::string& s) {
      out = s;
    }), help);
    return *this;
  }

  // An option whose value is an integer in [lo, hi] (or an optional integer,
  // or a duration in the unit of `out`).
  template <class T>
  command_line& number(const char* name, T& out, std::uint64_t lo, std::uint64_t hi, const char* value_name,
                       const char* help) {
    groups_.back()->add_options()(name, text()->value_name(value_name)->notifier([&out, flag = dashed(name), lo, hi](const std::string& s) {
      out = detail::number_target<T>::from(detail::parse_number(flag, s, lo, hi));
    }), help);
    return *this;
  }

  // An option whose value `store` converts and keeps (throwing usage_error
  // for a value it refuses).
  command_line& option(const char* name, const char* value_name, const char* help,
                       std::function<void(const std::string&)> store) {
    groups_.back()->add_options()(name, text()->value_name(value_name)->notifier(std::move(store)), help);
    return *this;
  }

  // Parses argv[1..] into the targets; a usage_error for each mistake.
  void parse(int argc, const char* const* argv) {
    namespace po = boost::program_options;
    namespace style = po::command_line_style;
    po_description all;
    for (const auto& g : groups_) all.add(*g);
    all.add_options()("pmdi-positional", po::value<std::vector<std::string>>());  // refused below
    po::positional_options_description positional;
    positional.add("pmdi-positional", -1);
    try {
      po::variables_map vm;
      po::store(po::command_line_parser(argc, argv)
                    .options(all)
                    .positional(positional)
                    .style(style::unix_style & ~style::allow_guessing)
                    .run(),
                vm);
      if (vm.count("pmdi-positional") != 0)
        throw usage_error("unexpected argument '" + vm["pmdi-positional"].as<std::vector<std::string>>().front() +
                          "' (every argument is an option)" + hint_);
      po::notify(vm);
    } catch (const po::unknown_option& e) {
      throw usage_error("unknown option '" + e.get_option_name() + "'" + hint_);
    } catch (const po::invalid_command_line_syntax& e) {
      if (e.kind() == po::invalid_syntax::missing_parameter)
        throw usage_error(e.get_option_name() + " needs a value" + hint_);
      if (e.kind() == po::invalid_syntax::extra_parameter)
        throw usage_error(e.get_option_name() + " takes no value" + hint_);
      throw usage_error(std::string(e.what()) + hint_);
    } catch (const po::multiple_occurrences& e) {
      throw usage_error(e.get_option_name() + " is given more than once" + hint_);
    } catch (const po::error& e) {
      throw usage_error(std::string(e.what()) + hint_);
    }
  }
  void parse(int argc, char** argv) { parse(argc, const_cast<const char* const*>(argv)); }

  // Whether --help (or -h) was given.
  [[nodiscard]] bool help_asked() const noexcept { return help_; }

  // Every option with its value's name and help, group by group.
  [[nodiscard]] std::string help() const {
    std::ostringstream s;
    for (const auto& g : groups_) s << *g;
    return s.str();
  }

 private:
  [[nodiscard]] static boost::program_options::typed_value<std::string>* text() {
    return boost::program_options::value<std::string>();
  }
  [[nodiscard]] static std::string dashed(const char* name) {
    std::string s(name);
    return "--" + s.substr(0, s.find(','));
  }

  std::string hint_;
  bool help_ = false;
  std::vector<std::unique_ptr<po_description>> groups_;
};

}  // namespace pmdi::run
