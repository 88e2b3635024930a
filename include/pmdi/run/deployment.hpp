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
// party (key_file_name), mode 0600, never in the deployment file.
//
// open_links() connects one party to the peers it talks to: the party with
// the larger role_id connects, the smaller listens; every link is a secure
// channel authenticated against this file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/net/keys.hpp"
#include "pmdi/net/secure.hpp"
#include "pmdi/net/tcp.hpp"
#include "pmdi/proto/channel.hpp"
#include "pmdi/proto/roles.hpp"
#include "pmdi/proto/stage.hpp"

namespace pmdi::run {

namespace asio = boost::asio;
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
    const auto addr = asio::ip::make_address(p.host, aec);
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

// ---- secret key files ----------------------------------------------------------

// "client.key", "garbler-0.key", "compute-0-2.key"
[[nodiscard]] inline std::string key_file_name(const role_id& r) {
  std::string s = r.path();
  for (char& c : s)
    if (c == '/') c = '-';
  return s + ".key";
}

// Writes 64 hex digits and a newline, mode 0600 (the file is created or truncated).
inline void write_secret_key(const std::filesystem::path& file, const net::secret_key& sk) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw error(file.string() + ": cannot create the key file");
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } guard{fd};
  if (::fchmod(fd, 0600) != 0) throw error(file.string() + ": cannot set mode 0600");
  std::string text = net::to_hex(sk.bytes()) + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  secure_zero(text.data(), text.size());
  if (!ok) throw error(file.string() + ": cannot write the key file");
}

// Reads a secret key file; refuses one that others may read.
[[nodiscard]] inline net::secret_key read_secret_key(const std::filesystem::path& file) {
  struct ::stat st {};
  if (::stat(file.c_str(), &st) != 0) throw usage_error(file.string() + ": cannot open the secret key file");
  if ((st.st_mode & 077) != 0) {
    std::ostringstream mode;
    mode << std::oct << (st.st_mode & 0777);
    throw usage_error(file.string() + ": secret key file is accessible to other users (mode 0" + mode.str() +
                      "); run chmod 600 on it");
  }
  std::ifstream f(file);
  std::string text;
  std::getline(f, text);
  auto raw = net::from_hex<net::secret_key_bytes>(text);
  secure_zero(text.data(), text.size());
  if (!raw) throw usage_error(file.string() + ": expected 64 hex digits (an X25519 secret key)");
  net::secret_key sk(*raw);
  secure_zero(raw->data(), raw->size());
  return sk;
}

// This party's identity: its secret key, checked against the deployment file.
[[nodiscard]] inline net::local_identity load_identity(const deployment_file& d, const role_id& self,
                                                       const std::filesystem::path& key_file) {
  const party_entry& me = d.party(self);
  net::local_identity id{self.to_string(), {me.public_key, read_secret_key(key_file)}};
  if (net::public_key_of(id.keys.sk) != me.public_key)
    throw usage_error(key_file.string() + ": this is not the secret key of " + self.to_string() +
                      " listed in the deployment file");
  return id;
}

// ---- links ---------------------------------------------------------------------

using link_map = std::map<role_id, std::unique_ptr<net::transport>>;

// One line about a connection dropped during start-up (a port scan, a health
// probe, garbage, a half handshake, a second connection from a party already
// linked). The run goes on; open_links() writes them to stderr by default.
using startup_log = std::function<void(const std::string&)>;
[[nodiscard]] inline startup_log stderr_log() {
  return [](const std::string& line) { std::cerr << line << std::endl; };
}

// At most this many handshakes are in flight on one listener; a connection
// beyond them is closed at once (it cannot hold the real parties out for
// longer than one handshake deadline, and the descriptors stay bounded).
inline constexpr std::size_t max_pending_handshakes = 128;

