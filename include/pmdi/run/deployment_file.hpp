#pragma once
// Deployment files: who runs where, with which static public key.
//
//   {
//     "version": 1,
//     "clusters": 2,                    // P
//     "compute_per_cluster": 2,         // T
//     "ring": {"bits": 64, "fraction_bits": 13},
//     "timeouts_ms": {"connect": 30000, "handshake": 10000, "receive": 60000},
//     "offline_batch": 8,               // optional: inferences prepared ahead of their online phases
//     "placement": [[0, 3], [3, 4]],    // optional: cluster j runs stages [first, end) (pmdi-plan
//                                       // prints it); default: the even split
//     "parties": [
//       {"role": "client",      "host": "127.0.0.1", "port": 7000, "public_key": "<64 hex digits>"},
//       {"role": "cloud",       ...}, {"role": "garbler/0", ...}, {"role": "evaluator/0", ...},
//       {"role": "compute/0/1", ...}, ...
//     ]
//   }
//
// Every party of the plan appears exactly once (client, cloud, and for each
// cluster j < P: garbler/j, evaluator/j, compute/j/v for v < T); nothing else
// does. Errors name the file and the field. Secret keys live in one file per
// party (run/key_files.hpp), never in this file; run/links.hpp opens the links.
#include <boost/asio/ip/address.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/net/keys.hpp"
#include "pmdi/net/secure.hpp"  // peer_directory
#include "pmdi/proto/roles.hpp"
#include "pmdi/proto/stage.hpp"

namespace pmdi::run {

namespace json = boost::json;
using proto::role_id;
using proto::role_kind;

struct party_entry {
  role_id role;
  std::string host;
  std::uint16_t port = 0;
  net::public_key public_key{};
};

struct deployment_timeouts {
  std::chrono::milliseconds connect{30000};
  std::chrono::milliseconds handshake{10000};
  std::chrono::milliseconds receive{60000};
};

struct deployment_file {
  std::uint32_t clusters = 0;             // P
  std::uint32_t compute_per_cluster = 0;  // T
  std::uint32_t ring_bits = 64;
  std::uint32_t fraction_bits = 13;
  deployment_timeouts timeouts{};
  // Inferences whose offline material is prepared before their online phases
  // run; then the next batch. Bounds what a party holds at once (the
  // evaluator of MiniONN holds about 37.5 MB per prepared inference). Every
  // party reads it from this file, so all follow the same schedule.
  std::uint32_t offline_batch = default_offline_batch;
  static constexpr std::uint32_t default_offline_batch = 8;
  // The stages each cluster runs (proto::topology::placement); empty: the
  // even split. Parsing checks its form; each party checks it against the
  // network it is built for before it opens a link.
  std::vector<proto::stage_range> placement;
  std::vector<party_entry> parties;  // in file order

