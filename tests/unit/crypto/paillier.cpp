// Paillier: keys, encryption, CRT decryption, homomorphism, matvec against a
// plaintext big-integer reference, packing bounds, serialization of untrusted
// bytes, and a known-answer test with fixed primes and a seeded prg.
#include <sodium.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <vector>

#include "pmdi/core/prg.hpp"
#include "pmdi/core/sparse.hpp"
#include "pmdi/crypto/paillier.hpp"

namespace pp = pmdi::paillier;
using pp::mpz;

namespace {

pmdi::seed seed_of(std::uint8_t v) {
  pmdi::seed s{};
  s.fill(std::byte{v});
  return s;
}

// One 1024-bit key pair for the whole file (deterministic: seeded prg).
const pp::key_pair& test_keys() {
  static const pp::key_pair kp = [] {
    pmdi::prg g(seed_of(1));
    return pp::keygen(g, 1024);
  }();
  return kp;
}

// A signed random integer of up to `bits` bits.
mpz random_signed(pmdi::prg& g, unsigned bits) {
  mpz v;
  pp::detail::random_bits(v, g, bits);
  if (g.next_bit()) ::mpz_neg(v, v);
  return v;
}

// x mod N, centred in [-(N-1)/2, (N-1)/2]
mpz centred(const pp::public_key& pk, const mpz& x) {
  mpz r;
  ::mpz_fdiv_r(r, x, pk.n());
  if (::mpz_cmp(r, pk.max_abs_plaintext()) > 0) ::mpz_sub(r, r, pk.n());
  return r;
}

// Switches the vector kernels off for a scope (the GMP paths), then restores.
struct gmp_only {
  bool old = pp::detail::kernels_allowed().exchange(false);
  gmp_only() = default;
  gmp_only(const gmp_only&) = delete;
  gmp_only& operator=(const gmp_only&) = delete;
  ~gmp_only() { pp::detail::kernels_allowed() = old; }
};

std::string hex_of(std::span<const std::byte> b) {
  std::string s(2 * b.size() + 1, '\0');
  ::sodium_bin2hex(s.data(), s.size(), reinterpret_cast<const unsigned char*>(b.data()), b.size());
  s.pop_back();
  return s;
}

// The vector kernels this CPU has (none: the tests that need one say so).
std::vector<pp::detail::kernel> vector_kernels() {
  std::vector<pp::detail::kernel> k;
  if (pp::detail::cpu_has_avx2()) k.push_back(pp::detail::kernel::avx2);
  if (pp::detail::cpu_has_ifma()) k.push_back(pp::detail::kernel::ifma);
  if (k.empty()) WARN("neither AVX2 nor AVX-512 IFMA on this CPU: only the GMP paths are tested");
  return k;
}

}  // namespace

TEST_CASE("paillier: example round trip with a 1024-bit key", "[paillier]") {
  const auto& [pk, sk] = test_keys();
  pmdi::prg g(seed_of(2));
  const auto c = pp::encrypt(pk, -42, g);
  CHECK(pp::decrypt(sk, c) == mpz(-42));
  CHECK(pp::decrypt(sk, pp::add(pk, c, pp::encrypt(pk, 50, g))) == mpz(8));
}

TEST_CASE("paillier: keygen gives N of the requested size from two primes", "[paillier]") {
  const auto& [pk, sk] = test_keys();
  CHECK(pk.bits() == 1024);
  CHECK(pk.n().bits() == 1024);
  CHECK(sk.p().bits() == 512);
  CHECK(sk.q().bits() == 512);
  CHECK(::mpz_probab_prime_p(sk.p(), 30) != 0);
  CHECK(::mpz_probab_prime_p(sk.q(), 30) != 0);
  mpz n;
  ::mpz_mul(n, sk.p(), sk.q());
  CHECK(n == pk.n());
  CHECK(pk.ciphertext_bytes() == 256);
  pmdi::prg g(seed_of(3));
  CHECK_THROWS_AS(pp::keygen(g, 1000), pmdi::usage_error);
  CHECK_THROWS_AS(pp::keygen(g, 256), pmdi::usage_error);
  // Same seed, same key.
  pmdi::prg g1(seed_of(1));
  CHECK(pp::keygen(g1, 1024).pk == pk);
}

