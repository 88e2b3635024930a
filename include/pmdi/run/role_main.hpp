#pragma once
// The entry point of one party of a deployment, as its own process.
//
//   <name>-garbler --deployment deployment.json --party garbler/0
//                  --key garbler-0.key --images 1 --report garbler-0.json
//
// role_main<D>(argc, argv, name), D a pmdi::deployment<Net, Ring, Shape,
// Bounds> (pmdi/deployment.hpp), parses the arguments, loads the
// deployment file and the party's secret key, opens secure TCP links to
// exactly the peers the plan connects it with, runs its role's setup, then
// the offline phase of every image, then the online phase of every image, and
// ends the run with every peer (each party tells each peer it is done and
// waits for the same, so that a party failing at any point makes every other
// party fail), and writes a JSON report (run/report.hpp): time per phase,
// bytes and messages per peer, rounds, per-stage figures.
//
// Which role's code a binary contains is chosen by one macro, set by the CMake
// function pmdi_add_deployment (tools/cmake/PmdiRoles.cmake):
//   PMDI_RUN_ROLE_CLIENT, PMDI_RUN_ROLE_CLOUD, PMDI_RUN_ROLE_GARBLER,
//   PMDI_RUN_ROLE_EVALUATOR, PMDI_RUN_ROLE_COMPUTE.
// Only that role's header is included and only its class is instantiated: the
// client binary has no model-loading, model-sharing or cloud code at all.
// Without any of the macros every role is compiled (tests, the launcher).
// PMDI_RUN_ONNX lets the cloud load its weights from an ONNX file (--model).
//
// Every wait has the deadline of the deployment file (timeouts_ms). A failing
// party closes its links at once (its peers fail fast), writes its report with
// the error, prints one sentence naming the party, the step and the peer on
// stderr and exits with status 1.
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/deployment.hpp"
#include "pmdi/plan/oracle.hpp"
#include "pmdi/nn/sequential.hpp"
#include "pmdi/nn/weights.hpp"
#include "pmdi/plan/lower.hpp"
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "pmdi/proto/common.hpp"
#include "pmdi/proto/shape.hpp"
#include "pmdi/run/cli.hpp"
#include "pmdi/run/deployment.hpp"
#include "pmdi/run/inputs_outputs.hpp"
#include "pmdi/run/model_file.hpp"
#include "pmdi/run/party_driver.hpp"
#include "pmdi/run/party_links.hpp"
#include "pmdi/run/progress.hpp"
#include "pmdi/run/report.hpp"
#include "pmdi/run/role_options.hpp"

#if defined(PMDI_RUN_ROLE_CLIENT) || defined(PMDI_RUN_ROLE_CLOUD) || defined(PMDI_RUN_ROLE_GARBLER) || \
    defined(PMDI_RUN_ROLE_EVALUATOR) || defined(PMDI_RUN_ROLE_COMPUTE)
#define PMDI_RUN_ONE_ROLE 1
#endif
#if !defined(PMDI_RUN_ONE_ROLE) || defined(PMDI_RUN_ROLE_CLIENT)
#define PMDI_RUN_HAS_CLIENT 1
#include "pmdi/proto/client.hpp"
#endif
#if !defined(PMDI_RUN_ONE_ROLE) || defined(PMDI_RUN_ROLE_CLOUD)
#define PMDI_RUN_HAS_CLOUD 1
#include "pmdi/proto/cloud.hpp"
#if defined(PMDI_RUN_ONNX) && __has_include("pmdi/io/onnx.hpp")
#define PMDI_RUN_HAS_ONNX 1
#include "pmdi/io/onnx.hpp"
#endif
#endif
#if !defined(PMDI_RUN_ONE_ROLE) || defined(PMDI_RUN_ROLE_GARBLER)
#define PMDI_RUN_HAS_GARBLER 1
#include "pmdi/proto/garbler.hpp"
#endif
#if !defined(PMDI_RUN_ONE_ROLE) || defined(PMDI_RUN_ROLE_EVALUATOR)
#define PMDI_RUN_HAS_EVALUATOR 1
#include "pmdi/proto/evaluator.hpp"
#endif
#if !defined(PMDI_RUN_ONE_ROLE) || defined(PMDI_RUN_ROLE_COMPUTE)
#define PMDI_RUN_HAS_COMPUTE 1
#include "pmdi/proto/compute.hpp"
#endif

