#pragma once
// The launcher of a deployment: every role in this process (in-memory pipes,
// run/local.hpp), or every role as its own process over loopback TCP with
// --processes (the per-role binaries <name>-client, <name>-cloud, ...,
// spawned as processes (run/processes.hpp) in a run directory
// (run/run_directory.hpp), their exit codes and reports collected). Either
// way it prints one table for people from all the parties' reports
// (run/table.hpp): time per phase per party, bytes per link and direction per
// phase, rounds.
//
//   <name>-launch [--processes] [--clusters P] [--compute T] [--images N]
//                 [--random-weights S | --model FILE] [--random-input S | --input FILE] ...
//
// The launcher is built for one shape (P clusters of T compute servers, as
// the role binaries): in this process too it compiles only that shape's
// roles, so that it builds in about the time of two role binaries.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "pmdi/plan/placement.hpp"
#include "pmdi/run/cli.hpp"
#include "pmdi/run/role_options.hpp"
#include "pmdi/run/deployment.hpp"
#include "pmdi/run/local.hpp"
#include "pmdi/run/processes.hpp"
#include "pmdi/run/report.hpp"
#include "pmdi/run/role_main.hpp"
#include "pmdi/run/run_directory.hpp"
#include "pmdi/run/table.hpp"

namespace pmdi::run {

struct launch_options {
  bool processes = false;
  std::uint32_t clusters = 2, compute = 1;
  std::uint64_t images = 1;
  std::optional<std::uint64_t> random_weights, random_input;
  std::filesystem::path model, input, dir, report, output, bin_dir;
  unsigned paillier_bits = 2048, threads = 2;
  deployment_timeouts timeouts{std::chrono::milliseconds(30000), std::chrono::milliseconds(10000),
                               std::chrono::milliseconds(600000)};
  std::chrono::seconds limit{7200};
  bool quiet = false;
  bool check = false;
  bool stream = false;
  // The deployment file's "placement" as given ("even", or ranges as text);
  // empty: the planner's for equal clusters (resolved by launcher_main).
  std::string placement_text;
  std::vector<proto::stage_range> placement;
};

inline void declare_launch_options(command_line& c, launch_options& o) {
  c.flag("processes", o.processes, "one process per party over 127.0.0.1 (default: all in this process)")
      .number("clusters", o.clusters, 1, 64, "P", "clusters (default: the shape the roles are built for, CLUSTERS)")
      .number("compute", o.compute, 1, 64, "T", "compute servers per cluster (default: COMPUTE)")
      .value("placement", o.placement_text, "RANGES",
             "the stages of each cluster, [first, end) each: '[[0, 3], [3, 4]]' (pmdi-plan prints it), or 'even' "
             "(default: the planner's split for equal clusters, plan::default_placement)");
  declare_run_options(c, o);
  declare_model_options(c, o);
  declare_input_options(c, o);
  c.number("receive-timeout-ms", o.timeouts.receive, 1, 86'400'000, "MS",
           "deadline of every wait for a peer (default 600000)")
      .number("limit-s", o.limit, 1, 86'400 * 7, "S", "kill every party still running after S seconds (default 7200)")
      .value("dir", o.dir, "DIR", "run directory: deployment.json, keys, logs, reports (default: a new one in /tmp)")
      .value("bin-dir", o.bin_dir, "DIR", "where the role binaries are (default: next to this launcher)")
      .value("report", o.report, "FILE", "all reports as one JSON array")
      .value("output", o.output, "FILE", "the client's outputs, one line of ring elements per image")
      .flag("check", o.check,
            "compare the client's outputs with the plaintext fixed-point oracle (this launcher reads the model and "
            "inputs itself); exit 1 if they differ")
      .flag("stream", o.stream,
            "(with --processes) the client sends every image's input at once and then collects the outputs: the "
            "clusters work as a pipeline");
}

// What the launcher's --help lists.
[[nodiscard]] inline std::string launch_options_help() {
  launch_options o;
  command_line c;
  declare_launch_options(c, o);
  return c.help();
}

// `o` holds the defaults (launcher_main: the shape the roles are built for).
[[nodiscard]] inline launch_options parse_launch_options(int argc, char** argv, launch_options o = {}) {
  command_line c;
  declare_launch_options(c, o);
  c.parse(argc, argv);
  if (!o.random_weights && o.model.empty()) throw usage_error("give the model: --model FILE or --random-weights S");
  if (!o.random_input && o.input.empty()) throw usage_error("give the inputs: --input FILE or --random-input S");
  if (o.stream && !o.processes) throw usage_error("--stream needs --processes");
  return o;
}

// The placement of a launch: --placement as given, "even", or by default the
// planner's for equal clusters.
template <a_deployment D>
[[nodiscard]] std::vector<proto::stage_range> resolve_placement(const launch_options& o) {
  using Ring = typename D::ring;
  const auto plan = D::public_plan();
  if (o.placement_text == "even") return proto::even_placement(plan.stages.size(), o.clusters);
  if (!o.placement_text.empty()) return parse_placement(o.placement_text, o.clusters);
  if (o.clusters > plan.stages.size()) return {};  // proto::split refuses it with its sentence
  return plan::default_placement(plan, Ring::bits, o.clusters, o.compute, deployment_file::default_offline_batch);
}

// Where the weights and the inputs come from, as the role binaries take it.
[[nodiscard]] inline role_options data_options(const launch_options& o) {
  role_options ro;
  ro.random_weights = o.random_weights;
  ro.model = o.model;
  ro.random_input = o.random_input;
  ro.input = o.input;
  ro.images = o.images;
  return ro;
}

// In-process run: every role in this process over in-memory channels, for
// the one shape Shape.
template <a_deployment D>
[[nodiscard]] std::vector<proto::party_report> launch_in_process(const launch_options& o,
                                                       std::vector<std::vector<typename D::ring::value_type>>& y) {
  using Ring = typename D::ring;
  using V = typename Ring::value_type;
  const role_options ro = data_options(o);
  const auto plan = D::public_plan();
  const auto x = client_inputs<Ring>(ro, plan.input_size());
  local_options lo;
  lo.topo = {o.clusters, o.compute, o.placement};
  lo.paillier_bits = o.paillier_bits;
  lo.threads = o.threads;
  lo.deadline = o.timeouts.receive;
  if (!o.quiet) {
    lo.progress = stderr_progress();
    lo.stage_log = [](const std::string& line) { std::cerr << line << std::endl; };
  }
  local_deployment<Ring, shape_list<typename D::shape>> d(cloud_model<D>(ro), plan.input_size(), lo);
  // Each role's report holds its latest phases; the run's report sums them
  // over the images, as a party process's does.
  std::map<std::string, proto::party_report> reps;
  for (const auto& n : d.party_names()) {
    reps[n].party = n;
    reps[n].images = o.images;
  }
  // (The cloud's online phase is all zeros: it takes no part.)
  auto collect = [&](const char* phase) {
    for (const auto& pr : d.reports()) reps[pr.party].phase(phase) += pr.phase(phase);
  };
  if (!o.quiet) std::cerr << "setup" << std::endl;
  d.setup();
  collect("setup");
  for (std::uint64_t i = 1; i <= o.images; ++i) {
    if (!o.quiet) std::cerr << "offline " << i << std::endl;
    d.offline(i);
    collect("offline");
  }
  y.clear();
  for (std::uint64_t i = 1; i <= o.images; ++i) {
    y.push_back(d.online(i, std::span<const V>(x[i - 1])));
    collect("online");
  }
  for (const auto& pr : d.reports()) reps[pr.party].take_run_figures(pr);
  if (!o.output.empty()) write_outputs(o.output, y);
  for (std::size_t i = 0; i < y.size(); ++i)
    std::cout << "image " << i + 1 << ": " << describe_output<Ring>(plan, std::span<const V>(y[i])) << "\n";
  std::vector<proto::party_report> out;
  for (const auto& n : d.party_names()) out.push_back(reps[n]);
  return out;
}

// Every party as its own process over 127.0.0.1, in o.dir; `watch`, if given,
// sees the running parties every few milliseconds until they have all ended.
[[nodiscard]] inline std::vector<proto::party_report> launch_processes(
    const launch_options& o, std::string_view name, unsigned ring_bits, unsigned fraction_bits, bool& all_ok,
    const std::function<void(const process_group&)>& watch = {}) {
  const std::filesystem::path dir = o.dir;
  const std::filesystem::path bin = o.bin_dir.empty() ? self_dir() : o.bin_dir;
  const auto files = write_local_deployment(dir, o.clusters, o.compute, o.timeouts, ring_bits, fraction_bits,
                                            o.placement);
  process_group g;
  const auto roles = expected_roles(o.clusters, o.compute);
  for (const auto& r : roles) {
    auto args = party_args(files, r, o.images);
    args.insert(args.end(), {"--threads", std::to_string(o.threads)});
    if (o.quiet) args.push_back("--quiet");
    if (r.kind == proto::role_kind::client) {
      args.insert(args.end(), {"--paillier-bits", std::to_string(o.paillier_bits), "--output",
                               (o.output.empty() ? dir / "outputs.txt" : o.output).string()});
      if (o.stream) args.push_back("--stream");
      if (o.random_input) args.insert(args.end(), {"--random-input", std::to_string(*o.random_input)});
      else args.insert(args.end(), {"--input", std::filesystem::absolute(o.input).string()});
    }
    if (r.kind == proto::role_kind::cloud) {
      if (o.random_weights) args.insert(args.end(), {"--random-weights", std::to_string(*o.random_weights)});
      else args.insert(args.end(), {"--model", std::filesystem::absolute(o.model).string()});
    }
    const auto exe = role_binary(bin, name, r.kind);
    if (!std::filesystem::exists(exe)) throw usage_error(exe.string() + ": no such role binary (see --bin-dir)");
    g.start(r.path(), exe, args, dir / party_file(r, ".log"));
  }
  const auto st = g.wait_all(std::chrono::steady_clock::now() + o.limit, watch);
  all_ok = true;
  std::vector<proto::party_report> reports;
  for (const auto& r : roles) {
    const auto& s = st.at(r.path());
    proto::party_report rep;
    try {
      rep = read_report(dir / party_file(r, ".report.json"));
    } catch (const error& e) {
      rep.party = r.to_string();
      rep.role = r.path();
      rep.error = e.what();
    }
    if (!s.ok()) {
      all_ok = false;
      rep.ok = false;
      if (rep.error.empty()) rep.error = s.str() + "; " + last_line(g.log(r.path()));
    }
    reports.push_back(std::move(rep));
  }
  return reports;
}

// The client's results in a run directory, as it printed them.
inline void print_client_results(const std::filesystem::path& dir, std::ostream& out) {
  std::istringstream client_log(read_text(dir / party_file({proto::role_kind::client, 0, 0}, ".log")));
  for (std::string line; std::getline(client_log, line);)
    if (line.rfind("image ", 0) == 0) out << line << "\n";
}

// The images (numbered from 1) whose output in `y` differs from the plaintext
// fixed-point oracle on the same weights and inputs, or is missing.
template <a_deployment D>
[[nodiscard]] std::vector<std::uint64_t> oracle_mismatches(const launch_options& o,
                                                           const std::vector<std::vector<typename D::ring::value_type>>& y) {
  using Ring = typename D::ring;
  const role_options ro = data_options(o);
  const auto stages = cloud_model<D>(ro);
  const auto x = client_inputs<Ring>(ro, proto::input_size(stages));
  std::vector<std::uint64_t> differ;
  for (std::uint64_t i = 0; i < o.images; ++i)
    if (i >= y.size() || y[i] != oracle::fixed<Ring>(stages, x[i])) differ.push_back(i + 1);
  return differ;
}

// Compares the client's outputs with the oracle; prints the verdict.
template <a_deployment D>
[[nodiscard]] bool check_outputs(const launch_options& o, const std::vector<std::vector<typename D::ring::value_type>>& y,
                                 std::ostream& out) {
  const auto differ = oracle_mismatches<D>(o, y);
  if (!differ.empty()) {
    out << "check FAILED: " << differ.size() << " of " << o.images << " image(s) differ from the plaintext "
        << "fixed-point oracle, the first image " << differ.front() << "\n";
    return false;
  }
  out << "check: the outputs of all " << o.images << " image(s) equal the plaintext fixed-point oracle bit for bit\n";
  return true;
}

// Shape: the deployment's shape the roles are built for, in this process and
// in the role binaries alike (--clusters and --compute default to it; another
// value is refused).
template <a_deployment D>
[[nodiscard]] int launcher_main(int argc, char** argv, std::string_view name) {
  using Ring = typename D::ring;
  using Shape = typename D::shape;
  using V = typename Ring::value_type;
  std::signal(SIGPIPE, SIG_IGN);
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::cout << "usage: " << argv[0] << " [options]\nruns every party of the deployment '" << name
                << "' (in this process, or one process each with --processes)\n"
                << launch_options_help() << "   or: " << argv[0]
                << " --table REPORT.json...   the table from the reports of a run elsewhere\n";
      return 0;
    }
  if (argc >= 2 && std::string_view(argv[1]) == "--table") {
    // The table from reports written elsewhere (e.g. one party per host).
    try {
      std::vector<proto::party_report> reports;
      for (int i = 2; i < argc; ++i) reports.push_back(read_report(argv[i]));
      if (reports.empty()) throw usage_error("--table needs the report files (role binaries' --report)");
      print_table(std::cout, reports);
      bool ok = true;
      for (const auto& r : reports) ok = ok && r.ok;
      return ok ? 0 : 1;
    } catch (const std::exception& e) {
      std::cerr << "pmdi: " << name << "-launch: " << e.what() << std::endl;
      return 1;
    }
  }
  try {
    launch_options defaults;
    defaults.clusters = Shape::clusters;
    defaults.compute = Shape::compute;
    auto o = parse_launch_options(argc, argv, defaults);
    o.placement = resolve_placement<D>(o);
    if (o.clusters != Shape::clusters || o.compute != Shape::compute)
      throw usage_error("--clusters " + std::to_string(o.clusters) + " --compute " + std::to_string(o.compute) +
                        ": the roles of '" + std::string(name) + "' are built for " + std::to_string(Shape::clusters) +
                        " cluster(s) of " + std::to_string(Shape::compute) + " compute server(s); give --clusters " +
                        std::to_string(Shape::clusters) + " --compute " + std::to_string(Shape::compute) +
                        " or build them with pmdi_add_deployment(... CLUSTERS P COMPUTE T)");
    bool ok = true;
    std::vector<proto::party_report> reports;
    std::vector<std::vector<V>> y;
    if (o.processes) {
      if (o.dir.empty()) {
        std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(name) + "-XXXXXX")).string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw error("cannot create a run directory in " + tmpl);
        o.dir = tmpl;
      }
      if (o.output.empty()) o.output = o.dir / "outputs.txt";
      std::cerr << "run directory: " << o.dir.string() << "\n";
      reports = launch_processes(o, name, Ring::bits, Ring::frac, ok);
      print_client_results(o.dir, std::cout);
      if (ok && o.check) y = read_outputs<V>(o.output);
    } else {
      reports = launch_in_process<D>(o, y);
    }
    std::cout << "\n" << name << ": " << o.clusters << " cluster(s) x " << o.compute << " compute server(s), "
              << o.images << " image(s), " << (o.processes ? "one process per party over 127.0.0.1" : "one process")
              << "\n\n";
    print_table(std::cout, reports);
    if (!o.report.empty()) {
      json::array a;
      for (const auto& r : reports) a.push_back(to_json_value(r));
      std::ofstream f(o.report);
      f << json::serialize(a) << "\n";
    }
    if (ok && o.check) ok = check_outputs<D>(o, y, std::cout);
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "pmdi: " << name << "-launch: " << e.what() << std::endl;
    return 1;
  }
}

}  // namespace pmdi::run