TEST_CASE("paillier: signed plaintexts round trip, including the range ends", "[paillier]") {
  const auto& [pk, sk] = test_keys();
  pmdi::prg g(seed_of(4));
  std::vector<mpz> ms = {0, 1, -1, std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min(),
                         pk.max_abs_plaintext()};
  mpz neg_end;
  ::mpz_neg(neg_end, pk.max_abs_plaintext());
  ms.push_back(neg_end);
  for (int i = 0; i < 20; ++i) ms.push_back(random_signed(g, 1 + static_cast<unsigned>(g.uniform(1020))));
  for (const auto& m : ms) {
    const auto c = pp::encrypt(pk, m, g);
    CHECK(pp::decrypt(sk, c) == m);
    CHECK(pp::decrypt_textbook(sk, c) == m);
  }
  // Unsigned 64-bit ring values keep their value.
  const std::uint64_t r = ~std::uint64_t{0};
  const mpz dr = pp::decrypt(sk, pp::encrypt(sk, r, g));
  CHECK(dr.to_string() == "18446744073709551615");
  CHECK(dr.low_u64() == r);
  CHECK(mpz(-1).low_u64() == r);
  mpz too_big = pk.max_abs_plaintext();
  ::mpz_add_ui(too_big, too_big, 1);
  CHECK_THROWS_AS(pp::encrypt(pk, too_big, g), pmdi::usage_error);
  ::mpz_neg(too_big, too_big);
  CHECK_THROWS_AS(pp::encrypt(sk, too_big, g), pmdi::usage_error);
}

TEST_CASE("paillier: key-holder encryption equals public encryption for the same randomness", "[paillier]") {
  const auto& [pk, sk] = test_keys();
  pmdi::prg gm(seed_of(5));
  for (int i = 0; i < 10; ++i) {
    const mpz m = random_signed(gm, 64 + 90 * static_cast<unsigned>(i));
    const pmdi::seed s = seed_of(static_cast<std::uint8_t>(100 + i));
    pmdi::prg a(s), b(s);
    const auto c1 = pp::encrypt(pk, m, a);
    const auto c2 = pp::encrypt(sk, m, b);
    CHECK(c1.value == c2.value);
    CHECK(pp::decrypt(sk, c2) == m);
  }
  // The GMP tables (no vector kernel) give the same ciphertexts as the Montgomery tables.
  for (int i = 0; i < 3; ++i) {
    const mpz m = random_signed(gm, 300);
    const pmdi::seed s = seed_of(static_cast<std::uint8_t>(120 + i));
    pmdi::prg a(s), b(s), a2(s), b2(s);
    const auto c1 = pp::encrypt(pk, m, a);
    const auto c2 = pp::encrypt(sk, m, b);
    const gmp_only off;
    const auto c3 = pp::encrypt(pk, m, a2);
    const auto c4 = pp::encrypt(sk, m, b2);
    CHECK(c1.value == c3.value);
    CHECK(c2.value == c4.value);
    CHECK(c1.value == c2.value);
  }
  // Fresh randomness: two encryptions of the same value differ.
  pmdi::prg g(seed_of(6));
  CHECK_FALSE(pp::encrypt(sk, 7, g).value == pp::encrypt(sk, 7, g).value);
}

TEST_CASE("paillier: encrypt_many and decrypt_many equal the one-at-a-time calls", "[paillier]") {
  const auto& [pk, sk] = test_keys();
  pmdi::prg gm(seed_of(17));
  std::vector<mpz> m;
  for (int i = 0; i < 9; ++i) m.push_back(random_signed(gm, 100));
  const pmdi::seed sd = seed_of(18);
  pmdi::prg a(sd), b(sd), c(sd), d(sd);
  const auto e1 = pp::encrypt_many(sk, m, a, 3);
  const auto e2 = pp::encrypt_many(pk, m, b, 2);
  for (std::size_t i = 0; i < m.size(); ++i) {
    CHECK(e1[i].value == pp::encrypt(sk, m[i], c).value);
    CHECK(e2[i].value == e1[i].value);
  }
  CHECK(pp::decrypt_many(sk, e1, 3) == m);
  mpz too_big = pk.max_abs_plaintext();
  ::mpz_add_ui(too_big, too_big, 1);
  m.push_back(too_big);
  CHECK_THROWS_AS(pp::encrypt_many(sk, m, d, 2), pmdi::usage_error);
}

