// proto/progress.hpp and run/progress.hpp: short work stays silent, long work
// reports done/total with an ETA and a last word; a log gets plain lines.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "pmdi/proto/progress.hpp"
#include "pmdi/run/progress.hpp"

namespace proto = pmdi::proto;

TEST_CASE("progress: silent under a second, then done/total, ETA and a last report", "[proto][progress]") {
  std::vector<proto::progress_update> seen;
  const proto::progress_sink sink = [&](const proto::progress_update& u) { seen.push_back(u); };
  {
    proto::progress_meter m(sink, "cloud", "offline 1", 10, "MACs");
    m.advance(5);
    m.advance(5);
  }
  CHECK(seen.empty());  // short work: nothing at all
  {
    proto::progress_meter m(sink, "cloud", "offline 2", 4, "MACs");
    m.advance(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    m.advance(1);
    m.advance(1);  // within half a second of the last report: not reported
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].done == 2);
    CHECK(seen[0].total == 4);
    CHECK(seen[0].eta_s() == Approx(seen[0].elapsed_s).epsilon(0.01));  // half done: as long again
    CHECK(seen[0].line().find("cloud offline 2: 2/4 MACs (50%)") == 0);
    m.advance(1);
  }
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].finished);
  CHECK(seen[1].line().find("cloud offline 2: 4 MACs in ") == 0);
  proto::progress_sink none;
  proto::progress_meter quiet(none, "client", "offline 3", 1, "ciphertexts");
  quiet.advance(1);  // no sink (--quiet): nothing to call
}

TEST_CASE("progress printer: one plain line per report in a log", "[run][progress]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  pmdi::run::progress_printer p(f);
  proto::progress_update u{"garbler[0]", "offline 1", "AND gates", 5, 10, 2.0, false};
  p(u);
  u.done = 10;
  u.finished = true;
  p(u);
  std::rewind(f);
  char buf[512];
  std::string all;
  while (std::fgets(buf, sizeof buf, f)) all += buf;
  std::fclose(f);
  CHECK(all == "garbler[0] offline 1: 5/10 AND gates (50%), 2.0 s, ETA 2.0 s\ngarbler[0] offline 1: 10 AND gates in 2.0 s\n");
}
