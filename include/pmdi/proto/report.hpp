#pragma once
// The report of one party, one type for both runners: each role keeps one
// (its latest setup, offline and online phases: proto/party.hpp), and a party
// process keeps one for the whole run (run/party_driver.hpp: connect, then
// totals over the images, ok or the error, the bytes on the wire), which it
// writes with --report FILE and the launcher reads back for its table.
// JSON through Boost.JSON:
//
//   {"party": "garbler[0]", "role": "garbler/0", "ok": true, "error": "", "images": 1,
//    "peak_rss_bytes": 139460608, "paillier_products": 0,
//    "phases": {"setup": {...}, "offline": {...}, "online": {...}},
//    "stages": [{"stage": 0, "offline_s": 0.41, "online_s": 0.002, "and_gates": 1769472}],
//    "wire": {"client": {"bytes_sent": 1234, "bytes_received": 5678}}}
//
// A phase: {"seconds": s, "bytes_sent": .., "bytes_received": .., "messages_sent": ..,
// "rounds": r, "peers": {"client": {"bytes_sent": .., "bytes_received": ..,
// "messages_sent": .., "messages_received": .., "flights": ..}, ...},
// "work": {"linear": s, "gc": s, "labels": s}} (the kinds the party timed).
// Bytes are protocol payload bytes (frames); "wire" adds framing, record tags
// and the handshake.
//
// Rounds, the one definition: the flights a party starts. A flight is a run
// of messages the party sends (to one peer or several) between two of its
// receives, or from the start of a phase to its first receive;
// proto::party_turns counts them per peer, and a phase's rounds are
// their sum over the party's peers. The client's online phase is one round
// per inference (z_1 to garbler[0], then it waits for the result);
// proto::online_rounds(plan, topology) predicts the flights one after another
// on the online critical path.
#include <sys/resource.h>

#include <boost/json.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/net/transport.hpp"

namespace pmdi::proto {

namespace json = boost::json;

// Protocol traffic of one link: the payloads handed to and taken from the
// transport (net's framing, record tags and handshake not included), and the
// flights this end started on it.
struct link_counters {
  std::uint64_t bytes_sent = 0, bytes_received = 0, messages_sent = 0, messages_received = 0, flights = 0;
  [[nodiscard]] static link_counters of(const net::link_counters& c, std::uint64_t flights = 0) noexcept {
    return {c.payload_bytes_sent, c.payload_bytes_received, c.messages_sent, c.messages_received, flights};
  }
  link_counters& operator+=(const link_counters& o) noexcept {
    bytes_sent += o.bytes_sent;
    bytes_received += o.bytes_received;
    messages_sent += o.messages_sent;
    messages_received += o.messages_received;
    flights += o.flights;
    return *this;
  }
  friend link_counters operator-(link_counters a, const link_counters& b) noexcept {
    a.bytes_sent -= b.bytes_sent;
    a.bytes_received -= b.bytes_received;
    a.messages_sent -= b.messages_sent;
    a.messages_received -= b.messages_received;
    a.flights -= b.flights;
    return a;
  }
};

// The kinds of a party's own work that a phase times (phase_figures::work),
// one name each: the linear work on shares (the garbler's and the compute
// servers' products, the sum of the partial products), the garbled-circuit
// evaluation (with the decoding of its outputs into z_{k+1}), and the
// garbler's selection of the labels of a_k.
inline constexpr const char* work_linear = "linear";
inline constexpr const char* work_gc = "gc";
inline constexpr const char* work_labels = "labels";

struct phase_figures {
  double seconds = 0;
  std::map<std::string, link_counters> peers;  // traffic with each peer in this phase
  // Seconds of the party's own work by kind (work_linear, ...); the rest of
  // `seconds` the party waited for its peers or moved bytes.
  std::map<std::string, double> work;

