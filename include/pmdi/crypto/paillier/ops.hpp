#pragma once
// Homomorphic operations on Paillier ciphertexts, packing, serialization.
#include <gmp.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/bytes.hpp"
#include "pmdi/core/error.hpp"
#include "pmdi/crypto/paillier/keys.hpp"
#include "pmdi/crypto/paillier/montgomery.hpp"

namespace pmdi::paillier {

// Enc(a + b)
[[nodiscard]] inline ciphertext add(const public_key& pk, const ciphertext& a, const ciphertext& b) {
  ciphertext c;
  mpz tmp;
  detail::mulmod(c.value, a.value, b.value, pk.n_squared(), tmp);
  return c;
}

// Enc(-a)
[[nodiscard]] inline ciphertext negate(const public_key& pk, const ciphertext& a) {
  ciphertext c;
  if (::mpz_invert(c.value, a.value, pk.n_squared()) == 0)
    throw usage_error("paillier::negate: ciphertext is not a unit modulo N^2");
  return c;
}

// Enc(a - b)
[[nodiscard]] inline ciphertext sub(const public_key& pk, const ciphertext& a, const ciphertext& b) {
  return add(pk, a, negate(pk, b));
}

// Enc(k * a) for a signed weight k: a^|k|, inverted first when k < 0 (so the
// exponent is never a 2048-bit N - |k|). k = 0 gives the trivial encryption 1
// of zero; re-randomise (add a fresh Enc(0)) before such a result leaves the party.
[[nodiscard]] inline ciphertext scalar_mul(const public_key& pk, const ciphertext& a, std::int64_t k) {
  ciphertext c;
  if (k == 0) {
    ::mpz_set_ui(c.value, 1);
    return c;
  }
  const std::uint64_t mag = k < 0 ? 0 - static_cast<std::uint64_t>(k) : static_cast<std::uint64_t>(k);
  mpz e;
  ::mpz_set_ui(e, static_cast<unsigned long>(mag));
  if (k < 0) {
    c = negate(pk, a);
    ::mpz_powm(c.value, c.value, e, pk.n_squared());
  } else {
    ::mpz_powm(c.value, a.value, e, pk.n_squared());
  }
  return c;
}

// ---- packing -----------------------------------------------------------------

// Throws usage_error unless `count` slots of `slot_bits` bits fit a plaintext
// with room to spare: count * slot_bits < bits(N) - 1 (so the packed value stays
// below N/2 and cannot wrap), slot_bits >= 2 and count >= 1.
inline void check_slots(const public_key& pk, std::size_t count, unsigned slot_bits) {
  if (slot_bits < 2 || count == 0 || count * slot_bits >= pk.bits() - 1)
    throw usage_error("paillier::pack: " + std::to_string(count) + " slots of " + std::to_string(slot_bits) +
                      " bits do not fit a " + std::to_string(pk.bits()) +
                      "-bit modulus (need slot_bits >= 2 and slots * slot_bits < bits(N) - 1)");
}

// The largest number of slot_bits-wide slots that fit one plaintext.
[[nodiscard]] inline std::size_t max_slots(const public_key& pk, unsigned slot_bits) noexcept {
  return slot_bits == 0 ? 0 : (pk.bits() - 2) / slot_bits;
}

// Enc(sum_i v_i 2^(slot_bits * i)) from Enc(v_i); every v_i must be an integer
// in [0, 2^slot_bits) (not checkable here: unpack() detects overflow of the
// top slot). Horner: acc = acc^(2^slot_bits) * c_i.
[[nodiscard]] inline ciphertext pack(const public_key& pk, std::span<const ciphertext> cts, unsigned slot_bits) {
  check_slots(pk, cts.size(), slot_bits);
  mpz e, tmp;
  const detail::montgomery mont(pk.n_squared());
  if (mont.available()) {  // the same Horner steps in the Montgomery domain
    const std::size_t L = mont.digits();
    std::vector<std::uint64_t> acc(L), ci(L);
    mont.to_mont(acc.data(), cts.back().value, tmp);
    for (std::size_t i = cts.size() - 1; i-- > 0;) {
      for (unsigned k = 0; k < slot_bits; ++k) mont.sqr(acc.data(), acc.data());
      mont.to_mont(ci.data(), cts[i].value, tmp);
      mont.mul(acc.data(), acc.data(), ci.data());
    }
    ciphertext out;
    mont.from_mont(out.value, acc.data());
    return out;
  }
  ::mpz_setbit(e, slot_bits);
  ciphertext acc = cts.back();
  for (std::size_t i = cts.size() - 1; i-- > 0;) {
    ::mpz_powm(acc.value, acc.value, e, pk.n_squared());
    detail::mulmod(acc.value, acc.value, cts[i].value, pk.n_squared(), tmp);
  }
  return acc;
}

// Two packings of the same number of ciphertexts at once: the same results as
// pack(pk, a, slot_bits) and pack(pk, b, slot_bits). With the IFMA kernel the two Horner
// chains (latency-bound runs of squarings) go through the interleaved kernel,
// one chain's multiplications hiding the other's latency.
inline void pack2(const public_key& pk, std::span<const ciphertext> a, std::span<const ciphertext> b,
                  unsigned slot_bits, ciphertext& out_a, ciphertext& out_b) {
  const detail::montgomery mont(pk.n_squared());
  if (a.size() != b.size() || !mont.pairs_with(mont)) {
    out_a = pack(pk, a, slot_bits);
    out_b = pack(pk, b, slot_bits);
    return;
  }
  check_slots(pk, a.size(), slot_bits);
  const std::size_t L = mont.digits();
  mpz tmp;
  std::vector<std::uint64_t> x(L), y(L), xi(L), yi(L);
  mont.to_mont(x.data(), a.back().value, tmp);
  mont.to_mont(y.data(), b.back().value, tmp);
  for (std::size_t i = a.size() - 1; i-- > 0;) {
    for (unsigned k = 0; k < slot_bits; ++k) mont.sqr2(mont, x.data(), x.data(), y.data(), y.data());
    mont.to_mont(xi.data(), a[i].value, tmp);
    mont.to_mont(yi.data(), b[i].value, tmp);
    mont.mul2(mont, x.data(), x.data(), xi.data(), y.data(), y.data(), yi.data());
  }
  mont.from_mont(out_a.value, x.data());
  mont.from_mont(out_b.value, y.data());
}

// Decrypts a packed ciphertext into `count` values in [0, 2^slot_bits).
// Throws decode_error when the plaintext does not fit count * slot_bits bits
// (a slot overflowed, or a value was negative).
[[nodiscard]] inline std::vector<mpz> unpack(const secret_key& sk, const ciphertext& packed, unsigned slot_bits,
                                             std::size_t count) {
  check_slots(sk.pk(), count, slot_bits);
  mpz m = decrypt_residue(sk, packed);
  if (m.bits() > count * slot_bits)
    throw decode_error("paillier::unpack: the packed plaintext has " + std::to_string(m.bits()) + " bits, more than " +
                       std::to_string(count) + " slots of " + std::to_string(slot_bits) +
                       " bits: a slot overflowed or held a negative value");
  std::vector<mpz> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    ::mpz_tdiv_r_2exp(out[i], m, slot_bits);
    ::mpz_tdiv_q_2exp(m, m, slot_bits);
  }
  return out;
}

