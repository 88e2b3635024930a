#pragma once
// Enc(A c + s) for a plaintext signed integer matrix A (csr<int64_t>, rows =
// outputs), a vector of ciphertexts c and plaintext additive terms s, as one
// multi-exponentiation per row over bases shared by all rows.
//
// Method (docs/paillier.md):
//  1. Signed-digit recoding of every weight in radix 2^w: a = sum_k d_k 2^(wk),
//     d_k in (-2^(w-1), 2^(w-1)]. w minimises the estimated multiplications.
//  2. Per base c_j, once: c_j^(2^(wk)) for every digit position k, and the
//     inverses c_j^(-2^(wk)) when some digit of column j is negative.
//  3. Per row, a bucket (Pippenger) pass: every non-zero digit multiplies the
//     precomputed power (or its inverse) into bucket |d_k|; then
//     prod_b B_b^b = prod of running products from the top bucket down, 2 per
//     bucket. Cost ~ nnz(row) * digits + 2^w multiplications per row.
//     [ref] Pippenger: On the evaluation of powers and monomials, SIAM J.
//           Comput. 1980; Bernstein et al., Faster batch forgery identification
//           (the bucket method), INDOCRYPT 2012, sec. 4.
//  4. rerand::yes (the default): each row is multiplied by a FRESH public-key
//     encryption Enc(s_i): the key holder who decrypts Enc(A c + s) must not be
//     able to recover anything about A from the ciphertext's randomness.
//     rerand::no: each row is multiplied by the plaintext (1 + s_i N) mod N^2
//     (no exponentiation) and draws nothing from the prg. Its randomness is
//     then prod_j r_j^(A_ij), a function of A: such a result must be
//     re-randomised (rerandomize / rerandomize_many in batch.hpp, or after
//     packing, once per packed ciphertext) before it leaves the party, and it
//     may be kept and used as an input of further homomorphic operations
//     until then (docs/paillier.md, "Re-randomisation").
// Rows run in parallel on up to `threads` threads of the process's pool
// (core/pool.hpp). The randomness of every Enc(s_i) is drawn from the prg
// before the threads start, so the result does not depend on the number of
// threads.
#include <gmp.h>

#include <algorithm>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/pool.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/core/sparse.hpp"
#include "pmdi/crypto/paillier/keys.hpp"
#include "pmdi/crypto/paillier/montgomery.hpp"
#include "pmdi/crypto/paillier/ops.hpp"

