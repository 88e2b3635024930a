#pragma once
// The linear part of a stage as a short program of operators, never as a
// composed matrix: conv2d, dense, sum-pool (mean-pool at a public scale),
// residual add with scale alignment, and a general sparse matrix with a
// public pattern (for maps that are none of these). Each weighted operator
// keeps its weights once, densely; the program's public part (shapes,
// kernel sizes, which slot each operator reads) is what every party knows.
//
// Slots: 0 .. inputs-1 are the stage's input tensors (in `public_stage::inputs`
// order), slot inputs + i is the output of operator i; `result` names the
// slot that is the stage's linear output A_k x (+ b_k).
//
// One implementation of each operator's arithmetic (`apply`), generic over
// the element type: Z_2^l words (the oracle, and the garbler and compute
// servers on shares, wrapping), and the enumeration of each output's taps as
// (input, weight) pairs (`rows`) that the cloud's Paillier products take.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/pool.hpp"
#include "pmdi/core/sparse.hpp"
#include "pmdi/core/tensor.hpp"

namespace pmdi::proto {

enum class linear_kind : std::uint8_t { conv2d, dense, sumpool, add, matrix };

[[nodiscard]] inline const char* linear_kind_name(linear_kind k) noexcept {
  switch (k) {
    case linear_kind::conv2d: return "conv2d";
    case linear_kind::dense: return "dense";
    case linear_kind::sumpool: return "sumpool";
    case linear_kind::add: return "add";
    case linear_kind::matrix: return "matrix";
  }
  return "?";
}

// Row pointers and columns of a CSR matrix, without its values.
struct sparsity {
  std::size_t rows = 0, cols = 0;
  std::vector<std::uint32_t> row_ptr{0};
  std::vector<std::uint32_t> col;
  [[nodiscard]] std::size_t nnz() const noexcept { return col.size(); }
  template <class T>
  [[nodiscard]] static sparsity of(const csr<T>& a) {
    return sparsity{a.rows, a.cols, a.row_ptr, a.col};
  }
  friend bool operator==(const sparsity&, const sparsity&) = default;
};

struct linear_op {
  linear_kind kind = linear_kind::dense;
  std::size_t src = 0, src2 = 0;       // slots read (src2: add only)
  shape3 in{}, out{};                  // shape of src and of the result (add: both sources are `out`)
  std::size_t kernel_h = 0, kernel_w = 0, stride = 1, pad = 0;  // conv2d, sumpool
  std::int64_t factor = 1;             // sumpool: the public weight of every tap
  unsigned shift_a = 0, shift_b = 0;   // add: out = src * 2^shift_a + src2 * 2^shift_b
  sparsity pattern{};                  // matrix: rows = out.size(), cols = in.size()
                                       // (a matrix reads all the stage's inputs, concatenated; src unused)
  friend bool operator==(const linear_op&, const linear_op&) = default;

  // Private weights and biases this operator holds (the cloud's model).
  [[nodiscard]] std::size_t weight_count() const noexcept {
    switch (kind) {
      case linear_kind::conv2d: return out.c * in.c * kernel_h * kernel_w;
      case linear_kind::dense: return out.size() * in.size();
      case linear_kind::matrix: return pattern.nnz();
      default: return 0;
    }
  }
  [[nodiscard]] std::size_t bias_count() const noexcept {
    switch (kind) {
      case linear_kind::conv2d: return out.c;
      case linear_kind::dense: return out.size();
      case linear_kind::matrix: return out.size();
      default: return 0;
    }
  }
  // Multiply-accumulates of one application (taps inside the padding excluded).
  [[nodiscard]] std::size_t macs() const noexcept {
    switch (kind) {
      case linear_kind::conv2d: {
        std::size_t taps = 0;
        for (std::size_t y = 0; y < out.h; ++y)
          for (std::size_t ky = 0; ky < kernel_h; ++ky) {
            const auto iy = static_cast<std::ptrdiff_t>(y * stride + ky) - static_cast<std::ptrdiff_t>(pad);
            if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(in.h)) continue;
            for (std::size_t x = 0; x < out.w; ++x)
              for (std::size_t kx = 0; kx < kernel_w; ++kx) {
                const auto ix = static_cast<std::ptrdiff_t>(x * stride + kx) - static_cast<std::ptrdiff_t>(pad);
                taps += ix >= 0 && ix < static_cast<std::ptrdiff_t>(in.w);
              }
          }
        return taps * in.c * out.c;
      }
      case linear_kind::dense: return out.size() * in.size();
      case linear_kind::matrix: return pattern.nnz();
      default: return 0;
    }
  }
};

