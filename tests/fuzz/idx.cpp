// Fuzz target: the IDX reader (io/idx.hpp): images and labels, plain or
// gzip-compressed (first byte even: images; odd: labels).
#include "fuzz.hpp"
#include "pmdi/io/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::span<const std::uint8_t> b(data + 1, size - 1);
  pmdi::fuzz::expect_refusal_or_success([&] {
    std::vector<std::uint8_t> inflated;
    if (b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
      inflated = pmdi::io::detail::gunzip(b, "fuzz.idx.gz");
      b = inflated;
    }
    if (data[0] % 2 == 0) {
      const auto imgs = pmdi::io::parse_idx_images(b, "fuzz.idx");
      if (imgs.count > 0) (void)imgs.image(imgs.count - 1);
    } else {
      (void)pmdi::io::parse_idx_labels(b, "fuzz.idx", 10);
    }
  });
  return 0;
}
