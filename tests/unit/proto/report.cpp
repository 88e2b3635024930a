// proto/report.hpp: one report type, its JSON both ways, one meaning of rounds.
#include "pmdi/proto/report.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

namespace {

using pmdi::proto::party_report;

party_report sample() {
  party_report r;
  r.party = "garbler[1]";
  r.role = "garbler/1";
  r.ok = false;
  r.error = "garbler[1]: step 'online 2', peer evaluator[1]: the link closed";
  r.images = 3;
  r.peak_rss_bytes = 123456789;
  r.paillier_products = 7;
  r.phase("offline").seconds = 1.5;
  r.phase("offline").peers["evaluator[1]"] = {1000, 2000, 3, 4, 2};
  r.phase("offline").peers["compute[1,0]"] = {10, 20, 1, 1, 1};
  r.phase("online").peers["evaluator[1]"] = {5, 6, 1, 1, 1};
  r.phase("online").work["linear"] = 0.1 + 0.2;  // sums of timings: 17 digits, which the parser may misread
  r.phase("online").work["labels"] = 1.86027e-4 / 3;
  r.stage_entry(4).and_gates = 81;
  r.stage_entry(4).online_s = 0.25;
  r.wire["evaluator[1]"] = {1100, 2100};
  return r;
}

}  // namespace

TEST_CASE("report: rounds are the flights the party started, summed over its peers", "[report]") {
  const auto r = sample();
  CHECK(r.phase("offline").rounds() == 3);
  CHECK(r.phase("offline").bytes_sent() == 1010);
  CHECK(r.phase("offline").bytes_received() == 2020);
  CHECK(r.phase("offline").messages_sent() == 4);
  CHECK(r.phase("connect").rounds() == 0);  // a phase the report lacks reads as zeros
  auto twice = r.phase("offline");
  twice += r.phase("offline");
  CHECK(twice.seconds == 3.0);
  CHECK(twice.rounds() == 6);
  CHECK(twice.peers.at("evaluator[1]").bytes_sent == 2000);
  auto online = r.phase("online");
  online += r.phase("online");
  CHECK(online.work.at("linear") == 2 * (0.1 + 0.2));
}

TEST_CASE("report: the JSON reads back as the same report", "[report]") {
  const auto r = sample();
  const auto back = pmdi::proto::report_from_json(boost::json::parse(r.to_json()));
  CHECK(back.to_json() == r.to_json());
  CHECK(back.party == "garbler[1]");
  CHECK_FALSE(back.ok);
  CHECK(back.error == r.error);
  CHECK(back.phase("offline").peers.at("evaluator[1]").flights == 2);
  CHECK(back.stages.at(0).stage == 4);
  CHECK(back.stages.at(0).and_gates == 81);
  CHECK(back.wire.at("evaluator[1]").bytes_received == 2100);
  const auto v = boost::json::parse(r.to_json());
  CHECK(v.at("phases").at("offline").at("rounds").to_number<double>() == 3);
  CHECK(v.at("phases").at("offline").at("bytes_sent").to_number<double>() == 1010);
  // work seconds are kept to the nanosecond, so that they read back exactly
  CHECK(back.phase("online").work.at("linear") == 0.3);
  CHECK(std::abs(back.phase("online").work.at("labels") - 6.2009e-5) < 1e-9);
  CHECK(pmdi::proto::report_from_json(boost::json::parse(back.to_json())).to_json() == back.to_json());
}

TEST_CASE("report: a field of the wrong kind is refused, naming it", "[report]") {
  using pmdi::proto::report_from_json;
  CHECK_THROWS_WITH(report_from_json(boost::json::parse("[1]")), "report: the report is not an object");
  CHECK_THROWS_WITH(report_from_json(boost::json::parse(R"({"images": -1})")),
                    "report: field 'images' is not a non-negative integer");
  CHECK_THROWS_WITH(report_from_json(boost::json::parse(R"({"ok": "yes"})")), "report: field 'ok' is not true or false");
  CHECK_THROWS_WITH(report_from_json(boost::json::parse(R"({"party": 3})")), "report: field 'party' is not a string");
  CHECK_THROWS_WITH(report_from_json(boost::json::parse(R"({"phases": {"online": {"seconds": "1"}}})")),
                    "report: field 'seconds' is not a number");
  CHECK_THROWS_WITH(report_from_json(boost::json::parse(R"({"stages": {}})")), "report: field 'stages' is not an array");
  // missing fields read as zero or empty
  const auto empty = report_from_json(boost::json::parse("{}"));
  CHECK(empty.ok);
  CHECK(empty.images == 0);
  CHECK(empty.phases.empty());
}

TEST_CASE("report: a run's report takes its role's stages and products, its phases stay", "[report]") {
  const auto role = sample();
  party_report run;
  run.party = "garbler[1]";
  run.phase("offline").seconds = 9;
  run.take_run_figures(role);
  REQUIRE(run.stages.size() == 1);
  CHECK(run.stages[0].stage == 4);
  CHECK(run.stages[0].and_gates == 81);
  CHECK(run.paillier_products == 7);
  CHECK(run.peak_rss_bytes > 0);  // this process's peak so far, not the role's figure
  CHECK(run.peak_rss_bytes != role.peak_rss_bytes);
  CHECK(run.peak_rss_bytes <= pmdi::proto::peak_rss_bytes());
  CHECK(run.phase("offline").seconds == 9);  // the phases are the run's own
  CHECK(run.phase("online").peers.empty());
}
