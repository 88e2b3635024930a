// pmdi-bench paillier [--quick] [--json] [bits=2048]: the Montgomery kernel
// against GMP per multiplication, encryption, decryption, packing, scalar
// multiplication, and the bucket-method matvec against GMP's mpz_powm per
// element (the naive baseline), all in one run, one core.
#include <gmp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "bench.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/core/sparse.hpp"
#include "pmdi/crypto/paillier.hpp"

namespace {

namespace pp = pmdi::paillier;

// Medians of wall time and of this thread's CPU time (the machine may be
// shared: CPU time shows the one-core cost, wall time what a caller waits).
struct wall_and_cpu {
  double wall, cpu;
};

template <class F>
wall_and_cpu measure(int reps, F&& f) {
  std::vector<double> w, c;
  for (int i = 0; i < reps; ++i) {
    const auto a = std::chrono::steady_clock::now();
    const double ca = pmdi::timing::thread_cpu_seconds();
    f();
    c.push_back(pmdi::timing::thread_cpu_seconds() - ca);
    w.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
  }
  std::nth_element(w.begin(), w.begin() + reps / 2, w.end());
  std::nth_element(c.begin(), c.begin() + reps / 2, c.end());
  return {w[reps / 2], c[reps / 2]};
}

// Reports `name` (wall, median) and `name`_cpu (thread CPU time, median).
void both(pmdi::bench::report& r, const std::string& name, wall_and_cpu t, double scale, const std::string& unit) {
  r.metric("paillier", name, t.wall * scale, unit);
  r.metric("paillier", name + "_cpu", t.cpu * scale, unit);
}

std::int64_t weight16(pmdi::prg& g) { return static_cast<std::int16_t>(g.next<std::uint16_t>()); }

int run(const pmdi::bench::args& a, pmdi::bench::report& r) {
  using pmdi::bench::keep;
  unsigned bits = pp::default_bits;
  for (const auto& s : a.rest)
    if (s.rfind("bits=", 0) == 0) bits = static_cast<unsigned>(std::stoul(s.substr(5)));
  const bool quick = a.quick;
  pmdi::prg g = pmdi::prg::from_os();

  const wall_and_cpu t_keygen = measure(1, [&] { keep(pp::keygen(g, bits)); });
  const auto kp = pp::keygen(g, bits);
  const auto& pk = kp.pk;
  const auto& sk = kp.sk;
  r.note("Paillier, " + std::to_string(bits) + "-bit N, one thread; medians of wall time (name) and CPU time (name_cpu)");
  both(r, "keygen_ms", t_keygen, 1e3, "ms");

  const int reps = quick ? 11 : 101;

  // One modular multiplication at the sizes of p^2 and N^2: the Montgomery
  // kernel this CPU uses (PMDI_PAILLIER_KERNEL) against GMP's mpz_mul +
  // mpz_tdiv_r, in the same run.
  for (const unsigned mbits : {bits, 2 * bits}) {
    pp::mpz m, x, y, t;
    pp::detail::random_bits(m, g, mbits);
    ::mpz_setbit(m, mbits - 1);
    ::mpz_setbit(m, 0);
    pp::detail::random_bits(x, g, mbits - 1);
    pp::detail::random_bits(y, g, mbits - 1);
    const std::string sz = std::to_string(mbits);
    const int muls = quick ? 200 : 2000;
    const wall_and_cpu t_gmp = measure(reps, [&] {
      for (int i = 0; i < muls; ++i) pp::detail::mulmod(x, x, y, m, t);
    });
    both(r, "gmp_mulmod_us_" + sz, t_gmp, 1e6 / muls, "us");
    const pp::detail::montgomery mont(m);
    if (!mont.available()) continue;
    if (mbits == bits)
      r.note(std::string("Montgomery kernel: ") + (mont.which() == pp::detail::kernel::ifma ? "AVX-512 IFMA" : "AVX2"));
    std::vector<std::uint64_t> xd(mont.digits()), yd(mont.digits());
    mont.to_mont(xd.data(), x, t);
    mont.to_mont(yd.data(), y, t);
    const wall_and_cpu t_mont = measure(reps, [&] {
      for (int i = 0; i < muls; ++i) mont.mul(xd.data(), xd.data(), yd.data());
    });
    both(r, "mont_mul_us_" + sz, t_mont, 1e6 / muls, "us");
    r.metric("paillier", "mont_mul_speedup_" + sz, t_gmp.cpu / t_mont.cpu, "x");
    const wall_and_cpu t_sqr = measure(reps, [&] {
      for (int i = 0; i < muls; ++i) mont.sqr(xd.data(), xd.data());
    });
    both(r, "mont_sqr_us_" + sz, t_sqr, 1e6 / muls, "us");
    r.metric("paillier", "mont_sqr_vs_mul_" + sz, t_mont.cpu / t_sqr.cpu, "x");
  }
  const pp::mpz m64(static_cast<std::int64_t>(g.next<std::uint64_t>() >> 1));
  pp::ciphertext c;
  both(r, "encrypt_ms", measure(reps, [&] { c = pp::encrypt(pk, m64, g); }), 1e3, "ms");
  both(r, "encrypt_keyholder_ms", measure(reps, [&] { c = pp::encrypt(sk, m64, g); }), 1e3, "ms");
  pp::mpz m;
  both(r, "decrypt_ms", measure(reps, [&] { m = pp::decrypt(sk, c); }), 1e3, "ms");
  if (!(m == m64)) throw pmdi::error("decryption mismatch");
  both(r, "decrypt_textbook_ms", measure(quick ? 3 : 11, [&] { m = pp::decrypt_textbook(sk, c); }), 1e3, "ms");

  // Packing as the protocol uses it: l = 64-bit values, 16-bit weights, 1024
  // inputs, 40 bits of statistical mask, one bit of slack.
  const unsigned slot_bits = 64 + 16 + 10 + 40 + 1;
  const std::size_t slots = pp::max_slots(pk, slot_bits);
  std::vector<pp::ciphertext> vals;
  for (std::size_t i = 0; i < slots; ++i) {
    pp::mpz v;
    pp::detail::random_bits(v, g, slot_bits);
    vals.push_back(pp::encrypt(pk, v, g));
  }
  pp::ciphertext packed;
  const wall_and_cpu t_pack = measure(quick ? 3 : 11, [&] { packed = pp::pack(pk, vals, slot_bits); });
  std::vector<pp::mpz> out;
  const wall_and_cpu t_unpack = measure(reps, [&] { out = pp::unpack(sk, packed, slot_bits, slots); });
  r.note("packing " + std::to_string(slots) + " slots of " + std::to_string(slot_bits) + " bits");
  r.metric("paillier", "slots_per_ciphertext", static_cast<double>(slots), "slots");
  both(r, "pack_per_slot_ms", t_pack, 1e3 / static_cast<double>(slots), "ms");
  both(r, "decrypt_per_slot_ms", t_unpack, 1e3 / static_cast<double>(slots), "ms");

  const std::int64_t w16 = -12345;
  both(r, "scalar_mul16_us", measure(reps, [&] { keep(pp::scalar_mul(pk, c, w16)); }), 1e6, "us");

  // Dense rows x cols matrix of signed 16-bit weights.
  const std::size_t rows = quick ? 32 : 256, cols = quick ? 256 : 1024;
  pmdi::csr<std::int64_t> A;
  A.cols = cols;
  std::vector<std::uint32_t> idx(cols);
  for (std::uint32_t j = 0; j < cols; ++j) idx[j] = j;
  for (std::size_t i = 0; i < rows; ++i) {
    std::vector<std::int64_t> v(cols);
    for (auto& x : v) x = weight16(g);
    A.push_row(idx, v);
  }
  std::vector<pp::ciphertext> cx;
  for (std::size_t j = 0; j < cols; ++j)
    cx.push_back(pp::encrypt(sk, static_cast<std::int64_t>(g.next<std::uint32_t>()), g));
  std::vector<pp::mpz> s(rows);
  for (auto& x : s) pp::detail::random_bits(x, g, 130);
  std::vector<pp::ciphertext> y;
  const wall_and_cpu t_mv = measure(quick ? 1 : 3, [&] { y = pp::matvec(pk, A, cx, s, g, 1); });
  const double macs = static_cast<double>(rows * cols);
  r.note("matvec " + std::to_string(rows) + "x" + std::to_string(cols) +
         " dense, signed 16-bit weights, threads=1, fresh Enc(s) per row included");
  both(r, "matvec_ms", t_mv, 1e3, "ms");
  both(r, "matvec_us_per_mac", t_mv, 1e6 / macs, "us");

  // All cores (threads = 0: hardware concurrency), wall time.
  {
    const unsigned hc = std::max(1U, std::thread::hardware_concurrency());
    const wall_and_cpu t_mt = measure(quick ? 1 : 3, [&] { y = pp::matvec(pk, A, cx, s, g, 0); });
    r.note("matvec on all " + std::to_string(hc) + " hardware threads");
    r.metric("paillier", "matvec_all_threads_us_per_mac", t_mt.wall * 1e6 / macs, "us");
  }

  // Naive baseline, same run: mpz_powm per element (inverse for negative
  // weights), multiplied into the row's accumulator, on the first rows.
  const std::size_t nrows = quick ? 1 : 2;
  const wall_and_cpu t_naive = measure(quick ? 1 : 3, [&] {
    for (std::size_t i = 0; i < nrows; ++i) {
      pp::mpz acc(1), tmp, p, k;
      for (std::size_t e = A.row_ptr[i]; e < A.row_ptr[i + 1]; ++e) {
        const std::int64_t a = A.val[e];
        k.set(a < 0 ? -a : a);
        if (a < 0) ::mpz_invert(p, cx[A.col[e]].value, pk.n_squared());
        ::mpz_powm(p, a < 0 ? p.get() : cx[A.col[e]].value.get(), k, pk.n_squared());
        pp::detail::mulmod(acc, acc, p, pk.n_squared(), tmp);
      }
      keep(acc);
    }
  });
  const double nmacs = static_cast<double>(nrows * cols);
  both(r, "naive_powm_us_per_mac", t_naive, 1e6 / nmacs, "us");
  r.metric("paillier", "matvec_speedup_over_naive", (t_naive.wall / nmacs) / (t_mv.wall / macs), "x");
  r.metric("paillier", "matvec_speedup_over_naive_cpu", (t_naive.cpu / nmacs) / (t_mv.cpu / macs), "x");

  // Check one output against the plaintext.
  {
    pp::mpz ref = s[0], t;
    for (std::size_t e = A.row_ptr[0]; e < A.row_ptr[1]; ++e) {
      ::mpz_mul_si(t, pp::decrypt(sk, cx[A.col[e]]), static_cast<long>(A.val[e]));
      ::mpz_add(ref, ref, t);
    }
    if (!(pp::decrypt(sk, y[0]) == ref)) throw pmdi::error("matvec mismatch");
  }
  return 0;
}

const pmdi::bench::registrar reg("paillier", "Paillier: encrypt, decrypt, packing, matvec vs mpz_powm", run);

}  // namespace
