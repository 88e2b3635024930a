#pragma once
// Lowering a network type plus its weights into the stages the protocol runs.
//
// Each stage's linear run is composed into one integer matrix A_k and bias b_k:
// y = A_k x + b_k, where x is the concatenation of the stage's input tensors
// (inputs[0] = tensor `index`, the stage's own input, then residual skip
// tensors), each CHW-flattened at scale f, and y is at scale e_k = scale_bits.
// In Z_{2^l}: z = trunc(y, shift), then the non-linear ops in order.
// Tensor ids: 0 = network input, k >= 1 = output of stage k - 1.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/sparse.hpp"
#include "pmdi/nn/weights.hpp"
#include "pmdi/plan/costs.hpp"

namespace pmdi::plan {

enum class nonlinear_kind { relu, maxpool, argmax };

struct nonlinear_op {
  nonlinear_kind kind{};
  shape3 in{}, out{};
  std::size_t k = 0, stride = 0;  // maxpool window and stride
};

struct stage_plan {
  std::size_t index = 0;
  std::vector<std::size_t> inputs;  // tensor ids: inputs[0] == index, then skip tensors (residuals)
  std::vector<std::size_t> input_sizes;  // values of each input tensor (A's columns, in that order)
  shape3 in_shape{}, linear_shape{}, out_shape{};
  csr<std::int64_t> A;              // linear_shape.size() rows, sum of input sizes columns
  std::vector<std::int64_t> bias;   // at scale e_k
  unsigned scale_bits = 0;          // e_k
  unsigned shift = 0;               // e_k - f when has_nonlinear, else 0
  std::vector<nonlinear_op> nonlinear;
  bool has_nonlinear = false;
  unsigned bound_bits = 0;          // |A c + b| < 2^bound_bits for every c in [0, 2^l)^cols
  stage_costs costs{};
  std::size_t first_layer = 0, last_layer = 0;  // declared layer indices covered by the stage
};

namespace detail {

struct lin_map {
  csr<std::int64_t> A;
  std::vector<std::int64_t> b;
  unsigned e = 0;
};

// Wrapping int64 arithmetic (exact whenever the static bounds hold).
inline std::int64_t wadd(std::int64_t a, std::int64_t b) noexcept {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}
inline std::int64_t wmul(std::int64_t a, std::int64_t b) noexcept {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
}

inline lin_map identity_map(std::size_t offset, std::size_t n, std::size_t cols, unsigned e) {
  lin_map m;
  m.A.cols = cols;
  m.A.row_ptr.reserve(n + 1);
  m.A.col.reserve(n);
  m.A.val.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    m.A.col.push_back(static_cast<std::uint32_t>(offset + i));
    m.A.val.push_back(1);
    m.A.row_ptr.push_back(static_cast<std::uint32_t>(i + 1));
  }
  m.A.rows = n;
  m.b.assign(n, 0);
  m.e = e;
  return m;
}

// out = Op * src, with Op given row by row: row(r, entries) fills (src row, weight) pairs.
template <class RowFn>
lin_map compose(const lin_map& src, std::size_t rows, RowFn&& row, const std::vector<std::int64_t>& bias, unsigned e) {
  lin_map out;
  out.e = e;
  out.A.cols = src.A.cols;
  out.b.assign(rows, 0);
  std::vector<std::int64_t> acc(src.A.cols, 0);
  std::vector<char> used(src.A.cols, 0);
  std::vector<std::uint32_t> touched;
  std::vector<std::pair<std::uint32_t, std::int64_t>> entries;
  std::vector<std::int64_t> vals;
  for (std::size_t r = 0; r < rows; ++r) {
    entries.clear();
    row(r, entries);
    std::int64_t b = bias.empty() ? 0 : bias[r];
    for (const auto& [j, w] : entries) {
      b = wadd(b, wmul(w, src.b[j]));
      for (std::uint32_t p = src.A.row_ptr[j]; p < src.A.row_ptr[j + 1]; ++p) {
        const std::uint32_t c = src.A.col[p];
        if (!used[c]) {
          used[c] = 1;
          touched.push_back(c);
        }
        acc[c] = wadd(acc[c], wmul(w, src.A.val[p]));
      }
    }
    std::sort(touched.begin(), touched.end());
    vals.clear();
    for (auto c : touched) {
      vals.push_back(acc[c]);
      acc[c] = 0;
      used[c] = 0;
    }
    out.A.push_row(touched, vals);
    touched.clear();
    out.b[r] = b;
  }
  return out;
}

inline lin_map add_maps(const lin_map& a, const lin_map& b) {
  const unsigned e = std::max(a.e, b.e);
  const std::int64_t sa = std::int64_t{1} << (e - a.e), sb = std::int64_t{1} << (e - b.e);
  lin_map out;
  out.e = e;
  out.A.cols = a.A.cols;
  out.b.resize(a.A.rows);
  std::vector<std::int64_t> acc(a.A.cols, 0);
  std::vector<char> used(a.A.cols, 0);
  std::vector<std::uint32_t> touched;
  std::vector<std::int64_t> vals;
  for (std::size_t r = 0; r < a.A.rows; ++r) {
    for (auto [m, s] : {std::pair<const lin_map*, std::int64_t>{&a, sa}, {&b, sb}})
      for (std::uint32_t p = m->A.row_ptr[r]; p < m->A.row_ptr[r + 1]; ++p) {
        const std::uint32_t c = m->A.col[p];
        if (!used[c]) {
          used[c] = 1;
          touched.push_back(c);
        }
        acc[c] = wadd(acc[c], wmul(s, m->A.val[p]));
      }
    std::sort(touched.begin(), touched.end());
    vals.clear();
    for (auto c : touched) {
      vals.push_back(acc[c]);
      acc[c] = 0;
      used[c] = 0;
    }
    out.A.push_row(touched, vals);
    touched.clear();
    out.b[r] = wadd(wmul(a.b[r], sa), wmul(b.b[r], sb));
  }
  return out;
}

[[nodiscard]] inline std::int64_t encode_at(double v, unsigned e) { return std::llround(std::ldexp(v, static_cast<int>(e))); }

__extension__ typedef unsigned __int128 u128;  // row sums of |A| may pass 2^64

inline u128 abs128(std::int64_t v) noexcept {
  return v < 0 ? static_cast<u128>(-(v + 1)) + 1 : static_cast<u128>(v);
}

inline unsigned bits_of(u128 v) noexcept {
  unsigned n = 0;
  while (v != 0) {
    ++n;
    v >>= 1;
  }
  return n;
}

}  // namespace detail

