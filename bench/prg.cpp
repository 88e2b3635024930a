// pmdi-bench prg: AES-CTR (AES-NI) against libsodium's ChaCha20 stream, same run.
#include <sodium.h>

#include <vector>

#include "bench.hpp"
#include "pmdi/core/prg.hpp"

namespace {
int run(const pmdi::bench::args& a, pmdi::bench::report& r) {
  using namespace pmdi::bench;
  const std::size_t n = std::size_t{1} << 24;  // 16 MiB
  const int reps = a.quick ? 3 : 9;
  std::vector<unsigned char> buf(n);
  pmdi::prg p = pmdi::prg::from_os();
  const double t_aes = median_seconds(reps, [&] { p.fill(buf.data(), n); keep(buf); });
  unsigned char key[crypto_stream_chacha20_KEYBYTES], nonce[crypto_stream_chacha20_NONCEBYTES] = {};
  randombytes_buf(key, sizeof key);
  const double t_chacha = median_seconds(reps, [&] { crypto_stream_chacha20(buf.data(), n, nonce, key); keep(buf); });
  r.metric("prg", "aes_ctr_gb_per_s", n / t_aes / 1e9, "GB/s");
  r.metric("prg", "chacha20_gb_per_s", n / t_chacha / 1e9, "GB/s");
  r.metric("prg", "aes_over_chacha", t_chacha / t_aes, "x");
  return 0;
}
const pmdi::bench::registrar reg("prg", "PRG throughput: AES-CTR vs ChaCha20", run);
}  // namespace