struct linear_program {
  std::vector<std::size_t> input_sizes;  // slots 0 .. inputs-1
  std::vector<linear_op> ops;            // op i writes slot inputs + i
  std::size_t result = 0;                // the slot that is the linear output
  friend bool operator==(const linear_program&, const linear_program&) = default;

  [[nodiscard]] std::size_t inputs() const noexcept { return input_sizes.size(); }
  [[nodiscard]] std::size_t in_size() const noexcept {
    std::size_t n = 0;
    for (auto s : input_sizes) n += s;
    return n;
  }
  [[nodiscard]] std::size_t slot_size(std::size_t s) const {
    return s < inputs() ? input_sizes.at(s) : ops.at(s - inputs()).out.size();
  }
  [[nodiscard]] std::size_t out_size() const { return slot_size(result); }
  [[nodiscard]] std::size_t weight_count() const noexcept {
    std::size_t n = 0;
    for (const auto& o : ops) n += o.weight_count();
    return n;
  }
  [[nodiscard]] std::size_t bias_count() const noexcept {
    std::size_t n = 0;
    for (const auto& o : ops) n += o.bias_count();
    return n;
  }
  [[nodiscard]] std::size_t macs() const noexcept {
    std::size_t n = 0;
    for (const auto& o : ops) n += o.macs();
    return n;
  }
};

// Checks the program's public structure; throws usage_error naming the operator.
inline void validate(const linear_program& p, const std::string& where) {
  if (p.inputs() == 0) throw usage_error(where + "a linear program needs at least one input");
  for (std::size_t i = 0; i < p.ops.size(); ++i) {
    const auto& o = p.ops[i];
    const std::string at = where + "operator " + std::to_string(i) + " (" + linear_kind_name(o.kind) + "): ";
    const std::size_t self = p.inputs() + i;
    if (o.src >= self || (o.kind == linear_kind::add && o.src2 >= self))
      throw usage_error(at + "reads a slot not yet written");
    const std::size_t given = o.kind == linear_kind::matrix ? p.in_size() : p.slot_size(o.src);
    if (given != (o.kind == linear_kind::add ? o.out.size() : o.in.size()))
      throw usage_error(at + "its input has " + std::to_string(given) + " values, it takes " +
                        std::to_string(o.in.size()));
    if (o.out.size() == 0) throw usage_error(at + "empty output");
    switch (o.kind) {
      case linear_kind::conv2d:
      case linear_kind::sumpool: {
        if (o.kernel_h == 0 || o.kernel_w == 0 || o.stride == 0) throw usage_error(at + "zero kernel or stride");
        if (o.in.h + 2 * o.pad < o.kernel_h || o.in.w + 2 * o.pad < o.kernel_w)
          throw usage_error(at + "kernel larger than the padded input");
        const shape3 want{o.kind == linear_kind::conv2d ? o.out.c : o.in.c,
                          (o.in.h + 2 * o.pad - o.kernel_h) / o.stride + 1,
                          (o.in.w + 2 * o.pad - o.kernel_w) / o.stride + 1};
        if (!(want == o.out)) throw usage_error(at + "output " + o.out.str() + " should be " + want.str());
        break;
      }
      case linear_kind::dense: break;
      case linear_kind::add:
        if (p.slot_size(o.src2) != o.out.size()) throw usage_error(at + "the two summands differ in size");
        if (o.shift_a >= 64 || o.shift_b >= 64) throw usage_error(at + "scale shift of 64 bits or more");
        break;
      case linear_kind::matrix: {
        const auto& s = o.pattern;
        if (s.rows != o.out.size() || s.cols != o.in.size()) throw usage_error(at + "pattern does not match the shapes");
        if (s.row_ptr.size() != s.rows + 1 || s.row_ptr.front() != 0 || s.row_ptr.back() != s.nnz())
          throw usage_error(at + "malformed sparsity pattern");
        for (std::size_t r = 0; r < s.rows; ++r)
          if (s.row_ptr[r] > s.row_ptr[r + 1]) throw usage_error(at + "malformed sparsity pattern");
        for (auto c : s.col)
          if (c >= s.cols) throw usage_error(at + "column index out of range");
        break;
      }
    }
  }
  if (p.result >= p.inputs() + p.ops.size()) throw usage_error(where + "result slot out of range");
  // weights applied to a weighted value would make the holders' results
  // products of shares, not shares of the product
  std::vector<char> weighted(p.inputs() + p.ops.size(), 0);
  for (std::size_t i = 0; i < p.ops.size(); ++i) {
    const auto& o = p.ops[i];
    const bool w = o.weight_count() != 0 || o.kind == linear_kind::matrix;
    if (w && o.kind != linear_kind::matrix && weighted[o.src])
      throw usage_error(where + "operator " + std::to_string(i) + " (" + linear_kind_name(o.kind) +
                        "): two weighted operators in series");
    weighted[p.inputs() + i] = static_cast<char>(w || weighted[o.src] || (o.kind == linear_kind::add && weighted[o.src2]));
  }
}

