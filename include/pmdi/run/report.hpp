#pragma once
// The report one party writes after a run (role_main --report FILE), and the
// launcher reads back to print one table for all parties. JSON:
//
//   {"party": "garbler[0]", "role": "garbler/0", "ok": true, "error": "",
//    "images": 1,
//    "phases": {"connect": {...}, "setup": {...}, "offline": {...}, "online": {...}},
//    "stages": [{"stage": 0, "offline_s": 0.41, "online_s": 0.002, "and_gates": 1769472}],
//    "wire": {"client": {"bytes_sent": ..., "bytes_received": ...}, ...}}
//
// A phase: {"seconds": s, "rounds": r, "peers": {"client": {"bytes_sent": ..,
// "bytes_received": .., "messages_sent": .., "messages_received": ..,
// "flights": ..}, ...}}. Offline and online figures are totals over all images;
// bytes are protocol payload bytes (frames), "wire" adds framing, record tags
// and the handshake. "flights" are runs of messages in one direction that this
// party started; "rounds" is their sum over the party's peers.
#include <boost/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"

namespace pmdi::run {

namespace json = boost::json;

struct peer_figures {
  std::uint64_t bytes_sent = 0, bytes_received = 0, messages_sent = 0, messages_received = 0, flights = 0;
  peer_figures& operator+=(const peer_figures& o) noexcept {
    bytes_sent += o.bytes_sent;
    bytes_received += o.bytes_received;
    messages_sent += o.messages_sent;
    messages_received += o.messages_received;
    flights += o.flights;
    return *this;
  }
};

struct phase_totals {
  double seconds = 0;
  std::map<std::string, peer_figures> peers;
  [[nodiscard]] std::uint64_t rounds() const noexcept {
    std::uint64_t r = 0;
    for (const auto& [p, f] : peers) r += f.flights;
    return r;
  }
  [[nodiscard]] std::uint64_t bytes_sent() const noexcept {
    std::uint64_t r = 0;
    for (const auto& [p, f] : peers) r += f.bytes_sent;
    return r;
  }
  [[nodiscard]] std::uint64_t bytes_received() const noexcept {
    std::uint64_t r = 0;
    for (const auto& [p, f] : peers) r += f.bytes_received;
    return r;
  }
};

struct stage_entry {
  std::uint64_t stage = 0;
  double offline_s = 0, online_s = 0;
  std::uint64_t and_gates = 0;
};

inline constexpr const char* phase_names[] = {"connect", "setup", "offline", "online"};

struct run_report {
  std::string party;  // "garbler[0]"
  std::string role;   // "garbler/0"
  bool ok = false;
  std::string error;
  std::uint64_t images = 0;
  std::map<std::string, phase_totals> phases;  // by phase_names
  std::vector<stage_entry> stages;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> wire;  // peer -> (sent, received)

  [[nodiscard]] const phase_totals& phase(const std::string& name) const {
    static const phase_totals none{};
    const auto it = phases.find(name);
    return it == phases.end() ? none : it->second;
  }
};

[[nodiscard]] inline json::value to_json_value(const run_report& r) {
  json::object phases;
  for (const auto& [name, p] : r.phases) {
    json::object peers;
    for (const auto& [peer, f] : p.peers)
      peers[peer] = json::object{{"bytes_sent", f.bytes_sent},
                                 {"bytes_received", f.bytes_received},
                                 {"messages_sent", f.messages_sent},
                                 {"messages_received", f.messages_received},
                                 {"flights", f.flights}};
    phases[name] = json::object{{"seconds", p.seconds}, {"rounds", p.rounds()}, {"peers", std::move(peers)}};
  }
  json::array stages;
  for (const auto& s : r.stages)
    stages.push_back(json::object{
        {"stage", s.stage}, {"offline_s", s.offline_s}, {"online_s", s.online_s}, {"and_gates", s.and_gates}});
  json::object wire;
  for (const auto& [peer, w] : r.wire) wire[peer] = json::object{{"bytes_sent", w.first}, {"bytes_received", w.second}};
  return json::object{{"party", r.party},   {"role", r.role},        {"ok", r.ok},
                      {"error", r.error},   {"images", r.images},    {"phases", std::move(phases)},
                      {"stages", std::move(stages)}, {"wire", std::move(wire)}};
}

namespace detail {

[[nodiscard]] inline std::uint64_t u64(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
  throw decode_error(std::string("report: field '") + key + "' is not a non-negative integer");
}
[[nodiscard]] inline double num(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_double()) return v->get_double();
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  throw decode_error(std::string("report: field '") + key + "' is not a number");
}
[[nodiscard]] inline const json::object& obj(const json::value& v, const char* what) {
  if (!v.is_object()) throw decode_error(std::string("report: ") + what + " is not an object");
  return v.get_object();
}

}  // namespace detail

[[nodiscard]] inline run_report report_from_json(const json::value& v) {
  using detail::obj;
  const auto& o = obj(v, "the report");
  run_report r;
  if (const auto* p = o.if_contains("party"); p && p->is_string()) r.party = std::string(p->get_string());
  if (const auto* p = o.if_contains("role"); p && p->is_string()) r.role = std::string(p->get_string());
  if (const auto* p = o.if_contains("ok"); p && p->is_bool()) r.ok = p->get_bool();
  if (const auto* p = o.if_contains("error"); p && p->is_string()) r.error = std::string(p->get_string());
  r.images = detail::u64(o, "images");
  if (const auto* ph = o.if_contains("phases"))
    for (const auto& kv : obj(*ph, "phases")) {
      const auto& po = obj(kv.value(), "a phase");
      phase_totals t;
      t.seconds = detail::num(po, "seconds");
      if (const auto* peers = po.if_contains("peers"))
        for (const auto& pk : obj(*peers, "peers")) {
          const auto& f = obj(pk.value(), "a peer");
          t.peers[std::string(pk.key())] = {detail::u64(f, "bytes_sent"), detail::u64(f, "bytes_received"),
                                            detail::u64(f, "messages_sent"), detail::u64(f, "messages_received"),
                                            detail::u64(f, "flights")};
        }
      r.phases[std::string(kv.key())] = std::move(t);
    }
  if (const auto* st = o.if_contains("stages"); st && st->is_array())
    for (const auto& s : st->get_array()) {
      const auto& so = obj(s, "a stage");
      r.stages.push_back({detail::u64(so, "stage"), detail::num(so, "offline_s"), detail::num(so, "online_s"),
                          detail::u64(so, "and_gates")});
    }
  if (const auto* w = o.if_contains("wire"))
    for (const auto& kv : obj(*w, "wire")) {
      const auto& f = obj(kv.value(), "a wire entry");
      r.wire[std::string(kv.key())] = {detail::u64(f, "bytes_sent"), detail::u64(f, "bytes_received")};
    }
  return r;
}

inline void write_report(const std::filesystem::path& file, const run_report& r) {
  std::ofstream f(file);
  if (!f) throw error(file.string() + ": cannot write the report");
  f << json::serialize(to_json_value(r)) << "\n";
}

[[nodiscard]] inline run_report read_report(const std::filesystem::path& file) {
  std::ifstream f(file);
  if (!f) throw usage_error(file.string() + ": no report (the party did not write one)");
  std::ostringstream s;
  s << f.rdbuf();
  boost::system::error_code ec;
  const auto v = json::parse(s.str(), ec);
  if (ec) throw decode_error(file.string() + ": the report is not valid JSON: " + ec.message());
  try {
    return report_from_json(v);
  } catch (const decode_error& e) {
    throw decode_error(file.string() + ": " + e.what());
  }
}

}  // namespace pmdi::run