  [[nodiscard]] const party_entry* find(const role_id& r) const noexcept {
    for (const auto& p : parties)
      if (p.role == r) return &p;
    return nullptr;
  }
  [[nodiscard]] const party_entry& party(const role_id& r) const {
    if (const auto* p = find(r)) return *p;
    throw usage_error("deployment: no party " + r.to_string() + " in the deployment file");
  }
  // name ("garbler[0]") -> static public key, for secure_accept.
  [[nodiscard]] net::peer_directory directory() const {
    net::peer_directory d;
    for (const auto& p : parties) d.emplace(p.role.to_string(), p.public_key);
    return d;
  }
};

// Every role a deployment with P clusters of T compute servers has, in canonical order.
[[nodiscard]] inline std::vector<role_id> expected_roles(std::uint32_t clusters, std::uint32_t compute_per_cluster) {
  std::vector<role_id> r{{role_kind::client, 0, 0}, {role_kind::cloud, 0, 0}};
  for (std::uint32_t j = 0; j < clusters; ++j) {
    r.push_back({role_kind::garbler, j, 0});
    r.push_back({role_kind::evaluator, j, 0});
    for (std::uint32_t v = 0; v < compute_per_cluster; ++v) r.push_back({role_kind::compute, j, v});
  }
  return r;
}

namespace detail {

class json_reader {
 public:
  explicit json_reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& why) const {
    throw usage_error(source_ + ": " + field + ": " + why);
  }
  const json::object& object(const json::value& v, const std::string& field) const {
    if (!v.is_object()) fail(field, "expected an object");
    return v.get_object();
  }
  const json::value& member(const json::object& o, const std::string& parent, const char* key) const {
    const auto* v = o.if_contains(key);
    if (v == nullptr) fail(parent.empty() ? key : parent + "." + key, "missing");
    return *v;
  }
  std::uint64_t integer(const json::value& v, const std::string& field, std::uint64_t lo, std::uint64_t hi) const {
    std::optional<std::uint64_t> x;
    if (v.is_uint64()) x = v.get_uint64();
    else if (v.is_int64() && v.get_int64() >= 0) x = static_cast<std::uint64_t>(v.get_int64());
    if (!x || *x < lo || *x > hi)
      fail(field, "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                      json::serialize(v));
    return *x;
  }
  // A finite number > 0 (integer or not).
  double positive_number(const json::value& v, const std::string& field) const {
    double x = 0;
    if (v.is_double()) x = v.get_double();
    else if (v.is_int64()) x = static_cast<double>(v.get_int64());
    else if (v.is_uint64()) x = static_cast<double>(v.get_uint64());
    else fail(field, "expected a number, got " + json::serialize(v));
    if (!(x > 0) || !std::isfinite(x)) fail(field, "must be a positive number, got " + json::serialize(v));
    return x;
  }
  std::string string(const json::value& v, const std::string& field) const {
    if (!v.is_string()) fail(field, "expected a string, got " + json::serialize(v));
    return std::string(v.get_string());
  }
  // Rejects keys this format does not define (typos must not pass silently).
  void only(const json::object& o, const std::string& field, std::initializer_list<std::string_view> allowed) const {
    for (const auto& kv : o) {
      bool ok = false;
      for (auto a : allowed) ok = ok || kv.key() == a;
      if (!ok) fail(field.empty() ? std::string(kv.key()) : field + "." + std::string(kv.key()), "unknown field");
    }
  }

 private:
  std::string source_;
};

// A placement as the deployment file writes it, [[first, end), ...] with one
// range per cluster: checks its form (in order, contiguous from stage 0);
// each party checks it against its network's stage count.
[[nodiscard]] inline std::vector<proto::stage_range> read_placement(const json_reader& in, const json::value& v,
                                                                    std::uint32_t clusters) {
  if (!v.is_array()) in.fail("placement", "expected an array of [first, end) stage ranges, one per cluster");
  std::vector<proto::stage_range> pl;
  std::size_t stages = 0;
  for (const auto& r : v.get_array()) {
    const std::string f = "placement[" + std::to_string(pl.size()) + "]";
    if (!r.is_array() || r.get_array().size() != 2) in.fail(f, "expected [first, end), two stage indices");
    proto::stage_range x;
    x.first = in.integer(r.get_array()[0], f + "[0]", 0, 65535);
    x.end = in.integer(r.get_array()[1], f + "[1]", 0, 65536);
    stages = std::max(stages, x.end);
    pl.push_back(x);
  }
  try {
    proto::check_placement(pl, stages, clusters);
  } catch (const usage_error& e) {
    in.fail("placement", e.what());
  }
  return pl;
}

}  // namespace detail

// Text from the file as an error message may quote it: control characters
// and bytes above 0x7e as \xNN, at most 80 characters.
[[nodiscard]] inline std::string printable(std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (char c : s.substr(0, 80)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      out += "\\x";
      out += digits[u >> 4];
      out += digits[u & 0xF];
    } else {
      out += c;
    }
  }
  return s.size() > 80 ? out + "..." : out;
}

