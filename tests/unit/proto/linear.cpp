// proto/linear.hpp: every operator's arithmetic against its own taps as a
// matrix (on one thread and on several), shares adding up to the whole with public paths counted once,
// the magnitude bound against the worst input, refusals of malformed
// programs, and the cloud's operator-wise Paillier product against the
// plaintext program.
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "pmdi/core/prg.hpp"
#include "pmdi/core/ring.hpp"
#include "pmdi/crypto/paillier.hpp"
#include "pmdi/proto/he.hpp"
#include "pmdi/proto/linear.hpp"
#include "programs.hpp"

namespace proto = pmdi::proto;
using pmdi::shape3;

using namespace pmdi::test_programs;

TEST_CASE("each operator equals its taps as a matrix, over Z_2^32 and Z_2^64", "[proto][linear]") {
  auto g = test_prg(1);
  const shape3 in{3, 11, 9};
  const std::vector<proto::linear_op> ops = {
      conv(0, in, 4, 3, 3, 1, 1), conv(0, in, 2, 5, 3, 2, 2), conv(0, in, 3, 2, 2, 2, 0), conv(0, in, 1, 11, 9, 1, 0),
      conv(0, in, 9, 3, 3, 1, 1), conv(0, in, 6, 3, 3, 2, 1), sumpool(0, in, 2, 2, 1), sumpool(0, in, 3, 1, 910),
      dense(0, in, 7),            dense(0, in, 300)};  // 9 and 6 output channels: a last group of fewer than four
  for (const auto& op : ops) {
    INFO(proto::linear_kind_name(op.kind) << " " << op.in.str() << " -> " << op.out.str() << " k " << op.kernel_h
                                          << "x" << op.kernel_w << " s " << op.stride << " p " << op.pad);
    proto::linear_program p;
    p.input_sizes = {in.size()};
    p.ops = {op};
    p.result = 1;
    REQUIRE_NOTHROW(proto::validate(p, ""));
    auto w = random_weights(g, op.weight_count(), 300);
    if (!w.empty()) w[0] = 0;  // zero weights are left out of rows() and skipped by apply
    const auto a = proto::rows(op, w);
    const auto a_all = proto::rows(op, w, true);
    CHECK(a_all.nnz() == (op.kind == proto::linear_kind::sumpool ? op.out.size() * op.kernel_h * op.kernel_w : op.macs()));
    CHECK(a.nnz() <= a_all.nnz());
    const auto x32 = random_words<std::uint32_t>(g, in.size());
    const auto x64 = random_words<std::uint64_t>(g, in.size());
    std::vector<std::uint32_t> want32(op.out.size());
    std::vector<std::uint64_t> want64(op.out.size());
    a.multiply<std::uint32_t, std::uint32_t>(x32, want32);
    a_all.multiply<std::uint64_t, std::uint64_t>(x64, want64);
    for (const unsigned threads : {1U, 2U, 0U}) {  // the result does not depend on the threads (0: all)
      INFO("threads " << threads);
      CHECK(proto::apply<std::uint32_t, std::int64_t>(p, w, {}, x32, true, threads) == want32);
      CHECK(proto::apply<std::uint64_t, std::int64_t>(p, w, {}, x64, true, threads) == want64);
    }
  }
}

TEST_CASE("the holders' shares add up to the program; public paths are counted once", "[proto][linear]") {
  using V = std::uint32_t;
  auto g = test_prg(2);
  const auto p = residual_program();
  REQUIRE_NOTHROW(proto::validate(p, ""));
  const auto w = random_weights(g, p.weight_count(), 1000);
  const auto x = random_words<V>(g, p.in_size());
  const auto whole = proto::apply<V, std::int64_t>(p, w, {}, x);
  // three holders: two compute servers, then the garbler (counts public paths)
  std::vector<V> wv(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) wv[i] = static_cast<V>(w[i]);
  std::vector<std::vector<V>> shares(3, std::vector<V>(w.size()));
  pmdi::share<V>(std::span<const V>(wv), std::span<std::vector<V>>(shares), g);
  std::vector<V> sum(whole.size(), 0);
  for (std::size_t h = 0; h < 3; ++h) {
    const auto part = proto::apply<V, V>(p, shares[h], {}, x, /*public_paths=*/h == 2);
    for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += part[i];
  }
  CHECK(sum == whole);
  // counted by every holder, the identity skip would be added three times
  std::vector<V> wrong(whole.size(), 0);
  for (std::size_t h = 0; h < 3; ++h) {
    const auto part = proto::apply<V, V>(p, shares[h], {}, x, true);
    for (std::size_t i = 0; i < wrong.size(); ++i) wrong[i] += part[i];
  }
  CHECK(wrong != whole);
  // a stage without operators: the garbler passes its input through, the others add nothing
  proto::linear_program id;
  id.input_sizes = {6};
  id.result = 0;
  const std::vector<V> z = {1, 2, 3, 4, 5, 6};
  CHECK(proto::apply<V, V>(id, {}, {}, z, true) == z);
  CHECK(proto::apply<V, V>(id, {}, {}, z, false) == std::vector<V>(6, 0));
}