namespace detail {

// Calls tap(out_index, in_index, weight_index) for every tap of a conv2d or
// sumpool window (weight_index: into the o x c x kh x kw weights; sumpool: 0).
template <class Tap>
void for_each_window_tap(const linear_op& o, std::size_t out_index, Tap&& tap) {
  const std::size_t oc = out_index / (o.out.h * o.out.w), y = (out_index / o.out.w) % o.out.h, x = out_index % o.out.w;
  const bool conv = o.kind == linear_kind::conv2d;
  const std::size_t channels = conv ? o.in.c : 1;
  for (std::size_t c = 0; c < channels; ++c) {
    const std::size_t ic = conv ? c : oc;
    for (std::size_t ky = 0; ky < o.kernel_h; ++ky) {
      const auto iy = static_cast<std::ptrdiff_t>(y * o.stride + ky) - static_cast<std::ptrdiff_t>(o.pad);
      if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(o.in.h)) continue;
      for (std::size_t kx = 0; kx < o.kernel_w; ++kx) {
        const auto ix = static_cast<std::ptrdiff_t>(x * o.stride + kx) - static_cast<std::ptrdiff_t>(o.pad);
        if (ix < 0 || ix >= static_cast<std::ptrdiff_t>(o.in.w)) continue;
        const std::size_t in = (ic * o.in.h + static_cast<std::size_t>(iy)) * o.in.w + static_cast<std::size_t>(ix);
        tap(in, conv ? ((oc * o.in.c + c) * o.kernel_h + ky) * o.kernel_w + kx : 0);
      }
    }
  }
}

template <class T>
[[nodiscard]] inline T pow2(unsigned s) noexcept {
  return static_cast<T>(std::uint64_t{1} << s);
}