namespace pmdi::paillier {

namespace detail {

// Signed digits of a in radix 2^w (w >= 2): a = sum_k d[k] 2^(wk), d[k] in (-2^(w-1), 2^(w-1)].
// Returns the number of digits written (at most 66 / w + 2).
inline unsigned signed_digits(std::int64_t a, unsigned w, int* d) noexcept {
  __extension__ __int128 v = a;
  const std::int64_t full = std::int64_t{1} << w, half = full / 2;
  unsigned k = 0;
  while (v != 0) {
    std::int64_t r = static_cast<std::int64_t>(v & (full - 1));
    if (r > half) r -= full;
    d[k++] = static_cast<int>(r);
    v = (v - r) >> w;
  }
  return k;
}

// Window that minimises the estimated multiplications per row:
// (non-zero digits per row) + 2^w (bucket combination), the digit counts
// measured on a sample of up to 4096 weights.
inline unsigned choose_window(std::span<const std::int64_t> val, std::size_t rows) noexcept {
  if (val.empty() || rows == 0) return 2;
  const std::size_t step = std::max<std::size_t>(1, val.size() / 4096);
  unsigned best = 2;  // w = 1 has no negative digits
  double best_cost = 1e300;
  int d[80];
  for (unsigned w = 2; w <= 16; ++w) {
    std::size_t nz = 0, seen = 0;
    for (std::size_t i = 0; i < val.size(); i += step, ++seen) {
      const unsigned k = signed_digits(val[i], w, d);
      for (unsigned j = 0; j < k; ++j) nz += d[j] != 0;
    }
    const double per_row = static_cast<double>(nz) / static_cast<double>(seen) *
                           static_cast<double>(val.size()) / static_cast<double>(rows);
    const double cost = per_row + static_cast<double>(std::size_t{1} << w);
    if (cost < best_cost) {
      best_cost = cost;
      best = w;
    }
  }
  return best;
}

}  // namespace detail

// Whether matvec multiplies every output row by a fresh Enc(0) (see step 4).
enum class rerand : bool { no, yes };

// Enc(A c + s): A is rows x cols, c has cols ciphertexts, s has rows plaintexts
// (|value| within the plaintext range). Fresh randomness for every row from g
// unless rr is rerand::no (then g is not used; see step 4 above).
[[nodiscard]] inline std::vector<ciphertext> matvec(const public_key& pk, const csr<std::int64_t>& A,
                                                    std::span<const ciphertext> c, std::span<const mpz> s, prg& g,
                                                    unsigned threads = 0, rerand rr = rerand::yes) {
  if (!pk.valid()) throw usage_error("paillier::matvec: empty public key");
  if (c.size() != A.cols || s.size() != A.rows || A.row_ptr.size() != A.rows + 1 || A.col.size() != A.nnz())
    throw usage_error("paillier::matvec: matrix is " + std::to_string(A.rows) + "x" + std::to_string(A.cols) +
                      " but got " + std::to_string(c.size()) + " ciphertexts and " + std::to_string(s.size()) +
                      " additive terms");
  const mpz& n2 = pk.n_squared();

  // Plaintext residues of s and the randomness exponents, drawn in row order.
  std::vector<secret_mpz> s_res(A.rows), x(A.rows);
  for (std::size_t i = 0; i < A.rows; ++i) {
    detail::plaintext_residue(s_res[i], pk, s[i]);
    if (rr == rerand::yes) detail::random_bits(x[i], g, exponent_bits);
  }

  // Window and digit count.
  const unsigned w = detail::choose_window(A.val, A.rows);
  std::vector<std::uint8_t> used(A.cols, 0), has_neg(A.cols, 0);
  unsigned ndig = 0;
  {
    int d[80];
    for (std::size_t e = 0; e < A.nnz(); ++e) {
      if (A.col[e] >= A.cols) throw usage_error("paillier::matvec: column index out of range");
      const unsigned k = detail::signed_digits(A.val[e], w, d);
      ndig = std::max(ndig, k);
      if (k > 0) used[A.col[e]] = 1;
      for (unsigned i = 0; i < k; ++i)
        if (d[i] < 0) has_neg[A.col[e]] = 1;
    }
  }
  for (std::size_t j = 0; j < A.cols; ++j)
    if (used[j] && (c[j].value.sign() <= 0 || ::mpz_cmp(c[j].value, n2) >= 0))
      throw usage_error("paillier::matvec: ciphertext " + std::to_string(j) + " out of range");

  const std::size_t nb = (std::size_t{1} << (w - 1)) + 1;  // buckets 1 .. 2^(w-1)
  std::vector<ciphertext> out(A.rows);
  const bool any_neg = std::any_of(has_neg.begin(), has_neg.end(), [](std::uint8_t b) { return b != 0; });

  const detail::montgomery mont(n2);
  if (mont.available()) {
    // Same algorithm in the Montgomery domain with the vector kernel; elements
    // are runs of L = mont.digits() digits in flat arrays.
    const std::size_t L = mont.digits();
    const bool paired = mont.pairs_with(mont);
    std::vector<std::uint64_t> pw(A.cols * ndig * L), inv(any_neg ? A.cols * ndig * L : 0);
    // c_j^(2^(wk)) in the Montgomery domain: k squarings chains from c_j.
    auto powers = [&](std::uint64_t* p) {
      for (unsigned k = 1; k < ndig; ++k) {
        std::uint64_t* d = p + k * L;
        mont.sqr(d, d - L);
        for (unsigned i = 1; i < w; ++i) mont.sqr(d, d);
      }
    };
    pmdi::parallel_for(A.cols, threads, [&](std::size_t j) {
      if (!used[j]) return;
      mpz tmp;
      std::uint64_t* p = &pw[j * ndig * L];
      mont.to_mont(p, c[j].value, tmp);
      powers(p);
    });
    if (any_neg) {
      // The inverses c_j^-1 by Montgomery's batch inversion (one modular
      // inversion per block of columns, 3 multiplications per column: an
      // inversion costs about 30 multiplications).
      // [ref] P. L. Montgomery, Speeding the Pollard and elliptic curve methods
      //       of factorization, Math. Comp. 48 (1987), sec. 10.3.1.
      std::vector<std::size_t> neg;
      for (std::size_t j = 0; j < A.cols; ++j)
        if (used[j] && has_neg[j]) neg.push_back(j);
      const unsigned hw = threads != 0 ? threads : pool_threads();
      const std::size_t blocks = std::max<std::size_t>(1, std::min<std::size_t>(hw, neg.size()));
      pmdi::parallel_for(blocks, threads, [&](std::size_t b) {
        const std::size_t lo = neg.size() * b / blocks, hi = neg.size() * (b + 1) / blocks;
        if (lo == hi) return;
        std::vector<std::uint64_t> prefix((hi - lo) * L), acc(L);
        const auto base = [&](std::size_t i) { return &pw[neg[i] * ndig * L]; };
        std::memcpy(prefix.data(), base(lo), L * sizeof(std::uint64_t));
        for (std::size_t i = lo + 1; i < hi; ++i)
          mont.mul(&prefix[(i - lo) * L], &prefix[(i - lo - 1) * L], base(i));
        mpz t, tmp;
        mont.from_mont(t, &prefix[(hi - lo - 1) * L]);
        if (::mpz_invert(t, t, n2) == 0)
          throw usage_error("paillier::matvec: a ciphertext is not a unit modulo N^2");
        mont.to_mont(acc.data(), t, tmp);  // (c_lo ... c_(hi-1))^-1
        for (std::size_t i = hi; i-- > lo + 1;) {
          std::uint64_t* q = &inv[neg[i] * ndig * L];
          mont.mul(q, acc.data(), &prefix[(i - lo - 1) * L]);  // c_i^-1
          mont.mul(acc.data(), acc.data(), base(i));
        }
        std::memcpy(&inv[neg[lo] * ndig * L], acc.data(), L * sizeof(std::uint64_t));
        for (std::size_t i = lo; i < hi; ++i) powers(&inv[neg[i] * ndig * L]);
      });
    }
    pmdi::parallel_for(A.rows, threads, [&](std::size_t r) {
      std::vector<std::uint64_t> bucket(nb * L), run(L), acc(L);
      std::vector<std::uint8_t> full(nb, 0);
      int d[80];
      // Bucket products two at a time through the interleaved kernel: a
      // product waits (pend_*) until one for a different bucket comes.
      std::size_t pend_b = 0;
      const std::uint64_t* pend_v = nullptr;
      for (std::uint32_t e = A.row_ptr[r]; e < A.row_ptr[r + 1]; ++e) {
        const unsigned k = detail::signed_digits(A.val[e], w, d);
        const std::size_t base = std::size_t{A.col[e]} * ndig;
        for (unsigned i = 0; i < k; ++i) {
          if (d[i] == 0) continue;
          const std::size_t b = static_cast<std::size_t>(d[i] < 0 ? -d[i] : d[i]);
          const std::uint64_t* v = d[i] > 0 ? &pw[(base + i) * L] : &inv[(base + i) * L];
          std::uint64_t* bk = &bucket[b * L];
          if (!full[b]) {
            std::memcpy(bk, v, L * sizeof(std::uint64_t));
            full[b] = 1;
          } else if (!paired) {
            mont.mul(bk, bk, v);
          } else if (pend_v == nullptr) {
            pend_b = b;
            pend_v = v;
          } else if (pend_b != b) {
            std::uint64_t* pbk = &bucket[pend_b * L];
            mont.mul2(mont, pbk, pbk, pend_v, bk, bk, v);
            pend_v = nullptr;
          } else {
            mont.mul(bk, bk, pend_v);
            pend_v = v;
          }
        }
      }
      if (pend_v != nullptr) mont.mul(&bucket[pend_b * L], &bucket[pend_b * L], pend_v);
      bool have_run = false, have_acc = false;
      for (std::size_t b = nb - 1; b >= 1; --b) {
        if (full[b]) {
          if (have_run) mont.mul(run.data(), run.data(), &bucket[b * L]);
          else { std::memcpy(run.data(), &bucket[b * L], L * sizeof(std::uint64_t)); have_run = true; }
        }
        if (have_run) {
          if (have_acc) mont.mul(acc.data(), acc.data(), run.data());
          else { acc = run; have_acc = true; }
        }
      }
      mpz t1, tmp, prod;
      if (rr == rerand::yes) {
        detail::encrypt_with(out[r].value, pk, s_res[r], x[r], t1, tmp);
        if (have_acc) {
          mont.from_mont(prod, acc.data());
          detail::mulmod(out[r].value, out[r].value, prod, n2, tmp);
        }
      } else if (have_acc) {  // (1 + sN) * prod mod N^2
        mont.from_mont(prod, acc.data());
        detail::times_one_plus_mn(out[r].value, s_res[r], prod, pk, tmp);
      } else {
        ::mpz_set_ui(t1, 1);
        detail::times_one_plus_mn(out[r].value, s_res[r], t1, pk, tmp);
      }
    });
    return out;
  }

  // GMP path. Per-base powers: pw[j * ndig + k] = c_j^(2^(wk)), inv likewise for c_j^-1.
  std::vector<mpz> pw(A.cols * ndig), inv;
  if (any_neg) inv.resize(A.cols * ndig);
  mpz sq_exp;
  ::mpz_setbit(sq_exp, w);
  pmdi::parallel_for(A.cols, threads, [&](std::size_t j) {
    if (!used[j]) return;
    mpz* p = &pw[j * ndig];
    p[0] = c[j].value;
    for (unsigned k = 1; k < ndig; ++k) ::mpz_powm(p[k], p[k - 1], sq_exp, n2);
    if (has_neg[j]) {
      mpz* q = &inv[j * ndig];
      if (::mpz_invert(q[0], c[j].value, n2) == 0)
        throw usage_error("paillier::matvec: ciphertext " + std::to_string(j) + " is not a unit modulo N^2");
      for (unsigned k = 1; k < ndig; ++k) ::mpz_powm(q[k], q[k - 1], sq_exp, n2);
    }
  });

  pmdi::parallel_for(A.rows, threads, [&](std::size_t r) {
    std::vector<mpz> bucket(nb);
    std::vector<std::uint8_t> full(nb, 0);
    mpz tmp, run, acc, t1;
    int d[80];
    for (std::uint32_t e = A.row_ptr[r]; e < A.row_ptr[r + 1]; ++e) {
      const unsigned k = detail::signed_digits(A.val[e], w, d);
      const std::size_t base = std::size_t{A.col[e]} * ndig;
      for (unsigned i = 0; i < k; ++i) {
        if (d[i] == 0) continue;
        const std::size_t b = static_cast<std::size_t>(d[i] < 0 ? -d[i] : d[i]);
        const mpz& v = d[i] > 0 ? pw[base + i] : inv[base + i];
        if (full[b]) {
          detail::mulmod(bucket[b], bucket[b], v, n2, tmp);
        } else {
          bucket[b] = v;
          full[b] = 1;
        }
      }
    }
    // prod_b B_b^b: run = B_top * ... * B_b, acc *= run for every b.
    bool have_run = false, have_acc = false;
    for (std::size_t b = nb - 1; b >= 1; --b) {
      if (full[b]) {
        if (have_run) detail::mulmod(run, run, bucket[b], n2, tmp);
        else { run = bucket[b]; have_run = true; }
      }
      if (have_run) {
        if (have_acc) detail::mulmod(acc, acc, run, n2, tmp);
        else { acc = run; have_acc = true; }
      }
    }
    if (rr == rerand::yes) {  // times a fresh Enc(s_r)
      detail::encrypt_with(out[r].value, pk, s_res[r], x[r], t1, tmp);
      if (have_acc) detail::mulmod(out[r].value, out[r].value, acc, n2, tmp);
    } else {  // times the plaintext (1 + s_r N)
      if (!have_acc) ::mpz_set_ui(acc, 1);
      detail::times_one_plus_mn(out[r].value, s_res[r], acc, pk, tmp);
    }
  });
  return out;
}

// Same, with int64 additive terms.
[[nodiscard]] inline std::vector<ciphertext> matvec(const public_key& pk, const csr<std::int64_t>& A,
                                                    std::span<const ciphertext> c, std::span<const std::int64_t> s,
                                                    prg& g, unsigned threads = 0, rerand rr = rerand::yes) {
  std::vector<mpz> sb(s.begin(), s.end());
  return matvec(pk, A, c, std::span<const mpz>(sb), g, threads, rr);
}

}  // namespace pmdi::paillier