// Parses and validates a deployment file's text; `source` names it in errors.
[[nodiscard]] inline deployment_file parse_deployment(std::string_view text, const std::string& source = "deployment file") {
  detail::json_reader in(source);
  boost::system::error_code ec;
  const json::value root = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) throw usage_error(source + ": not valid JSON: " + ec.message());
  const auto& top = in.object(root, "top level");
  in.only(top, "", {"version", "clusters", "compute_per_cluster", "ring", "timeouts_ms", "offline_batch", "placement",
                   "parties"});

  deployment_file d;
  if (const auto* v = top.if_contains("version")) (void)in.integer(*v, "version", 1, 1);
  d.clusters = static_cast<std::uint32_t>(in.integer(in.member(top, "", "clusters"), "clusters", 1, 64));
  d.compute_per_cluster = static_cast<std::uint32_t>(
      in.integer(in.member(top, "", "compute_per_cluster"), "compute_per_cluster", 1, 64));
  if (const auto* v = top.if_contains("ring")) {
    const auto& ring = in.object(*v, "ring");
    in.only(ring, "ring", {"bits", "fraction_bits"});
    d.ring_bits = static_cast<std::uint32_t>(in.integer(in.member(ring, "ring", "bits"), "ring.bits", 32, 64));
    if (d.ring_bits != 32 && d.ring_bits != 64) in.fail("ring.bits", "must be 32 or 64");
    d.fraction_bits = static_cast<std::uint32_t>(
        in.integer(in.member(ring, "ring", "fraction_bits"), "ring.fraction_bits", 0, d.ring_bits - 1));
  }
  if (const auto* v = top.if_contains("timeouts_ms")) {
    const auto& t = in.object(*v, "timeouts_ms");
    in.only(t, "timeouts_ms", {"connect", "handshake", "receive"});
    constexpr std::uint64_t day = 86'400'000;
    if (const auto* x = t.if_contains("connect"))
      d.timeouts.connect = std::chrono::milliseconds(in.integer(*x, "timeouts_ms.connect", 1, day));
    if (const auto* x = t.if_contains("handshake"))
      d.timeouts.handshake = std::chrono::milliseconds(in.integer(*x, "timeouts_ms.handshake", 1, day));
    if (const auto* x = t.if_contains("receive"))
      d.timeouts.receive = std::chrono::milliseconds(in.integer(*x, "timeouts_ms.receive", 1, day));
  }

  if (const auto* v = top.if_contains("offline_batch"))
    d.offline_batch = static_cast<std::uint32_t>(in.integer(*v, "offline_batch", 1, 1'000'000));
  if (const auto* v = top.if_contains("placement")) d.placement = detail::read_placement(in, *v, d.clusters);

  const json::value& pv = in.member(top, "", "parties");
  if (!pv.is_array()) in.fail("parties", "expected an array");
  std::set<std::string> endpoints;
  std::size_t i = 0;
  for (const auto& ev : pv.get_array()) {
    const std::string f = "parties[" + std::to_string(i++) + "]";
    const auto& e = in.object(ev, f);
    in.only(e, f, {"role", "host", "port", "public_key"});
    party_entry p;
    const std::string role_text = in.string(in.member(e, f, "role"), f + ".role");
    try {
      p.role = role_id::parse(role_text);
    } catch (const usage_error& err) {
      in.fail(f + ".role", err.what());
    }
    const std::string who = f + " (" + p.role.to_string() + ")";
    if (role_text != p.role.path())  // "garbler/00" would name garbler/0 under another spelling
      in.fail(who + ".role", "\"" + printable(role_text) + "\" is not the canonical form; write \"" + p.role.path() +
                                 "\"");
    if (p.role.has_cluster() && p.role.cluster >= d.clusters)
      in.fail(who + ".role", "cluster index " + std::to_string(p.role.cluster) + " but clusters = " +
                                 std::to_string(d.clusters));
    if (p.role.kind == role_kind::compute && p.role.server >= d.compute_per_cluster)
      in.fail(who + ".role", "compute server index " + std::to_string(p.role.server) +
                                 " but compute_per_cluster = " + std::to_string(d.compute_per_cluster));
    if (d.find(p.role) != nullptr) in.fail(who + ".role", "listed twice");
    p.host = in.string(in.member(e, f, "host"), who + ".host");
    if (p.host.empty()) in.fail(who + ".host", "empty");
    if (std::any_of(p.host.begin(), p.host.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
      in.fail(who + ".host", "\"" + printable(p.host) + "\" contains a control character");
    // A numeric address: a party listens on exactly this address, and names
    // are not resolved (the same file must mean the same hosts everywhere).
    boost::system::error_code aec;
    const auto addr = boost::asio::ip::make_address(p.host, aec);
    if (aec)
      in.fail(who + ".host", "\"" + printable(p.host) +
                                 "\" is not a numeric IPv4 or IPv6 address (host names are not resolved; write the "
                                 "address, e.g. 10.0.0.1)");
    p.port = static_cast<std::uint16_t>(in.integer(in.member(e, f, "port"), who + ".port", 1, 65535));
    const std::string endpoint = addr.to_string() + ":" + std::to_string(p.port);  // one spelling per address
    if (!endpoints.insert(endpoint).second)
      in.fail(who + ".port", endpoint + " is already used by another party");
    const std::string key = in.string(in.member(e, f, "public_key"), who + ".public_key");
    const auto pk = net::parse_public_key(key);
    if (!pk)
      in.fail(who + ".public_key", "expected a 32-byte X25519 key as " + std::to_string(2 * net::public_key_bytes) +
                                       " hex digits or base64, got \"" + key.substr(0, 80) + "\"");
    p.public_key = *pk;
    if (!net::usable_public_key(p.public_key))
      in.fail(who + ".public_key", "a point of small order (such as the all-zero key) cannot authenticate a party");
    for (const auto& q : d.parties)
      if (sodium_memcmp(q.public_key.data(), p.public_key.data(), p.public_key.size()) == 0)
        in.fail(who + ".public_key", "the same key as " + q.role.to_string() + "; every party needs its own key pair");
    d.parties.push_back(std::move(p));
  }
  for (const auto& r : expected_roles(d.clusters, d.compute_per_cluster))
    if (d.find(r) == nullptr)
      in.fail("parties", "no entry for " + r.path() + " (clusters = " + std::to_string(d.clusters) +
                             ", compute_per_cluster = " + std::to_string(d.compute_per_cluster) + ")");
  return d;
}

// A placement given on a command line, in the file's form: "[[0, 3], [3, 4]]".
[[nodiscard]] inline std::vector<proto::stage_range> parse_placement(std::string_view text, std::uint32_t clusters,
                                                                     const std::string& source = "--placement") {
  detail::json_reader in(source);
  boost::system::error_code ec;
  const json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) in.fail("placement", "not valid JSON (write it as [[0, 3], [3, 4]]): " + ec.message());
  return detail::read_placement(in, v, clusters);
}

