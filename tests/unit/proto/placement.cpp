// Placement of stages on clusters (proto/stage.hpp split) and the planner
// (plan/placement.hpp): refusals, the even split, AR-MDI, and the exact
// optimum checked against every contiguous split.
#include <catch2/catch.hpp>

#include <functional>

#include "pmdi/plan/placement.hpp"
#include "programs.hpp"

namespace plan = pmdi::plan;
namespace proto = pmdi::proto;
using proto::stage_range;

namespace {

// A plan of `n` one-layer stages (only the stage count matters to split()).
proto::network_plan plan_of(std::size_t n) {
  proto::network_plan p;
  p.tensor_sizes.assign(n + 1, 4);
  for (std::size_t k = 0; k < n; ++k) {
    proto::public_stage s;
    s.inputs = {k};
    s.linear.input_sizes = {4};
    s.linear.ops.push_back(pmdi::test_programs::dense(0, {4, 1, 1}, 4));
    s.linear.result = 1;
    s.linear_out = {4, 1, 1};
    s.out = {4, 1, 1};
    p.stages.push_back(s);
  }
  return p;
}

// A network load with given per-stage MACs and parameters (nothing else costs).
plan::network_load load(std::vector<std::uint64_t> macs, std::vector<std::uint64_t> params = {}) {
  plan::network_load n;
  n.l = 32;
  for (std::size_t k = 0; k < macs.size(); ++k) {
    plan::stage_load s;
    s.macs = macs[k];
    s.parameters = params.empty() ? macs[k] : params[k];
    n.stages.push_back(s);
  }
  return n;
}

const plan::core_rates unit_rates{1.0, 1.0, 1.0};

std::vector<plan::cluster_spec> cores(std::vector<double> c) {
  std::vector<plan::cluster_spec> v;
  for (std::size_t j = 0; j < c.size(); ++j) {
    plan::cluster_spec s;
    s.name = "c";
    s.name += std::to_string(j);
    s.cores = c[j];
    v.push_back(s);
  }
  return v;
}

// Every contiguous split of S stages over P clusters.
void for_each_split(std::size_t S, std::size_t P, const std::function<void(const std::vector<stage_range>&)>& f) {
  std::vector<stage_range> pl(P);
  std::function<void(std::size_t, std::size_t)> rec = [&](std::size_t j, std::size_t at) {
    if (j + 1 == P) {
      pl[j] = {at, S};
      f(pl);
      return;
    }
    for (std::size_t b = at + 1; b + (P - 1 - j) <= S; ++b) {
      pl[j] = {at, b};
      rec(j + 1, b);
    }
  };
  rec(0, 0);
}

}  // namespace

TEST_CASE("placement: the even split, and a placement given as data", "[proto][placement]") {
  const auto p = plan_of(5);
  const auto even = proto::split(p, {2, 1});
  CHECK(even.ranges() == std::vector<stage_range>{{0, 3}, {3, 5}});
  CHECK(even.cluster_of(2) == 0);
  CHECK(even.cluster_of(3) == 1);
  const auto given = proto::split(p, {2, 1, {{0, 1}, {1, 5}}});
  CHECK(given.first(1) == 1);
  CHECK(given.end(1) == 5);
  CHECK(given.cluster_of(0) == 0);
  CHECK(given.cluster_of(1) == 1);
  CHECK(proto::even_placement(7, 3) == std::vector<stage_range>{{0, 3}, {3, 5}, {5, 7}});
}

TEST_CASE("placement: gaps, overlaps and stages past the network are refused naming the cluster",
          "[proto][placement]") {
  const auto p = plan_of(4);
  const auto refused = [&](std::vector<stage_range> pl) { (void)proto::split(p, {2, 1, std::move(pl)}); };
  CHECK_THROWS_WITH(refused({{0, 2}, {2, 5}}),
                    "placement: cluster 1's stages [2, 5) run past the network's last stage (it has 4: 0 to 3)");
  CHECK_THROWS_WITH(refused({{0, 2}, {3, 4}}),
                    "placement: cluster 1's stages [3, 4) leave a gap: no cluster runs stage(s) [2, 3)");
  CHECK_THROWS_WITH(refused({{0, 3}, {2, 4}}), "placement: cluster 1's stages [2, 4) overlap cluster 0's [0, 3)");
  CHECK_THROWS_WITH(refused({{0, 2}, {2, 3}}), "placement: no cluster runs stage(s) [3, 4); cluster 1 ends at 3");
  CHECK_THROWS_WITH(refused({{0, 4}}), "placement: 1 stage range(s) for 2 clusters; every cluster needs one");
  CHECK_THROWS_WITH(refused({{0, 0}, {0, 4}}), Catch::Contains("cluster 0's stages [0, 0) are empty"));
}

TEST_CASE("planner: the estimate of a placement follows the cost model", "[plan][placement]") {
  auto n = load({10, 20, 30});
  n.compute_per_cluster = 1;  // (T + 1) = 2 parties apply each MAC
  n.stages[1].and_gates = 8;
  n.stages[2].in_bytes = 6;
  auto cs = cores({1, 2});
  cs[1].link_bytes_per_s = 2;  // 6 bytes in: 3 s on the wire
  const auto e = plan::estimate(n, cs, unit_rates, {{0, 2}, {2, 3}}, "given");
  CHECK(e.clusters[0].cpu_s == Approx(2 * 30 + 8));      // 60 MACs + 8 ANDs at 1/s
  CHECK(e.clusters[1].cpu_s == Approx((2 * 30 + 6) / 2.0));  // 2 cores; the 6 bytes handed in are sealed/opened
  CHECK(e.clusters[1].wire_s == Approx(3));
  CHECK(e.bottleneck_cluster == 0);
  CHECK(e.bottleneck_s == Approx(68));
  CHECK(e.latency_s == Approx(68 + 33 + 3));
  CHECK(e.inferences_per_s() == Approx(1 / 68.0));
}

