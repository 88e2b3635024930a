// pmdi-plan: where each cluster's stages should be (plan/placement.hpp).
//
//   pmdi-plan calibrate --network NAME [--reps N]
//       measures this machine's per-core rates on the network's own stages and
//       prints them as a cluster file's "calibration" object
//   pmdi-plan --network NAME --clusters FILE [--objective throughput|latency] [--placement P] [--json]
//       prints the even split, AR-MDI's and the optimal contiguous split with
//       their predicted per-cluster times, bottleneck, throughput, latency and
//       memory, which constraints bind, and the "placement" line of each for
//       the deployment file (pmdi-keygen --placement, <name>-launch --placement);
//       with --placement, the same for that placement too (method "given")
//   pmdi-plan --list
//
// Networks: the examples/networks/ declarations at ring<32, 5>, as
// pmdi-bench inference --network runs them.
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>

#include "networks/alexnet.hpp"
#include "networks/alexnet_falcon.hpp"
#include "networks/minionn_cifar.hpp"
#include "networks/minionn_mnist.hpp"
#include "networks/resnet32.hpp"
#include "networks/vgg16.hpp"
#include "networks/vgg16_falcon.hpp"
#include "pmdi/core/ring.hpp"
#include "pmdi/nn/weights.hpp"
#include "pmdi/plan/lower.hpp"
#include "pmdi/plan/placement.hpp"
#include "pmdi/run/calibrate.hpp"
#include "pmdi/run/cli.hpp"
#include "pmdi/run/cluster_file.hpp"
#include "pmdi/run/deployment_file.hpp"

namespace {

using namespace pmdi;
namespace json = boost::json;
using paper_ring = pmdi::ring<32, 5>;

constexpr std::string_view usage_head =
    "usage: pmdi-plan --network NAME --clusters FILE [--objective throughput|latency] [--placement P] [--json]\n"
    "       pmdi-plan calibrate --network NAME [--reps N]\n"
    "       pmdi-plan --list\n";

constexpr std::string_view network_names[] = {"minionn-mnist", "minionn-cifar",  "resnet32",    "alexnet",
                                              "alexnet-falcon", "vgg16",          "vgg16-falcon"};

// The public plan of a named network, from its type.
template <class Net, class Bounds = nn::default_bounds>
proto::network_plan plan_of() {
  return plan::public_network_plan<Net, paper_ring, Bounds>();
}

proto::network_plan network_plan(const std::string& name) {
  if (name == "minionn-mnist") return plan_of<networks::minionn_mnist, nn::bounds<2, 5>>();
  if (name == "minionn-cifar") return plan_of<networks::minionn_cifar>();
  if (name == "resnet32") return plan_of<networks::resnet32>();
  if (name == "alexnet") return plan_of<networks::alexnet>();
  if (name == "alexnet-falcon") return plan_of<networks::alexnet_falcon>();
  if (name == "vgg16") return plan_of<networks::vgg16>();
  if (name == "vgg16-falcon") return plan_of<networks::vgg16_falcon>();
  throw usage_error("--network: unknown network '" + name + "' (pmdi-plan --list)");
}

std::string ranges(const std::vector<proto::stage_range>& pl) {
  std::string s = "[";
  for (std::size_t j = 0; j < pl.size(); ++j)
    s += (j ? ", [" : "[") + std::to_string(pl[j].first) + ", " + std::to_string(pl[j].end) + "]";
  return s + "]";
}

std::string fixed(double x, int digits) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, x);
  return b;
}

void print_table(const std::string& network, const run::cluster_file& cf, const plan::network_load& n,
                 const std::vector<plan::placement_estimate>& ests) {
  std::cout << network << ": " << n.stages.size() << " stages, ring<" << paper_ring::bits << ", " << paper_ring::frac
            << ">, T = " << n.compute_per_cluster << ", offline_batch " << n.offline_batch << ", "
            << cf.clusters.size() << " clusters\n";
  std::cout << "  stage      MACs   AND gates  parameters  in bytes  cluster bytes  messages\n";
  for (std::size_t k = 0; k < n.stages.size(); ++k) {
    const auto& s = n.stages[k];
    char b[160];
    std::snprintf(b, sizeof b, "  %5zu %9llu %11llu %11llu %9llu %14llu %9llu\n", k,
                  static_cast<unsigned long long>(s.macs), static_cast<unsigned long long>(s.and_gates),
                  static_cast<unsigned long long>(s.parameters), static_cast<unsigned long long>(s.in_bytes),
                  static_cast<unsigned long long>(s.cluster_bytes), static_cast<unsigned long long>(s.messages));
    std::cout << b;
  }
  for (const auto& e : ests) {
    std::cout << "\n" << e.method << ": \"placement\": " << ranges(e.placement) << "\n";
    if (!e.feasible) {
      std::cout << "  infeasible: " << plan::infeasible_reason(e, cf.clusters) << "\n";
      continue;
    }
    std::cout << "  predicted " << fixed(e.inferences_per_s(), 2) << " inferences/s, latency "
              << fixed(1e3 * e.latency_s, 2) << " ms; bottleneck: cluster " << e.bottleneck_cluster << " ("
              << cf.clusters[e.bottleneck_cluster].name << ") " << (e.bottleneck_is_link ? "link" : "cpu") << " "
              << fixed(1e3 * e.bottleneck_s, 2) << " ms\n";
    for (std::size_t j = 0; j < e.clusters.size(); ++j) {
      const auto& c = e.clusters[j];
      const auto& spec = cf.clusters[j];
      std::cout << "  cluster " << j << " " << spec.name << ": stages [" << c.stages.first << ", " << c.stages.end
                << ")  cpu " << fixed(1e3 * c.cpu_s, 2) << " ms  link " << fixed(1e3 * c.wire_s, 2)
                << " ms  memory " << fixed(c.memory_bytes / 1048576, 1) << " MiB";
      if (std::isfinite(spec.memory_bytes))
        std::cout << " of " << fixed(spec.memory_bytes / 1048576, 0) << " ("
                  << fixed(100 * c.memory_bytes / spec.memory_bytes, 0) << " %)";
      std::cout << (j == e.bottleneck_cluster ? "  <- binds" : "") << "\n";
    }
  }
}

