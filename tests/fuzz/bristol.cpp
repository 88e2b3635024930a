// Fuzz target: the Bristol Fashion circuit parser (crypto/gc/bristol.hpp).
#include "fuzz.hpp"
#include "pmdi/crypto/gc/bristol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pmdi::fuzz::expect_refusal_or_success([&] { (void)pmdi::gc::parse_bristol(pmdi::fuzz::text(data, size)); });
  return 0;
}