  [[nodiscard]] link_counters total() const noexcept {
    link_counters t;
    for (const auto& [p, c] : peers) t += c;
    return t;
  }
  [[nodiscard]] std::uint64_t bytes_sent() const noexcept { return total().bytes_sent; }
  [[nodiscard]] std::uint64_t bytes_received() const noexcept { return total().bytes_received; }
  [[nodiscard]] std::uint64_t messages_sent() const noexcept { return total().messages_sent; }
  [[nodiscard]] std::uint64_t rounds() const noexcept { return total().flights; }
  // Adds another run of the phase (one more image).
  phase_figures& operator+=(const phase_figures& o) {
    seconds += o.seconds;
    for (const auto& [p, c] : o.peers) peers[p] += c;
    for (const auto& [k, w] : o.work) work[k] += w;
    return *this;
  }
};

struct stage_figures {
  std::uint64_t stage = 0;
  double offline_s = 0, online_s = 0;
  std::uint64_t and_gates = 0;
};

struct wire_figures {
  std::uint64_t bytes_sent = 0, bytes_received = 0;
};

// The phases a report may hold, in the order of the tables.
inline constexpr const char* phase_names[] = {"connect", "setup", "offline", "online"};

// The peak resident set of this process so far, in bytes (in one process all
// parties share one figure).
[[nodiscard]] inline std::uint64_t peak_rss_bytes() noexcept {
  rusage u{};
  if (::getrusage(RUSAGE_SELF, &u) != 0) return 0;
  return static_cast<std::uint64_t>(u.ru_maxrss) * 1024;  // ru_maxrss is in KiB on Linux
}

struct party_report {
  std::string party;  // "garbler[0]"
  std::string role;   // "garbler/0" (party processes)
  bool ok = true;
  std::string error;
  std::uint64_t images = 0;
  std::uint64_t peak_rss_bytes = 0;     // when the report was taken
  std::uint64_t paillier_products = 0;  // the cloud: exponentiation steps of the latest offline phase
  std::map<std::string, phase_figures> phases;  // by phase_names
  std::vector<stage_figures> stages;
  std::map<std::string, wire_figures> wire;  // by peer

  [[nodiscard]] const phase_figures& phase(const std::string& name) const {
    static const phase_figures none{};
    const auto it = phases.find(name);
    return it == phases.end() ? none : it->second;
  }
  [[nodiscard]] phase_figures& phase(const std::string& name) { return phases[name]; }
  [[nodiscard]] stage_figures& stage_entry(std::size_t k) {
    for (auto& s : stages)
      if (s.stage == k) return s;
    stages.push_back(stage_figures{k});
    return stages.back();
  }
  // A run's report takes what its role's latest report holds beyond the
  // phases (the stages, the Paillier products) and this process's peak RSS,
  // now: at the end of a party process, and of a one-process launch.
  void take_run_figures(const party_report& role) {
    stages = role.stages;
    paillier_products = role.paillier_products;
    peak_rss_bytes = proto::peak_rss_bytes();
  }
  [[nodiscard]] std::string to_json() const;
};

[[nodiscard]] inline json::value to_json_value(const party_report& r) {
  json::object phases;
  for (const auto& [name, p] : r.phases) {
    json::object peers;
    for (const auto& [peer, c] : p.peers)
      peers[peer] = json::object{{"bytes_sent", c.bytes_sent},
                                 {"bytes_received", c.bytes_received},
                                 {"messages_sent", c.messages_sent},
                                 {"messages_received", c.messages_received},
                                 {"flights", c.flights}};
    json::object work;
    // whole nanoseconds, as "seconds" is: a number Boost.JSON reads back exactly
    for (const auto& [kind, w] : p.work) work[kind] = std::round(w * 1e9) / 1e9;
    const auto t = p.total();
    phases[name] = json::object{{"seconds", p.seconds},          {"bytes_sent", t.bytes_sent},
                                {"bytes_received", t.bytes_received}, {"messages_sent", t.messages_sent},
                                {"rounds", t.flights},           {"peers", std::move(peers)},
                                {"work", std::move(work)}};
  }
  json::array stages;
  for (const auto& s : r.stages)
    stages.push_back(json::object{
        {"stage", s.stage}, {"offline_s", s.offline_s}, {"online_s", s.online_s}, {"and_gates", s.and_gates}});
  json::object wire;
  for (const auto& [peer, w] : r.wire)
    wire[peer] = json::object{{"bytes_sent", w.bytes_sent}, {"bytes_received", w.bytes_received}};
  return json::object{{"party", r.party},
                      {"role", r.role},
                      {"ok", r.ok},
                      {"error", r.error},
                      {"images", r.images},
                      {"peak_rss_bytes", r.peak_rss_bytes},
                      {"paillier_products", r.paillier_products},
                      {"phases", std::move(phases)},
                      {"stages", std::move(stages)},
                      {"wire", std::move(wire)}};
}

inline std::string party_report::to_json() const { return json::serialize(to_json_value(*this)); }

namespace detail {

[[nodiscard]] inline std::uint64_t u64(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
  throw decode_error(std::string("report: field '") + key + "' is not a non-negative integer");
}
[[nodiscard]] inline double num(const json::value& v, std::string_view key) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  throw decode_error("report: field '" + std::string(key) + "' is not a number");
}
[[nodiscard]] inline double num(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v == nullptr ? 0 : num(*v, key);
}
[[nodiscard]] inline std::string str(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return {};
  if (!v->is_string()) throw decode_error(std::string("report: field '") + key + "' is not a string");
  return std::string(v->get_string());
}
[[nodiscard]] inline const json::object& obj(const json::value& v, const char* what) {
  if (!v.is_object()) throw decode_error(std::string("report: ") + what + " is not an object");
  return v.get_object();
}

}  // namespace detail

