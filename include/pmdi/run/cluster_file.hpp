#pragma once
// Cluster descriptions for the planner (pmdi-plan --clusters FILE):
//
//   {
//     "calibration": {"macs_per_s": 1.9e9, "and_per_s": 4.2e7, "channel_bytes_per_s": 1.1e9,
//                     "messages_per_s": 6e4},  // messages_per_s optional (older calibrations lack it)
//     "compute_per_cluster": 1,           // optional: T (default 1)
//     "offline_batch": 8,                 // optional: inferences prepared ahead (default 8)
//     "clusters": [
//       {"name": "edge-a", "cores": 0.5, "memory_mib": 4096, "link_mbit_per_s": 100},
//       {"name": "edge-b", "macs_per_s": 9e8, "and_per_s": 2e7, "channel_bytes_per_s": 5e8}
//     ]
//   }
//
// "calibration" is what `pmdi-plan calibrate` prints: one core of the machine
// it ran on (plan::core_rates). A cluster has "cores" of that machine, or its
// own measured rates (each overrides cores x calibration), and optionally the
// memory of each of its servers and the bandwidth of the link into it
// (default: unbounded). A missing messages_per_s leaves messages out of the
// model. Errors name the file and the field.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "pmdi/plan/placement.hpp"
#include "pmdi/run/deployment.hpp"

namespace pmdi::run {

struct cluster_file {
  plan::core_rates calibration{};
  std::size_t compute_per_cluster = 1;
  std::size_t offline_batch = deployment_file::default_offline_batch;
  std::vector<plan::cluster_spec> clusters;
};

[[nodiscard]] inline cluster_file parse_cluster_file(std::string_view text, const std::string& source = "cluster file") {
  detail::json_reader in(source);
  boost::system::error_code ec;
  const json::value root = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) throw usage_error(source + ": not valid JSON: " + ec.message());
  const auto& top = in.object(root, "top level");
  in.only(top, "", {"calibration", "compute_per_cluster", "offline_batch", "clusters"});
  cluster_file f;
  if (const auto* v = top.if_contains("calibration")) {
    const auto& c = in.object(*v, "calibration");
    in.only(c, "calibration", {"macs_per_s", "and_per_s", "channel_bytes_per_s", "messages_per_s"});
    f.calibration.macs_per_s = in.positive_number(in.member(c, "calibration", "macs_per_s"), "calibration.macs_per_s");
    f.calibration.and_per_s = in.positive_number(in.member(c, "calibration", "and_per_s"), "calibration.and_per_s");
    f.calibration.channel_bytes_per_s = in.positive_number(
        in.member(c, "calibration", "channel_bytes_per_s"), "calibration.channel_bytes_per_s");
    if (const auto* m = c.if_contains("messages_per_s"))
      f.calibration.messages_per_s = in.positive_number(*m, "calibration.messages_per_s");
  }
  if (const auto* v = top.if_contains("compute_per_cluster"))
    f.compute_per_cluster = in.integer(*v, "compute_per_cluster", 1, 64);
  if (const auto* v = top.if_contains("offline_batch")) f.offline_batch = in.integer(*v, "offline_batch", 1, 1'000'000);
  const json::value& cv = in.member(top, "", "clusters");
  if (!cv.is_array() || cv.get_array().empty()) in.fail("clusters", "expected a non-empty array");
  for (const auto& e : cv.get_array()) {
    const std::string field = "clusters[" + std::to_string(f.clusters.size()) + "]";
    const auto& o = in.object(e, field);
    in.only(o, field,
            {"name", "cores", "macs_per_s", "and_per_s", "channel_bytes_per_s", "messages_per_s", "memory_mib",
             "link_mbit_per_s"});
    plan::cluster_spec c;
    c.name = o.contains("name") ? in.string(o.at("name"), field + ".name") : "cluster " + std::to_string(f.clusters.size());
    if (c.name.empty() || c.name.size() > 64) in.fail(field + ".name", "must be 1 to 64 characters");
    const std::string who = field + " (" + printable(c.name) + ")";
    auto opt = [&](const char* key, double& out, double scale) {
      if (const auto* x = o.if_contains(key)) out = scale * in.positive_number(*x, who + "." + key);
    };
    c.cores = 0;
    opt("cores", c.cores, 1);
    opt("macs_per_s", c.macs_per_s, 1);
    opt("and_per_s", c.and_per_s, 1);
    opt("channel_bytes_per_s", c.channel_bytes_per_s, 1);
    opt("messages_per_s", c.messages_per_s, 1);
    opt("memory_mib", c.memory_bytes, 1048576.0);
    opt("link_mbit_per_s", c.link_bytes_per_s, 1e6 / 8);
    const bool own = c.macs_per_s > 0 && c.and_per_s > 0 && c.channel_bytes_per_s > 0;
    if (!own && c.cores == 0)
      in.fail(who, "no speed: give \"cores\" (with a \"calibration\") or macs_per_s, and_per_s and channel_bytes_per_s");
    if (!own && c.cores > 0 && !top.contains("calibration"))
      in.fail(who + ".cores", "needs the file's \"calibration\" (pmdi-plan calibrate prints it)");
    f.clusters.push_back(std::move(c));
  }
  return f;
}

[[nodiscard]] inline cluster_file load_cluster_file(const std::filesystem::path& file) {
  std::ifstream f(file);
  if (!f) throw usage_error(file.string() + ": cannot open the cluster file");
  std::ostringstream s;
  s << f.rdbuf();
  return parse_cluster_file(s.str(), file.string());
}

}  // namespace pmdi::run
