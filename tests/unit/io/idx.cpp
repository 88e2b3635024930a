// IDX reader: the real Fashion-MNIST files (when installed) and malformed buffers.
#include "pmdi/io/idx.hpp"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <vector>

using Catch::Contains;

namespace {

std::vector<std::uint8_t> header(std::uint8_t type, std::vector<std::uint32_t> dims) {
  std::vector<std::uint8_t> b{0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (auto d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(d >> s));
  return b;
}

std::vector<std::uint8_t> gzip(const std::vector<std::uint8_t>& in) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::vector<std::uint8_t> out(deflateBound(&z, in.size()) + 32);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

TEST_CASE("idx: a well-formed buffer parses, pixels scale to [0, 1]", "[io][idx]") {
  auto b = header(0x08, {2, 2, 3});
  for (int i = 0; i < 12; ++i) b.push_back(static_cast<std::uint8_t>(i == 5 ? 255 : i));
  const auto im = pmdi::io::parse_idx_images(b, "mem");
  CHECK(im.count == 2);
  CHECK(im.rows == 2);
  CHECK(im.cols == 3);
  CHECK(im.image(1)[0] == Approx(6.0 / 255));
  CHECK(im.image(0)[5] == 1.0F);
  CHECK(im.tensor_at(1).shape() == pmdi::shape3{1, 2, 3});

  auto l = header(0x08, {3});
  l.insert(l.end(), {9, 0, 4});
  CHECK(pmdi::io::parse_idx_labels(l, "mem") == std::vector<std::uint8_t>{9, 0, 4});
  CHECK(pmdi::io::detail::gunzip(gzip(l), "mem.gz") == l);
}

TEST_CASE("idx: malformed buffers are refused with the reason", "[io][idx]") {
  auto ok = header(0x08, {1, 2, 2});
  ok.insert(ok.end(), {1, 2, 3, 4});
  auto bad = ok;
  bad[0] = 1;
  CHECK_THROWS_WITH(pmdi::io::parse_idx_images(bad, "x"), Contains("x: bad IDX magic"));
  bad = ok;
  bad[2] = 0x0d;
  CHECK_THROWS_WITH(pmdi::io::parse_idx_images(bad, "x"), Contains("IDX data type 0x0d, expected 0x08"));
  bad = ok;
  bad.pop_back();
  CHECK_THROWS_WITH(pmdi::io::parse_idx_images(bad, "x"), Contains("need 4 data bytes but the file has 3"));
  CHECK_THROWS_WITH(pmdi::io::parse_idx_labels(ok, "x"), Contains("has 3 dimensions, expected 1"));
  CHECK_THROWS_AS(pmdi::io::parse_idx_images(std::vector<std::uint8_t>{0, 0}, "x"), pmdi::decode_error);
  auto huge = header(0x08, {0xffffffffU, 0xffffffffU, 2});
  CHECK_THROWS_WITH(pmdi::io::parse_idx_images(huge, "x"), Contains("too large"));
  auto l = header(0x08, {2});
  l.insert(l.end(), {3, 10});
  CHECK_THROWS_WITH(pmdi::io::parse_idx_labels(l, "x"), Contains("label 10 at index 1 is not below 10"));
  auto z = gzip(ok);
  auto cut = std::vector<std::uint8_t>(z.begin(), z.end() - 6);
  CHECK_THROWS_WITH(pmdi::io::detail::gunzip(cut, "x.gz"), Contains("x.gz: gzip data is invalid"));
  z.push_back(0);
  CHECK_THROWS_WITH(pmdi::io::detail::gunzip(z, "x.gz"), Contains("bytes after the end of the gzip stream"));
}

TEST_CASE("idx: the Fashion-MNIST test set", "[io][idx]") {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  if (!std::filesystem::exists(dir + "t10k-images-idx3-ubyte.gz")) {
    WARN("Fashion-MNIST not installed (dataset-fashion-mnist): skipped");
    return;
  }
  const auto im = pmdi::io::read_idx_images(dir + "t10k-images-idx3-ubyte.gz");
  const auto lb = pmdi::io::read_idx_labels(dir + "t10k-labels-idx1-ubyte.gz");
  CHECK(im.count == 10000);
  CHECK(im.rows == 28);
  CHECK(im.cols == 28);
  REQUIRE(lb.size() == 10000);
  // The first three test labels of Fashion-MNIST: ankle boot, pullover, trouser.
  CHECK(lb[0] == 9);
  CHECK(lb[1] == 2);
  CHECK(lb[2] == 1);
  std::size_t per_class[10] = {};
  for (auto v : lb) ++per_class[v];
  for (auto c : per_class) CHECK(c == 1000);
  CHECK(*std::max_element(im.pixels.begin(), im.pixels.end()) == 1.0F);
}