TEST_CASE("paillier: CRT decryption equals textbook decryption on arbitrary units", "[paillier]") {
  const auto& [pk, sk] = test_keys();
  pmdi::prg g(seed_of(7));
  for (int i = 0; i < 10; ++i) {
    pp::ciphertext c;
    pp::detail::random_unit(c.value, g, pk.n_squared());
    const mpz ref = pp::decrypt_textbook(sk, c);
    CHECK(pp::decrypt(sk, c) == ref);
    const gmp_only off;  // GMP's mpz_powm_sec path
    CHECK(pp::decrypt(sk, c) == ref);
  }
}

TEST_CASE("paillier: constant-time paired exponentiation agrees with mpz_powm", "[paillier]") {
  pmdi::prg g(seed_of(16));
  for (const auto k : vector_kernels())
  for (unsigned bits : {512U, 1024U, 1536U, 2048U}) {
    mpz m1, m2, b1, b2, e1, e2, r1, r2, x1, x2;
    pp::detail::random_bits(m1, g, bits);
    pp::detail::random_bits(m2, g, bits);
    ::mpz_setbit(m1, bits - 1);
    ::mpz_setbit(m1, 0);
    ::mpz_setbit(m2, bits - 1);
    ::mpz_setbit(m2, 0);
    const pp::detail::montgomery M1(m1, true, k), M2(m2, true, k);
    REQUIRE(M1.pairs_with(M2));
    for (unsigned ebits : {1U, 5U, 7U, bits / 2}) {
      pp::detail::random_bits(b1, g, bits - 1);
      pp::detail::random_bits(b2, g, bits - 1);
      pp::detail::random_bits(e1, g, ebits);
      pp::detail::random_bits(e2, g, ebits);
      pp::detail::powm2_sec(M1, M2, r1, b1, e1, r2, b2, e2, ebits);
      ::mpz_powm(x1, b1, e1, m1);
      ::mpz_powm(x2, b2, e2, m2);
      CHECK(r1 == x1);
      CHECK(r2 == x2);
    }
  }
}

TEST_CASE("paillier: homomorphic add, sub, negate, scalar_mul against big-integer arithmetic", "[paillier]") {
  const auto& [pk, sk] = test_keys();
  pmdi::prg g(seed_of(8));
  const std::vector<std::int64_t> weights = {0, 1, -1, 2, -3, 32767, -32768, 1 << 20, -(std::int64_t{1} << 40),
                                             std::numeric_limits<std::int64_t>::max(),
                                             std::numeric_limits<std::int64_t>::min()};
  for (int i = 0; i < 6; ++i) {
    const mpz a = random_signed(g, 200), b = random_signed(g, 900);
    const auto ca = pp::encrypt(pk, a, g), cb = pp::encrypt(sk, b, g);
    mpz r;
    ::mpz_add(r, a, b);
    CHECK(pp::decrypt(sk, pp::add(pk, ca, cb)) == centred(pk, r));
    ::mpz_sub(r, a, b);
    CHECK(pp::decrypt(sk, pp::sub(pk, ca, cb)) == centred(pk, r));
    ::mpz_neg(r, b);
    CHECK(pp::decrypt(sk, pp::negate(pk, cb)) == r);
    for (std::int64_t k : weights) {
      ::mpz_mul(r, b, mpz(k));
      CHECK(pp::decrypt(sk, pp::scalar_mul(pk, cb, k)) == centred(pk, r));
    }
  }
}

