// The command line of the binaries (run/cli.hpp, on Boost.Program_options):
// values and numbers into their targets, the generated help, and the exact
// sentence of each mistake.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "pmdi/run/cli.hpp"
#include "pmdi/run/role_options.hpp"

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
  std::string upper;  // option(): a conversion of its own
};

void declare(run::command_line& c, options& o) {
  c.flag("quiet", o.quiet, "no progress lines")
      .flag("stream", o.stream, "stream the inputs")
      .value("party", o.party, "ROLE", "this party")
      .value("dir", o.dir, "DIR", "the run directory")
      .group("numbers")
      .number("images", o.images, 1, 1'000'000, "N", "number of inferences")
      .number("threads", o.threads, 1, 256, "N", "worker threads")
      .number("seed", o.seed, 0, UINT64_MAX, "S", "a seed")
      .number("delay-ms", o.delay, 0, 86'400'000, "MS", "a delay")
      .option("upper", "WORD", "a word in capitals", [&o](const std::string& s) {
        if (s.empty() || s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos)
          throw pmdi::usage_error("--upper: expected capitals, got '" + s + "'");
        o.upper = s;
      });
}

// Parses `args` (without the program name) the way the binaries do.
options parse(std::vector<std::string> args, bool* help = nullptr) {
  args.insert(args.begin(), "prog");
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  options o;
  run::command_line c;
  declare(c, o);
  c.parse(static_cast<int>(argv.size()), argv.data());
  if (help) *help = c.help_asked();
  return o;
}

std::string refusal(const std::vector<std::string>& args) {
  try {
    (void)parse(args);
  } catch (const pmdi::usage_error& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("command_line: flags, values and numbers land in their targets", "[cli]") {
  const auto o = parse({"--party", "garbler/1", "--quiet", "--images", "12", "--dir", "/tmp/x", "--threads", "256",
                        "--seed", "18446744073709551615", "--delay-ms", "250", "--upper", "ABC"});
  CHECK(o.quiet);
  CHECK_FALSE(o.stream);
  CHECK(o.party == "garbler/1");
  CHECK(o.dir == std::filesystem::path("/tmp/x"));
  CHECK(o.images == 12);
  CHECK(o.threads == 256);
  REQUIRE(o.seed.has_value());
  CHECK(*o.seed == UINT64_MAX);
  CHECK(o.delay == std::chrono::milliseconds(250));
  CHECK(o.upper == "ABC");

  bool help = true;
  const auto d = parse({}, &help);
  CHECK_FALSE(help);
  CHECK_FALSE(d.quiet);
  CHECK(d.images == 1);
  CHECK_FALSE(d.seed.has_value());
  CHECK(parse({"--images=7"}).images == 7);
}

TEST_CASE("command_line: a value is the next argument, whatever it looks like", "[cli]") {
  const auto o = parse({"--party", "--quiet"});
  CHECK(o.party == "--quiet");
  CHECK_FALSE(o.quiet);
  CHECK(parse({"--seed", "0"}).seed == std::optional<std::uint64_t>(0));
  CHECK(parse({"--party", ""}).party.empty());
}

TEST_CASE("command_line: each mistake is one sentence naming the option", "[cli]") {
  CHECK(refusal({"--images"}) == "--images needs a value (see --help)");
  CHECK(refusal({"--quiet", "--party"}) == "--party needs a value (see --help)");
  CHECK(refusal({"--imgaes", "3"}) == "unknown option '--imgaes' (see --help)");
  CHECK(refusal({"--imag", "3"}) == "unknown option '--imag' (see --help)");  // no abbreviations
  CHECK(refusal({"--bogus"}) == "unknown option '--bogus' (see --help)");
  CHECK(refusal({"-x"}) == "unknown option '-x' (see --help)");
  CHECK(refusal({"--quiet=1"}) == "--quiet takes no value (see --help)");
  CHECK(refusal({"--party", "a", "--party", "b"}) == "--party is given more than once (see --help)");
  CHECK(refusal({"garbler/1"}) == "unexpected argument 'garbler/1' (every argument is an option) (see --help)");
  for (const std::string bad : {"0", "1000001", "x", "", "12x", "-1", "1e3"})
    CHECK(refusal({"--images", bad}) == "--images: expected an integer in [1, 1000000], got '" + bad + "'");
  CHECK(refusal({"--threads", "257"}) == "--threads: expected an integer in [1, 256], got '257'");
  CHECK(refusal({"--seed", "18446744073709551616"}) ==
        "--seed: expected an integer in [0, 18446744073709551615], got '18446744073709551616'");
  CHECK(refusal({"--seed", "-0"}) == "--seed: expected an integer in [0, 18446744073709551615], got '-0'");
  CHECK(refusal({"--upper", "abc"}) == "--upper: expected capitals, got 'abc'");
}

TEST_CASE("command_line: --help is declared, and the help lists every option with its value and group", "[cli]") {
  bool help = false;
  (void)parse({"--help"}, &help);
  CHECK(help);
  help = false;
  (void)parse({"-h"}, &help);
  CHECK(help);

  options o;
  run::command_line c;
  declare(c, o);
  const auto text = c.help();
  for (const char* line : {"--help", "--quiet", "--party ROLE", "this party", "numbers:", "--images N",
                           "--delay-ms MS", "--upper WORD"})
    CHECK_THAT(text, Catch::Contains(line));
  CHECK(text.find("--party ROLE") < text.find("numbers:"));
  CHECK(text.find("numbers:") < text.find("--images N"));
}

TEST_CASE("role binaries: the help lists the options by role, and the required ones are asked for", "[cli]") {
  const auto text = run::role_options_help();
  for (const char* line : {"--deployment FILE", "--party ROLE", "--key FILE", "--images N", "client only:",
                           "--input FILE", "--paillier-bits B", "cloud only:", "--model FILE", "--model-digest HEX"})
    CHECK_THAT(text, Catch::Contains(line));
  CHECK(text.find("client only:") < text.find("--input FILE"));
  CHECK(text.find("cloud only:") < text.find("--model FILE"));

  std::vector<std::string> args{"prog", "--party", "client", "--key", "k"};
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  CHECK_THROWS_WITH(run::parse_role_options(static_cast<int>(argv.size()), argv.data()),
                    "--deployment FILE is required");
}
