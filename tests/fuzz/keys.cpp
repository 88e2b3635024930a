// Fuzz target: key files and key text (net/keys.hpp, run/deployment.hpp,
// run/model_file.hpp): public keys in hex or base64, a secret key file (mode
// 0600, read back from disk), and a pinned model digest.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "fuzz.hpp"
#include "pmdi/run/deployment.hpp"
#include "pmdi/run/model_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto t = pmdi::fuzz::text(data, size);
  if (const auto pk = pmdi::net::parse_public_key(t)) {
    if (pmdi::net::parse_public_key(pmdi::net::to_hex(*pk)) != pk) __builtin_trap();
    (void)pmdi::net::usable_public_key(*pk);
  }
  pmdi::fuzz::expect_refusal_or_success([&] { (void)pmdi::run::parse_model_digest(t); });
  static const std::string file = "/tmp/pmdi-fuzz-keys-" + std::to_string(::getpid()) + ".key";
  {
    std::ofstream f(file, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  ::chmod(file.c_str(), 0600);
  pmdi::fuzz::expect_refusal_or_success([&] {
    const auto sk = pmdi::run::read_secret_key(file);
    (void)pmdi::net::public_key_of(sk);
  });
  return 0;
}
