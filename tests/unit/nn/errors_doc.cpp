// Every identifier of the catalogue has an entry in docs/errors.md and a
// compile-fail test that expects it.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "pmdi/diag/errors.hpp"

namespace {
std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("each network error identifier is documented and has a compile-fail test", "[nn][diag]") {
  namespace d = pmdi::diag;
  const std::filesystem::path root = std::filesystem::path(PMDI_TEST_DATA).parent_path().parent_path();
  const std::string doc = slurp(root / "docs" / "errors.md");
  REQUIRE_FALSE(doc.empty());
  std::string expects;
  for (const auto& e : std::filesystem::directory_iterator(root / "tests" / "compile_fail")) {
    std::ifstream in(e.path());
    std::string first;
    std::getline(in, first);
    expects += first + "\n";
  }
  for (std::string_view id :
       {d::PMDI_E_NOT_A_LAYER::id, d::PMDI_E_FIRST_NOT_INPUT::id, d::PMDI_E_EMPTY_NETWORK::id,
        d::PMDI_E_BAD_PARAMETER::id, d::PMDI_E_SHAPE_MISMATCH::id, d::PMDI_E_KERNEL_TOO_LARGE::id,
        d::PMDI_E_ARGMAX_NOT_LAST::id, d::PMDI_E_BATCHNORM_PLACEMENT::id, d::PMDI_E_RESIDUAL_SHAPE::id,
        d::PMDI_E_RESIDUAL_SOURCE::id, d::PMDI_E_SHORTCUT_NOT_LINEAR::id, d::PMDI_E_RING_OVERFLOW::id,
        d::PMDI_E_COEFF_OVERFLOW::id, d::PMDI_E_PAILLIER_CAPACITY::id}) {
    INFO(id);
    CHECK(doc.find("### " + std::string(id)) != std::string::npos);
    CHECK(expects.find("// expect: " + std::string(id)) != std::string::npos);
  }
}
