#pragma once
// Many encryptions or decryptions at once, on up to `threads` threads of the
// process's pool (core/pool.hpp; 0 = all of them). The randomness is drawn from the prg in order
// before the threads start, so encrypt_many gives exactly the ciphertexts of
// the same number of encrypt calls on the same prg stream.
#include <cstddef>
#include <span>
#include <vector>

#include "pmdi/core/pool.hpp"
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
  pmdi::parallel_for(m.size(), threads, [&](std::size_t i) {
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
  pmdi::parallel_for(m.size(), threads,
                       [&](std::size_t i) { keyholder_encrypt_with(sk, mr[i], x[i], out[i]); });
  return out;
}

// ---- re-randomisation -----------------------------------------------------------
// c * hs^x mod N^2 (adds a fresh public-key Enc(0), x uniform in
// [0, 2^exponent_bits) from g): the result decrypts to the same plaintext and
// its randomness is a fresh one, independent of c's (under the same DJN
// assumption as encrypt). Apply it once to every ciphertext computed with
// plaintext-only additions (matvec with rerand::no, pack) before it leaves the
// party that computed it; docs/paillier.md, "Re-randomisation".
[[nodiscard]] inline ciphertext rerandomize(const public_key& pk, const ciphertext& c, prg& g) {
  if (!pk.valid()) throw usage_error("paillier::rerandomize: empty public key");
  if (c.value.sign() <= 0 || ::mpz_cmp(c.value, pk.n_squared()) >= 0)
    throw usage_error("paillier::rerandomize: ciphertext out of range");
  secret_mpz x, t1, t2;
  detail::random_bits(x, g, exponent_bits);
  pk.hs_pow(t1, x, t2);
  ciphertext out;
  detail::mulmod(out.value, c.value, t1, pk.n_squared(), t2);
  return out;
}

// Re-randomises every ciphertext of cs in place, on `threads` threads; the
// exponents are drawn from g in order before the threads start (the result is
// that of cs.size() rerandomize calls on the same prg stream).
inline void rerandomize_many(const public_key& pk, std::span<ciphertext> cs, prg& g, unsigned threads = 0) {
  if (!pk.valid()) throw usage_error("paillier::rerandomize_many: empty public key");
  for (const auto& c : cs)
    if (c.value.sign() <= 0 || ::mpz_cmp(c.value, pk.n_squared()) >= 0)
      throw usage_error("paillier::rerandomize_many: ciphertext out of range");
  std::vector<secret_mpz> x(cs.size());
  for (auto& e : x) detail::random_bits(e, g, exponent_bits);
  pmdi::parallel_for(cs.size(), threads, [&](std::size_t i) {
    secret_mpz t1, t2;
    pk.hs_pow(t1, x[i], t2);
    detail::mulmod(cs[i].value, cs[i].value, t1, pk.n_squared(), t2);
  });
}

// Centred decryptions, like decrypt().
[[nodiscard]] inline std::vector<mpz> decrypt_many(const secret_key& sk, std::span<const ciphertext> c,
                                                   unsigned threads = 0) {
  std::vector<mpz> out(c.size());
  pmdi::parallel_for(c.size(), threads, [&](std::size_t i) { out[i] = decrypt(sk, c[i]); });
  return out;
}

}  // namespace pmdi::paillier