// conv2d over T: y = W x. The input is copied zero-padded (hp x wp, rows of
// wp = in.w + 2 pad), so that one kernel tap (c, ky, kx) adds w * x to every
// output in one run over oh * wp values (output row yy, column xx at
// yy * wp + xx; the columns from out.w to wp are computed and dropped). A
// run is read once for G output channels at a time, in pieces of Q values
// that keep the G accumulators in the L1 cache; the groups of output
// channels run on up to `threads` threads (parallel_for: 0 is all).
template <class T, class W>
void conv2d_padded_runs(const linear_op& o, std::span<const W> w, std::span<const T> x, std::span<T> y, unsigned threads) {
  constexpr std::size_t G = 4, Q = 512;
  const std::size_t oh = o.out.h, ow = o.out.w, ih = o.in.h, iw = o.in.w, s = o.stride, taps = o.kernel_h * o.kernel_w;
  const std::size_t hp = ih + 2 * o.pad, wp = iw + 2 * o.pad, run = oh * wp;
  // the last run of the last tap reads below s * run + kernel_h * wp + kernel_w <= padded
  const std::size_t padded = (hp + o.kernel_h + s) * wp + o.kernel_w;
  std::vector<T> xp(o.in.c * padded, T{});
  for (std::size_t c = 0; c < o.in.c; ++c)
    for (std::size_t r = 0; r < ih; ++r)
      std::copy_n(x.begin() + static_cast<std::ptrdiff_t>((c * ih + r) * iw), iw,
                  xp.begin() + static_cast<std::ptrdiff_t>(c * padded + (r + o.pad) * wp + o.pad));
  const auto group = [&](std::size_t gi) {
    const std::size_t oc0 = gi * G, gn = std::min(G, o.out.c - oc0);
    std::vector<T> acc(G * run, T{});
    for (std::size_t q0 = 0; q0 < run; q0 += Q) {
      const std::size_t n = std::min(run, q0 + Q) - q0;
      for (std::size_t c = 0; c < o.in.c; ++c)
        for (std::size_t ky = 0; ky < o.kernel_h; ++ky)
          for (std::size_t kx = 0; kx < o.kernel_w; ++kx) {
            T wv[G]{};
            bool any = false;
            for (std::size_t g = 0; g < gn; ++g) {
              wv[g] = static_cast<T>(w[((oc0 + g) * o.in.c + c) * taps + ky * o.kernel_w + kx]);
              any = any || wv[g] != T{};
            }
            if (!any) continue;
            const T* __restrict src = xp.data() + c * padded + ky * wp + kx + s * q0;
            T* __restrict d0 = acc.data() + q0;
            T* __restrict d1 = d0 + run;
            T* __restrict d2 = d1 + run;
            T* __restrict d3 = d2 + run;
            const T w0 = wv[0], w1 = wv[1], w2 = wv[2], w3 = wv[3];
            if (s == 1) {
              for (std::size_t q = 0; q < n; ++q) {
                const T v = src[q];
                d0[q] += w0 * v;
                d1[q] += w1 * v;
                d2[q] += w2 * v;
                d3[q] += w3 * v;
              }
            } else {
              for (std::size_t q = 0; q < n; ++q) {
                const T v = src[s * q];
                d0[q] += w0 * v;
                d1[q] += w1 * v;
                d2[q] += w2 * v;
                d3[q] += w3 * v;
              }
            }
          }
    }
    for (std::size_t g = 0; g < gn; ++g)
      for (std::size_t r = 0; r < oh; ++r)
        std::copy_n(acc.begin() + static_cast<std::ptrdiff_t>(g * run + r * wp), ow,
                    y.begin() + static_cast<std::ptrdiff_t>(((oc0 + g) * oh + r) * ow));
  };
  const std::size_t groups = (o.out.c + G - 1) / G;
  if (threads == 1) {
    for (std::size_t gi = 0; gi < groups; ++gi) group(gi);
  } else {
    parallel_for(groups, threads, group);
  }
}

// y = W x for one weighted or public operator over T (wrapping for unsigned
// words). x: the operator's source slot; x2: add's second source. conv2d and
// dense run on up to `threads` threads.
template <class T, class W>
void apply_op(const linear_op& o, std::span<const W> w, std::span<const T> x, std::span<const T> x2, std::span<T> y,
              unsigned threads = 1) {
  switch (o.kind) {
    case linear_kind::conv2d:
      conv2d_padded_runs<T, W>(o, w, x, y, threads);
      break;
    case linear_kind::dense: {
      const std::size_t n = x.size();
      const auto row = [&](std::size_t r) {
        const W* wr = w.data() + r * n;
        T acc{};
        for (std::size_t j = 0; j < n; ++j) acc += static_cast<T>(wr[j]) * x[j];
        y[r] = acc;
      };
      if (threads == 1 || y.size() * n < (std::size_t{1} << 16)) {
        for (std::size_t r = 0; r < y.size(); ++r) row(r);
      } else {
        parallel_for(y.size(), threads, row);
      }
      break;
    }
    case linear_kind::sumpool: {
      const T f = static_cast<T>(o.factor);
      for (std::size_t r = 0; r < y.size(); ++r) {
        T acc{};
        for_each_window_tap(o, r, [&](std::size_t i, std::size_t) { acc += x[i]; });
        y[r] = f * acc;
      }
      break;
    }
    case linear_kind::add: {
      const T a = pow2<T>(o.shift_a), b = pow2<T>(o.shift_b);
      for (std::size_t r = 0; r < y.size(); ++r) y[r] = a * x[r] + b * x2[r];
      break;
    }
    case linear_kind::matrix: {
      const auto& p = o.pattern;
      for (std::size_t r = 0; r < p.rows; ++r) {
        T acc{};
        for (std::uint32_t i = p.row_ptr[r]; i < p.row_ptr[r + 1]; ++i) acc += static_cast<T>(w[i]) * x[p.col[i]];
        y[r] = acc;
      }
      break;
    }
  }
}

