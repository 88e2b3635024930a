#pragma once
// Paillier keys, key generation, encryption (public and key-holder) and CRT
// decryption. See pmdi/crypto/paillier.hpp for the API summary.
#include <gmp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "pmdi/core/error.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/crypto/paillier/detail.hpp"
#include "pmdi/crypto/paillier/montgomery.hpp"
#include "pmdi/crypto/paillier/mpz.hpp"

namespace pmdi::paillier {

// Modulus sizes.
inline constexpr unsigned default_bits = 2048;
inline constexpr unsigned min_bits = 512;    // tests only; 2048 or more in use
inline constexpr unsigned max_bits = 8192;
// Length of the short randomness exponent x in Enc(m) = (1 + mN) * hs^x mod N^2:
// 2 * 128 bits, so that the best generic attack on the exponent (Pollard
// lambda / baby-step giant-step, ~2^(x_bits/2)) costs 2^128 (docs/paillier.md).
inline constexpr unsigned exponent_bits = 256;
// Rounds for mpz_probab_prime_p: GMP 6.2 runs Baillie-PSW plus (reps - 24)
// Miller-Rabin rounds with random bases.
inline constexpr int prime_test_reps = 40;
// Window of the fixed-base tables for hs (bits of x per multiplication).
inline constexpr unsigned fixed_base_window = 8;

struct ciphertext {
  mpz value;  // in [1, N^2), coprime to N
};

class public_key {
 public:
  public_key() = default;
  // From N and hs = h^N mod N^2; checks them (usage_error) and builds the table.
  public_key(const mpz& n, const mpz& hs) : n_(n), hs_(hs) {
    bits_ = static_cast<unsigned>(n_.bits());
    if (bits_ < min_bits || bits_ > max_bits || bits_ % 64 != 0 || mpz_odd_p(n_.get()) == 0)
      throw usage_error("paillier::public_key: N must be odd with a bit length that is a multiple of 64 in [" +
                        std::to_string(min_bits) + ", " + std::to_string(max_bits) + "], got " +
                        std::to_string(bits_) + " bits");
    ::mpz_mul(n2_, n_, n_);
    ::mpz_tdiv_q_2exp(half_, n_, 1);
    mpz d;
    ::mpz_gcd(d, hs_, n_);
    if (hs_.sign() <= 0 || ::mpz_cmp(hs_, n2_) >= 0 || cmp_ui(d, 1) != 0)
      throw usage_error("paillier::public_key: hs must be a unit modulo N^2");
    const detail::montgomery ctx(n2_);
    if (ctx.present())
      ct_table_ = std::make_shared<const detail::ct_fixed_base>(hs_, ctx, exponent_bits, false);
    else
      table_ = std::make_shared<const detail::fixed_base>(hs_, n2_, exponent_bits, fixed_base_window, false);
  }

  [[nodiscard]] unsigned bits() const noexcept { return bits_; }
  [[nodiscard]] const mpz& n() const noexcept { return n_; }
  [[nodiscard]] const mpz& n_squared() const noexcept { return n2_; }
  [[nodiscard]] const mpz& hs() const noexcept { return hs_; }
  // (N - 1) / 2: plaintexts are integers m with |m| <= max_abs_plaintext().
  [[nodiscard]] const mpz& max_abs_plaintext() const noexcept { return half_; }
  [[nodiscard]] std::size_t ciphertext_bytes() const noexcept { return 2 * std::size_t{bits_} / 8; }
  [[nodiscard]] bool valid() const noexcept { return table_ != nullptr || ct_table_ != nullptr; }

  // r = hs^x mod N^2: constant time with the Montgomery table when the CPU has a vector kernel
  // and it is allowed, else the (variable-time) GMP windowed table.
  void hs_pow(mpz_ptr r, mpz_srcptr x, mpz_ptr tmp) const {
    if (ct_table_ && ct_table_->ctx().available()) {
      ct_table_->pow(r, x);
      return;
    }
    if (!table_) {
      std::call_once(lazy_->once, [&] {
        lazy_->table = std::make_shared<const detail::fixed_base>(hs_, n2_, exponent_bits, fixed_base_window, false);
      });
      lazy_->table->pow(r, x, tmp);
      return;
    }
    table_->pow(r, x, tmp);
  }

