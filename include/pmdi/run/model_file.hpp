#pragma once
// The cloud's model file, optionally pinned by its digest: BLAKE2b with a
// 32-byte output (libsodium crypto_generichash, no key), the value that
// `b2sum -l 256 FILE` prints. With a pin, any other file is refused before a
// byte of it is parsed:
//
//   minionn-cloud ... --model minionn_fashion.onnx --model-digest b45960a3...7e0e
//
// [ref] RFC 7693 (BLAKE2); libsodium crypto_generichash.
#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/net/keys.hpp"

namespace pmdi::run {

inline constexpr std::size_t model_digest_bytes = crypto_generichash_BYTES;  // 32
static_assert(model_digest_bytes == 32);
using model_digest = std::array<std::byte, model_digest_bytes>;

[[nodiscard]] inline model_digest digest_of(std::span<const std::byte> bytes) {
  sodium_init_or_throw();
  model_digest d{};
  if (::crypto_generichash(reinterpret_cast<unsigned char*>(d.data()), d.size(),
                           reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), nullptr, 0) != 0)
    throw error("model digest: libsodium BLAKE2b failed");
  return d;
}

// 64 hex digits (either case), or a usage_error naming the option.
[[nodiscard]] inline model_digest parse_model_digest(std::string_view text, std::string_view option = "--model-digest") {
  if (auto d = net::from_hex<model_digest_bytes>(text)) return *d;
  throw usage_error(std::string(option) + ": expected the model's BLAKE2b-256 digest as 64 hex digits (b2sum -l 256 FILE), got \"" +
                    std::string(text.substr(0, 80)) + "\"");
}

// The bytes of the model file; with `pinned`, refused unless their digest is it.
[[nodiscard]] inline std::vector<std::byte> read_model_file(const std::filesystem::path& file,
                                                            const std::optional<model_digest>& pinned) {
  std::ifstream f(file, std::ios::binary);
  if (!f) throw usage_error(file.string() + ": cannot open the model file");
  std::vector<char> c((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw usage_error(file.string() + ": cannot read the model file");
  std::vector<std::byte> bytes(c.size());
  if (!c.empty()) std::memcpy(bytes.data(), c.data(), c.size());
  if (pinned) {
    const auto got = digest_of(bytes);
    if (::sodium_memcmp(got.data(), pinned->data(), got.size()) != 0)
      throw usage_error(file.string() + ": BLAKE2b-256 digest " + net::to_hex(got) + " is not the pinned " +
                        net::to_hex(*pinned) + " (--model-digest): refusing another model file");
  }
  return bytes;
}

}  // namespace pmdi::run