namespace {

// Random sparse matrix with signed weights of up to `wbits` bits, some empty
// rows and some explicit zero weights.
pmdi::csr<std::int64_t> random_matrix(pmdi::prg& g, std::size_t rows, std::size_t cols, unsigned wbits) {
  pmdi::csr<std::int64_t> A;
  A.cols = cols;
  for (std::size_t r = 0; r < rows; ++r) {
    std::vector<std::uint32_t> c;
    std::vector<std::int64_t> v;
    if (r % 5 != 3) {
      for (std::uint32_t j = 0; j < cols; ++j) {
        if (g.uniform(3) == 0) continue;
        c.push_back(j);
        if (g.uniform(8) == 0) {
          v.push_back(0);
        } else if (wbits == 63 && g.uniform(6) == 0) {
          v.push_back(g.next_bit() ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max());
        } else {
          const auto mag = static_cast<std::int64_t>(g.next<std::uint64_t>() >> (64 - wbits));
          v.push_back(g.next_bit() ? -mag : mag);
        }
      }
    }
    A.push_row(c, v);
  }
  return A;
}

}  // namespace

TEST_CASE("paillier: matvec equals the plaintext big-integer product plus s", "[paillier]") {
  const auto& [pk, sk] = test_keys();
  pmdi::prg g(seed_of(9));
  for (unsigned wbits : {1U, 9U, 16U, 33U, 63U}) {
    const std::size_t rows = 11, cols = 13;
    const auto A = random_matrix(g, rows, cols, wbits);
    std::vector<mpz> x(cols), s(rows);
    std::vector<pp::ciphertext> cx;
    for (std::size_t j = 0; j < cols; ++j) {
      x[j] = random_signed(g, 64);
      cx.push_back(pp::encrypt(sk, x[j], g));
    }
    for (auto& v : s) v = random_signed(g, 140);
    const pmdi::seed sd = seed_of(static_cast<std::uint8_t>(wbits));
    pmdi::prg g1(sd), g3(sd), gg(sd);
    const auto y1 = pp::matvec(pk, A, cx, s, g1, 1);
    const auto y3 = pp::matvec(pk, A, cx, s, g3, 3);
    const auto yg = [&] {
      const gmp_only off;  // the GMP path gives the same ciphertexts
      return pp::matvec(pk, A, cx, s, gg, 2);
    }();
    REQUIRE(y1.size() == rows);
    for (std::size_t r = 0; r < rows; ++r) {
      mpz ref = s[r], t;
      for (auto e = A.row_ptr[r]; e < A.row_ptr[r + 1]; ++e) {
        ::mpz_mul(t, x[A.col[e]], mpz(A.val[e]));
        ::mpz_add(ref, ref, t);
      }
      CHECK(pp::decrypt(sk, y1[r]) == centred(pk, ref));
      CHECK(y1[r].value == y3[r].value);  // independent of the thread count
      CHECK(y1[r].value == yg[r].value);
    }
  }
}

TEST_CASE("paillier: vector Montgomery multiplication agrees with GMP", "[paillier]") {
  pmdi::prg g(seed_of(15));
  for (const auto k : vector_kernels())
  for (unsigned bits : {512U, 1024U, 2048U, 4096U, 6144U, 8192U})
  for (const bool all_ones : {false, true}) {
    // a random odd modulus, and 2^bits - 1: every digit of m and of m - 1 at
    // its largest (the AVX2 kernel's column bound at 8192 bits)
    mpz m, a, b, ref, t, got;
    pp::detail::random_bits(m, g, bits);
    ::mpz_setbit(m, bits - 1);
    ::mpz_setbit(m, 0);
    if (all_ones) {
      ::mpz_set_ui(m, 0);
      ::mpz_setbit(m, bits);
      ::mpz_sub_ui(m, m, 1);
    }
    const pp::detail::montgomery M(m, false, k);
    REQUIRE(M.available());
    REQUIRE(M.which() == k);
    std::vector<std::uint64_t> x(M.digits()), y(M.digits());
    ::mpz_sub_ui(a, m, 1);  // the largest residue
    pp::detail::random_bits(b, g, bits - 1);
    M.to_mont(x.data(), a, t);
    M.to_mont(y.data(), b, t);
    ref = a;
    std::vector<std::uint64_t> sq(M.digits());
    int squarings_equal = 0;
    for (int i = 0; i < 50; ++i) {
      if (i % 2 == 0) {  // the squaring kernel gives the multiplication's digits exactly
        M.sqr(sq.data(), x.data());
        M.mul(x.data(), x.data(), x.data());
        squarings_equal += sq == x ? 1 : 0;
      } else {
        M.mul(x.data(), x.data(), y.data());
      }
      ::mpz_mul(ref, ref, i % 2 ? b : ref);
      ::mpz_mod(ref, ref, m);
    }
    CHECK(squarings_equal == 25);
    M.from_mont(got, x.data());
    CHECK(got == ref);
  }
}