// ---- serialization -------------------------------------------------------------
// Ciphertext: exactly pk.ciphertext_bytes() = 2 * bits(N) / 8 bytes, the
// integer c in little-endian byte order (least significant byte first).
// Public key: u32 bits(N) (LE), N in bits/8 bytes LE, hs in 2 * bits/8 bytes LE.

inline void serialize(const public_key& pk, const ciphertext& c, std::span<std::byte> out) {
  if (out.size() != pk.ciphertext_bytes())
    throw usage_error("paillier::serialize: output span must be exactly " + std::to_string(pk.ciphertext_bytes()) +
                      " bytes");
  export_le(c.value, out);
}

[[nodiscard]] inline std::vector<std::byte> serialize(const public_key& pk, const ciphertext& c) {
  std::vector<std::byte> out(pk.ciphertext_bytes());
  serialize(pk, c, out);
  return out;
}

[[nodiscard]] inline std::vector<std::byte> serialize(const public_key& pk, std::span<const ciphertext> cs) {
  const std::size_t w = pk.ciphertext_bytes();
  std::vector<std::byte> out(w * cs.size());
  for (std::size_t i = 0; i < cs.size(); ++i) serialize(pk, cs[i], std::span<std::byte>(out).subspan(i * w, w));
  return out;
}

