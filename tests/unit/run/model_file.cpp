// run/model_file.hpp: the cloud's model file pinned by its BLAKE2b-256 digest
// (a mutated ONNX file whose weights still fit the declared
// bounds was accepted).
#include "pmdi/run/model_file.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace run = pmdi::run;
using Catch::Contains;

namespace {
const std::filesystem::path tiny = PMDI_TEST_DATA "/onnx/tiny.onnx";
// b2sum -l 256 tests/data/onnx/tiny.onnx
constexpr const char* tiny_b2 = "cae4f7b1da619ff22a35fa156d621c931fc10f4e92238727e9a5f0733e9ab5e6";
}  // namespace

TEST_CASE("model file: the digest is b2sum -l 256's, and a pinned file loads", "[run][model]") {
  const auto pin = run::parse_model_digest(tiny_b2);
  const auto bytes = run::read_model_file(tiny, pin);
  CHECK(bytes.size() == std::filesystem::file_size(tiny));
  CHECK(pmdi::net::to_hex(run::digest_of(bytes)) == tiny_b2);
  CHECK(run::parse_model_digest("CAE4F7B1DA619FF22A35FA156D621C931FC10F4E92238727E9A5F0733E9AB5E6") == pin);
  CHECK(run::read_model_file(tiny, std::nullopt) == bytes);  // no pin: any file
}

TEST_CASE("model file: another file is refused with the digests", "[run][model]") {
  const auto dir = std::filesystem::temp_directory_path() / ("pmdi-model-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto bytes = run::read_model_file(tiny, std::nullopt);
  bytes[bytes.size() - 10] ^= std::byte{1};  // one bit of one weight
  const auto mutated = dir / "tiny.onnx";
  {
    std::ofstream f(mutated, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  const auto pin = run::parse_model_digest(tiny_b2);
  CHECK_THROWS_WITH(run::read_model_file(mutated, pin),
                    Contains(mutated.string() + ": BLAKE2b-256 digest ") &&
                        Contains(" is not the pinned " + std::string(tiny_b2) +
                                 " (--model-digest): refusing another model file"));
  CHECK_NOTHROW(run::read_model_file(mutated, run::digest_of(bytes)));
  CHECK_THROWS_WITH(run::read_model_file(dir / "absent.onnx", pin), Contains("absent.onnx: cannot open the model file"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("model file: a digest that is not 64 hex digits is refused", "[run][model]") {
  CHECK_THROWS_WITH(run::parse_model_digest("cae4"),
                    "--model-digest: expected the model's BLAKE2b-256 digest as 64 hex digits (b2sum -l 256 FILE), "
                    "got \"cae4\"");
  CHECK_THROWS_WITH(run::parse_model_digest(std::string(tiny_b2).replace(0, 1, "g")), Contains("64 hex digits"));
}