TEST_CASE("paillier: matvec re-randomises every output with a fresh Enc(s)", "[paillier]") {
  const auto& [pk, sk] = test_keys();
  pmdi::prg g(seed_of(10));
  pmdi::csr<std::int64_t> A;
  A.cols = 2;
  const std::uint32_t c01[] = {0, 1};
  const std::int64_t w[] = {3, -5};
  A.push_row(c01, w);
  A.push_row({}, std::span<const std::int64_t>{});
  const std::vector<pp::ciphertext> cx = {pp::encrypt(pk, 10, g), pp::encrypt(pk, 4, g)};
  const std::vector<std::int64_t> s = {0, 0};
  const auto y = pp::matvec(pk, A, cx, s, g, 1);
  CHECK(pp::decrypt(sk, y[0]) == mpz(10));
  CHECK(pp::decrypt(sk, y[1]) == mpz(0));
  // The bare product c0^3 * c1^-5 would be deterministic; the output is not it.
  const auto bare = pp::add(pk, pp::scalar_mul(pk, cx[0], 3), pp::scalar_mul(pk, cx[1], -5));
  CHECK_FALSE(y[0].value == bare.value);
  CHECK_FALSE(y[1].value == mpz(1));
  CHECK_THROWS_AS(pp::matvec(pk, A, std::span<const pp::ciphertext>(cx).first(1), s, g, 1), pmdi::usage_error);
}

TEST_CASE("paillier: matvec without re-randomisation, then pack and rerandomize", "[paillier]") {
  const auto& [pk, sk] = test_keys();
  pmdi::prg g(seed_of(16));
  const std::size_t rows = 9, cols = 7;
  const auto A = random_matrix(g, rows, cols, 12);  // includes empty rows and zero weights
  std::vector<mpz> x(cols), s(rows);
  std::vector<pp::ciphertext> cx;
  for (std::size_t j = 0; j < cols; ++j) {
    pp::detail::random_bits(x[j], g, 40);
    cx.push_back(pp::encrypt(sk, x[j], g));
  }
  const unsigned slot_bits = 80;  // |A x| < 7 * 2^12 * 2^40 < 2^56; s in [2^60, 2^61)
  std::vector<mpz> ref(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    pp::detail::random_bits(s[r], g, 60);
    ::mpz_setbit(s[r], 60);
    ref[r] = s[r];
    mpz t;
    for (auto e = A.row_ptr[r]; e < A.row_ptr[r + 1]; ++e) {
      ::mpz_mul(t, x[A.col[e]], mpz(A.val[e]));
      ::mpz_add(ref[r], ref[r], t);
    }
  }
  pmdi::prg g_no(seed_of(17)), g_gmp(seed_of(18));
  const auto y = pp::matvec(pk, A, cx, s, g_no, 2, pp::rerand::no);
  const auto yg = [&] {
    const gmp_only off;
    return pp::matvec(pk, A, cx, s, g_gmp, 1, pp::rerand::no);
  }();
  pmdi::prg fresh(seed_of(17));
  CHECK(g_no.next<std::uint64_t>() == fresh.next<std::uint64_t>());  // rerand::no draws nothing
  REQUIRE(y.size() == rows);
  for (std::size_t r = 0; r < rows; ++r) {
    CHECK(pp::decrypt(sk, y[r]) == ref[r]);
    CHECK(y[r].value == yg[r].value);  // both paths, no randomness: the same ciphertext
  }
  // An empty row is exactly the plaintext encoding (1 + sN) mod N^2.
  mpz one_sn;
  ::mpz_mul(one_sn, s[3], pk.n());
  ::mpz_add_ui(one_sn, one_sn, 1);
  ::mpz_mod(one_sn, one_sn, pk.n_squared());
  CHECK(y[3].value == one_sn);

  // Pack, then re-randomise once per packed ciphertext.
  auto packed = pp::pack(pk, y, slot_bits);
  const auto bare = packed;
  pmdi::prg g1(seed_of(19)), g2(seed_of(19)), g3(seed_of(20));
  const auto one = pp::rerandomize(pk, packed, g1);
  std::vector<pp::ciphertext> many = {packed, packed};
  pp::rerandomize_many(pk, many, g2, 2);
  CHECK(one.value == many[0].value);  // the batch draws the exponents in order
  CHECK_FALSE(many[0].value == many[1].value);
  CHECK_FALSE(one.value == bare.value);  // a fresh Enc(0) was multiplied in
  const auto other = pp::rerandomize(pk, packed, g3);
  CHECK_FALSE(other.value == one.value);
  CHECK(pp::unpack(sk, one, slot_bits, rows) == ref);
  CHECK(pp::unpack(sk, many[1], slot_bits, rows) == ref);
  CHECK(pp::unpack(sk, bare, slot_bits, rows) == ref);
  // rerandomize refuses values that are not ciphertexts.
  CHECK_THROWS_AS(pp::rerandomize(pk, pp::ciphertext{}, g1), pmdi::usage_error);
  std::vector<pp::ciphertext> bad = {packed, pp::ciphertext{}};
  CHECK_THROWS_AS(pp::rerandomize_many(pk, bad, g1, 1), pmdi::usage_error);
}

