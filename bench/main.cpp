// pmdi-bench SUBCOMMAND [--json] [--quick] [args...]
#include <cstdio>
#include <cstring>
#include <exception>

#include "bench.hpp"

int main(int argc, char** argv) {
  using namespace pmdi::bench;
  auto& reg = registry();
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !reg.count(argv[1])) {
    std::fprintf(stderr, "usage: pmdi-bench SUBCOMMAND [--json] [--quick]\nsubcommands:\n");
    for (auto& [name, v] : reg) std::fprintf(stderr, "  %-10s %s\n", name.c_str(), v.first.c_str());
    return argc < 2 || !std::strcmp(argv[1], "--help") ? 0 : 2;
  }
  args a;
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json")) a.json = true;
    else if (!std::strcmp(argv[i], "--quick")) a.quick = true;
    else a.rest.emplace_back(argv[i]);
  }
  report r(a.json);
  try {
    return reg[argv[1]].second(a, r);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pmdi-bench %s: %s\n", argv[1], e.what());
    return 1;
  }
}