[[nodiscard]] inline deployment_file load_deployment(const std::filesystem::path& file) {
  std::ifstream f(file);
  if (!f) throw usage_error(file.string() + ": cannot open the deployment file");
  std::ostringstream s;
  s << f.rdbuf();
  return parse_deployment(s.str(), file.string());
}

[[nodiscard]] inline std::string to_json(const deployment_file& d) {
  json::array parties;
  for (const auto& p : d.parties)
    parties.push_back(json::object{{"role", p.role.path()},
                                   {"host", p.host},
                                   {"port", p.port},
                                   {"public_key", net::to_hex(p.public_key)}});
  json::object top{
      {"version", 1},
      {"clusters", d.clusters},
      {"compute_per_cluster", d.compute_per_cluster},
      {"ring", json::object{{"bits", d.ring_bits}, {"fraction_bits", d.fraction_bits}}},
      {"timeouts_ms", json::object{{"connect", d.timeouts.connect.count()},
                                   {"handshake", d.timeouts.handshake.count()},
                                   {"receive", d.timeouts.receive.count()}}},
      {"offline_batch", d.offline_batch}};
  if (!d.placement.empty()) {
    json::array pl;
    for (const auto& r : d.placement) pl.push_back(json::array{r.first, r.end});
    top.emplace("placement", std::move(pl));
  }
  top.emplace("parties", std::move(parties));
  // One party per line: readable and diff-friendly.
  std::string out = "{\n";
  bool first = true;
  for (const auto& kv : top) {
    if (!first) out += ",\n";
    first = false;
    out += "  " + json::serialize(json::value(kv.key())) + ": ";
    if (kv.key() == "parties") {
      out += "[\n";
      const auto& a = kv.value().get_array();
      for (std::size_t i = 0; i < a.size(); ++i) out += "    " + json::serialize(a[i]) + (i + 1 < a.size() ? ",\n" : "\n");
      out += "  ]";
    } else {
      out += json::serialize(kv.value());
    }
  }
  return out + "\n}\n";
}

// A deployment on one host: every party of P clusters x T compute servers on
// host:base_port, base_port+1, ... in canonical order, each with a fresh
// static key pair (from the OS, or from `rng` for reproducible tests).
struct generated_deployment {
  deployment_file file;
  std::map<role_id, net::secret_key> secret_keys;
};

[[nodiscard]] inline generated_deployment generate_local_deployment(std::uint32_t clusters,
                                                                   std::uint32_t compute_per_cluster,
                                                                   std::uint16_t base_port,
                                                                   const std::string& host = "127.0.0.1",
                                                                   prg* rng = nullptr) {
  if (clusters < 1 || compute_per_cluster < 1)
    throw usage_error("deployment: need at least 1 cluster and 1 compute server per cluster");
  generated_deployment g;
  g.file.clusters = clusters;
  g.file.compute_per_cluster = compute_per_cluster;
  const auto roles = expected_roles(clusters, compute_per_cluster);
  if (base_port == 0 || base_port + roles.size() - 1 > 65535)
    throw usage_error("deployment: ports " + std::to_string(base_port) + ".." +
                      std::to_string(base_port + roles.size() - 1) + " do not fit in 1..65535");
  std::uint16_t port = base_port;
  for (const auto& r : roles) {
    net::key_pair kp = rng != nullptr ? net::keygen(*rng) : net::keygen();
    g.file.parties.push_back({r, host, port++, kp.pk});
    g.secret_keys.emplace(r, kp.sk);
  }
  return g;
}

}  // namespace pmdi::run