// Lowers Net with weights `w` for Ring. Checks the weights against the declared
// layers (counts, shapes) and against the declared magnitude bound of Bounds;
// throws pmdi::usage_error naming the layer.
template <class Net, class Ring, class Bounds = nn::default_bounds>
[[nodiscard]] std::vector<stage_plan> lower(const nn::model_weights& w) {
  static_assert(checked_v<Net, Ring, Bounds>);
  using net = nn::traits<Net>;
  using sp = split<Net>;
  using cs = costs<Net, Ring>;
  constexpr unsigned f = Ring::frac;
  constexpr unsigned l = Ring::bits;
  const auto folded = nn::fold_batchnorm<Net>(w);
  const auto info = nn::describe<Net>();
  const double wmax = std::ldexp(1.0, static_cast<int>(Bounds::weight_int_bits));
  for (const auto& li : info) {
    if (li.kind != nn::layer_kind::conv2d && li.kind != nn::layer_kind::dense) continue;
    for (const auto& vec : {folded[li.index].weight, folded[li.index].bias})
      for (double v : vec)
        if (!(std::fabs(v) < wmax))
          throw usage_error(nn::detail::where(li) + ": parameter " + std::to_string(v) +
                            " (batchnorm folded) breaks the declared bound |w| < 2^" +
                            std::to_string(Bounds::weight_int_bits) + "; declare a larger weight_int_bits in nn::bounds");
  }

  std::vector<stage_plan> plans;
  const auto& nodes = net::nodes;
  for (std::size_t k = 0; k < sp::count; ++k) {
    const stage_info& st = sp::stages[k];
    stage_plan p;
    p.index = k;
    p.in_shape = st.in_shape;
    p.linear_shape = st.linear_shape;
    p.out_shape = st.out_shape;
    p.has_nonlinear = st.has_nonlinear();
    p.costs = cs::stages[k];
    p.inputs.push_back(k);
    for (std::size_t j = 0; j < st.skip_count; ++j) p.inputs.push_back(st.skips[j]);
    // column offsets of the input tensors
    std::vector<std::size_t> tsize(sp::count + 1);
    tsize[0] = nodes[0].out.size();
    for (std::size_t s = 0; s < sp::count; ++s) tsize[s + 1] = sp::stages[s].out_shape.size();
    std::vector<std::size_t> offset(sp::count + 1, nn::npos);
    std::size_t cols = 0;
    for (auto t : p.inputs) {
      p.input_sizes.push_back(tsize[t]);
      offset[t] = cols;
      cols += tsize[t];
    }
    const std::size_t first_pos = st.has_linear() ? st.lin_first : st.nl_first;
    p.first_layer = nodes[first_pos].index;
    p.last_layer = nodes[st.last()].index;

    detail::lin_map result;
    if (!st.has_linear()) {
      result = detail::identity_map(0, tsize[k], cols, f);
    } else {
      std::vector<detail::lin_map> maps(net::flat_size);
      auto source = [&](std::size_t from) -> detail::lin_map {
        if (nodes[from].linear() && sp::stage_of[from] == k) return maps[from];
        const std::size_t t = sp::tensor_of[from];
        return detail::identity_map(offset[t], tsize[t], cols, f);
      };
      for (std::size_t i = st.lin_first; i <= st.lin_last; ++i) {
        const nn::node& n = nodes[i];
        if (!n.is_layer()) continue;
        const nn::layer_spec& s = n.spec;
        const shape3 in = n.in, out = n.out;
        detail::lin_map src = source(n.src);
        switch (s.kind) {
          case nn::layer_kind::conv2d: {
            const auto& fl = folded[n.index];
            std::vector<std::int64_t> wi(fl.weight.size()), bi(fl.bias.size());
            for (std::size_t q = 0; q < wi.size(); ++q) wi[q] = detail::encode_at(fl.weight[q], f);
            const unsigned e = src.e + f;
            for (std::size_t q = 0; q < bi.size(); ++q) bi[q] = detail::encode_at(fl.bias[q], e);
            std::vector<std::int64_t> brow(out.size());
            for (std::size_t r = 0; r < out.size(); ++r) brow[r] = bi[r / (out.h * out.w)];
            maps[i] = detail::compose(
                src, out.size(),
                [&](std::size_t r, auto& ent) {
                  const std::size_t o = r / (out.h * out.w), y = (r / out.w) % out.h, x = r % out.w;
                  for (std::size_t c = 0; c < in.c; ++c)
                    for (std::size_t ky = 0; ky < s.kernel_h; ++ky) {
                      const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(y * s.stride + ky) - static_cast<std::ptrdiff_t>(s.pad);
                      if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(in.h)) continue;
                      for (std::size_t kx = 0; kx < s.kernel_w; ++kx) {
                        const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(x * s.stride + kx) - static_cast<std::ptrdiff_t>(s.pad);
                        if (ix < 0 || ix >= static_cast<std::ptrdiff_t>(in.w)) continue;
                        ent.emplace_back(static_cast<std::uint32_t>((c * in.h + static_cast<std::size_t>(iy)) * in.w + static_cast<std::size_t>(ix)),
                                         wi[((o * in.c + c) * s.kernel_h + ky) * s.kernel_w + kx]);
                      }
                    }
                },
                brow, e);
            break;
          }
          case nn::layer_kind::dense: {
            const auto& fl = folded[n.index];
            const unsigned e = src.e + f;
            std::vector<std::int64_t> bi(fl.bias.size());
            for (std::size_t q = 0; q < bi.size(); ++q) bi[q] = detail::encode_at(fl.bias[q], e);
            const std::size_t fan = in.size();
            maps[i] = detail::compose(
                src, out.size(),
                [&](std::size_t r, auto& ent) {
                  for (std::size_t j = 0; j < fan; ++j)
                    ent.emplace_back(static_cast<std::uint32_t>(j), detail::encode_at(fl.weight[r * fan + j], f));
                },
                bi, e);
            break;
          }
          case nn::layer_kind::meanpool: {
            const std::size_t kk = s.kernel_h * s.kernel_w;
            const int p2 = pow2_exponent(kk);
            const std::int64_t wv = p2 >= 0 ? 1 : detail::encode_at(1.0 / static_cast<double>(kk), f);
            const unsigned e = p2 >= 0 ? src.e + static_cast<unsigned>(p2) : src.e + f;
            maps[i] = detail::compose(
                src, out.size(),
                [&](std::size_t r, auto& ent) {
                  const std::size_t c = r / (out.h * out.w), y = (r / out.w) % out.h, x = r % out.w;
                  for (std::size_t ky = 0; ky < s.kernel_h; ++ky)
                    for (std::size_t kx = 0; kx < s.kernel_w; ++kx)
                      ent.emplace_back(static_cast<std::uint32_t>((c * in.h + y * s.stride + ky) * in.w + x * s.stride + kx), wv);
                },
                {}, e);
            break;
          }
          case nn::layer_kind::residual_add: maps[i] = detail::add_maps(src, source(n.skip)); break;
          default: maps[i] = std::move(src); break;  // flatten, batchnorm (folded)
        }
      }
      result = std::move(maps[st.lin_last]);
    }
    p.A = std::move(result.A);
    p.bias = std::move(result.b);
    p.scale_bits = result.e;
    p.shift = p.has_nonlinear ? result.e - f : 0;
    if (p.has_nonlinear)
      for (std::size_t i = st.nl_first; i <= st.nl_last; ++i) {
        const nn::node& n = nodes[i];
        nonlinear_op op;
        op.in = n.in;
        op.out = n.out;
        op.kind = n.spec.kind == nn::layer_kind::relu      ? nonlinear_kind::relu
                  : n.spec.kind == nn::layer_kind::maxpool ? nonlinear_kind::maxpool
                                                           : nonlinear_kind::argmax;
        if (op.kind == nonlinear_kind::maxpool) {
          op.k = n.spec.kernel_h;
          op.stride = n.spec.stride;
        }
        p.nonlinear.push_back(op);
      }
    // |A c + b| <= rowsum|A| (2^l - 1) + |b|, the worst row's bit count
    unsigned bb = 0;
    for (std::size_t r = 0; r < p.A.rows; ++r) {
      detail::u128 s = 0;
      for (std::uint32_t q = p.A.row_ptr[r]; q < p.A.row_ptr[r + 1]; ++q) s += detail::abs128(p.A.val[q]);
      const unsigned sb = detail::bits_of(s);
      if (sb + l <= 126)  // exact: rowsum * (2^l - 1) + |b|
        bb = std::max(bb, detail::bits_of(s * ((detail::u128{1} << l) - 1) + detail::abs128(p.bias[r])));
      else
        bb = std::max(bb, std::max(sb + l, detail::bits_of(detail::abs128(p.bias[r]))) + 1);
    }
    p.bound_bits = bb;
    plans.push_back(std::move(p));
  }
  return plans;
}

}  // namespace pmdi::plan