  friend bool operator==(const public_key& a, const public_key& b) noexcept { return a.n_ == b.n_ && a.hs_ == b.hs_; }

 private:
  unsigned bits_ = 0;
  mpz n_, n2_, half_, hs_;
  std::shared_ptr<const detail::fixed_base> table_;        // GMP table (no vector kernel); shared by copies
  std::shared_ptr<const detail::ct_fixed_base> ct_table_;  // constant-time Montgomery table; shared by copies
  // GMP table built on first use when the vector kernels are switched off at run time
  struct lazy_table {
    std::once_flag once;
    std::shared_ptr<const detail::fixed_base> table;
  };
  std::shared_ptr<lazy_table> lazy_ = std::make_shared<lazy_table>();
};

class secret_key {
 public:
  secret_key() = default;

  [[nodiscard]] const public_key& pk() const noexcept { return pk_; }
  [[nodiscard]] const mpz& p() const noexcept { return p_; }
  [[nodiscard]] const mpz& q() const noexcept { return q_; }
  [[nodiscard]] const mpz& lambda() const noexcept { return lambda_; }

 private:
  friend secret_key make_secret_key(const mpz& p, const mpz& q, prg& g);
  friend void keyholder_encrypt_with(const secret_key&, mpz_srcptr, mpz_srcptr, ciphertext&);
  friend mpz decrypt_residue(const secret_key&, const ciphertext&);
  friend mpz decrypt_textbook(const secret_key&, const ciphertext&);