namespace detail {

// The listening half of open_links(): accepts connections until every
// expected peer has an authenticated link, or `until`. Each connection's
// handshake runs as its own coroutine with its own deadline (the deployment's
// handshake timeout), so a silent or slow connection holds up nobody; a
// connection whose handshake fails, or that authenticates as a party already
// linked, is dropped with one line on `log`. Every coroutine it starts has
// ended when it returns.
// [ref] Asio: "Coroutines TS support", co_spawn with per-operation timers.
[[nodiscard]] inline asio::awaitable<std::map<std::string, std::unique_ptr<net::transport>>> accept_peers(
    net::tcp_listener& listener, const net::local_identity& me, const net::peer_directory& expected,
    std::chrono::milliseconds handshake_timeout, net::deadline until, prg& rng, const startup_log& log) {
  auto ex = co_await asio::this_coro::executor;
  struct state {
    explicit state(asio::any_io_executor e) : wake(e) {}
    std::map<std::string, std::unique_ptr<net::transport>> linked;
    std::set<net::transport*> pending;  // handshakes in flight (closed when we stop)
    std::size_t running = 0;            // coroutines started and not ended
    bool stopping = false;
    asio::steady_timer wake;  // cancelled to wake the waiting coroutine
  };
  state st(ex);
  const auto drop = [&](const std::string& who, const std::string& why) {
    if (log) log(me.name + ": dropped a connection from " + who + " during start-up: " + why);
  };
  const auto handshake = [&](std::unique_ptr<net::transport> raw) -> asio::awaitable<void> {
    net::transport* t = raw.get();
    const std::string where = raw->peer_label();
    struct done {
      state& st;
      net::transport* t;
      ~done() {
        st.pending.erase(t);
        --st.running;
        st.wake.cancel();
      }
    } guard{st, t};
    try {
      const auto by = std::min(until, net::after(handshake_timeout));
      auto link = co_await net::secure_accept(std::move(raw), me, expected, rng, by);
      const std::string peer = link->names().peer;
      st.pending.erase(t);
      if (st.stopping) co_return;
      if (st.linked.count(peer)) {
        drop(where, "a second connection from " + peer + ", which is already linked");
        co_return;
      }
      st.linked.emplace(peer, std::move(link));
    } catch (const std::exception& e) {
      if (!st.stopping) drop(where, e.what());
    }
  };
  const auto accept_loop = [&]() -> asio::awaitable<void> {
    struct done {
      state& st;
      ~done() {
        --st.running;
        st.wake.cancel();
      }
    } guard{st};
    while (!st.stopping) {
      std::unique_ptr<net::transport> raw;
      std::string failed;
      try {
        raw = co_await listener.accept(until);
      } catch (const std::exception& e) {
        failed = e.what();
      }
      if (!raw) {
        if (st.stopping || net::clock::now() >= until) co_return;
        drop("an unknown address", failed);  // e.g. out of descriptors: pause, then go on
        asio::steady_timer pause(ex, std::chrono::milliseconds(50));
        (void)co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (st.stopping) co_return;
      if (st.pending.size() >= max_pending_handshakes) {
        drop(raw->peer_label(), std::to_string(max_pending_handshakes) + " handshakes are already in flight");
        continue;  // raw closes here
      }
      st.pending.insert(raw.get());
      ++st.running;
      asio::co_spawn(ex, handshake(std::move(raw)), asio::detached);
    }
  };
  ++st.running;
  asio::co_spawn(ex, accept_loop(), asio::detached);
  while (st.linked.size() < expected.size() && net::clock::now() < until) {
    st.wake.expires_at(until);
    (void)co_await st.wake.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  // Stop: no more accepts, close the handshakes still in flight, and wait
  // until every coroutine above has ended (they refer to this frame).
  st.stopping = true;
  listener.close();
  for (auto* t : st.pending) t->shutdown();
  while (st.running > 0) {
    st.wake.expires_at(net::clock::time_point::max());
    (void)co_await st.wake.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return std::move(st.linked);
}

}  // namespace detail

// Opens secure links from `self` to each of `peers` (run every party's call at
// once, in any order, in one process or many): listens on self's host:port
// when a larger role_id talks to it, connects (with retries) to the smaller
// ones, and authenticates every peer against the deployment file. A
// connection to the listening port that does not complete the handshake as
// an expected party (a stray one) is dropped with a line on `log`; the party
// keeps waiting for the real peers until the connect deadline.
[[nodiscard]] inline asio::awaitable<link_map> open_links(const deployment_file& d, const net::local_identity& me,
                                                          role_id self, std::vector<role_id> peers, prg& rng,
                                                          startup_log log = stderr_log()) {
  auto ex = co_await asio::this_coro::executor;
  const net::deadline until = net::after(d.timeouts.connect + d.timeouts.handshake);
  const party_entry& mine = d.party(self);
  net::peer_directory larger;             // accepted from, by name
  std::map<std::string, role_id> by_name;  // name -> role of the accepted ones
  for (const auto& p : peers) {
    if (p == self) throw usage_error(me.name + ": open_links: a party cannot link to itself");
    if (self < p) {
      larger.emplace(p.to_string(), d.party(p).public_key);
      by_name.emplace(p.to_string(), p);
    }
  }
  // The file's deadlines: a send fails when no byte of it moved for the receive deadline.
  net::tcp_options tcp;
  tcp.send_stall = d.timeouts.receive;
  std::optional<net::tcp_listener> listener;
  if (!larger.empty()) listener.emplace(ex, me.name, mine.host, mine.port, tcp);
  link_map links;
  for (const auto& p : peers) {
    if (!(p < self)) continue;
    const party_entry& there = d.party(p);
    auto raw = co_await net::tcp_connect(me.name, p.to_string(), there.host, there.port, until, tcp);
    links.emplace(p, co_await net::secure_connect(std::move(raw), me, p.to_string(), there.public_key, rng, until));
  }
  if (!larger.empty()) {
    auto accepted = co_await detail::accept_peers(*listener, me, larger, d.timeouts.handshake, until, rng, log);
    std::string missing;
    for (const auto& kv : larger)
      if (!accepted.count(kv.first)) missing += (missing.empty() ? "" : ", ") + kv.first;
    if (!missing.empty())
      throw timeout_error(me.name + ": no authenticated connection from " + missing + " on " + mine.host + ":" +
                          std::to_string(mine.port) + " before the deadline");
    for (auto& [name, link] : accepted) links.emplace(by_name.at(name), std::move(link));
  }
  co_return links;
}

// Moves the link to Peer out of `links` into a typed channel.
template <class Self, class Peer>
[[nodiscard]] proto::channel<Self, Peer> take_channel(link_map& links) {
  const auto it = links.find(proto::role_id_v<Peer>);
  if (it == links.end() || !it->second)
    throw usage_error(std::string(proto::role_name_v<Self>) + ": no open link to " +
                      std::string(proto::role_name_v<Peer>));
  proto::channel<Self, Peer> ch(std::move(it->second));
  links.erase(it);
  return ch;
}

}  // namespace pmdi::run
