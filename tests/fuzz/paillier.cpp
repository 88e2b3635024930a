// Fuzz target: Paillier public key and ciphertext deserialisation
// (crypto/paillier/ops.hpp), the bytes a client's key and every Enc(.)
// arrive as. First byte even: a public key; odd: ciphertexts under a fixed
// 512-bit key (one, or as many as fit).
#include "fuzz.hpp"
#include "pmdi/crypto/paillier.hpp"

namespace paillier = pmdi::paillier;

namespace {
const paillier::key_pair& fixed_key() {
  static const paillier::key_pair kp = [] {
    pmdi::seed s{};
    pmdi::prg g(s);
    return paillier::keygen(g, 512);
  }();
  return kp;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto body = pmdi::fuzz::bytes(data + 1, size - 1);
  pmdi::fuzz::expect_refusal_or_success([&] {
    if (data[0] % 2 == 0) {
      const auto pk = paillier::deserialize_public_key(body);
      (void)paillier::serialize(pk);
    } else {
      const auto& pk = fixed_key().pk;
      const std::size_t w = pk.ciphertext_bytes();
      if (data[0] % 4 == 1) (void)paillier::deserialize_ciphertext(pk, body);
      else (void)paillier::deserialize_ciphertexts(pk, body, body.size() / w);
    }
  });
  return 0;
}
