// Cluster descriptions for the planner (run/cluster_file.hpp): what a file
// gives the planner, the optional message rate, refusals naming the field.
#include <catch2/catch.hpp>

#include "pmdi/run/cluster_file.hpp"

namespace run = pmdi::run;

TEST_CASE("cluster file: rates, cores and the optional message rate", "[run][cluster_file]") {
  const auto f = run::parse_cluster_file(R"({
    "calibration": {"macs_per_s": 1e9, "and_per_s": 5e7, "channel_bytes_per_s": 2e9, "messages_per_s": 14000},
    "clusters": [{"name": "a", "cores": 0.5},
                 {"name": "b", "macs_per_s": 3e8, "and_per_s": 2e7, "channel_bytes_per_s": 5e8, "messages_per_s": 9000}]
  })");
  CHECK(f.calibration.messages_per_s == 14000);
  REQUIRE(f.clusters.size() == 2);
  const auto a = pmdi::plan::rates_of(f.clusters[0], f.calibration);
  CHECK(a.messages_per_s == 7000);  // half a core
  CHECK(a.macs_per_s == 5e8);
  const auto b = pmdi::plan::rates_of(f.clusters[1], f.calibration);
  CHECK(b.messages_per_s == 9000);  // its own
  CHECK(b.and_per_s == 2e7);

  // A calibration without it (older files): messages cost nothing in the model.
  const auto old = run::parse_cluster_file(
      R"({"calibration": {"macs_per_s": 1e9, "and_per_s": 5e7, "channel_bytes_per_s": 2e9}, "clusters": [{"cores": 1}]})");
  CHECK(old.calibration.messages_per_s == 0);
  CHECK(pmdi::plan::rates_of(old.clusters[0], old.calibration).messages_per_s == 0);
}

TEST_CASE("cluster file: a bad message rate or an unknown field is refused naming it", "[run][cluster_file]") {
  CHECK_THROWS_WITH(run::parse_cluster_file(R"({"calibration": {"macs_per_s": 1e9, "and_per_s": 5e7,
      "channel_bytes_per_s": 2e9, "messages_per_s": -1}, "clusters": [{"cores": 1}]})", "c.json"),
                    Catch::StartsWith("c.json: calibration.messages_per_s: "));
  CHECK_THROWS_WITH(run::parse_cluster_file(R"({"clusters": [{"name": "x", "cores": 1, "messages_per_s": 0}]})", "c.json"),
                    Catch::StartsWith("c.json: clusters[0] (x).messages_per_s: "));
  CHECK_THROWS_WITH(run::parse_cluster_file(R"({"clusters": [{"name": "x", "cores": 1, "message_rate": 5}]})", "c.json"),
                    Catch::Contains("message_rate"));
}
