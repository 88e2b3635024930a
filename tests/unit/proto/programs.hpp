#pragma once
// Small linear programs and random inputs shared by the proto tests.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pmdi/core/prg.hpp"
#include "pmdi/core/tensor.hpp"
#include "pmdi/proto/linear.hpp"

namespace pmdi::test_programs {

namespace proto = pmdi::proto;
using pmdi::shape3;

inline pmdi::prg test_prg(std::uint8_t v) {
  pmdi::seed s{};
  s[0] = std::byte{v};
  return pmdi::prg(s);
}

inline std::int64_t small(pmdi::prg& g, std::int64_t mag) {
  return static_cast<std::int64_t>(g.uniform(static_cast<std::uint64_t>(2 * mag + 1))) - mag;
}

inline proto::linear_op conv(std::size_t src, shape3 in, std::size_t oc, std::size_t kh, std::size_t kw, std::size_t stride,
                      std::size_t pad) {
  proto::linear_op o;
  o.kind = proto::linear_kind::conv2d;
  o.src = src;
  o.in = in;
  o.kernel_h = kh;
  o.kernel_w = kw;
  o.stride = stride;
  o.pad = pad;
  o.out = shape3{oc, (in.h + 2 * pad - kh) / stride + 1, (in.w + 2 * pad - kw) / stride + 1};
  return o;
}

inline proto::linear_op sumpool(std::size_t src, shape3 in, std::size_t k, std::size_t stride, std::int64_t factor) {
  proto::linear_op o;
  o.kind = proto::linear_kind::sumpool;
  o.src = src;
  o.in = in;
  o.kernel_h = o.kernel_w = k;
  o.stride = stride;
  o.factor = factor;
  o.out = shape3{in.c, (in.h - k) / stride + 1, (in.w - k) / stride + 1};
  return o;
}

inline proto::linear_op dense(std::size_t src, shape3 in, std::size_t n) {
  proto::linear_op o;
  o.kind = proto::linear_kind::dense;
  o.src = src;
  o.in = in;
  o.out = shape3{n, 1, 1};
  return o;
}

inline proto::linear_op add(std::size_t a, std::size_t b, shape3 s, unsigned sa, unsigned sb) {
  proto::linear_op o;
  o.kind = proto::linear_kind::add;
  o.src = a;
  o.src2 = b;
  o.in = o.out = s;
  o.shift_a = sa;
  o.shift_b = sb;
  return o;
}

// A stage of ResNet's shape: sum-pool of input 0, a convolution with a
// rectangular kernel on it (slot 3), and input 1 (a skip of the convolution's
// shape) added at 2^5 its scale (slot 4).
inline proto::linear_program residual_program() {
  proto::linear_program p;
  const shape3 x{3, 9, 7};
  p.ops.push_back(sumpool(0, x, 2, 1, 3));                   // slot 2: 3x8x6
  p.ops.push_back(conv(2, p.ops[0].out, 5, 3, 1, 1, 1));     // slot 3: 5x8x8
  p.ops.push_back(add(3, 1, p.ops[1].out, 0, 5));            // slot 4
  p.input_sizes = {x.size(), p.ops[1].out.size()};
  p.result = 4;
  return p;
}

template <class V>
std::vector<V> random_words(pmdi::prg& g, std::size_t n) {
  std::vector<V> v(n);
  for (auto& x : v) x = static_cast<V>(g.next<std::uint64_t>());
  return v;
}

inline std::vector<std::int64_t> random_weights(pmdi::prg& g, std::size_t n, std::int64_t mag) {
  std::vector<std::int64_t> w(n);
  for (auto& x : w) x = small(g, mag);
  return w;
}

}  // namespace pmdi::test_programs
