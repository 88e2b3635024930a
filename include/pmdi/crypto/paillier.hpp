#pragma once
// Paillier encryption over GMP (namespace pmdi::paillier).
//
// Keys
//   key_pair keygen(prg&, unsigned bits = 2048);            // N = pq, g = N + 1
//   secret_key make_secret_key(const mpz& p, const mpz& q, prg&);   // known-answer tests
//   public_key{n(), n_squared(), hs(), bits(), ciphertext_bytes(), max_abs_plaintext()}
//   secret_key{pk(), p(), q(), lambda()}  -- secrets are zeroed on destruction
// Plaintexts are signed integers m with |m| <= (N-1)/2, held in mpz (implicit
// from any built-in integer type; low_u64() reduces mod 2^64); decrypt returns
// the centred value.
//   ciphertext encrypt(const public_key&, const mpz& m, prg&);  // (1+mN) hs^x, short x, fixed-base table
//   ciphertext encrypt(const secret_key&, const mpz& m, prg&);  // same ciphertext, CRT mod p^2, q^2
//   mpz decrypt(const secret_key&, const ciphertext&);          // in [-(N-1)/2, (N-1)/2], CRT
//   mpz decrypt_residue(const secret_key&, const ciphertext&);  // in [0, N)
//   mpz decrypt_textbook(const secret_key&, const ciphertext&); // L(c^lambda) mu, reference
//   std::vector<ciphertext> encrypt_many(pk or sk, std::span<const mpz>, prg&, unsigned threads = 0);
//   std::vector<mpz> decrypt_many(sk, std::span<const ciphertext>, unsigned threads = 0);
// Homomorphic operations
//   ciphertext add(pk, a, b); sub(pk, a, b); negate(pk, a);
//   ciphertext scalar_mul(pk, a, std::int64_t k);                // k < 0: inverse, then |k|
//   std::vector<ciphertext> matvec(pk, const csr<std::int64_t>& A, std::span<const ciphertext> c,
//                                  std::span<const mpz> s (or std::span<const std::int64_t>),
//                                  prg&, unsigned threads = 0);  // Enc(A c + s), fresh Enc(s)
// Packing (values in [0, 2^slot_bits), count * slot_bits < bits(N) - 1)
//   ciphertext pack(pk, std::span<const ciphertext>, unsigned slot_bits);
//   std::vector<mpz> unpack(sk, const ciphertext&, unsigned slot_bits, std::size_t count);
//   std::size_t max_slots(pk, slot_bits); void check_slots(pk, count, slot_bits);
// Serialization (little-endian, fixed width; deserialization throws decode_error)
//   std::vector<std::byte> serialize(pk, const ciphertext&);    // pk.ciphertext_bytes() bytes
//   std::vector<std::byte> serialize(pk, std::span<const ciphertext>);
//   ciphertext deserialize_ciphertext(pk, std::span<const std::byte>);
//   std::vector<ciphertext> deserialize_ciphertexts(pk, bytes, count);
//   std::vector<std::byte> serialize(const public_key&);  public_key deserialize_public_key(bytes);
// Speed: the modular multiplications run in a Montgomery kernel chosen at run
// time (paillier/montgomery.hpp): AVX-512 IFMA with 52-bit digits, else AVX2
// with 27-bit digits, else GMP; the vector kernels also give the constant-time
// encryption tables and decryption exponentiations. PMDI_PAILLIER_KERNEL=gmp,
// avx2 or ifma in the environment picks one (same results).
// Design, parameters and measured figures: docs/paillier.md.
#include "pmdi/crypto/paillier/batch.hpp"
#include "pmdi/crypto/paillier/keys.hpp"
#include "pmdi/crypto/paillier/matvec.hpp"
#include "pmdi/crypto/paillier/mpz.hpp"
#include "pmdi/crypto/paillier/ops.hpp"
