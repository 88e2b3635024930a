// Fuzz target: the ONNX weight loader (io/onnx.hpp) against the MiniONN
// declaration, and the generator's walk without a declaration.
#include "fuzz.hpp"
#include "pmdi/io/onnx.hpp"
#include "pmdi/nn/sequential.hpp"
#include "pmdi/nn/zoo.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto declared = pmdi::nn::describe<pmdi::nn::zoo::minionn_mnist>();
  const auto b = pmdi::fuzz::bytes(data, size);
  pmdi::fuzz::expect_refusal_or_success([&] { (void)pmdi::io::load_onnx(b, "fuzz.onnx", declared); });
  pmdi::fuzz::expect_refusal_or_success([&] {
    pmdi::io::detail::onnx_walker w("fuzz.onnx", {});
    w.parse(b);
    w.walk();
    (void)pmdi::io::cpp_type(w.layers());
  });
  return 0;
}