TEST_CASE("paillier: packing at the slot bounds, refusal beyond them", "[paillier]") {
  const auto& [pk, sk] = test_keys();
  pmdi::prg g(seed_of(11));
  const unsigned slot_bits = 102;
  const std::size_t count = pp::max_slots(pk, slot_bits);  // 10 * 102 = 1020 < 1023
  REQUIRE(count == 10);
  std::vector<mpz> v(count);
  std::vector<pp::ciphertext> c;
  for (std::size_t i = 0; i < count; ++i) {
    if (i == 0) v[i] = 0;
    else if (i % 3 == 1) { ::mpz_setbit(v[i], slot_bits); ::mpz_sub_ui(v[i], v[i], 1); }  // 2^slot_bits - 1
    else pp::detail::random_bits(v[i], g, slot_bits);
    c.push_back(pp::encrypt(pk, v[i], g));
  }
  v[count - 1] = mpz(0);
  ::mpz_setbit(v[count - 1], slot_bits);
  ::mpz_sub_ui(v[count - 1], v[count - 1], 1);
  c[count - 1] = pp::encrypt(pk, v[count - 1], g);
  const auto packed = pp::pack(pk, c, slot_bits);
  CHECK(pp::unpack(sk, packed, slot_bits, count) == v);
  {  // two packings at once give the ciphertexts of two pack calls
    const std::vector<pp::ciphertext> c2(c.rbegin(), c.rend());
    const std::span<const pp::ciphertext> cs(c), cs2(c2);
    pp::ciphertext pa, pb;
    pp::pack2(pk, cs, cs2, slot_bits, pa, pb);
    CHECK(pa.value == packed.value);
    CHECK(pb.value == pp::pack(pk, cs2, slot_bits).value);
    pp::pack2(pk, cs2.first(3), cs, slot_bits, pa, pb);  // different lengths
    CHECK(pa.value == pp::pack(pk, cs2.first(3), slot_bits).value);
    CHECK(pb.value == packed.value);
  }
  {
    const gmp_only off;
    CHECK(pp::pack(pk, c, slot_bits).value == packed.value);  // GMP path, same ciphertext
  }
  // exactly at the bound: 1022 bits = bits(N) - 2 are accepted, bits(N) - 1 refused
  CHECK_NOTHROW(pp::check_slots(pk, 2, 511));
  CHECK_THROWS_AS(pp::check_slots(pk, 1, 1023), pmdi::usage_error);
  CHECK_THROWS_AS(pp::check_slots(pk, count + 1, slot_bits), pmdi::usage_error);
  CHECK_THROWS_AS(pp::check_slots(pk, 4, 1), pmdi::usage_error);
  CHECK_THROWS_AS(pp::pack(pk, std::span<const pp::ciphertext>{}, slot_bits), pmdi::usage_error);
  std::vector<pp::ciphertext> more = c;
  more.push_back(c[0]);
  CHECK_THROWS_AS(pp::pack(pk, more, slot_bits), pmdi::usage_error);
  // A value that overflows its slot in the top slot, or a negative one, is detected.
  c[count - 1] = pp::encrypt(pk, [] { mpz t; ::mpz_setbit(t, slot_bits); return t; }(), g);
  CHECK_THROWS_AS(pp::unpack(sk, pp::pack(pk, c, slot_bits), slot_bits, count), pmdi::decode_error);
  c[count - 1] = pp::encrypt(pk, -1, g);
  CHECK_THROWS_AS(pp::unpack(sk, pp::pack(pk, c, slot_bits), slot_bits, count), pmdi::decode_error);
}

