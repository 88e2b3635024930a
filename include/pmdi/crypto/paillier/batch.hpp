#pragma once
// Many encryptions or decryptions at once, on `threads` std::threads
// (0 = hardware concurrency). The randomness is drawn from the prg in order
// before the threads start, so encrypt_many gives exactly the ciphertexts of
// the same number of encrypt calls on the same prg stream.
#include <cstddef>
#include <span>
#include <vector>

#include "pmdi/core/prg.hpp"
#include "pmdi/crypto/paillier/detail.hpp"
#include "pmdi/crypto/paillier/keys.hpp"

namespace pmdi::paillier {

[[nodiscard]] inline std::vector<ciphertext> encrypt_many(const public_key& pk, std::span<const mpz> m, prg& g,
                                                          unsigned threads = 0) {
  if (!pk.valid()) throw usage_error("paillier::encrypt_many: empty public key");
  std::vector<secret_mpz> mr(m.size()), x(m.size());
  for (std::size_t i = 0; i < m.size(); ++i) {
    detail::plaintext_residue(mr[i], pk, m[i]);
    detail::random_bits(x[i], g, exponent_bits);
  }
  std::vector<ciphertext> out(m.size());
  detail::parallel_for(m.size(), threads, [&](std::size_t i, unsigned) {
    secret_mpz t1, t2;
    detail::encrypt_with(out[i].value, pk, mr[i], x[i], t1, t2);
  });
  return out;
}

[[nodiscard]] inline std::vector<ciphertext> encrypt_many(const secret_key& sk, std::span<const mpz> m, prg& g,
                                                          unsigned threads = 0) {
  const public_key& pk = sk.pk();
  if (!pk.valid()) throw usage_error("paillier::encrypt_many: empty secret key");
  std::vector<secret_mpz> mr(m.size()), x(m.size());
  for (std::size_t i = 0; i < m.size(); ++i) {
    detail::plaintext_residue(mr[i], pk, m[i]);
    detail::random_bits(x[i], g, exponent_bits);
  }
  std::vector<ciphertext> out(m.size());
  detail::parallel_for(m.size(), threads,
                       [&](std::size_t i, unsigned) { keyholder_encrypt_with(sk, mr[i], x[i], out[i]); });
  return out;
}

// Centred decryptions, like decrypt().
[[nodiscard]] inline std::vector<mpz> decrypt_many(const secret_key& sk, std::span<const ciphertext> c,
                                                   unsigned threads = 0) {
  std::vector<mpz> out(c.size());
  detail::parallel_for(c.size(), threads, [&](std::size_t i, unsigned) { out[i] = decrypt(sk, c[i]); });
  return out;
}

}  // namespace pmdi::paillier
