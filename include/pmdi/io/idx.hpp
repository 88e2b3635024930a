#pragma once
// IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed.
//
//   auto test = pmdi::io::read_idx_images("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
//   auto labels = pmdi::io::read_idx_labels(".../t10k-labels-idx1-ubyte.gz");
//
// [ref] Y. LeCun, C. Cortes: THE MNIST DATABASE, file formats
// (yann.lecun.com/exdb/mnist): big-endian header 00 00 <type> <ndim>, then
// ndim 32-bit big-endian sizes, then the data. pmdi reads type 0x08
// (unsigned byte) only. Every size is validated; errors are
// pmdi::decode_error naming the file.
//
// Needs zlib (the pmdi::io CMake target).
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/tensor.hpp"

namespace pmdi::io {

// Images as floats in [0, 1] (pixel / 255), row-major, one after another.
struct idx_images {
  std::size_t count = 0, rows = 0, cols = 0;
  std::vector<float> pixels;  // count * rows * cols
  [[nodiscard]] std::span<const float> image(std::size_t i) const {
    return std::span<const float>(pixels).subspan(i * rows * cols, rows * cols);
  }
  // One image as a 1 x rows x cols tensor.
  [[nodiscard]] tensor<float> tensor_at(std::size_t i) const {
    const auto s = image(i);
    return tensor<float>(shape3{1, rows, cols}, std::vector<float>(s.begin(), s.end()));
  }
};

namespace detail {

inline constexpr std::size_t idx_max_bytes = std::size_t{1} << 31;  // 2 GiB: far above any IDX data set

// Inflates a gzip stream (RFC 1952) completely; refuses trailing garbage,
// truncation and anything that would exceed idx_max_bytes.
inline std::vector<std::uint8_t> gunzip(std::span<const std::uint8_t> in, const std::string& name) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) throw decode_error(name + ": zlib initialisation failed");
  std::vector<std::uint8_t> out;
  std::uint8_t buf[1 << 16];
  z.next_in = const_cast<Bytef*>(in.data());  // zlib's API is not const-correct
  z.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), std::numeric_limits<uInt>::max()));
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = buf;
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      const std::string why = rc == Z_BUF_ERROR ? "the stream is truncated" : (z.msg ? z.msg : "corrupt data");
      inflateEnd(&z);
      throw decode_error(name + ": gzip data is invalid: " + why);
    }
    out.insert(out.end(), buf, buf + (sizeof buf - z.avail_out));
    if (out.size() > idx_max_bytes) {
      inflateEnd(&z);
      throw decode_error(name + ": decompresses to more than 2 GiB");
    }
  }
  const bool trailing = z.avail_in != 0;
  inflateEnd(&z);
  if (trailing) throw decode_error(name + ": bytes after the end of the gzip stream");
  return out;
}

inline std::vector<std::uint8_t> read_maybe_gzip(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw usage_error(path.string() + ": cannot open the file");
  std::vector<std::uint8_t> raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (raw.size() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) return gunzip(raw, path.filename().string());
  return raw;
}

// Validates the header; returns the dimensions and the offset of the data.
inline std::vector<std::size_t> idx_header(std::span<const std::uint8_t> b, std::size_t want_ndim,
                                           const std::string& name, std::size_t& offset) {
  if (b.size() < 4) throw decode_error(name + ": " + std::to_string(b.size()) + " bytes, too short for an IDX header");
  if (b[0] != 0 || b[1] != 0) throw decode_error(name + ": bad IDX magic (first two bytes must be zero)");
  if (b[2] != 0x08) {
    const char* hex = "0123456789abcdef";
    throw decode_error(name + ": IDX data type 0x" + hex[b[2] >> 4] + hex[b[2] & 15] +
                       ", expected 0x08 (unsigned byte)");
  }
  if (b[3] != want_ndim)
    throw decode_error(name + ": IDX file has " + std::to_string(b[3]) + " dimensions, expected " +
                       std::to_string(want_ndim));
  offset = 4 + 4 * want_ndim;
  if (b.size() < offset) throw decode_error(name + ": IDX header truncated");
  std::vector<std::size_t> dims;
  std::size_t total = 1;
  for (std::size_t i = 0; i < want_ndim; ++i) {
    const auto* p = b.data() + 4 + 4 * i;
    const std::size_t d = std::size_t{p[0]} << 24 | std::size_t{p[1]} << 16 | std::size_t{p[2]} << 8 | p[3];
    if (d == 0) throw decode_error(name + ": IDX dimension " + std::to_string(i) + " is zero");
    total *= d;
    if (total > idx_max_bytes) throw decode_error(name + ": IDX dimensions too large");
    dims.push_back(d);
  }
  if (b.size() - offset != total)
    throw decode_error(name + ": IDX dimensions need " + std::to_string(total) + " data bytes but the file has " +
                       std::to_string(b.size() - offset));
  return dims;
}

}  // namespace detail

// Parses an uncompressed IDX3 (images) buffer.
[[nodiscard]] inline idx_images parse_idx_images(std::span<const std::uint8_t> b, const std::string& name) {
  std::size_t off = 0;
  const auto d = detail::idx_header(b, 3, name, off);
  idx_images im;
  im.count = d[0];
  im.rows = d[1];
  im.cols = d[2];
  im.pixels.resize(b.size() - off);
  for (std::size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = static_cast<float>(b[off + i]) / 255.0F;
  return im;
}

// Parses an uncompressed IDX1 (labels) buffer; labels must be < classes.
[[nodiscard]] inline std::vector<std::uint8_t> parse_idx_labels(std::span<const std::uint8_t> b, const std::string& name,
                                                                 unsigned classes = 10) {
  std::size_t off = 0;
  (void)detail::idx_header(b, 1, name, off);
  std::vector<std::uint8_t> l(b.begin() + static_cast<std::ptrdiff_t>(off), b.end());
  for (std::size_t i = 0; i < l.size(); ++i)
    if (l[i] >= classes)
      throw decode_error(name + ": label " + std::to_string(l[i]) + " at index " + std::to_string(i) + " is not below " +
                         std::to_string(classes));
  return l;
}

[[nodiscard]] inline idx_images read_idx_images(const std::filesystem::path& path) {
  return parse_idx_images(detail::read_maybe_gzip(path), path.filename().string());
}

[[nodiscard]] inline std::vector<std::uint8_t> read_idx_labels(const std::filesystem::path& path, unsigned classes = 10) {
  return parse_idx_labels(detail::read_maybe_gzip(path), path.filename().string(), classes);
}

}  // namespace pmdi::io
