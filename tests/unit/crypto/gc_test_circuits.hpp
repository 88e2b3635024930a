#pragma once
// Helpers of the garbling schemes' tests (gc_halfgates.cpp,
// gc_three_halves.cpp, gc_arithmetic.cpp): a fixed generator seed, and random
// circuits: 2-31 inputs, 1-400 gates of every kind (AND and XOR the
// likeliest), 16 outputs drawn from every wire, inputs and constants
// included.
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "pmdi/core/prg.hpp"
#include "pmdi/crypto/gc/circuit.hpp"

namespace pmdi::test {

// A seed made from v (tests that must not depend on the OS's randomness).
inline seed fixed_seed(std::uint8_t v, unsigned stride = 3) {
  seed s{};
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = std::byte(v + stride * i);
  return s;
}

inline gc::circuit random_circuit(std::mt19937_64& rng) {
  const std::uint32_t n_in = 2 + rng() % 30;
  const std::uint32_t n_gates = 1 + rng() % 400;
  std::vector<gc::gate> gates;
  std::vector<gc::wire> in(n_in);
  for (std::uint32_t i = 0; i < n_in; ++i) in[i] = i;
  gc::wire next = n_in;
  for (std::uint32_t i = 0; i < n_gates; ++i) {
    const auto k = static_cast<gc::gate_kind>(rng() % 7 < 3 ? (rng() % 2) : rng() % 5);
    gates.push_back({static_cast<gc::wire>(rng() % next), static_cast<gc::wire>(rng() % next), next, k});
    ++next;
  }
  std::vector<gc::wire> out;
  for (int i = 0; i < 16; ++i) out.push_back(static_cast<gc::wire>(rng() % next));
  return gc::circuit::make(next, gates, in, out);
}

}  // namespace pmdi::test
