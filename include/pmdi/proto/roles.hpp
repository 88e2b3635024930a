#pragma once
// The parties of privateMDI as types, and their run-time identities.
//
//   role::client, role::cloud, role::garbler<J>, role::evaluator<J>, role::compute<J, V>
//
// J is the cluster index, V the compute server's index inside its cluster.
// role_name_v<R> is the printable name ("garbler[1]", "compute[0,2]");
// role_id is the same identity at run time (deployment files, launchers);
// its path() form ("garbler/1", "compute/0/2") is what deployment files use.
#include <array>
#include <charconv>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "pmdi/core/error.hpp"

namespace pmdi::role {

struct client {};
struct cloud {};
template <std::size_t J>
struct garbler {
  static constexpr std::size_t cluster = J;
};
template <std::size_t J>
struct evaluator {
  static constexpr std::size_t cluster = J;
};
template <std::size_t J, std::size_t V>
struct compute {
  static constexpr std::size_t cluster = J;
  static constexpr std::size_t server = V;
};

}  // namespace pmdi::role

namespace pmdi::proto {

enum class role_kind : std::uint8_t { client, cloud, garbler, evaluator, compute };

[[nodiscard]] constexpr std::string_view kind_name(role_kind k) noexcept {
  switch (k) {
    case role_kind::client: return "client";
    case role_kind::cloud: return "cloud";
    case role_kind::garbler: return "garbler";
    case role_kind::evaluator: return "evaluator";
    case role_kind::compute: return "compute";
  }
  return "?";
}

// A party's identity at run time.
struct role_id {
  role_kind kind = role_kind::client;
  std::uint32_t cluster = 0;  // garbler, evaluator, compute
  std::uint32_t server = 0;   // compute only

  friend constexpr auto operator<=>(const role_id&, const role_id&) = default;

  [[nodiscard]] constexpr bool has_cluster() const noexcept {
    return kind == role_kind::garbler || kind == role_kind::evaluator || kind == role_kind::compute;
  }

  // "client", "garbler[1]", "compute[0,2]"
  [[nodiscard]] std::string to_string() const {
    std::string s(kind_name(kind));
    if (has_cluster()) {
      s += '[' + std::to_string(cluster);
      if (kind == role_kind::compute) s += ',' + std::to_string(server);
      s += ']';
    }
    return s;
  }
  // "client", "garbler/1", "compute/0/2" (deployment files, key file names)
  [[nodiscard]] std::string path() const {
    std::string s(kind_name(kind));
    if (has_cluster()) {
      s += '/' + std::to_string(cluster);
      if (kind == role_kind::compute) s += '/' + std::to_string(server);
    }
    return s;
  }

  // Parses the path() form; throws usage_error with the offending text.
  [[nodiscard]] static role_id parse(std::string_view text) {
    const auto bad = [&](const std::string& why) {
      return usage_error("role '" + std::string(text) + "': " + why +
                         " (expected client, cloud, garbler/J, evaluator/J or compute/J/V)");
    };
    std::array<std::string_view, 4> parts{};
    std::size_t n = 0;
    std::size_t start = 0;
    for (;;) {
      const std::size_t slash = text.find('/', start);
      if (n == parts.size()) throw bad("too many '/'-separated parts");
      parts[n++] = text.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    const auto number = [&](std::string_view p, const char* what) {
      std::uint32_t v = 0;
      const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
      if (p.empty() || ec != std::errc{} || end != p.data() + p.size())
        throw bad(std::string(what) + " '" + std::string(p) + "' is not a non-negative integer");
      return v;
    };
    role_id r;
    const std::string_view k = parts[0];
    std::size_t want = 1;
    if (k == "client") r.kind = role_kind::client;
    else if (k == "cloud") r.kind = role_kind::cloud;
    else if (k == "garbler") r.kind = role_kind::garbler, want = 2;
    else if (k == "evaluator") r.kind = role_kind::evaluator, want = 2;
    else if (k == "compute") r.kind = role_kind::compute, want = 3;
    else throw bad("unknown role '" + std::string(k) + "'");
    if (n != want) throw bad("'" + std::string(k) + "' takes " + std::to_string(want - 1) + " index(es)");
    if (want >= 2) r.cluster = number(parts[1], "cluster index");
    if (want == 3) r.server = number(parts[2], "compute server index");
    return r;
  }
};

// ---- compile-time side -------------------------------------------------------

template <class R>
struct role_traits {
  static constexpr bool is_role = false;
};
template <>
struct role_traits<role::client> {
  static constexpr bool is_role = true;
  static constexpr role_id id{role_kind::client, 0, 0};
};
template <>
struct role_traits<role::cloud> {
  static constexpr bool is_role = true;
  static constexpr role_id id{role_kind::cloud, 0, 0};
};
template <std::size_t J>
struct role_traits<role::garbler<J>> {
  static constexpr bool is_role = true;
  static constexpr role_id id{role_kind::garbler, static_cast<std::uint32_t>(J), 0};
};
template <std::size_t J>
struct role_traits<role::evaluator<J>> {
  static constexpr bool is_role = true;
  static constexpr role_id id{role_kind::evaluator, static_cast<std::uint32_t>(J), 0};
};
template <std::size_t J, std::size_t V>
struct role_traits<role::compute<J, V>> {
  static constexpr bool is_role = true;
  static constexpr role_id id{role_kind::compute, static_cast<std::uint32_t>(J), static_cast<std::uint32_t>(V)};
};

template <class R>
inline constexpr bool is_role_v = role_traits<std::remove_cv_t<R>>::is_role;

template <class R>
concept role_type = is_role_v<R>;

template <role_type R>
inline constexpr role_id role_id_v = role_traits<R>::id;

namespace detail {

struct fixed_name {
  std::array<char, 48> chars{};
  std::size_t size = 0;
  constexpr void append(std::string_view s) {
    for (char c : s) chars[size++] = c;
  }
  constexpr void append_number(std::uint32_t v) {
    char digits[10]{};
    std::size_t n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) chars[size++] = digits[--n];
  }
};

constexpr fixed_name make_name(role_id r) {
  fixed_name f;
  f.append(kind_name(r.kind));
  if (r.has_cluster()) {
    f.append("[");
    f.append_number(r.cluster);
    if (r.kind == role_kind::compute) {
      f.append(",");
      f.append_number(r.server);
    }
    f.append("]");
  }
  return f;
}

template <role_type R>
inline constexpr fixed_name name_storage = make_name(role_id_v<R>);

}  // namespace detail

// "client", "garbler[1]", "compute[0,2]", usable in constant expressions.
template <role_type R>
inline constexpr std::string_view role_name_v{detail::name_storage<R>.chars.data(), detail::name_storage<R>.size};

}  // namespace pmdi::proto