TEST_CASE("paillier: serialization is fixed width and rejects malformed bytes", "[paillier]") {
  const auto& [pk, sk] = test_keys();
  pmdi::prg g(seed_of(12));
  const auto c = pp::encrypt(pk, -123456789, g);
  auto bytes = pp::serialize(pk, c);
  REQUIRE(bytes.size() == 256);
  CHECK(pp::decrypt(sk, pp::deserialize_ciphertext(pk, bytes)) == mpz(-123456789));
  const std::vector<pp::ciphertext> cs = {c, pp::encrypt(pk, 5, g)};
  const auto many = pp::serialize(pk, cs);
  const auto back = pp::deserialize_ciphertexts(pk, many, 2);
  CHECK(pp::decrypt(sk, back[1]) == mpz(5));
  CHECK_THROWS_AS(pp::deserialize_ciphertexts(pk, many, 3), pmdi::decode_error);

  auto reject = [&](const std::vector<std::byte>& b) {
    CHECK_THROWS_AS(pp::deserialize_ciphertext(pk, b), pmdi::decode_error);
  };
  reject(std::vector<std::byte>(bytes.begin(), bytes.end() - 1));  // short
  auto longer = bytes;
  longer.push_back(std::byte{0});
  reject(longer);                                                   // long
  reject(std::vector<std::byte>(256, std::byte{0}));               // c = 0
  reject(std::vector<std::byte>(256, std::byte{0xff}));            // c >= N^2
  auto enc = [&](const mpz& v) {
    std::vector<std::byte> b(256);
    pp::export_le(v, b);
    return b;
  };
  reject(enc(pk.n_squared()));                                      // c = N^2
  reject(enc(pk.n()));                                              // gcd(c, N) = N
  reject(enc(sk.p()));                                              // gcd(c, N) = p
  mpz qk;
  ::mpz_mul_ui(qk, sk.q(), 12345);
  reject(enc(qk));                                                  // gcd(c, N) = q
  try {
    (void)pp::deserialize_ciphertext(pk, std::vector<std::byte>(10));
    FAIL("accepted 10 bytes");
  } catch (const pmdi::decode_error& e) {
    CHECK(std::string(e.what()).find("expected exactly 256 bytes") != std::string::npos);
  }
}

TEST_CASE("paillier: public key serialization round trip and validation", "[paillier]") {
  const auto& [pk, sk] = test_keys();
  const auto b = pp::serialize(pk);
  REQUIRE(b.size() == 4 + 128 + 256);
  const auto pk2 = pp::deserialize_public_key(b);
  CHECK(pk2 == pk);
  pmdi::prg g(seed_of(13));
  CHECK(pp::decrypt(sk, pp::encrypt(pk2, 99, g)) == mpz(99));
  CHECK_THROWS_AS(pp::deserialize_public_key(std::span<const std::byte>(b).first(b.size() - 1)), pmdi::decode_error);
  auto bad = b;
  bad[0] = std::byte{0x08};  // bits = 1032 + ... : not the stated size
  CHECK_THROWS_AS(pp::deserialize_public_key(bad), pmdi::decode_error);
  bad = b;
  bad[4] &= std::byte{0xfe};  // N even
  CHECK_THROWS_AS(pp::deserialize_public_key(bad), pmdi::decode_error);
  bad = b;
  for (std::size_t i = 4 + 128; i < bad.size(); ++i) bad[i] = std::byte{0};  // hs = 0
  CHECK_THROWS_AS(pp::deserialize_public_key(bad), pmdi::decode_error);
}