// Adds a weighted operator's bias (conv2d: one per output channel).
template <class T, class W>
void add_bias(const linear_op& o, std::span<const W> b, std::span<T> y) {
  if (o.kind == linear_kind::conv2d) {
    const std::size_t plane = o.out.h * o.out.w;
    for (std::size_t r = 0; r < y.size(); ++r) y[r] += static_cast<T>(b[r / plane]);
  } else {
    for (std::size_t r = 0; r < y.size(); ++r) y[r] += static_cast<T>(b[r]);
  }
}

}  // namespace detail

// The program's linear output over T. `x` holds the input slots concatenated
// (public_stage::inputs order); `w` the weights of every weighted operator in
// operator order; `b` their biases likewise, or empty for none (the share
// holders compute A z without b: the cloud folds b_k into its mask term).
//
// Additive shares of A: the weighted operators are linear in their weights,
// so the holders' results with shares [W]_v add up to A z. A path from an
// input to the output through public operators only (a residual's identity
// skip, a stage with no weighted operator) has no shared weight: exactly one
// holder may count it, or it would be added T + 1 times. Every slot is kept
// as its public part and its weighted part; `public_paths` says whether the
// public part is counted in the result (the oracle and the cloud: always; of
// the holders: only the garbler). The weighted operators run on up to
// `threads` threads; the result does not depend on how many.
template <class T, class W>
[[nodiscard]] std::vector<T> apply(const linear_program& p, std::span<const W> w, std::span<const W> b,
                                   std::span<const T> x, bool public_paths = true, unsigned threads = 1) {
  if (x.size() != p.in_size())
    throw usage_error("linear program: input has " + std::to_string(x.size()) + " values, it takes " +
                      std::to_string(p.in_size()));
  if (w.size() != p.weight_count() || (!b.empty() && b.size() != p.bias_count()))
    throw usage_error("linear program: " + std::to_string(w.size()) + " weights and " + std::to_string(b.size()) +
                      " biases given, it takes " + std::to_string(p.weight_count()) + " and " +
                      std::to_string(p.bias_count()));
  struct value {  // an empty part is zero
    std::vector<T> pub, wtd;
  };
  std::vector<value> slot(p.inputs() + p.ops.size());
  std::size_t at = 0;
  for (std::size_t i = 0; i < p.inputs(); ++i) {
    slot[i].pub.assign(x.begin() + static_cast<std::ptrdiff_t>(at), x.begin() + static_cast<std::ptrdiff_t>(at + p.input_sizes[i]));
    at += p.input_sizes[i];
  }
  // a public operator on one part of its sources
  auto public_op = [&](const linear_op& o, const std::vector<T>& a, const std::vector<T>& a2) {
    std::vector<T> y;
    if (a.empty() && a2.empty()) return y;
    y.resize(o.out.size());
    const std::vector<T> za = a.empty() ? std::vector<T>(p.slot_size(o.src)) : std::vector<T>();
    const std::vector<T> zb = o.kind == linear_kind::add && a2.empty() ? std::vector<T>(o.out.size()) : std::vector<T>();
    detail::apply_op<T, W>(o, std::span<const W>{}, a.empty() ? std::span<const T>(za) : std::span<const T>(a),
                           o.kind == linear_kind::add ? (a2.empty() ? std::span<const T>(zb) : std::span<const T>(a2))
                                                      : std::span<const T>{},
                           std::span<T>(y));
    return y;
  };
  std::size_t wat = 0, bat = 0;
  for (std::size_t i = 0; i < p.ops.size(); ++i) {
    const auto& o = p.ops[i];
    value& out = slot[p.inputs() + i];
    const bool weighted = o.weight_count() != 0 || o.kind == linear_kind::matrix;
    if (weighted) {
      std::vector<T> in;  // public part of the source (all inputs for a matrix)
      if (o.kind == linear_kind::matrix) {
        in.assign(x.begin(), x.end());
      } else {
        if (!slot[o.src].wtd.empty())
          throw usage_error("linear program: operator " + std::to_string(i) +
                            " applies weights to a weighted value (two weighted operators in series)");
        in = slot[o.src].pub;
        if (in.empty()) in.assign(p.slot_size(o.src), T{});
      }
      out.wtd.resize(o.out.size());
      detail::apply_op<T, W>(o, w.subspan(wat, o.weight_count()), std::span<const T>(in), std::span<const T>{},
                             std::span<T>(out.wtd), threads);
      if (!b.empty() && o.bias_count() != 0) detail::add_bias<T, W>(o, b.subspan(bat, o.bias_count()), std::span<T>(out.wtd));
    } else {
      static const std::vector<T> none;
      const value& a = slot[o.src];
      const value& a2 = o.kind == linear_kind::add ? slot[o.src2] : slot[o.src];
      out.pub = public_op(o, a.pub, o.kind == linear_kind::add ? a2.pub : none);
      out.wtd = public_op(o, a.wtd, o.kind == linear_kind::add ? a2.wtd : none);
    }
    wat += o.weight_count();
    bat += o.bias_count();
    // drop slots no later operator reads (memory of long programs)
    for (std::size_t s = 0; s < p.inputs() + i; ++s) {
      if (s == p.result || (slot[s].pub.empty() && slot[s].wtd.empty())) continue;
      bool read = false;
      for (std::size_t j = i + 1; j < p.ops.size() && !read; ++j)
        read = p.ops[j].kind == linear_kind::matrix || p.ops[j].src == s ||
               (p.ops[j].kind == linear_kind::add && p.ops[j].src2 == s);
      if (!read) slot[s] = value{};
    }
  }
  value& r = slot[p.result];
  std::vector<T> y(p.out_size(), T{});
  if (!r.wtd.empty()) y = std::move(r.wtd);
  if (public_paths && !r.pub.empty())
    for (std::size_t i = 0; i < y.size(); ++i) y[i] += r.pub[i];
  return y;
}

