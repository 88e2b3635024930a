// pmdi-bench soak: a long run of one deployment as it would serve. MiniONN-
// MNIST's role binaries (examples/deployments: minionn-*), every party its own
// process over 127.0.0.1, N consecutive inferences streamed batch by batch
// (the deployment's offline_batch); every output checked against the
// plaintext fixed-point oracle; every party's resident memory sampled every
// 100 ms from /proc.
//   pmdi-bench soak [--images N] [--paillier-bits B] [--random-weights S] [--dir DIR]
// Metrics (bench "soak"): soak_inferences, soak_mismatches,
// soak_rss_growth_ratio (per party: the largest RSS over the last 10 % of its
// run over the largest over its first 10 %; the worst party), soak_peak_rss_bytes
// (the largest party), soak_seconds, soak_inferences_per_s.
#if defined(PMDI_HAVE_ONNX)
#define PMDI_RUN_ONNX 1
#endif
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "bench.hpp"
#include "pmdi/core/ring.hpp"
#include "pmdi/deployment.hpp"
#include "pmdi/nn/zoo.hpp"
#include "pmdi/run/launcher.hpp"

namespace {

using net = pmdi::nn::zoo::minionn_mnist;
using ring = pmdi::ring<32, 5>;
using model_bounds = pmdi::nn::bounds<2, 5>;  // as examples/deployments builds minionn
using deployment = pmdi::deployment<net, ring, pmdi::proto::shape<2, 1>, model_bounds>;

struct rss_sample {
  double t;  // seconds since the run started
  std::uint64_t bytes;
};

// Per party: the largest RSS over the last 10 % of its samples' span over the
// largest over the first 10 %.
double growth_ratio(const std::vector<rss_sample>& s) {
  if (s.size() < 2) return 1.0;
  const double t0 = s.front().t, t1 = s.back().t, span = t1 - t0;
  std::uint64_t first = 0, last = 0;
  for (const auto& x : s) {
    if (x.t <= t0 + 0.1 * span) first = std::max(first, x.bytes);
    if (x.t >= t1 - 0.1 * span) last = std::max(last, x.bytes);
  }
  return first == 0 ? 1.0 : static_cast<double>(last) / static_cast<double>(first);
}

int run(const pmdi::bench::args& a, pmdi::bench::report& r) {
  namespace run = pmdi::run;
  run::launch_options o;
  o.processes = true;
  o.stream = true;
  o.quiet = true;
  o.clusters = 2;
  o.compute = 1;
  o.images = a.quick ? 20 : 1000;
  o.random_input = 3;
  o.bin_dir = PMDI_MINIONN_BIN_DIR;
  std::optional<std::uint64_t> random_weights;
  for (std::size_t i = 0; i < a.rest.size(); ++i) {
    const std::string& k = a.rest[i];
    const bool has_value = i + 1 < a.rest.size();
    if (k == "--images" && has_value) o.images = std::stoull(a.rest[++i]);
    else if (k == "--paillier-bits" && has_value) o.paillier_bits = static_cast<unsigned>(std::stoul(a.rest[++i]));
    else if (k == "--random-weights" && has_value) random_weights = std::stoull(a.rest[++i]);
    else if (k == "--dir" && has_value) o.dir = a.rest[++i];
    else throw pmdi::usage_error("soak: unknown option '" + k +
                                 "' (--images N, --paillier-bits B, --random-weights S, --dir DIR)");
  }
  if (o.images == 0) throw pmdi::usage_error("soak: --images must be at least 1");
  const std::filesystem::path trained = std::filesystem::path(PMDI_SOURCE_DIR) / "examples/models/minionn_fashion.onnx";
#if defined(PMDI_HAVE_ONNX)
  if (!random_weights && std::filesystem::exists(trained)) o.model = trained;
#endif
  if (o.model.empty()) o.random_weights = random_weights.value_or(1);
  if (o.dir.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pmdi-soak-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw pmdi::error("soak: cannot create a run directory in " + tmpl);
    o.dir = tmpl;
  }
  o.output = o.dir / "outputs.txt";
  o.placement = run::resolve_placement<deployment>(o);
  r.note("MiniONN-MNIST (" + std::string(o.model.empty() ? "random weights" : "trained weights") + "), " +
         std::to_string(o.images) + " inferences, 2 clusters x 1 compute server, one process per party, Paillier " +
         std::to_string(o.paillier_bits) + " bits; run directory " + o.dir.string());

  std::map<std::string, std::vector<rss_sample>> samples;
  const auto started = std::chrono::steady_clock::now();
  auto last = started - std::chrono::seconds(1);
  auto watch = [&](const run::process_group& g) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::milliseconds(100)) return;
    last = now;
    const double t = std::chrono::duration<double>(now - started).count();
    for (const auto& [party, pid] : g.running())
      if (const auto b = run::resident_bytes(pid)) samples[party].push_back({t, *b});
  };
  bool ok = true;
  const auto reports = run::launch_processes(o, "minionn", ring::bits, ring::frac, ok, watch);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (const auto& rep : reports)
    if (!rep.ok) std::cerr << "soak: " << rep.party << " failed: " << rep.error << "\n";
  if (!ok) throw pmdi::error("soak: the run failed (logs in " + o.dir.string() + ")");

  const auto y = run::read_outputs<ring::value_type>(o.output);
  const auto mismatches = run::oracle_mismatches<deployment>(o, y);
  double worst = 0;
  std::uint64_t peak = 0;
  for (const auto& [party, s] : samples) {
    const double g = growth_ratio(s);
    std::uint64_t p = 0;
    for (const auto& x : s) p = std::max(p, x.bytes);
    r.note(party + ": RSS growth " + std::to_string(g) + ", peak " + std::to_string(p >> 20) + " MiB over " +
           std::to_string(s.size()) + " samples");
    worst = std::max(worst, g);
    peak = std::max(peak, p);
  }
  r.metric("soak", "soak_inferences", static_cast<double>(y.size()), "inferences");
  r.metric("soak", "soak_mismatches", static_cast<double>(mismatches.size()), "inferences");
  r.metric("soak", "soak_rss_growth_ratio", worst, "ratio");
  r.metric("soak", "soak_peak_rss_bytes", static_cast<double>(peak), "B");
  r.metric("soak", "soak_seconds", seconds, "s");
  r.metric("soak", "soak_inferences_per_s", static_cast<double>(y.size()) / seconds, "1/s");
  return mismatches.empty() && y.size() == o.images ? 0 : 1;
}

const pmdi::bench::registrar reg("soak",
                                 "N consecutive MiniONN inferences over separate processes: oracle checks, RSS "
                                 "growth (--images N, default 1000; --quick 20)",
                                 run);

}  // namespace