namespace pmdi::run {

template <a_deployment D>
[[nodiscard]] proto::public_config party_config(const run_context& ctx) {
  proto::public_config cfg;
  cfg.plan = D::public_plan();
  cfg.topo = {ctx.file.clusters, ctx.file.compute_per_cluster, ctx.file.placement};
  cfg.paillier_bits = ctx.opt.paillier_bits;
  cfg.threads = ctx.opt.threads;
  if (!ctx.opt.quiet) {
    cfg.progress = stderr_progress();
    cfg.stage_log = [](const std::string& line) { std::cerr << line << std::endl; };
  }
  return cfg;
}

// The model's weights, as the cloud's options name them (--random-weights S
// or --model FILE).
template <class Net>
[[nodiscard]] nn::model_weights model_weights_from(const role_options& o) {
  if (o.random_weights) return random_model<Net>(*o.random_weights);
  if (!o.model.empty()) {
#if defined(PMDI_RUN_HAS_ONNX)
    const auto declared = nn::describe<Net>();
    const auto bytes = read_model_file(o.model, o.model_pin);
    return io::load_onnx(bytes, o.model.filename().string(), std::span<const nn::layer_info>(declared));
#else
    throw usage_error("--model: this binary was built without ONNX (pmdi_add_deployment(... ONNX))");
#endif
  }
  throw usage_error("the cloud needs --model FILE or --random-weights S");
}

// The cloud's model: the weights lowered to protocol stages.
template <a_deployment D>
[[nodiscard]] std::vector<proto::stage> cloud_model(const role_options& o) {
  return D::lower(model_weights_from<typename D::network>(o));
}

#if defined(PMDI_RUN_HAS_CLIENT)
template <a_deployment D>
[[nodiscard]] asio::awaitable<void> run_client(run_context& ctx, party_links& links, const net::local_identity& me) {
  using Ring = typename D::ring;
  using Shape = typename D::shape;
  using V = typename Ring::value_type;
  using party = proto::client<Ring, Shape>;
  co_await connect<party>(ctx, links, me);
  const auto plan = D::public_plan();
  const auto x = client_inputs<Ring>(ctx.opt, plan.input_size());
  std::vector<std::vector<V>> y(ctx.opt.images);
  co_await run_party<party>(ctx, links, party_config<D>(ctx), [&](party& c, role_steps& s) {
    s.online = [&](std::uint64_t id) -> asio::awaitable<void> {
      y[id - 1] = co_await c.online(id, std::span<const V>(x[id - 1]));
    };
    if (ctx.opt.stream)
      s.online_batch = [&](std::uint64_t first, std::uint64_t last) -> asio::awaitable<void> {
        for (std::uint64_t id = first; id <= last; ++id) co_await c.submit(id, std::span<const V>(x[id - 1]));
        for (std::uint64_t id = first; id <= last; ++id) {
          y[id - 1] = co_await c.collect(id);
          ctx.progress(std::to_string(id) + " collected");  // the pipeline bench times each output by it
        }
      };
  });
  if (!ctx.opt.output.empty()) write_outputs(ctx.opt.output, y);
  for (std::size_t i = 0; i < y.size(); ++i)
    std::cout << "image " << i + 1 << ": " << describe_output<Ring>(plan, std::span<const V>(y[i])) << std::endl;
}
#endif

#if defined(PMDI_RUN_HAS_CLOUD)
template <a_deployment D>
[[nodiscard]] asio::awaitable<void> run_cloud(run_context& ctx, party_links& links, const net::local_identity& me) {
  using Ring = typename D::ring;
  using Shape = typename D::shape;
  using party = proto::cloud<Ring, Shape>;
  co_await connect<party>(ctx, links, me);
  ctx.at("load model");  // errors in the file name this step, not 'connect'
  auto model = cloud_model<D>(ctx.opt);
  co_await run_party<party>(ctx, links, party_config<D>(ctx), {}, std::move(model));
}
#endif

// The garbler or the evaluator of this party's cluster J: Party<Ring, Shape, J>.
template <a_deployment D, template <class, class, std::size_t> class Party>
[[nodiscard]] asio::awaitable<void> run_cluster_party(run_context& ctx, party_links& links,
                                                      const net::local_identity& me) {
  co_await proto::with_index<D::shape::clusters>(ctx.self.cluster, [&]<std::size_t J>() -> asio::awaitable<void> {
    using party = Party<typename D::ring, typename D::shape, J>;
    co_await connect<party>(ctx, links, me);
    co_await run_party<party>(ctx, links, party_config<D>(ctx), cluster_online);
  });
}

#if defined(PMDI_RUN_HAS_COMPUTE)
template <a_deployment D>
[[nodiscard]] asio::awaitable<void> run_compute(run_context& ctx, party_links& links, const net::local_identity& me) {
  using Ring = typename D::ring;
  using Shape = typename D::shape;
  co_await proto::with_index<Shape::clusters>(ctx.self.cluster, [&]<std::size_t J>() {
    return proto::with_index<Shape::compute>(ctx.self.server, [&]<std::size_t V>() -> asio::awaitable<void> {
      using party = proto::compute<Ring, Shape, J, V>;
      co_await connect<party>(ctx, links, me);
      co_await run_party<party>(ctx, links, party_config<D>(ctx), cluster_online);
    });
  });
}
#endif

// This party's whole run: its role connects to its peers, runs, and ends the
// run with every peer.
template <a_deployment D>
[[nodiscard]] asio::awaitable<void> run_party_main(run_context& ctx, party_links& links, const net::local_identity& me) {
  switch (ctx.self.kind) {
#if defined(PMDI_RUN_HAS_CLIENT)
    case proto::role_kind::client: co_await run_client<D>(ctx, links, me); break;
#endif
#if defined(PMDI_RUN_HAS_CLOUD)
    case proto::role_kind::cloud: co_await run_cloud<D>(ctx, links, me); break;
#endif
#if defined(PMDI_RUN_HAS_GARBLER)
    case proto::role_kind::garbler: co_await run_cluster_party<D, proto::garbler>(ctx, links, me); break;
#endif
#if defined(PMDI_RUN_HAS_EVALUATOR)
    case proto::role_kind::evaluator: co_await run_cluster_party<D, proto::evaluator>(ctx, links, me); break;
#endif
#if defined(PMDI_RUN_HAS_COMPUTE)
    case proto::role_kind::compute: co_await run_compute<D>(ctx, links, me); break;
#endif
    default: break;
  }
}

// Which roles this binary contains, for the refusal of a wrong --party.
[[nodiscard]] inline bool compiled_role(proto::role_kind k) noexcept {
  switch (k) {
#if defined(PMDI_RUN_HAS_CLIENT)
    case proto::role_kind::client: return true;
#endif
#if defined(PMDI_RUN_HAS_CLOUD)
    case proto::role_kind::cloud: return true;
#endif
#if defined(PMDI_RUN_HAS_GARBLER)
    case proto::role_kind::garbler: return true;
#endif
#if defined(PMDI_RUN_HAS_EVALUATOR)
    case proto::role_kind::evaluator: return true;
#endif
#if defined(PMDI_RUN_HAS_COMPUTE)
    case proto::role_kind::compute: return true;
#endif
    default: return false;
  }
}

// The whole life of one party process; returns the exit status.
template <a_deployment D>
[[nodiscard]] int role_main(int argc, char** argv, std::string_view deployment_name) {
  using Net = typename D::network;
  using Ring = typename D::ring;
  using Shape = typename D::shape;
  std::signal(SIGPIPE, SIG_IGN);  // a closed peer is an error from write(), not a signal
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::cout << "usage: " << argv[0] << " --deployment FILE --party ROLE --key FILE [options]\n"
                << "one party of the deployment '" << deployment_name << "'\n"
                << role_options_help();
#if defined(PMDI_RUN_HAS_CLOUD) && defined(PMDI_RUN_HAS_ONNX)
      std::cout << "ONNX weights: yes\n";
#elif defined(PMDI_RUN_HAS_CLOUD)
      std::cout << "ONNX weights: no\n";
#endif
      return 0;
    }
  run_context ctx;
  ctx.deployment_name = std::string(deployment_name);
  asio::io_context io;  // every step of this party is a coroutine on it; outlives the links
  std::unique_ptr<party_links> links;
  try {
    ctx.opt = parse_role_options(argc, argv);
    ctx.self = role_id::parse(ctx.opt.party);
    ctx.self_name = ctx.self.to_string();
    ctx.report.party = ctx.self_name;
    ctx.report.role = ctx.self.path();
    ctx.report.images = ctx.opt.images;
    if (!compiled_role(ctx.self.kind))
      throw usage_error("this binary of '" + ctx.deployment_name + "' does not contain the " +
                        std::string(proto::kind_name(ctx.self.kind)) + " role; run " + ctx.deployment_name + "-" +
                        std::string(proto::kind_name(ctx.self.kind)));
    ctx.file = load_deployment(ctx.opt.deployment);
    if (ctx.file.ring_bits != Ring::bits || ctx.file.fraction_bits != Ring::frac)
      throw usage_error(ctx.opt.deployment.string() + ": ring " + std::to_string(ctx.file.ring_bits) + "/" +
                        std::to_string(ctx.file.fraction_bits) + " but this binary is built for ring<" +
                        std::to_string(Ring::bits) + ", " + std::to_string(Ring::frac) + ">: set \"ring\": {\"bits\": " +
                        std::to_string(Ring::bits) + ", \"fraction_bits\": " + std::to_string(Ring::frac) + "}");
    if (ctx.file.clusters != Shape::clusters || ctx.file.compute_per_cluster != Shape::compute)
      throw usage_error(ctx.opt.deployment.string() + ": " + std::to_string(ctx.file.clusters) + " cluster(s) of " +
                        std::to_string(ctx.file.compute_per_cluster) + " compute server(s), but the binaries of '" +
                        ctx.deployment_name + "' are built for " + std::to_string(Shape::clusters) + " of " +
                        std::to_string(Shape::compute) + " (pmdi_add_deployment(... CLUSTERS " +
                        std::to_string(ctx.file.clusters) + " COMPUTE " + std::to_string(ctx.file.compute_per_cluster) +
                        "))");
    if (!ctx.file.placement.empty()) try {  // refused before any link opens
        proto::check_placement(ctx.file.placement, plan::split<Net>::count, Shape::clusters);
      } catch (const usage_error& e) {
        throw usage_error(ctx.opt.deployment.string() + ": placement: " + e.what() + " ('" + ctx.deployment_name + "' has " +
                          std::to_string(plan::split<Net>::count) + " stages)");
      }
    const auto me = load_identity(ctx.file, ctx.self, ctx.opt.key);
    links = std::make_unique<party_links>(ctx.self_name, ctx.file.timeouts.receive);
    std::exception_ptr failed;
    asio::co_spawn(io, run_party_main<D>(ctx, *links, me),
                   [&](std::exception_ptr e) { failed = e; });
    io.run();
    if (failed) std::rethrow_exception(failed);
    ctx.report.ok = true;
    ctx.at("done");
  } catch (const std::exception& e) {
    std::string sentence;
    if (dynamic_cast<const protocol_error*>(&e) != nullptr) {
      sentence = e.what();
    } else {
      const std::string who = ctx.self_name.empty() ? std::string(deployment_name) : ctx.self_name;
      sentence = protocol_error(who, ctx.step, "", e.what()).what();
    }
    ctx.report.ok = false;
    ctx.report.error = sentence;
    std::cerr << "pmdi: " << sentence << std::endl;
  }
  links.reset();  // closes what was never taken by a channel
  if (!ctx.opt.report.empty()) {
    try {
      write_report(ctx.opt.report, ctx.report);
    } catch (const std::exception& e) {
      std::cerr << "pmdi: " << e.what() << std::endl;
      return 1;
    }
  }
  return ctx.report.ok ? 0 : 1;
}

}  // namespace pmdi::run

#undef PMDI_RUN_ONE_ROLE
#undef PMDI_RUN_HAS_CLIENT
#undef PMDI_RUN_HAS_CLOUD
#undef PMDI_RUN_HAS_ONNX
#undef PMDI_RUN_HAS_GARBLER
#undef PMDI_RUN_HAS_EVALUATOR
#undef PMDI_RUN_HAS_COMPUTE