  public_key pk_;
  secret_mpz p_, q_, p2_, q2_;  // p, q, p^2, q^2
  secret_mpz hp_, hq_;          // [ref] Paillier, EUROCRYPT 1999, sec. 7: h_p = L_p(g^(p-1) mod p^2)^-1 mod p
  secret_mpz pm1_, qm1_;        // p - 1, q - 1 (decryption exponents)
  secret_mpz p_inv_q_;          // p^-1 mod q (CRT of plaintexts)
  secret_mpz p2_inv_q2_;        // (p^2)^-1 mod q^2 (CRT of ciphertexts)
  secret_mpz lambda_, mu_;      // lcm(p-1, q-1), L(g^lambda mod N^2)^-1 mod N (textbook decryption)
  std::shared_ptr<const detail::fixed_base> table_p_, table_q_;  // hs mod p^2, hs mod q^2 (secret: they reveal p, q)
  std::shared_ptr<const detail::montgomery> mont_p_, mont_q_;         // Montgomery contexts mod p^2, q^2
  std::shared_ptr<const detail::ct_fixed_base> ct_p_, ct_q_;      // constant-time tables of hs mod p^2, q^2
};

struct key_pair {
  public_key pk;
  secret_key sk;
};

namespace detail {

inline bool is_probable_prime(const mpz& x) { return ::mpz_probab_prime_p(x, prime_test_reps) != 0; }

// A random prime of exactly `bits` bits with its two top bits set (so that the
// product of two has exactly 2 * bits bits).
inline void random_prime(mpz& out, prg& g, unsigned bits) {
  for (;;) {
    random_bits(out, g, bits);
    ::mpz_setbit(out, bits - 1);
    ::mpz_setbit(out, bits - 2);
    ::mpz_setbit(out, 0);
    if (is_probable_prime(out)) return;
  }
}

// L(u) = (u - 1) / d
inline void l_function(mpz_ptr out, mpz_srcptr u, mpz_srcptr d) noexcept {
  ::mpz_sub_ui(out, u, 1);
  ::mpz_divexact(out, out, d);
}

}  // namespace detail

// A key pair from given primes p != q of equal size (checked: probable
// primality, equal bit length, gcd(pq, (p-1)(q-1)) = 1). The prg draws y for
// h = -y^2 mod N. keygen() is the normal entry point; this one exists for
// known-answer tests.
[[nodiscard]] inline secret_key make_secret_key(const mpz& p, const mpz& q, prg& g) {
  if (p.bits() != q.bits() || p == q || !detail::is_probable_prime(p) || !detail::is_probable_prime(q))
    throw usage_error("paillier::make_secret_key: p and q must be distinct primes of the same bit length");
  secret_key sk;
  sk.p_ = p;
  sk.q_ = q;
  mpz n;
  ::mpz_mul(n, p, q);
  secret_mpz phi, t;
  ::mpz_sub_ui(sk.pm1_, p, 1);
  ::mpz_sub_ui(sk.qm1_, q, 1);
  ::mpz_mul(phi, sk.pm1_, sk.qm1_);
  ::mpz_gcd(t, n, phi);
  if (cmp_ui(t, 1) != 0) throw usage_error("paillier::make_secret_key: gcd(pq, (p-1)(q-1)) != 1");
  ::mpz_mul(sk.p2_, p, p);
  ::mpz_mul(sk.q2_, q, q);
  mpz n2;
  ::mpz_mul(n2, n, n);

  // hs = h^N mod N^2, h = -y^2 mod N for a random unit y.
  // [ref] Damgard, Jurik, Nielsen: A generalization of Paillier's public-key
  //       system with applications to electronic voting, IJIS 2010, sec. 4.2.
  secret_mpz y, h;
  detail::random_unit(y, g, n);
  ::mpz_mul(h, y, y);
  ::mpz_tdiv_r(h, h, n);
  ::mpz_sub(h, n, h);
  mpz hs;
  ::mpz_powm(hs, h, n, n2);
  sk.pk_ = public_key(n, hs);

  // g = N + 1. h_p = L_p(g^(p-1) mod p^2)^-1 mod p, likewise h_q.
  mpz gen;
  ::mpz_add_ui(gen, n, 1);
  ::mpz_powm(t, gen, sk.pm1_, sk.p2_);
  detail::l_function(t, t, p);
  if (::mpz_invert(sk.hp_, t, p) == 0) throw error("paillier: h_p is not invertible");
  ::mpz_powm(t, gen, sk.qm1_, sk.q2_);
  detail::l_function(t, t, q);
  if (::mpz_invert(sk.hq_, t, q) == 0) throw error("paillier: h_q is not invertible");
  if (::mpz_invert(sk.p_inv_q_, p, q) == 0 || ::mpz_invert(sk.p2_inv_q2_, sk.p2_, sk.q2_) == 0)
    throw error("paillier: CRT coefficients are not invertible");

  ::mpz_lcm(sk.lambda_, sk.pm1_, sk.qm1_);
  ::mpz_powm(t, gen, sk.lambda_, n2);
  detail::l_function(t, t, n);
  if (::mpz_invert(sk.mu_, t, n) == 0) throw error("paillier: mu is not invertible");

  secret_mpz hs_p, hs_q;
  ::mpz_tdiv_r(hs_p, hs, sk.p2_);
  ::mpz_tdiv_r(hs_q, hs, sk.q2_);
  sk.mont_p_ = std::make_shared<const detail::montgomery>(sk.p2_, true);
  sk.mont_q_ = std::make_shared<const detail::montgomery>(sk.q2_, true);
  if (sk.mont_p_->present() && sk.mont_q_->present()) {
    sk.ct_p_ = std::make_shared<const detail::ct_fixed_base>(hs_p, *sk.mont_p_, exponent_bits, true);
    sk.ct_q_ = std::make_shared<const detail::ct_fixed_base>(hs_q, *sk.mont_q_, exponent_bits, true);
  }
  sk.table_p_ = std::make_shared<const detail::fixed_base>(hs_p, sk.p2_, exponent_bits, fixed_base_window, true);
  sk.table_q_ = std::make_shared<const detail::fixed_base>(hs_q, sk.q2_, exponent_bits, fixed_base_window, true);
  return sk;
}

// Fresh key pair with a `bits`-bit modulus N = pq (2048 default, 3072 for
// 128-bit security). All randomness from g.
[[nodiscard]] inline key_pair keygen(prg& g, unsigned bits = default_bits) {
  if (bits < min_bits || bits > max_bits || bits % 64 != 0)
    throw usage_error("paillier::keygen: modulus size must be a multiple of 64 in [" + std::to_string(min_bits) +
                      ", " + std::to_string(max_bits) + "], got " + std::to_string(bits));
  for (;;) {
    secret_mpz p, q;
    detail::random_prime(p, g, bits / 2);
    detail::random_prime(q, g, bits / 2);
    if (p == q) continue;
    secret_mpz phi, n, d, pm1, qm1;
    ::mpz_sub_ui(pm1, p, 1);
    ::mpz_sub_ui(qm1, q, 1);
    ::mpz_mul(phi, pm1, qm1);
    ::mpz_mul(n, p, q);
    ::mpz_gcd(d, n, phi);
    if (cmp_ui(d, 1) != 0) continue;
    secret_key sk = make_secret_key(p, q, g);
    public_key pk = sk.pk();
    return key_pair{std::move(pk), std::move(sk)};
  }
}

namespace detail {

// m mod N in [0, N) for a plaintext |m| <= (N - 1) / 2 (usage_error otherwise).
inline void plaintext_residue(mpz_ptr out, const public_key& pk, const mpz& m) {
  if (::mpz_cmpabs(m, pk.max_abs_plaintext()) > 0)
    throw usage_error("paillier::encrypt: plaintext of " + std::to_string(m.bits()) +
                      " bits does not fit the signed plaintext range of a " + std::to_string(pk.bits()) +
                      "-bit modulus");
  ::mpz_set(out, m);
  if (m.sign() < 0) ::mpz_add(out, out, pk.n());
}

// c = (1 + mN) * r mod N^2 = r + N * (m * r mod N) mod N^2, for m in [0, N).
inline void times_one_plus_mn(mpz_ptr c, mpz_srcptr m, mpz_srcptr r, const public_key& pk, mpz_ptr tmp) noexcept {
  ::mpz_mul(tmp, m, r);
  ::mpz_tdiv_r(tmp, tmp, pk.n());
  ::mpz_mul(tmp, tmp, pk.n());
  ::mpz_add(c, r, tmp);
  if (::mpz_cmp(c, pk.n_squared()) >= 0) ::mpz_sub(c, c, pk.n_squared());
}

// Public-key encryption with a given randomness exponent x < 2^exponent_bits.
inline void encrypt_with(mpz_ptr c, const public_key& pk, mpz_srcptr m_residue, mpz_srcptr x, mpz_ptr t1,
                         mpz_ptr t2) {
  pk.hs_pow(t1, x, t2);
  times_one_plus_mn(c, m_residue, t1, pk, t2);
}

}  // namespace detail

// Public-key encryption of a signed plaintext m, |m| <= (N-1)/2:
// Enc(m) = (1 + mN) * hs^x mod N^2, x uniform in [0, 2^exponent_bits) from g.
[[nodiscard]] inline ciphertext encrypt(const public_key& pk, const mpz& m, prg& g) {
  if (!pk.valid()) throw usage_error("paillier::encrypt: empty public key");
  secret_mpz mr, x, t1, t2;
  detail::plaintext_residue(mr, pk, m);
  detail::random_bits(x, g, exponent_bits);
  ciphertext c;
  detail::encrypt_with(c.value, pk, mr, x, t1, t2);
  return c;
}

// Key-holder encryption of the plaintext residue mr in [0, N) with the
// randomness exponent x (used by encrypt(sk, ...) and encrypt_many).
inline void keyholder_encrypt_with(const secret_key& sk, mpz_srcptr mr, mpz_srcptr x, ciphertext& c) {
  const public_key& pk = sk.pk();
  secret_mpz cp, cq, a, tmp, t2;
  if (sk.ct_p_ && sk.ct_q_ && sk.ct_p_->ctx().pairs_with(sk.ct_q_->ctx())) {
    detail::ct_fixed_base::pow2(*sk.ct_p_, *sk.ct_q_, cp, cq, x);  // constant time, both halves at once
  } else {
    sk.table_p_->pow(cp, x, tmp);
    sk.table_q_->pow(cq, x, tmp);
  }
  // (1 + mN) mod p^2 = 1 + (m mod p) * N mod p^2 (N = 0 mod p), likewise mod q^2
  ::mpz_mul(a, mr, pk.n());
  ::mpz_add_ui(a, a, 1);
  ::mpz_tdiv_r(tmp, a, sk.p2_);
  detail::mulmod(cp, cp, tmp, sk.p2_, t2);
  ::mpz_tdiv_r(tmp, a, sk.q2_);
  detail::mulmod(cq, cq, tmp, sk.q2_, t2);
  // c = cp + p^2 * ((cq - cp) * (p^2)^-1 mod q^2)
  ::mpz_sub(a, cq, cp);
  detail::mulmod(a, a, sk.p2_inv_q2_, sk.q2_, tmp);
  if (a.sign() < 0) ::mpz_add(a, a, sk.q2_);
  ::mpz_mul(c.value, a, sk.p2_);
  ::mpz_add(c.value, c.value, cp);
}

// Key-holder encryption: the same ciphertext as encrypt(sk.pk(), m, g) for the
// same prg stream, computed modulo p^2 and q^2 and joined by the CRT.
[[nodiscard]] inline ciphertext encrypt(const secret_key& sk, const mpz& m, prg& g) {
  const public_key& pk = sk.pk();
  if (!pk.valid()) throw usage_error("paillier::encrypt: empty secret key");
  secret_mpz mr, x;
  detail::plaintext_residue(mr, pk, m);
  detail::random_bits(x, g, exponent_bits);
  ciphertext c;
  keyholder_encrypt_with(sk, mr, x, c);
  return c;
}

// The plaintext residue m mod N in [0, N), by the CRT.
// [ref] Paillier: Public-key cryptosystems based on composite degree
//       residuosity classes, EUROCRYPT 1999, sec. 7 (decryption using CRT).
[[nodiscard]] inline mpz decrypt_residue(const secret_key& sk, const ciphertext& c) {
  const public_key& pk = sk.pk();
  if (!pk.valid()) throw usage_error("paillier::decrypt: empty secret key");
  if (c.value.sign() <= 0 || ::mpz_cmp(c.value, pk.n_squared()) >= 0)
    throw usage_error("paillier::decrypt: ciphertext out of range");
  secret_mpz u, v, mp, mq;
  // m_p = L_p(c^(p-1) mod p^2) * h_p mod p, likewise m_q; constant-time
  // exponentiations: both halves at once through the vector kernel (montgomery::mul2), or GMP's
  // mpz_powm_sec.
  ::mpz_tdiv_r(u, c.value, sk.p2_);
  ::mpz_tdiv_r(v, c.value, sk.q2_);
  if (sk.mont_p_ && sk.mont_q_ && sk.mont_p_->pairs_with(*sk.mont_q_)) {
    detail::powm2_sec(*sk.mont_p_, *sk.mont_q_, u, u, sk.pm1_, v, v, sk.qm1_, pk.bits() / 2);
  } else {
    ::mpz_powm_sec(u, u, sk.pm1_, sk.p2_);
    ::mpz_powm_sec(v, v, sk.qm1_, sk.q2_);
  }
  detail::l_function(u, u, sk.p_);
  ::mpz_mul(u, u, sk.hp_);
  ::mpz_tdiv_r(mp, u, sk.p_);
  ::mpz_set(u, v);
  detail::l_function(u, u, sk.q_);
  ::mpz_mul(u, u, sk.hq_);
  ::mpz_tdiv_r(mq, u, sk.q_);
  // m = m_p + p * ((m_q - m_p) * p^-1 mod q)
  ::mpz_sub(u, mq, mp);
  ::mpz_mul(u, u, sk.p_inv_q_);
  ::mpz_fdiv_r(u, u, sk.q_);
  mpz m;
  ::mpz_mul(m, u, sk.p_);
  ::mpz_add(m, m, mp);
  return m;
}

// The centred plaintext in [-(N-1)/2, (N-1)/2].
[[nodiscard]] inline mpz decrypt(const secret_key& sk, const ciphertext& c) {
  mpz m = decrypt_residue(sk, c);
  if (::mpz_cmp(m, sk.pk().max_abs_plaintext()) > 0) ::mpz_sub(m, m, sk.pk().n());
  return m;
}

// Textbook decryption m = L(c^lambda mod N^2) * mu mod N, centred; a slow
// reference for tests.
[[nodiscard]] inline mpz decrypt_textbook(const secret_key& sk, const ciphertext& c) {
  const public_key& pk = sk.pk();
  secret_mpz u;
  ::mpz_powm_sec(u, c.value, sk.lambda_, pk.n_squared());
  detail::l_function(u, u, pk.n());
  ::mpz_mul(u, u, sk.mu_);
  mpz m;
  ::mpz_tdiv_r(m, u, pk.n());
  if (::mpz_cmp(m, pk.max_abs_plaintext()) > 0) ::mpz_sub(m, m, pk.n());
  return m;
}

}  // namespace pmdi::paillier
