// run::process_group: exit codes, signals, the deadline, logs, and a program
// that cannot be started.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>

#include "pmdi/run/processes.hpp"

namespace run = pmdi::run;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("pmdi-processes-" + std::to_string(::getpid()));
  temp_dir() { fs::create_directories(path); }
  ~temp_dir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("a process group reports each child's exit code or signal and keeps its output", "[run][processes]") {
  temp_dir d;
  run::process_group g;
  g.start("exits", "/bin/sh", {"-c", "echo out; echo err >&2; exit 3"}, d.path / "exits.log");
  g.start("signalled", "/bin/sh", {"-c", "kill -TERM $$; sleep 5"}, d.path / "signalled.log");
  g.start("ok", "/bin/sh", {"-c", "true"}, d.path / "ok.log");
  const auto st = g.wait_all(std::chrono::steady_clock::now() + 20s);
  REQUIRE(st.size() == 3);
  CHECK(st.at("exits").finished);
  CHECK(st.at("exits").code == 3);
  CHECK(st.at("exits").signal == 0);
  CHECK(st.at("exits").str() == "exit 3");
  CHECK(st.at("signalled").signal == SIGTERM);
  CHECK_FALSE(st.at("signalled").ok());
  CHECK(st.at("ok").ok());
  CHECK(run::read_text(g.log("exits")) == "out\nerr\n");
  CHECK(run::last_line(g.log("exits")) == "err");
  CHECK(g.running().empty());
  CHECK(g.poll("exits")->code == 3);
}

TEST_CASE("a child still running at the deadline is killed, and a live one can be signalled", "[run][processes]") {
  temp_dir d;
  run::process_group g;
  g.start("sleeper", "/bin/sleep", {"30"}, d.path / "sleeper.log");
  g.start("victim", "/bin/sleep", {"30"}, d.path / "victim.log");
  REQUIRE(g.running().size() == 2);
  CHECK(run::resident_bytes(g.running().front().second).has_value());
  CHECK_FALSE(g.poll("victim").has_value());
  g.kill("victim", SIGINT);
  const auto t0 = std::chrono::steady_clock::now();
  const auto st = g.wait_all(t0 + 300ms);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  CHECK_FALSE(st.at("sleeper").finished);
  CHECK(st.at("sleeper").signal == SIGKILL);
  CHECK(st.at("sleeper").str() == "still running at the deadline (killed)");
  CHECK(st.at("victim").finished);
  CHECK(st.at("victim").signal == SIGINT);
  CHECK(g.running().empty());
  g.kill_all(SIGKILL);  // nobody left to signal: no pid is reused
}

TEST_CASE("a program that cannot be started is a sentence naming it", "[run][processes]") {
  temp_dir d;
  run::process_group g;
  CHECK_THROWS_WITH(g.start("missing", "/nonexistent/pmdi-client", {}, d.path / "missing.log"),
                    Catch::Contains("cannot start /nonexistent/pmdi-client") && Catch::Contains("No such file"));
  CHECK(g.running().empty());
}