TEST_CASE("planner: messages cost their cluster a fixed time each, counted from the message sequence",
          "[plan][placement]") {
  // One linear stage: T stage inputs and T partial products; a garbled one
  // adds the labels of a_k and z_{k+1} (proto::message_sequence).
  auto linear = plan_of(1).stages[0];
  CHECK(plan::stage_online_messages(linear, 1) == 2);
  CHECK(plan::stage_online_messages(linear, 3) == 6);
  auto garbled = linear;
  garbled.ops.push_back({proto::op_kind::relu});
  REQUIRE(garbled.garbled());
  CHECK(plan::stage_online_messages(garbled, 1) == 4);
  CHECK(plan::stage_online_messages(garbled, 2) == 6);
  const auto from_plan = plan::network_load_of(plan_of(3), 32, 2, 1);
  for (const auto& s : from_plan.stages) CHECK(s.messages == 4);  // linear stages, T = 2

  auto n = load({10, 20, 30});
  n.compute_per_cluster = 1;
  n.stages[0].messages = 4;
  n.stages[1].messages = 2;
  n.stages[2].messages = 2;
  const auto cs = cores({1, 2});
  auto rates = unit_rates;
  const auto without = plan::estimate(n, cs, rates, {{0, 2}, {2, 3}}, "given");
  rates.messages_per_s = 0.5;  // 2 s a message
  const auto with = plan::estimate(n, cs, rates, {{0, 2}, {2, 3}}, "given");
  // cluster 0: its stages' 6 messages and its ends of the hand-overs in and out (one message)
  CHECK(with.clusters[0].cpu_s == Approx(without.clusters[0].cpu_s + (6 + 1) * 2.0));
  CHECK(with.clusters[1].cpu_s == Approx(without.clusters[1].cpu_s + (2 + 1) * 2.0 / 2));  // 2 cores
}

TEST_CASE("planner: the optimal split is the best of every contiguous split", "[plan][placement]") {
  const auto n = load({5, 40, 3, 22, 9, 31, 2, 17});
  const auto cs = cores({1, 3, 0.5, 2});
  const auto best = plan::optimal_split(n, cs, unit_rates);
  REQUIRE(best.feasible);
  double seen = 1e300, seen_latency = 1e300;
  for_each_split(n.stages.size(), cs.size(), [&](const std::vector<stage_range>& pl) {
    const auto e = plan::estimate(n, cs, unit_rates, pl, "any");
    seen = std::min(seen, e.bottleneck_s);
    seen_latency = std::min(seen_latency, e.latency_s);
  });
  CHECK(best.bottleneck_s == Approx(seen));
  const auto fastest = plan::optimal_split(n, cs, unit_rates, plan::objective::latency);
  CHECK(fastest.latency_s == Approx(seen_latency));
  CHECK(best.bottleneck_s <= plan::even_split(n, cs, unit_rates).bottleneck_s);
  CHECK(best.bottleneck_s <= plan::armdi_split(n, cs, unit_rates).bottleneck_s);
}

TEST_CASE("planner: AR-MDI shares the parameters in proportion to 1 / gamma", "[plan][placement]") {
  // 4 stages of 100 parameters; cluster 1 three times as fast: 1/4 and 3/4 of W.
  const auto n = load({100, 100, 100, 100});
  const auto a = plan::armdi_split(n, cores({1, 3}), unit_rates);
  CHECK(a.placement == std::vector<stage_range>{{0, 1}, {1, 4}});
  // every cluster keeps a stage even when its share rounds to none
  const auto b = plan::armdi_split(n, cores({0.01, 100, 0.01}), unit_rates);
  CHECK(b.placement == std::vector<stage_range>{{0, 1}, {1, 3}, {3, 4}});
}

TEST_CASE("planner: memory binds, and a description that fits nowhere says which cluster lacks what",
          "[plan][placement]") {
  auto n = load({10, 10, 10, 10});
  n.offline_batch = 1;
  for (auto& s : n.stages) s.evaluator_bytes = 1 << 20;  // 1 MiB a stage
  auto cs = cores({1, 1});
  cs[0].memory_bytes = 1 << 20;  // cluster 0 can hold one stage
  const auto e = plan::optimal_split(n, cs, unit_rates);
  REQUIRE(e.feasible);
  CHECK(e.placement == std::vector<stage_range>{{0, 1}, {1, 4}});
  cs[1].memory_bytes = 2 << 20;
  const auto none = plan::optimal_split(n, cs, unit_rates);
  CHECK_FALSE(none.feasible);
  CHECK_THAT(plan::infeasible_reason(none, cs), Catch::Contains("lacks memory"));
  CHECK_THROWS_WITH(plan::optimal_split(n, cores({1, 0}), unit_rates),
                    "cluster 1 (c1) has no speed: give \"cores\" with a calibration, or its own rates");
  CHECK_THROWS_WITH(plan::optimal_split(n, cores({1, 1, 1, 1, 1}), unit_rates),
                    "clusters: 5 clusters for 4 stages; every cluster needs at least one stage");
}