// Whether deserialize_ciphertext checks gcd(c, N) = 1 itself; unit_check::no
// leaves it to the caller, who checks many at once (he::from_wire: the gcd
// of their product).
enum class unit_check : bool { no, yes };

// Validates untrusted bytes: exact length, 0 < c < N^2, gcd(c, N) = 1.
[[nodiscard]] inline ciphertext deserialize_ciphertext(const public_key& pk, std::span<const std::byte> in,
                                                       unit_check check = unit_check::yes) {
  if (in.size() != pk.ciphertext_bytes())
    throw decode_error("paillier ciphertext: expected exactly " + std::to_string(pk.ciphertext_bytes()) +
                       " bytes for a " + std::to_string(pk.bits()) + "-bit key, got " + std::to_string(in.size()));
  ciphertext c;
  import_le(c.value, in);
  if (::mpz_cmp(c.value, pk.n_squared()) >= 0)
    throw decode_error("paillier ciphertext: value is not below N^2");
  if (c.value.sign() == 0) throw decode_error("paillier ciphertext: value is zero");
  if (check == unit_check::no) return c;
  mpz d;
  ::mpz_gcd(d, c.value, pk.n());
  if (c.value.sign() == 0 || cmp_ui(d, 1) != 0)
    throw decode_error("paillier ciphertext: value is not coprime to N (zero or a multiple of a factor of N)");
  return c;
}

// `count` ciphertexts laid end to end (exact total length).
[[nodiscard]] inline std::vector<ciphertext> deserialize_ciphertexts(const public_key& pk,
                                                                     std::span<const std::byte> in,
                                                                     std::size_t count) {
  const std::size_t w = pk.ciphertext_bytes();
  if (in.size() != w * count)
    throw decode_error("paillier ciphertexts: expected " + std::to_string(count) + " x " + std::to_string(w) +
                       " bytes, got " + std::to_string(in.size()));
  std::vector<ciphertext> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) out.push_back(deserialize_ciphertext(pk, in.subspan(i * w, w)));
  return out;
}

[[nodiscard]] inline std::vector<std::byte> serialize(const public_key& pk) {
  const std::size_t nb = pk.bits() / 8;
  byte_writer w;
  w.put(static_cast<std::uint32_t>(pk.bits()));
  std::vector<std::byte> buf(nb);
  export_le(pk.n(), buf);
  w.put_bytes(buf);
  buf.assign(2 * nb, std::byte{0});
  export_le(pk.hs(), buf);
  w.put_bytes(buf);
  return w.take();
}

// Validates untrusted bytes: size in range, N odd of exactly the stated size,
// hs a unit below N^2. (Whether N is a product of two primes cannot be checked
// without its factors; the client checks its own key.)
[[nodiscard]] inline public_key deserialize_public_key(std::span<const std::byte> in) {
  byte_reader r(in, "paillier public key");
  const auto bits = r.get_in<std::uint32_t>(min_bits, max_bits, "bits");
  if (bits % 64 != 0) throw decode_error("paillier public key: modulus size " + std::to_string(bits) + " is not a multiple of 64");
  mpz n, hs;
  import_le(n, r.take(bits / 8));
  import_le(hs, r.take(2 * bits / 8));
  r.expect_end();
  if (n.bits() != bits || mpz_odd_p(n.get()) == 0)
    throw decode_error("paillier public key: N is not an odd " + std::to_string(bits) + "-bit integer");
  try {
    return public_key(n, hs);
  } catch (const usage_error& e) {
    throw decode_error(std::string("paillier public key: ") + e.what());
  }
}

}  // namespace pmdi::paillier
