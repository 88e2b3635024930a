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
//  4. Each row is multiplied by a FRESH public-key encryption Enc(s_i): the key
//     holder who decrypts Enc(A c + s) must not be able to recover anything
//     about A from the ciphertext's randomness.
// Rows run in parallel on `threads` std::threads. The randomness of every
// Enc(s_i) is drawn from the prg before the threads start, so the result does
// not depend on the number of threads.
#include <gmp.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/core/sparse.hpp"
#include "pmdi/crypto/paillier/keys.hpp"
#include "pmdi/crypto/paillier/ops.hpp"

namespace pmdi::paillier {

namespace detail {

// Runs f(i) for i in [0, n) on up to `threads` threads (0: hardware concurrency).
template <class F>
void parallel_for(std::size_t n, unsigned threads, F&& f) {
  if (threads == 0) threads = std::max(1U, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, std::max<std::size_t>(n, 1)));
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) f(i, 0U);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::exception_ptr err;
  std::mutex mu;
  auto work = [&](unsigned t) {
    try {
      for (std::size_t i; (i = next.fetch_add(1)) < n;) f(i, t);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!err) err = std::current_exception();
      next.store(n);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  if (err) std::rethrow_exception(err);
}

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

inline unsigned magnitude_bits(std::uint64_t m) noexcept { return m == 0 ? 0 : 64 - static_cast<unsigned>(__builtin_clzll(m)); }

// Window for a matrix whose largest |weight| has `b` bits, `avg_nnz` entries per
// row: minimises avg_nnz * digits(w) + 2^w (bucket fills + bucket combination).
inline unsigned choose_window(unsigned b, double avg_nnz) noexcept {
  unsigned best = 2;  // w = 1 has no negative digits
  double best_cost = 1e300;
  for (unsigned w = 2; w <= 16; ++w) {
    const double digits = static_cast<double>((b + 1 + w - 1) / w);
    const double cost = avg_nnz * digits + static_cast<double>(std::size_t{1} << w);
    if (cost < best_cost) {
      best_cost = cost;
      best = w;
    }
  }
  return best;
}

}  // namespace detail

// Enc(A c + s): A is rows x cols, c has cols ciphertexts, s has rows plaintexts
// (|value| within the plaintext range). Fresh randomness for every row from g.
[[nodiscard]] inline std::vector<ciphertext> matvec(const public_key& pk, const csr<std::int64_t>& A,
                                                    std::span<const ciphertext> c, std::span<const mpz> s, prg& g,
                                                    unsigned threads = 0) {
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
    detail::random_bits(x[i], g, exponent_bits);
  }

  // Window and digit count.
  std::uint64_t max_mag = 0;
  for (std::int64_t a : A.val) {
    const std::uint64_t m = a < 0 ? 0 - static_cast<std::uint64_t>(a) : static_cast<std::uint64_t>(a);
    max_mag = std::max(max_mag, m);
  }
  const double avg = A.rows == 0 ? 0.0 : static_cast<double>(A.nnz()) / static_cast<double>(A.rows);
  const unsigned w = detail::choose_window(detail::magnitude_bits(max_mag), avg);
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

  // Per-base powers: pw[j * ndig + k] = c_j^(2^(wk)), inv likewise for c_j^-1.
  std::vector<mpz> pw(A.cols * ndig), inv;
  if (std::any_of(has_neg.begin(), has_neg.end(), [](std::uint8_t b) { return b != 0; })) inv.resize(A.cols * ndig);
  mpz sq_exp;
  ::mpz_setbit(sq_exp, w);
  detail::parallel_for(A.cols, threads, [&](std::size_t j, unsigned) {
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

  const std::size_t nb = (std::size_t{1} << (w - 1)) + 1;  // buckets 1 .. 2^(w-1)
  std::vector<ciphertext> out(A.rows);
  detail::parallel_for(A.rows, threads, [&](std::size_t r, unsigned) {
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
    // times a fresh Enc(s_r)
    detail::encrypt_with(out[r].value, pk, s_res[r], x[r], t1, tmp);
    if (have_acc) detail::mulmod(out[r].value, out[r].value, acc, n2, tmp);
  });
  return out;
}

// Same, with int64 additive terms.
[[nodiscard]] inline std::vector<ciphertext> matvec(const public_key& pk, const csr<std::int64_t>& A,
                                                    std::span<const ciphertext> c, std::span<const std::int64_t> s,
                                                    prg& g, unsigned threads = 0) {
  std::vector<mpz> sb(s.begin(), s.end());
  return matvec(pk, A, c, std::span<const mpz>(sb), g, threads);
}

}  // namespace pmdi::paillier
