#pragma once
// The data a run reads and writes: the test seeds of --random-weights and
// --random-input, the client's input file, the output file (one line of ring
// elements per image) and the sentence that describes an output.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/plan/oracle.hpp"
#include "pmdi/nn/weights.hpp"
#include "pmdi/proto/common.hpp"
#include "pmdi/run/role_options.hpp"

namespace pmdi::run {

// Seeds of the test/demo options --random-weights S and --random-input S
// (the tests recompute the same weights and inputs from S).
[[nodiscard]] inline seed numbered_seed(std::uint64_t n, std::uint8_t purpose) {
  seed s{};
  for (std::size_t i = 0; i < 8; ++i) s[i] = static_cast<std::byte>(n >> (8 * i));
  s[8] = static_cast<std::byte>(purpose);
  s[15] = std::byte{0x5d};
  return s;
}
inline constexpr std::uint8_t weights_purpose = 1, input_purpose = 2;

template <class Net>
[[nodiscard]] nn::model_weights random_model(std::uint64_t s) {
  prg g(numbered_seed(s, weights_purpose));
  return nn::random_weights<Net>(g);
}

// `images` inputs of `size` ring elements, uniform in [-1, 1) (steps of 1/1000).
template <class Ring>
[[nodiscard]] std::vector<std::vector<typename Ring::value_type>> random_inputs(std::uint64_t s, std::uint64_t images,
                                                                                std::size_t size) {
  prg g(numbered_seed(s, input_purpose));
  std::vector<std::vector<typename Ring::value_type>> x(images, std::vector<typename Ring::value_type>(size));
  for (auto& img : x)
    for (auto& v : img) v = Ring::encode(static_cast<double>(g.uniform(2001)) / 1000.0 - 1.0);
  return x;
}

// `images` inputs read from a file of float32 values (little endian, CHW).
template <class Ring>
[[nodiscard]] std::vector<std::vector<typename Ring::value_type>> file_inputs(const std::filesystem::path& file,
                                                                              std::uint64_t images, std::size_t size) {
  std::ifstream f(file, std::ios::binary);
  if (!f) throw usage_error(file.string() + ": cannot open the input file");
  std::vector<std::vector<typename Ring::value_type>> x(images, std::vector<typename Ring::value_type>(size));
  std::vector<float> buf(size);
  for (std::uint64_t i = 0; i < images; ++i) {
    f.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(size * sizeof(float)));
    if (static_cast<std::size_t>(f.gcount()) != size * sizeof(float))
      throw usage_error(file.string() + ": holds fewer than " + std::to_string(images) + " inputs of " +
                        std::to_string(size) + " float32 values");
    for (std::size_t j = 0; j < size; ++j) {
      if (!std::isfinite(buf[j])) throw usage_error(file.string() + ": input " + std::to_string(i) + " is not finite");
      x[i][j] = Ring::encode(static_cast<double>(buf[j]));
    }
  }
  return x;
}

template <class Ring>
[[nodiscard]] std::vector<std::vector<typename Ring::value_type>> client_inputs(const role_options& o,
                                                                                std::size_t size) {
  if (o.random_input) return random_inputs<Ring>(*o.random_input, o.images, size);
  if (!o.input.empty()) return file_inputs<Ring>(o.input, o.images, size);
  throw usage_error("the client needs --input FILE or --random-input S");
}

// One line per image: the ring elements (unsigned decimal), space separated.
template <class V>
void write_outputs(const std::filesystem::path& file, const std::vector<std::vector<V>>& y) {
  std::ofstream f(file);
  if (!f) throw error(file.string() + ": cannot write the outputs");
  for (const auto& img : y) {
    for (std::size_t i = 0; i < img.size(); ++i) f << (i ? " " : "") << static_cast<std::uint64_t>(img[i]);
    f << "\n";
  }
}

template <class V>
[[nodiscard]] std::vector<std::vector<V>> read_outputs(const std::filesystem::path& file) {
  std::ifstream f(file);
  if (!f) throw usage_error(file.string() + ": cannot open the outputs");
  std::vector<std::vector<V>> y;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream s(line);
    std::vector<V> img;
    std::uint64_t v = 0;
    while (s >> v) img.push_back(static_cast<V>(v));
    y.push_back(std::move(img));
  }
  return y;
}

// "class 7 (scores 0.12 -1.3 ...)" for people.
template <class Ring>
[[nodiscard]] std::string describe_output(const proto::network_plan& plan,
                                          std::span<const typename Ring::value_type> y) {
  const auto& last = plan.stages.back();
  const auto d = oracle::decode_output<Ring>(last, y);
  std::ostringstream o;
  if (!last.ops.empty() && last.ops.back().kind == proto::op_kind::argmax) {
    o << "class " << (d.empty() ? 0 : static_cast<long long>(d[0]));
    return o.str();
  }
  std::size_t best = 0;
  for (std::size_t i = 1; i < d.size(); ++i)
    if (d[i] > d[best]) best = i;
  o << "class " << best << " (scores";
  for (double v : d) o << " " << std::setprecision(3) << v;
  o << ")";
  return o.str();
}

}  // namespace pmdi::run
