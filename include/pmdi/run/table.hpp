#pragma once
// The table for people: time per phase per party, bytes per link and
// direction per phase, rounds, from the parties' reports.
#include <cstdint>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "pmdi/run/report.hpp"

namespace pmdi::run {

[[nodiscard]] inline std::string human_bytes(std::uint64_t b) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(b >= 1000 ? 2 : 0);
  if (b >= 1'000'000'000) o << static_cast<double>(b) / 1e9 << " GB";
  else if (b >= 1'000'000) o << static_cast<double>(b) / 1e6 << " MB";
  else if (b >= 1'000) o << static_cast<double>(b) / 1e3 << " kB";
  else o << b << " B";
  return o.str();
}

// One table from all the parties' reports: time per phase per party (offline
// and online summed over the images; a party's time runs from its entering
// the phase to its leaving it, so it includes waiting for peers still busy
// with the phase before; the client's online time is the end-to-end online
// latency), rounds (flights started, proto/report.hpp), bytes per link and
// direction in every phase.
inline void print_table(std::ostream& out, const std::vector<proto::party_report>& reports) {
  auto pad = [](std::string s, std::size_t w, bool right = true) {
    if (s.size() >= w) return s;
    return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
  };
  auto sec = [](double s) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(s < 10 ? 3 : 1) << s;
    return o.str();
  };
  for (const auto& r : reports)
    if (r.role == "client" || r.party == "client") {
      const double n = r.images == 0 ? 1.0 : static_cast<double>(r.images);
      out << "client, per image: offline " << sec(r.phase("offline").seconds / n) << " s, online "
          << sec(r.phase("online").seconds / n) << " s (end to end)\n\n";
    }
  out << pad("party", 14, false) << pad("status", 8) << pad("connect s", 11) << pad("setup s", 10)
      << pad("offline s", 11) << pad("online s", 10) << pad("rounds off/on", 15) << pad("sent", 12)
      << pad("received", 12) << "\n";
  for (const auto& r : reports) {
    std::uint64_t sent = 0, recv = 0;
    for (const auto& [n, p] : r.phases) {
      sent += p.bytes_sent();
      recv += p.bytes_received();
    }
    const auto& off = r.phase("offline");
    const auto& on = r.phase("online");
    out << pad(r.party, 14, false) << pad(r.ok ? "ok" : "FAILED", 8) << pad(sec(r.phase("connect").seconds), 11)
        << pad(sec(r.phase("setup").seconds), 10) << pad(sec(off.seconds), 11) << pad(sec(on.seconds), 10)
        << pad(std::to_string(off.rounds()) + "/" + std::to_string(on.rounds()), 15) << pad(human_bytes(sent), 12)
        << pad(human_bytes(recv), 12) << "\n";
  }
  out << "\n"
      << pad("link (sender -> receiver)", 32, false) << pad("setup", 12) << pad("offline", 12) << pad("online", 12)
      << pad("messages", 10) << "\n";
  std::uint64_t total[3] = {0, 0, 0};
  for (const auto& r : reports) {
    std::map<std::string, std::array<std::uint64_t, 4>> rows;
    const char* ph[3] = {"setup", "offline", "online"};
    for (int i = 0; i < 3; ++i)
      for (const auto& [peer, f] : r.phase(ph[i]).peers) {
        rows[peer][static_cast<std::size_t>(i)] += f.bytes_sent;
        rows[peer][3] += f.messages_sent;
      }
    for (const auto& [peer, v] : rows) {
      if (v[0] + v[1] + v[2] == 0) continue;
      for (int i = 0; i < 3; ++i) total[i] += v[static_cast<std::size_t>(i)];
      out << pad(r.party + " -> " + peer, 32, false) << pad(human_bytes(v[0]), 12) << pad(human_bytes(v[1]), 12)
          << pad(human_bytes(v[2]), 12) << pad(std::to_string(v[3]), 10) << "\n";
    }
  }
  out << pad("all links", 32, false) << pad(human_bytes(total[0]), 12) << pad(human_bytes(total[1]), 12)
      << pad(human_bytes(total[2]), 12) << "\n";
  for (const auto& r : reports)
    if (!r.ok && !r.error.empty()) out << "\n" << r.party << " failed: " << r.error;
  out << "\n";
}

}  // namespace pmdi::run