// The report written by to_json_value; a field that is missing reads as
// zero or empty, one of the wrong kind is a decode_error naming it.
[[nodiscard]] inline party_report report_from_json(const json::value& v) {
  using detail::obj;
  const auto& o = obj(v, "the report");
  party_report r;
  r.party = detail::str(o, "party");
  r.role = detail::str(o, "role");
  if (const auto* p = o.if_contains("ok")) {
    if (!p->is_bool()) throw decode_error("report: field 'ok' is not true or false");
    r.ok = p->get_bool();
  }
  r.error = detail::str(o, "error");
  r.images = detail::u64(o, "images");
  r.peak_rss_bytes = detail::u64(o, "peak_rss_bytes");
  r.paillier_products = detail::u64(o, "paillier_products");
  if (const auto* ph = o.if_contains("phases"))
    for (const auto& kv : obj(*ph, "phases")) {
      const auto& po = obj(kv.value(), "a phase");
      phase_figures f;
      f.seconds = detail::num(po, "seconds");
      if (const auto* peers = po.if_contains("peers"))
        for (const auto& pk : obj(*peers, "peers")) {
          const auto& c = obj(pk.value(), "a peer");
          f.peers[std::string(pk.key())] = {detail::u64(c, "bytes_sent"), detail::u64(c, "bytes_received"),
                                            detail::u64(c, "messages_sent"), detail::u64(c, "messages_received"),
                                            detail::u64(c, "flights")};
        }
      if (const auto* work = po.if_contains("work"))
        for (const auto& wk : obj(*work, "work")) f.work[std::string(wk.key())] = detail::num(wk.value(), wk.key());
      r.phases[std::string(kv.key())] = std::move(f);
    }
  if (const auto* st = o.if_contains("stages")) {
    if (!st->is_array()) throw decode_error("report: field 'stages' is not an array");
    for (const auto& s : st->get_array()) {
      const auto& so = obj(s, "a stage");
      r.stages.push_back({detail::u64(so, "stage"), detail::num(so, "offline_s"), detail::num(so, "online_s"),
                          detail::u64(so, "and_gates")});
    }
  }
  if (const auto* w = o.if_contains("wire"))
    for (const auto& kv : obj(*w, "wire")) {
      const auto& f = obj(kv.value(), "a wire entry");
      r.wire[std::string(kv.key())] = {detail::u64(f, "bytes_sent"), detail::u64(f, "bytes_received")};
    }
  return r;
}

}  // namespace pmdi::proto