TEST_CASE("bound_bits bounds the worst input and is exact for powers of two", "[proto][linear]") {
  auto g = test_prg(3);
  auto p = residual_program();
  p.ops.pop_back();  // the convolution's output: sum-pool then conv, one input
  p.input_sizes.pop_back();
  p.ops[1].src = 1;
  p.result = 2;
  REQUIRE_NOTHROW(proto::validate(p, ""));
  const auto w = random_weights(g, p.weight_count(), 5000);
  const auto b = random_weights(g, p.bias_count(), 1 << 20);
  const unsigned in_bits = 32;
  const unsigned B = proto::bound_bits(p, w, b, in_bits);
  // worst case by brute force over the composed taps: every input at 2^32 - 1
  // with the sign of its composed weight
  const auto pool = proto::rows(p.ops[0], {});
  const auto cv = proto::rows(p.ops[1], std::span<const std::int64_t>(w));
  __extension__ typedef __int128 i128;
  i128 worst = 0;
  const i128 top = (i128{1} << in_bits) - 1;
  for (std::size_t r = 0; r < cv.rows; ++r) {
    std::vector<i128> coef(pool.cols, 0);
    for (auto q = cv.row_ptr[r]; q < cv.row_ptr[r + 1]; ++q)
      for (auto t = pool.row_ptr[cv.col[q]]; t < pool.row_ptr[cv.col[q] + 1]; ++t)
        coef[pool.col[t]] += static_cast<i128>(cv.val[q]) * pool.val[t];
    i128 s = 0;
    for (auto c : coef) s += (c < 0 ? -c : c) * top;
    const std::size_t plane = p.ops[1].out.h * p.ops[1].out.w;
    s += b[r / plane] < 0 ? -static_cast<i128>(b[r / plane]) : b[r / plane];
    worst = std::max(worst, s);
  }
  CHECK(worst < (i128{1} << B));
  CHECK(worst >= (i128{1} << (B - 8)));  // and not far above it
  proto::linear_program id;
  id.input_sizes = {4};
  id.result = 0;
  CHECK(proto::bound_bits(id, {}, {}, 64) == 64);
  proto::linear_program pool4;
  pool4.input_sizes = {16};
  pool4.ops = {sumpool(0, shape3{1, 4, 4}, 2, 2, 1)};
  pool4.result = 1;
  CHECK(proto::bound_bits(pool4, {}, {}, 64) == 66);  // < 4 (2^64 - 1) < 2^66
}

TEST_CASE("malformed programs are refused, naming the operator", "[proto][linear]") {
  const auto p = residual_program();
  REQUIRE_NOTHROW(proto::validate(p, "stage 1: "));
  auto bad = p;
  bad.ops[1].src = 3;  // reads its own output
  CHECK_THROWS_WITH(proto::validate(bad, "stage 1: "), Catch::Contains("stage 1: operator 1 (conv2d)") &&
                                                           Catch::Contains("not yet written"));
  bad = p;
  bad.ops[1].out.w += 1;
  CHECK_THROWS_WITH(proto::validate(bad, ""), Catch::Contains("should be"));
  bad = p;
  bad.ops.push_back(dense(4, p.ops[1].out, 4));  // a weighted operator on a weighted value
  bad.result = 5;
  CHECK_THROWS_WITH(proto::validate(bad, ""), Catch::Contains("two weighted operators in series"));
  bad = p;
  bad.result = 9;
  CHECK_THROWS_WITH(proto::validate(bad, ""), Catch::Contains("result slot out of range"));
  bad = p;
  bad.input_sizes[0] -= 1;
  CHECK_THROWS_WITH(proto::validate(bad, ""), Catch::Contains("takes"));
  CHECK_THROWS_WITH((proto::apply<std::uint32_t, std::int64_t>(p, std::vector<std::int64_t>(3), {},
                                                               std::vector<std::uint32_t>(p.in_size()))),
                    Catch::Contains("weights"));
}

TEST_CASE("the cloud's operator-wise Paillier product equals the plaintext program", "[proto][linear][paillier]") {
  auto g = test_prg(4);
  const auto kp = pmdi::paillier::keygen(g, 1024);
  const auto p = residual_program();
  REQUIRE_NOTHROW(proto::validate(p, ""));
  const auto w = random_weights(g, p.weight_count(), 50);
  std::vector<std::int64_t> c(p.in_size());
  for (auto& v : c) v = static_cast<std::int64_t>(g.uniform(1 << 20));
  std::vector<pmdi::paillier::mpz> cm(c.begin(), c.end());
  const auto enc = pmdi::paillier::encrypt_many(kp.pk, std::span<const pmdi::paillier::mpz>(cm), g, 2);
  std::vector<pmdi::paillier::mpz> term(p.out_size());
  std::vector<std::int64_t> t(p.out_size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    t[i] = static_cast<std::int64_t>(g.uniform(1 << 30));
    term[i] = t[i];
  }
  const auto prod = proto::he::apply(kp.pk, p, w, enc, term, g, 2);
  // exact in int64: |A c + 2^5 skip| < 2^20 * (50 * 3 * 3 * 3 + 32), far below 2^63
  const auto want = proto::apply<std::uint64_t, std::int64_t>(
      p, w, {}, std::vector<std::uint64_t>(c.begin(), c.end()));
  REQUIRE(prod.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i)
    CHECK(pmdi::paillier::decrypt(kp.sk, prod[i]).to_int64() == static_cast<std::int64_t>(want[i]) + t[i]);
}