// The taps of operator `o` as a CSR matrix over its source slot (add: over
// [src; src2]; matrix: over all inputs) with signed integer weights `w` (the cloud's Paillier products
// run one such matrix per operator). Zero weights are left out unless
// keep_zeros (then the pattern depends on the shapes alone).
[[nodiscard]] inline csr<std::int64_t> rows(const linear_op& o, std::span<const std::int64_t> w, bool keep_zeros = false) {
  csr<std::int64_t> m;
  m.cols = o.kind == linear_kind::add ? 2 * o.out.size() : o.in.size();
  m.row_ptr.reserve(o.out.size() + 1);
  std::vector<std::uint32_t> c;
  std::vector<std::int64_t> v;
  for (std::size_t r = 0; r < o.out.size(); ++r) {
    c.clear();
    v.clear();
    switch (o.kind) {
      case linear_kind::conv2d:
        detail::for_each_window_tap(o, r, [&](std::size_t i, std::size_t wi) {
          if (w[wi] == 0 && !keep_zeros) return;
          c.push_back(static_cast<std::uint32_t>(i));
          v.push_back(w[wi]);
        });
        break;
      case linear_kind::sumpool:
        detail::for_each_window_tap(o, r, [&](std::size_t i, std::size_t) {
          c.push_back(static_cast<std::uint32_t>(i));
          v.push_back(o.factor);
        });
        break;
      case linear_kind::dense:
        for (std::size_t j = 0; j < o.in.size(); ++j)
          if (const auto wv = w[r * o.in.size() + j]; wv != 0 || keep_zeros) {
            c.push_back(static_cast<std::uint32_t>(j));
            v.push_back(wv);
          }
        break;
      case linear_kind::add:
        c = {static_cast<std::uint32_t>(r), static_cast<std::uint32_t>(o.out.size() + r)};
        v = {std::int64_t{1} << o.shift_a, std::int64_t{1} << o.shift_b};
        break;
      case linear_kind::matrix:
        for (std::uint32_t i = o.pattern.row_ptr[r]; i < o.pattern.row_ptr[r + 1]; ++i)
          if (w[i] != 0 || keep_zeros) {
            c.push_back(o.pattern.col[i]);
            v.push_back(w[i]);
          }
        break;
    }
    m.push_row(c, v);
  }
  return m;
}