TEST_CASE("paillier: known answer with fixed primes and a seeded prg", "[paillier]") {
  // 256-bit primes (a 512-bit N, for this test only).
  const mpz p("0xE4D7ACB06F4C181B72024795411151A059721A260D9F82C06BBF2F1BAC131897"),
      q("0xE316055BD204F3D0A0F3DD93EF28483E1D7A6A552A54BE7A6EAA3EA1D9B555C1");
  pmdi::prg g(seed_of(42));
  const pp::secret_key sk = pp::make_secret_key(p, q, g);
  const pp::public_key& pk = sk.pk();
  // Reproduce hs and Enc(m) independently with mpz_powm from the same stream:
  // y from 512 + 128 bits reduced mod N, then x from 256 bits.
  pmdi::prg r(seed_of(42));
  mpz y, t, n2;
  pp::detail::random_bits(t, r, 512 + 128);
  ::mpz_tdiv_r(y, t, pk.n());
  ::mpz_mul(t, y, y);
  ::mpz_tdiv_r(t, t, pk.n());
  ::mpz_sub(t, pk.n(), t);
  ::mpz_mul(n2, pk.n(), pk.n());
  mpz hs;
  ::mpz_powm(hs, t, pk.n(), n2);
  CHECK(hs == pk.hs());

  const pmdi::seed se = seed_of(43);
  pmdi::prg e1(se), e2(se);
  const auto c = pp::encrypt(pk, -5, e1);
  mpz x, ref;
  pp::detail::random_bits(x, e2, pp::exponent_bits);
  ::mpz_powm(ref, hs, x, n2);
  mpz one_mn;
  ::mpz_mul_si(one_mn, pk.n(), -5);
  ::mpz_add_ui(one_mn, one_mn, 1);
  ::mpz_mul(ref, ref, one_mn);
  ::mpz_mod(ref, ref, n2);
  CHECK(c.value == ref);
  CHECK(pp::decrypt(sk, c) == mpz(-5));
  // Stable transcript: hash of the serialized public key and ciphertext.
  unsigned char h[32];
  auto bytes = pp::serialize(pk);
  const auto cb = pp::serialize(pk, c);
  bytes.insert(bytes.end(), cb.begin(), cb.end());
  ::crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), nullptr, 0);
  CHECK(hex_of(std::as_bytes(std::span(h))) == "425db797d175f6e0fc6cddf0f8f28d26626cd9cdb68c4b9b5fafccd236ce08c4");
  // make_secret_key refuses composites and unequal sizes
  CHECK_THROWS_AS(pp::make_secret_key(p, p, g), pmdi::usage_error);
  mpz comp;
  ::mpz_mul(comp, p, mpz(3));
  CHECK_THROWS_AS(pp::make_secret_key(comp, q, g), pmdi::usage_error);
}

TEST_CASE("paillier: 2048-bit round trip", "[paillier]") {
  pmdi::prg g(seed_of(14));
  const auto kp = pp::keygen(g);
  CHECK(kp.pk.bits() == 2048);
  CHECK(kp.pk.ciphertext_bytes() == 512);
  const mpz m("-0x123456789abcdef0123456789abcdef0123456789");
  const auto c1 = pp::encrypt(kp.pk, m, g), c2 = pp::encrypt(kp.sk, m, g);
  CHECK(pp::decrypt(kp.sk, c1) == m);
  CHECK(pp::decrypt(kp.sk, c2) == m);
  CHECK(pp::decrypt(kp.sk, pp::scalar_mul(kp.pk, c1, -3)) == mpz("0x369d0369d0369cd0369d0369d0369cd0369d0369b"));
}
