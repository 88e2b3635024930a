#pragma once
// The options of a role binary (<name>-client, -cloud, -garbler, -evaluator,
// -compute; run/role_main.hpp), and those it shares with the launcher
// (run/launcher.hpp), each declared once (run/cli.hpp: --help prints them).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "pmdi/core/error.hpp"
#include "pmdi/run/cli.hpp"
#include "pmdi/run/model_file.hpp"

namespace pmdi::run {

struct role_options {
  std::filesystem::path deployment, key, report, output, input, model, status;
  std::string party;
  std::uint64_t images = 1;
  std::optional<std::uint64_t> random_input, random_weights;
  std::optional<model_digest> model_pin;  // cloud: the --model file must have this BLAKE2b-256 digest
  unsigned paillier_bits = 2048;
  unsigned threads = 2;
  std::chrono::milliseconds online_delay{0};
  bool quiet = false;
  bool stream = false;
};

// The options of a run, for a role binary and the launcher alike: how many
// inferences, how many threads, how quiet.
template <class Options>
void declare_run_options(command_line& c, Options& o) {
  c.number("images", o.images, 1, 1'000'000, "N",
           "number of inferences (default 1): setup once, then N offline and N online phases")
      .number("threads", o.threads, 1, 256, "N", "worker threads for Paillier work, per party (default 2)")
      .flag("quiet", o.quiet, "no progress lines");
}

// The client's inputs and key size.
template <class Options>
void declare_input_options(command_line& c, Options& o) {
  c.value("input", o.input, "FILE", "inputs: N images of float32 (little endian, CHW), one after the other")
      .number("random-input", o.random_input, 0, UINT64_MAX, "S", "N random inputs in [-1, 1) from seed S (tests)")
      .number("paillier-bits", o.paillier_bits, 512, 8192, "B", "Paillier modulus size (default 2048)");
}

// The cloud's weights.
template <class Options>
void declare_model_options(command_line& c, Options& o) {
  c.value("model", o.model, "FILE", "the weights, an ONNX file (binaries built with ONNX)")
      .number("random-weights", o.random_weights, 0, UINT64_MAX, "S", "random weights from seed S (tests, demos)");
}

inline void declare_role_options(command_line& c, role_options& o) {
  c.value("deployment", o.deployment, "FILE", "the deployment file (pmdi-keygen writes one)")
      .value("party", o.party, "ROLE", "this party: client, cloud, garbler/J, evaluator/J or compute/J/V")
      .value("key", o.key, "FILE", "this party's secret key file (mode 0600)")
      .value("report", o.report, "FILE", "write the JSON report (times, bytes per peer, rounds, stages)")
      .value("status", o.status, "FILE",
             "keep the current step in FILE (connect, load model (cloud), setup, offline N, online delay, online N, finish, "
             "done)");
  declare_run_options(c, o);
  c.group("client only");
  declare_input_options(c, o);
  c.value("output", o.output, "FILE", "one line per image: the output as ring elements (unsigned)")
      .number("online-delay-ms", o.online_delay, 0, 86'400'000, "MS",
              "wait MS after the first offline batch before the online phase (not counted in its time)")
      .flag("stream", o.stream,
            "send the masked inputs of each offline batch (the deployment file's offline_batch) at once, then "
            "collect their outputs (the clusters work on several images at a time, as a pipeline)");
  c.group("cloud only");
  declare_model_options(c, o);
  c.option("model-digest", "HEX", "refuse a --model file whose BLAKE2b-256 digest (b2sum -l 256 FILE) is not HEX",
           [&o](const std::string& text) { o.model_pin = parse_model_digest(text); });
}

// What a role binary's --help lists.
[[nodiscard]] inline std::string role_options_help() {
  role_options o;
  command_line c;
  declare_role_options(c, o);
  return c.help();
}

[[nodiscard]] inline role_options parse_role_options(int argc, char** argv) {
  role_options o;
  command_line c;
  declare_role_options(c, o);
  c.parse(argc, argv);
  if (o.deployment.empty()) throw usage_error("--deployment FILE is required");
  if (o.party.empty()) throw usage_error("--party ROLE is required");
  if (o.key.empty()) throw usage_error("--key FILE is required");
  if (o.model_pin && o.model.empty()) throw usage_error("--model-digest pins a --model FILE; give one");
  return o;
}

}  // namespace pmdi::run
