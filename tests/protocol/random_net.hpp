#pragma once
// Random small networks as protocol stages (conv with odd sizes, stride and
// padding; dense; residual adds; relu, max-pool, argmax), and a plaintext
// fixed-point reference with the oracle's rules: y = A x + b mod 2^l,
// trunc(y, shift) by arithmetic shift, then the non-linear ops on signed values.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "pmdi/core/prg.hpp"
#include "pmdi/core/ring.hpp"
#include "pmdi/proto/circuits.hpp"
#include "pmdi/proto/stage.hpp"

namespace pmdi::test {

inline std::int64_t small(prg& g, std::int64_t mag) {
  return static_cast<std::int64_t>(g.uniform(static_cast<std::uint64_t>(2 * mag + 1))) - mag;
}

// conv2d (c_out, k, stride, pad) over in, weights in [-mag, mag]; appends columns
// starting at col0 into rows; returns the output shape.
inline shape3 conv_rows(prg& g, shape3 in, std::size_t c_out, std::size_t k, std::size_t stride, std::size_t pad,
                        std::int64_t mag, std::vector<std::vector<std::pair<std::uint32_t, std::int64_t>>>& rows) {
  const std::size_t oh = (in.h + 2 * pad - k) / stride + 1, ow = (in.w + 2 * pad - k) / stride + 1;
  std::vector<std::int64_t> w(c_out * in.c * k * k);
  for (auto& x : w) x = small(g, mag);
  for (std::size_t o = 0; o < c_out; ++o)
    for (std::size_t i = 0; i < oh; ++i)
      for (std::size_t j = 0; j < ow; ++j) {
        std::vector<std::pair<std::uint32_t, std::int64_t>> row;
        for (std::size_t c = 0; c < in.c; ++c)
          for (std::size_t di = 0; di < k; ++di)
            for (std::size_t dj = 0; dj < k; ++dj) {
              const auto y = static_cast<std::ptrdiff_t>(i * stride + di) - static_cast<std::ptrdiff_t>(pad);
              const auto x = static_cast<std::ptrdiff_t>(j * stride + dj) - static_cast<std::ptrdiff_t>(pad);
              if (y < 0 || x < 0 || y >= static_cast<std::ptrdiff_t>(in.h) || x >= static_cast<std::ptrdiff_t>(in.w)) continue;
              row.emplace_back(static_cast<std::uint32_t>((c * in.h + static_cast<std::size_t>(y)) * in.w + static_cast<std::size_t>(x)),
                               w[((o * in.c + c) * k + di) * k + dj]);
            }
        rows.push_back(std::move(row));
      }
  return shape3{c_out, oh, ow};
}

inline csr<std::int64_t> to_csr(const std::vector<std::vector<std::pair<std::uint32_t, std::int64_t>>>& rows,
                                std::size_t cols) {
  csr<std::int64_t> a;
  a.cols = cols;
  for (auto r : rows) {
    std::sort(r.begin(), r.end());
    std::vector<std::uint32_t> c;
    std::vector<std::int64_t> v;
    for (auto& [ci, vi] : r) c.push_back(ci), v.push_back(vi);
    a.push_row(c, v);
  }
  return a;
}

struct random_net {
  std::vector<proto::stage> stages;
  std::size_t input_size = 0;
};

// Stage kinds cycled by `variant`: conv+relu(+maxpool), conv with residual,
// dense+relu, final dense (linear) or dense+argmax.
inline random_net make_random_net(prg& g, unsigned frac, int variant) {
  random_net net;
  const std::int64_t mag = std::int64_t{1} << (frac - 1);  // weights in [-0.5, 0.5] at scale 2^f
  shape3 in{static_cast<std::size_t>(1 + variant % 2), 7, 7};
  net.input_size = in.size();
  std::vector<shape3> shapes{in};
  auto add = [&](std::vector<std::size_t> inputs, csr<std::int64_t> a, shape3 lin, std::vector<proto::nonlinear_op> ops,
                 unsigned shift) {
    proto::stage s;
    for (auto t : inputs) s.pub.linear.input_sizes.push_back(shapes[t].size());
    s.pub.inputs = std::move(inputs);
    s.pub.linear_out = lin;
    s.pub.out = proto::ops_output_shape(ops, lin);
    proto::linear_op m;  // a general sparse map over the concatenated inputs
    m.kind = proto::linear_kind::matrix;
    m.in = shape3{a.cols, 1, 1};
    m.out = lin;
    m.pattern = proto::sparsity::of(a);
    s.pub.linear.ops.push_back(m);
    s.pub.linear.result = s.pub.linear.inputs();
    s.pub.shift = shift;
    s.pub.ops = std::move(ops);
    s.bias.resize(a.rows);
    for (auto& b : s.bias) b = small(g, mag << frac);
    s.weights = std::move(a.val);
    shapes.push_back(s.pub.out);
    net.stages.push_back(std::move(s));
  };
  // Stage 0: conv 3x3 (c=3), stride 1, pad 1, relu, maxpool 2 stride 2 -> 3x3x3.
  {
    std::vector<std::vector<std::pair<std::uint32_t, std::int64_t>>> rows;
    const shape3 o = conv_rows(g, in, 3, 3, 1, 1, mag, rows);
    add({0}, to_csr(rows, in.size()), o, {{proto::op_kind::relu}, {proto::op_kind::maxpool, 2, 2}}, frac);
  }
  // Stage 1: conv 3x3 stride 1 pad 1 on tensor 1, plus residual of tensor 1 (identity at scale 2^f).
  {
    const shape3 s1 = shapes[1];
    std::vector<std::vector<std::pair<std::uint32_t, std::int64_t>>> rows;
    const shape3 o = conv_rows(g, s1, s1.c, 3, 1, 1, mag, rows);
    for (std::size_t r = 0; r < rows.size(); ++r)
      rows[r].emplace_back(static_cast<std::uint32_t>(s1.size() + r), std::int64_t{1} << frac);
    add({1, 1}, to_csr(rows, 2 * s1.size()), o, {{proto::op_kind::relu}}, frac);
  }
  // Stage 2: conv 2x2 stride 2 pad 0 from tensor 2 plus a skip from tensor 1 (odd size 3x3 -> 1x1).
  {
    const shape3 s2 = shapes[2];
    std::vector<std::vector<std::pair<std::uint32_t, std::int64_t>>> rows;
    const shape3 o = conv_rows(g, s2, 5, 2, 2, 0, mag, rows);
    for (auto& r : rows) r.emplace_back(static_cast<std::uint32_t>(s2.size() + r.size() % shapes[1].size()), mag);
    add({2, 1}, to_csr(rows, s2.size() + shapes[1].size()), o, {{proto::op_kind::relu}}, frac);
  }
  // Stage 3: dense to 4 outputs; linear (variant even) or argmax (variant odd).
  {
    const std::size_t n = shapes.back().size();
    std::vector<std::vector<std::pair<std::uint32_t, std::int64_t>>> rows(4);
    for (auto& r : rows)
      for (std::size_t c = 0; c < n; ++c) r.emplace_back(static_cast<std::uint32_t>(c), small(g, mag));
    if (variant % 2 == 0)
      add({3}, to_csr(rows, n), shape3{4, 1, 1}, {}, 0);
    else
      add({3}, to_csr(rows, n), shape3{4, 1, 1}, {{proto::op_kind::argmax}}, frac);
  }
  return net;
}

// Plaintext fixed-point reference.
template <class Ring>
std::vector<typename Ring::value_type> reference(const random_net& net, const std::vector<typename Ring::value_type>& x) {
  using V = typename Ring::value_type;
  std::vector<std::vector<V>> t{x};
  for (const auto& st : net.stages) {
    std::vector<V> in;
    for (auto i : st.pub.inputs) in.insert(in.end(), t[i].begin(), t[i].end());
    const auto& pat = st.pub.linear.ops.at(0).pattern;
    const csr<std::int64_t> a{pat.rows, pat.cols, pat.row_ptr, pat.col, st.weights};
    std::vector<V> y(a.rows);
    a.multiply<V, V>(std::span<const V>(in), std::span<V>(y));
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = Ring::trunc(static_cast<V>(y[i] + static_cast<V>(st.bias[i])), st.pub.shift);
    shape3 sh = st.pub.linear_out;
    for (const auto& op : st.pub.ops) {
      const shape3 o = proto::op_output_shape(op, sh);
      if (op.kind == proto::op_kind::relu) {
        for (auto& v : y) v = Ring::to_signed(v) < 0 ? V{0} : v;
      } else if (op.kind == proto::op_kind::maxpool) {
        std::vector<V> z(o.size());
        for (std::size_t c = 0; c < o.c; ++c)
          for (std::size_t i = 0; i < o.h; ++i)
            for (std::size_t j = 0; j < o.w; ++j) {
              auto best = Ring::to_signed(y[(c * sh.h + i * op.stride) * sh.w + j * op.stride]);
              for (std::size_t di = 0; di < op.k; ++di)
                for (std::size_t dj = 0; dj < op.k; ++dj)
                  best = std::max(best, Ring::to_signed(y[(c * sh.h + i * op.stride + di) * sh.w + j * op.stride + dj]));
              z[(c * o.h + i) * o.w + j] = static_cast<V>(best);
            }
        y = std::move(z);
      } else {
        std::size_t best = 0;
        for (std::size_t i = 1; i < y.size(); ++i)
          if (Ring::to_signed(y[i]) > Ring::to_signed(y[best])) best = i;
        y = {static_cast<V>(best)};
      }
      sh = o;
    }
    t.push_back(std::move(y));
  }
  return t.back();
}

}  // namespace pmdi::test
