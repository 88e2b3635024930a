#pragma once
// The options of a role binary (<name>-client, -cloud, -garbler, -evaluator,
// -compute; run/role_main.hpp).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

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

inline constexpr std::string_view role_usage =
    "  --deployment FILE     the deployment file (pmdi-keygen writes one)\n"
    "  --party ROLE          this party: client, cloud, garbler/J, evaluator/J or compute/J/V\n"
    "  --key FILE            this party's secret key file (mode 0600)\n"
    "  --images N            number of inferences (default 1): setup once, N offline, N online\n"
    "  --report FILE         write the JSON report (times, bytes per peer, rounds, stages)\n"
    "  --status FILE         keep the current step in FILE (connect, load model (cloud), setup, offline N, online N, finish, done)\n"
    "  --threads N           worker threads for Paillier work (default 2)\n"
    "  --quiet               no progress lines\n"
    " client only:\n"
    "  --input FILE          inputs: N images of float32 (little endian, CHW), one after the other\n"
    "  --random-input S      N random inputs in [-1, 1) from seed S (tests)\n"
    "  --output FILE         one line per image: the output as ring elements (unsigned)\n"
    "  --paillier-bits B     Paillier modulus size (default 2048)\n"
    "  --online-delay-ms MS  wait MS after the offline phase before the online phase\n"
    "  --stream              send the masked inputs of each offline batch (the deployment file's\n"
    "                        offline_batch) at once, then collect their outputs (the clusters\n"
    "                        work on several images at a time, as a pipeline)\n"
    " cloud only:\n"
    "  --model FILE          the weights, an ONNX file (binaries built with ONNX)\n"
    "  --model-digest HEX    refuse a --model file whose BLAKE2b-256 digest (b2sum -l 256 FILE) is not HEX\n"
    "  --random-weights S    random weights from seed S (tests, demos)\n";

[[nodiscard]] inline role_options parse_role_options(int argc, char** argv) {
  role_options o;
  std::optional<std::string> digest;  // --model-digest, checked once the loop is done
  cli_args a(argc, argv);
  while (a.next())
    if (!(a.flag("--quiet", o.quiet) ||
          a.flag("--stream", o.stream) ||
          a.value("--deployment", o.deployment) ||
          a.value("--party", o.party) ||
          a.value("--key", o.key) ||
          a.number("--images", o.images, 1, 1'000'000) ||
          a.value("--report", o.report) ||
          a.value("--status", o.status) ||
          a.number("--threads", o.threads, 1, 256) ||
          a.value("--input", o.input) ||
          a.number("--random-input", o.random_input, 0, UINT64_MAX) ||
          a.value("--output", o.output) ||
          a.number("--paillier-bits", o.paillier_bits, 512, 8192) ||
          a.number("--online-delay-ms", o.online_delay, 0, 86'400'000) ||
          a.value("--model", o.model) ||
          a.value("--model-digest", digest) ||
          a.number("--random-weights", o.random_weights, 0, UINT64_MAX)))
      a.unknown();
  if (digest) o.model_pin = parse_model_digest(*digest);
  if (o.deployment.empty()) throw usage_error("--deployment FILE is required");
  if (o.party.empty()) throw usage_error("--party ROLE is required");
  if (o.key.empty()) throw usage_error("--key FILE is required");
  if (o.model_pin && o.model.empty()) throw usage_error("--model-digest pins a --model FILE; give one");
  return o;
}

}  // namespace pmdi::run
