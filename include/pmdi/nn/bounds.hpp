#pragma once
// Declared magnitude bounds of a network's weights and activations, part of
// the network's declaration beside its layers (pmdi_add_deployment's BOUNDS).
// plan/numerics.hpp derives every stage's bit growth from them and refuses a
// ring or a Paillier modulus they do not fit (PMDI_E_RING_OVERFLOW,
// PMDI_E_PAILLIER_CAPACITY).

namespace pmdi::nn {

// |w| and |b| < 2^WeightIntBits (batch-norm folded), every stage input
// |x| < 2^ActivationIntBits; the Paillier modulus size is the plaintext
// capacity the offline phase packs |A c + b| into (plan/numerics.hpp has the
// recurrences).
template <unsigned WeightIntBits = 1, unsigned ActivationIntBits = 4, unsigned PaillierBits = 2048>
struct bounds {
  static constexpr unsigned weight_int_bits = WeightIntBits;
  static constexpr unsigned activation_int_bits = ActivationIntBits;
  static constexpr unsigned paillier_bits = PaillierBits;
  static constexpr unsigned statistical_bits = 40;
};
using default_bounds = bounds<>;

}  // namespace pmdi::nn