void print_json(const std::string& network, const run::cluster_file& cf,
                const std::vector<plan::placement_estimate>& ests) {
  for (const auto& e : ests) {
    json::array clusters;
    for (std::size_t j = 0; j < e.clusters.size(); ++j) {
      const auto& c = e.clusters[j];
      clusters.push_back(json::object{{"name", cf.clusters[j].name},
                                      {"stages", json::array{c.stages.first, c.stages.end}},
                                      {"cpu_s", c.cpu_s},
                                      {"link_s", c.wire_s},
                                      {"memory_bytes", c.memory_bytes},
                                      {"memory_fits", c.memory_fits}});
    }
    json::array pl;
    for (const auto& r : e.placement) pl.push_back(json::array{r.first, r.end});
    json::object o{{"bench", "plan"},
                   {"network", network},
                   {"method", e.method},
                   {"placement", std::move(pl)},
                   {"feasible", e.feasible},
                   {"predicted_inferences_per_s", e.inferences_per_s()},
                   {"predicted_latency_s", e.latency_s},
                   {"bottleneck_cluster", e.bottleneck_cluster},
                   {"bottleneck", e.bottleneck_is_link ? "link" : "cpu"},
                   {"clusters", std::move(clusters)}};
    if (!e.feasible) o["infeasible"] = plan::infeasible_reason(e, cf.clusters);
    std::cout << json::serialize(o) << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bool calibrate = argc > 1 && std::string_view(argv[1]) == "calibrate";
    std::string network, objective = "throughput", placement;
    std::filesystem::path clusters;
    bool as_json = false, list = false;
    int reps = 5;
    run::command_line c;
    c.value("network", network, "NAME",
            "minionn-mnist, minionn-cifar, resnet32, alexnet, alexnet-falcon, vgg16, vgg16-falcon")
        .value("clusters", clusters, "FILE",
               "the clusters (docs/placement.md): per cluster cores of the calibrated machine or its own rates, "
               "memory per server, bandwidth of the link into it")
        .value("objective", objective, "O",
               "what the optimal split minimises: the pipeline's bottleneck (throughput, the default) or one "
               "inference's latency")
        .value("placement", placement, "P",
               "also predict this placement, as the deployment file writes it: \"[[0, 3], [3, 4]]\"")
        .flag("json", as_json, "one JSON line per placement instead of the table")
        .flag("list", list, "list the networks")
        .number("reps", reps, 1, 1000, "N", "calibrate: median of N timings per stage (default 5)");
    c.parse(calibrate ? argc - 1 : argc, calibrate ? argv + 1 : argv);
    if (c.help_asked()) {
      std::cout << usage_head << c.help();
      return 0;
    }
    if (list) {
      for (auto n : network_names) std::cout << n << "\n";
      return 0;
    }
    if (network.empty()) throw usage_error("--network is required (pmdi-plan --list)");
    const auto p = network_plan(network);
    if (calibrate) {
      const auto r = run::calibrate<paper_ring::value_type>(p, paper_ring::bits, reps);
      std::cout << "{\"calibration\": " << json::serialize(json::object{{"macs_per_s", r.macs_per_s},
                                                                        {"and_per_s", r.and_per_s},
                                                                        {"channel_bytes_per_s", r.channel_bytes_per_s},
                                                                        {"messages_per_s", r.messages_per_s}})
                << "}\n";
      return 0;
    }
    if (clusters.empty()) throw usage_error("--clusters FILE is required");
    if (objective != "throughput" && objective != "latency")
      throw usage_error("--objective: expected throughput or latency, got '" + objective + "'");
    const auto cf = run::load_cluster_file(clusters);
    const auto n = plan::network_load_of(p, paper_ring::bits, cf.compute_per_cluster, cf.offline_batch);
    const auto goal = objective == "latency" ? plan::objective::latency : plan::objective::throughput;
    std::vector<plan::placement_estimate> ests = {plan::even_split(n, cf.clusters, cf.calibration),
                                                  plan::armdi_split(n, cf.clusters, cf.calibration),
                                                  plan::optimal_split(n, cf.clusters, cf.calibration, goal)};
    const bool optimal_feasible = ests.back().feasible;
    if (!placement.empty()) {
      const auto given = run::parse_placement(placement, static_cast<std::uint32_t>(cf.clusters.size()));
      ests.push_back(plan::estimate(n, cf.clusters, cf.calibration, given, "given"));
    }
    if (as_json)
      print_json(network, cf, ests);
    else
      print_table(network, cf, n, ests);
    return optimal_feasible ? 0 : 3;
  } catch (const usage_error& e) {
    std::cerr << "pmdi-plan: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "pmdi-plan: " << e.what() << "\n";
    return 1;
  }
}
