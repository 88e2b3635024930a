// onnx2pmdi: prints the pmdi network type of an ONNX model.
//   onnx2pmdi MODEL.onnx [ALIAS]
// e.g. onnx2pmdi examples/models/minionn_fashion.onnx minionn
#include <cstdio>
#include <exception>
#include <string>

#include "pmdi/io/onnx.hpp"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: onnx2pmdi MODEL.onnx [ALIAS]\n");
    return 2;
  }
  try {
    const auto layers = pmdi::io::describe_onnx(argv[1]);
    std::fputs(pmdi::io::cpp_type(layers, argc == 3 ? argv[2] : "net").c_str(), stdout);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "onnx2pmdi: %s\n", e.what());
    return 1;
  }
}
