// The command-line walker of the binaries: values, numbers into their targets,
// and the exact sentences of each mistake.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "pmdi/run/cli.hpp"

namespace run = pmdi::run;

namespace {

struct options {
  bool quiet = false, stream = false;
  std::string party;
  std::filesystem::path dir;
  std::uint64_t images = 1;
  unsigned threads = 2;
  std::optional<std::uint64_t> seed;
  std::chrono::milliseconds delay{0};
};

// Parses `args` (without the program name) the way the binaries do.
options parse(std::vector<std::string> args, std::string_view hint = " (see --help)") {
  args.insert(args.begin(), "prog");
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  options o;
  run::cli_args a(static_cast<int>(argv.size()), argv.data(), hint);
  while (a.next())
    if (!(a.flag("--quiet", o.quiet) ||
          a.flag("--stream", o.stream) ||
          a.value("--party", o.party) ||
          a.value("--dir", o.dir) ||
          a.number("--images", o.images, 1, 1'000'000) ||
          a.number("--threads", o.threads, 1, 256) ||
          a.number("--seed", o.seed, 0, UINT64_MAX) ||
          a.number("--delay-ms", o.delay, 0, 86'400'000)))
      a.unknown();
  return o;
}

std::string refusal(const std::vector<std::string>& args, std::string_view hint = " (see --help)") {
  try {
    (void)parse(args, hint);
  } catch (const pmdi::usage_error& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("cli_args: flags, values and numbers land in their targets", "[cli]") {
  const auto o = parse({"--party", "garbler/1", "--quiet", "--images", "12", "--dir", "/tmp/x", "--threads", "256",
                        "--seed", "18446744073709551615", "--delay-ms", "250"});
  CHECK(o.quiet);
  CHECK_FALSE(o.stream);
  CHECK(o.party == "garbler/1");
  CHECK(o.dir == std::filesystem::path("/tmp/x"));
  CHECK(o.images == 12);
  CHECK(o.threads == 256);
  REQUIRE(o.seed.has_value());
  CHECK(*o.seed == UINT64_MAX);
  CHECK(o.delay == std::chrono::milliseconds(250));

  const auto d = parse({});
  CHECK_FALSE(d.quiet);
  CHECK(d.images == 1);
  CHECK_FALSE(d.seed.has_value());
}

TEST_CASE("cli_args: a value is the next argument, whatever it looks like", "[cli]") {
  const auto o = parse({"--party", "--quiet"});
  CHECK(o.party == "--quiet");
  CHECK_FALSE(o.quiet);
  CHECK(parse({"--seed", "0"}).seed == std::optional<std::uint64_t>(0));
}

TEST_CASE("cli_args: each mistake is one sentence naming the option", "[cli]") {
  CHECK(refusal({"--images"}) == "--images needs a value (see --help)");
  CHECK(refusal({"--quiet", "--party"}) == "--party needs a value (see --help)");
  CHECK(refusal({"--imgaes", "3"}) == "unknown option '--imgaes' (see --help)");
  CHECK(refusal({"--bogus"}) == "unknown option '--bogus' (see --help)");
  CHECK(refusal({"-h"}, "") == "unknown option '-h'");
  CHECK(refusal({"--party"}, "") == "--party needs a value");
  for (const std::string bad : {"0", "1000001", "x", "", "12x", "-1", "1e3"})
    CHECK(refusal({"--images", bad}) == "--images: expected an integer in [1, 1000000], got '" + bad + "'");
  CHECK(refusal({"--threads", "257"}) == "--threads: expected an integer in [1, 256], got '257'");
  CHECK(refusal({"--seed", "18446744073709551616"}) ==
        "--seed: expected an integer in [0, 18446744073709551615], got '18446744073709551616'");
  CHECK(refusal({"--seed", "-0"}) == "--seed: expected an integer in [0, 18446744073709551615], got '-0'");
}