// An upper bound on |A x + b| over the program's outputs when every input
// value has |x| < 2^in_bits: the operators' infinity norms (largest sum of
// |weights| over one output) compose, in exact 128-bit integers (saturating
// at 2^127, far beyond any Paillier modulus the cloud accepts). Returns the
// smallest B with |A x + b| < 2^B for this bound.
[[nodiscard]] inline unsigned bound_bits(const linear_program& p, std::span<const std::int64_t> w,
                                         std::span<const std::int64_t> b, unsigned in_bits) {
  __extension__ typedef unsigned __int128 u128;
  constexpr u128 cap = u128{1} << 127;
  auto sat_add = [&](u128 x, u128 y) { return x >= cap || y >= cap || x + y >= cap ? cap : x + y; };
  auto sat_mul = [&](u128 x, u128 y) { return x != 0 && y > cap / x ? cap : std::min(cap, x * y); };
  auto sat_shl = [&](u128 x, unsigned s) { return s >= 127 || x > (cap >> s) ? cap : x << s; };
  auto mag = [](std::int64_t v) { return u128(v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v)); };
  // bound[s]: every value of slot s is at most bound[s] in magnitude (inputs: 2^in_bits - 1)
  std::vector<u128> bound(p.inputs() + p.ops.size(), sat_add(sat_shl(1, in_bits), 0) - 1);
  std::size_t wat = 0, bat = 0;
  for (std::size_t i = 0; i < p.ops.size(); ++i) {
    const auto& o = p.ops[i];
    u128 norm = 0, bias = 0;
    auto row_sum = [&](std::size_t from, std::size_t n) {
      u128 acc = 0;
      for (std::size_t q = 0; q < n; ++q) acc = sat_add(acc, mag(w[from + q]));
      return acc;
    };
    switch (o.kind) {
      case linear_kind::conv2d: {
        const std::size_t per = o.in.c * o.kernel_h * o.kernel_w;
        for (std::size_t oc = 0; oc < o.out.c; ++oc) norm = std::max(norm, row_sum(wat + oc * per, per));
        break;
      }
      case linear_kind::dense:
        for (std::size_t r = 0; r < o.out.size(); ++r) norm = std::max(norm, row_sum(wat + r * o.in.size(), o.in.size()));
        break;
      case linear_kind::sumpool: norm = sat_mul(mag(o.factor), o.kernel_h * o.kernel_w); break;
      case linear_kind::add: break;
      case linear_kind::matrix:
        for (std::size_t r = 0; r < o.pattern.rows; ++r)
          norm = std::max(norm, row_sum(wat + o.pattern.row_ptr[r], o.pattern.row_ptr[r + 1] - o.pattern.row_ptr[r]));
        break;
    }
    if (!b.empty())
      for (std::size_t q = 0; q < o.bias_count(); ++q) bias = std::max(bias, mag(b[bat + q]));
    const u128 in = o.kind == linear_kind::matrix ? bound[0] : bound[o.src];
    bound[p.inputs() + i] = o.kind == linear_kind::add
                                ? sat_add(sat_shl(in, o.shift_a), sat_shl(bound[o.src2], o.shift_b))
                                : sat_add(sat_mul(norm, in), bias);
    wat += o.weight_count();
    bat += o.bias_count();
  }
  unsigned bits = 0;
  for (u128 v = bound[p.result]; v != 0; v >>= 1) ++bits;  // bound < 2^bits
  return bits;
}

}  // namespace pmdi::proto
