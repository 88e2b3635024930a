// Fuzz target: the deployment file parser (run/deployment.hpp); what parses
// must write back to a file that parses to the same parties.
#include "fuzz.hpp"
#include "pmdi/run/deployment.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pmdi::fuzz::expect_refusal_or_success([&] {
    const auto d = pmdi::run::parse_deployment(pmdi::fuzz::text(data, size), "fuzz.json");
    const auto again = pmdi::run::parse_deployment(pmdi::run::to_json(d), "again.json");
    if (again.parties.size() != d.parties.size()) __builtin_trap();
    for (std::size_t i = 0; i < d.parties.size(); ++i)
      if (!(again.parties[i].role == d.parties[i].role) || again.parties[i].port != d.parties[i].port ||
          again.parties[i].public_key != d.parties[i].public_key)
        __builtin_trap();
  });
  return 0;
}
