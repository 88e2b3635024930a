// pmdi-bench accuracy [--quick] [MODEL.onnx] [IMAGES] [LABELS]
// Float and fixed-point accuracy of MiniONN (nn::zoo::minionn_mnist) on the
// Fashion-MNIST test set for candidate rings; picks the smallest ring whose
// fixed-point accuracy is within 0.5 percentage points of float.
//
// The fixed-point pass is a run-time reference that follows the scale rules
// of include/pmdi/plan/numerics.hpp: inputs at scale f; conv2d/dense add f
// (bias encoded at the output scale); a 2^p-element meanpool sums (adds p);
// flatten keeps the scale; residual add aligns to the larger scale; before a
// non-linear run the value is truncated (arithmetic shift) back to scale f.
// Arithmetic wraps mod 2^l exactly as in the protocol.
#ifdef PMDI_HAVE_ONNX
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "bench.hpp"
#include "pmdi/core/ring.hpp"
#include "pmdi/io/idx.hpp"
#include "pmdi/io/onnx.hpp"
#include "pmdi/nn/sequential.hpp"
#include "pmdi/nn/zoo.hpp"

namespace {

using pmdi::nn::layer_info;
using pmdi::nn::layer_kind;

struct dense_params {
  std::vector<double> w, b;  // batch-norm folded
};

// Per declared layer: folded conv2d/dense parameters (empty elsewhere).
std::vector<dense_params> fold(const std::vector<layer_info>& d, const pmdi::nn::model_weights& mw) {
  std::vector<dense_params> p(d.size());
  for (const auto& e : mw.layers)
    if (d[e.layer_index].kind == layer_kind::conv2d || d[e.layer_index].kind == layer_kind::dense) {
      p[e.layer_index].w.assign(e.weight.begin(), e.weight.end());
      p[e.layer_index].b.assign(d[e.layer_index].bias_count(), 0.0);
      for (std::size_t i = 0; i < e.bias.size(); ++i) p[e.layer_index].b[i] = e.bias[i];
    }
  for (const auto& e : mw.layers) {
    const auto& l = d[e.layer_index];
    if (l.kind != layer_kind::batchnorm) continue;
    auto& t = p[l.input_from];
    const std::size_t ch = t.b.size(), per = t.w.size() / ch;
    for (std::size_t o = 0; o < ch; ++o) {
      const double s = e.gamma[o] / std::sqrt(static_cast<double>(e.var[o]) + e.epsilon);
      for (std::size_t i = 0; i < per; ++i) t.w[o * per + i] *= s;
      t.b[o] = (t.b[o] - e.mean[o]) * s + e.beta[o];
    }
  }
  return p;
}

// Linear layers over any arithmetic T (double, or a ring's unsigned type).
template <class T>
void conv(const layer_info& l, const std::vector<T>& w, const std::vector<T>& x, std::vector<T>& y) {
  y.assign(l.out.size(), T{0});
  for (std::size_t o = 0; o < l.out.c; ++o)
    for (std::size_t i = 0; i < l.in.c; ++i)
      for (std::size_t ky = 0; ky < l.kernel_h; ++ky)
        for (std::size_t kx = 0; kx < l.kernel_w; ++kx) {
          const T wv = w[((o * l.in.c + i) * l.kernel_h + ky) * l.kernel_w + kx];
          for (std::size_t oy = 0; oy < l.out.h; ++oy) {
            const auto iy = static_cast<std::ptrdiff_t>(oy * l.stride + ky) - static_cast<std::ptrdiff_t>(l.pad);
            if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(l.in.h)) continue;
            T* yr = &y[(o * l.out.h + oy) * l.out.w];
            const T* xr = &x[(i * l.in.h + static_cast<std::size_t>(iy)) * l.in.w];
            for (std::size_t ox = 0; ox < l.out.w; ++ox) {
              const auto ix = static_cast<std::ptrdiff_t>(ox * l.stride + kx) - static_cast<std::ptrdiff_t>(l.pad);
              if (ix < 0 || ix >= static_cast<std::ptrdiff_t>(l.in.w)) continue;
              yr[ox] += wv * xr[ix];
            }
          }
        }
}

template <class T>
void dense(const layer_info& l, const std::vector<T>& w, const std::vector<T>& x, std::vector<T>& y) {
  y.assign(l.units, T{0});
  for (std::size_t u = 0; u < l.units; ++u) {
    T acc{0};
    for (std::size_t i = 0; i < x.size(); ++i) acc += w[u * x.size() + i] * x[i];
    y[u] = acc;
  }
}

template <class T>
void sum_pool(const layer_info& l, const std::vector<T>& x, std::vector<T>& y) {
  y.assign(l.out.size(), T{0});
  for (std::size_t c = 0; c < l.out.c; ++c)
    for (std::size_t oy = 0; oy < l.out.h; ++oy)
      for (std::size_t ox = 0; ox < l.out.w; ++ox) {
        T acc{0};
        for (std::size_t ky = 0; ky < l.kernel_h; ++ky)
          for (std::size_t kx = 0; kx < l.kernel_w; ++kx)
            acc += x[(c * l.in.h + oy * l.stride + ky) * l.in.w + ox * l.stride + kx];
        y[(c * l.out.h + oy) * l.out.w + ox] = acc;
      }
}

template <class T, class Less>
void max_pool(const layer_info& l, const std::vector<T>& x, std::vector<T>& y, Less less) {
  y.assign(l.out.size(), T{0});
  for (std::size_t c = 0; c < l.out.c; ++c)
    for (std::size_t oy = 0; oy < l.out.h; ++oy)
      for (std::size_t ox = 0; ox < l.out.w; ++ox) {
        T m = x[(c * l.in.h + oy * l.stride) * l.in.w + ox * l.stride];
        for (std::size_t ky = 0; ky < l.kernel_h; ++ky)
          for (std::size_t kx = 0; kx < l.kernel_w; ++kx) {
            const T v = x[(c * l.in.h + oy * l.stride + ky) * l.in.w + ox * l.stride + kx];
            if (less(m, v)) m = v;
          }
        y[(c * l.out.h + oy) * l.out.w + ox] = m;
      }
}

class float_model {
 public:
  float_model(std::vector<layer_info> d, const std::vector<dense_params>& p) : d_(std::move(d)), p_(p) {}
  [[nodiscard]] std::size_t classify(std::span<const float> img) {
    outs_.resize(d_.size());
    outs_[0].assign(img.begin(), img.end());
    for (std::size_t i = 1; i < d_.size(); ++i) {
      const auto& l = d_[i];
      const auto& x = outs_[l.input_from];
      auto& y = outs_[i];
      switch (l.kind) {
        case layer_kind::conv2d:
        case layer_kind::dense:
          l.kind == layer_kind::conv2d ? conv(l, p_[i].w, x, y) : dense(l, p_[i].w, x, y);
          for (std::size_t j = 0; j < y.size(); ++j) y[j] += p_[i].b[j / (y.size() / p_[i].b.size())];
          break;
        case layer_kind::meanpool:
          sum_pool(l, x, y);
          for (auto& v : y) v /= static_cast<double>(l.kernel_h * l.kernel_w);
          break;
        case layer_kind::maxpool: max_pool(l, x, y, std::less<>{}); break;
        case layer_kind::relu:
          y = x;
          for (auto& v : y) v = std::max(v, 0.0);
          break;
        case layer_kind::residual_add:
          y = x;
          for (std::size_t j = 0; j < y.size(); ++j) y[j] += outs_[l.skip_from][j];
          break;
        default: y = x;  // flatten, batchnorm (folded), argmax (below)
      }
    }
    const auto& z = outs_.back();
    return static_cast<std::size_t>(std::max_element(z.begin(), z.end()) - z.begin());
  }

 private:
  std::vector<layer_info> d_;
  std::vector<dense_params> p_;
  std::vector<std::vector<double>> outs_;
};

template <class Ring>
class fixed_model {
  using V = typename Ring::value_type;

 public:
  fixed_model(std::vector<layer_info> d, const std::vector<dense_params>& p) : d_(std::move(d)) {
    w_.resize(d_.size());
    b_.resize(d_.size());
    e_.assign(d_.size(), Ring::frac);
    for (std::size_t i = 1; i < d_.size(); ++i) {
      const auto& l = d_[i];
      const unsigned ein = e_[l.input_from];
      switch (l.kind) {
        case layer_kind::conv2d:
        case layer_kind::dense:
          e_[i] = ein + Ring::frac;
          for (double v : p[i].w) w_[i].push_back(Ring::encode(v));
          for (double v : p[i].b) b_[i].push_back(Ring::from_signed(std::llround(std::ldexp(v, static_cast<int>(e_[i])))));
          break;
        case layer_kind::meanpool: {
          const auto kk = l.kernel_h * l.kernel_w;
          e_[i] = ein + (std::has_single_bit(kk) ? static_cast<unsigned>(std::countr_zero(kk)) : Ring::frac);
          break;
        }
        case layer_kind::residual_add: e_[i] = std::max(ein, e_[l.skip_from]); break;
        case layer_kind::relu:
        case layer_kind::maxpool:
        case layer_kind::argmax: e_[i] = Ring::frac; break;  // truncated on entry
        default: e_[i] = ein;
      }
    }
  }
  [[nodiscard]] std::size_t classify(std::span<const float> img) {
    outs_.resize(d_.size());
    outs_[0].resize(img.size());
    for (std::size_t j = 0; j < img.size(); ++j) outs_[0][j] = Ring::encode(img[j]);
    for (std::size_t i = 1; i < d_.size(); ++i) {
      const auto& l = d_[i];
      const unsigned ein = e_[l.input_from];
      auto& y = outs_[i];
      y = outs_[l.input_from];
      if (!l.linear && ein > Ring::frac)  // a non-linear run starts: back to scale f
        for (auto& v : y) v = Ring::trunc(v, ein - Ring::frac);
      const auto x = y;
      switch (l.kind) {
        case layer_kind::conv2d:
        case layer_kind::dense:
          l.kind == layer_kind::conv2d ? conv(l, w_[i], x, y) : dense(l, w_[i], x, y);
          for (std::size_t j = 0; j < y.size(); ++j) y[j] += b_[i][j / (y.size() / b_[i].size())];
          break;
        case layer_kind::meanpool: {
          sum_pool(l, x, y);
          const auto kk = l.kernel_h * l.kernel_w;
          if (!std::has_single_bit(kk)) {
            const V inv = Ring::encode(1.0 / static_cast<double>(kk));
            for (auto& v : y) v *= inv;
          }
          break;
        }
        case layer_kind::maxpool:
          max_pool(l, x, y, [](V a, V b) { return Ring::to_signed(a) < Ring::to_signed(b); });
          break;
        case layer_kind::relu:
          for (auto& v : y) v = Ring::to_signed(v) < 0 ? V{0} : v;
          break;
        case layer_kind::residual_add: {
          const auto& s = outs_[l.skip_from];
          const unsigned es = e_[l.skip_from];
          for (std::size_t j = 0; j < y.size(); ++j)
            y[j] = static_cast<V>((x[j] << (e_[i] - ein)) + (s[j] << (e_[i] - es)));
          break;
        }
        default: break;  // flatten, batchnorm (folded), argmax (below)
      }
    }
    const auto& z = outs_.back();
    return static_cast<std::size_t>(
        std::max_element(z.begin(), z.end(), [](V a, V b) { return Ring::to_signed(a) < Ring::to_signed(b); }) -
        z.begin());
  }

 private:
  std::vector<layer_info> d_;
  std::vector<std::vector<V>> w_, b_, outs_;
  std::vector<unsigned> e_;
};

template <class Model>
double accuracy(Model& m, const pmdi::io::idx_images& im, const std::vector<std::uint8_t>& labels, std::size_t n) {
  std::size_t ok = 0;
  for (std::size_t i = 0; i < n; ++i) ok += m.classify(im.image(i)) == labels[i];
  return 100.0 * static_cast<double>(ok) / static_cast<double>(n);
}

struct candidate {
  std::string name;
  unsigned bits;
  double acc;
};

template <class Ring>
candidate run_ring(const std::vector<layer_info>& d, const std::vector<dense_params>& p,
                   const pmdi::io::idx_images& im, const std::vector<std::uint8_t>& lb, std::size_t n) {
  fixed_model<Ring> m(d, p);
  return {"ring<" + std::to_string(Ring::bits) + ", " + std::to_string(Ring::frac) + ">", Ring::bits,
          accuracy(m, im, lb, n)};
}

int run(const pmdi::bench::args& a, pmdi::bench::report& r) {
  const std::string model = a.rest.size() > 0 ? a.rest[0] : PMDI_SOURCE_DIR "/examples/models/minionn_fashion.onnx";
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  const std::string images = a.rest.size() > 1 ? a.rest[1] : dir + "t10k-images-idx3-ubyte.gz";
  const std::string labels = a.rest.size() > 2 ? a.rest[2] : dir + "t10k-labels-idx1-ubyte.gz";
  const auto d = pmdi::nn::describe<pmdi::nn::zoo::minionn_mnist>();
  const auto p = fold(d, pmdi::io::load_onnx(model, d));
  const auto im = pmdi::io::read_idx_images(images);
  const auto lb = pmdi::io::read_idx_labels(labels);
  if (im.count != lb.size() || im.rows != 28 || im.cols != 28)
    throw pmdi::usage_error(images + ": expected 28x28 images with one label each");
  const std::size_t n = a.quick ? std::min<std::size_t>(1000, im.count) : im.count;
  r.note("MiniONN on Fashion-MNIST test set: " + std::to_string(n) + " images, model " + model);

  float_model fm(d, p);
  const double fa = accuracy(fm, im, lb, n);
  r.metric("accuracy", "float", fa, "%");
  std::vector<candidate> c;
  c.push_back(run_ring<pmdi::ring<32, 6>>(d, p, im, lb, n));
  c.push_back(run_ring<pmdi::ring<32, 8>>(d, p, im, lb, n));
  c.push_back(run_ring<pmdi::ring<32, 9>>(d, p, im, lb, n));
  c.push_back(run_ring<pmdi::ring<32, 10>>(d, p, im, lb, n));
  c.push_back(run_ring<pmdi::ring<32, 11>>(d, p, im, lb, n));
  c.push_back(run_ring<pmdi::ring<32, 12>>(d, p, im, lb, n));
  c.push_back(run_ring<pmdi::ring<32, 13>>(d, p, im, lb, n));
  c.push_back(run_ring<pmdi::ring<64, 13>>(d, p, im, lb, n));
  const candidate* best = nullptr;
  for (const auto& x : c) {
    r.metric("accuracy", x.name, x.acc, "%");
    // smallest l first, then the fewest fractional bits that stay within 0.5 points
    if (!best && x.acc >= fa - 0.5) best = &x;
  }
  r.note(best ? "chosen: " + best->name + " (within 0.5 points of float)" : "no candidate within 0.5 points of float");
  return best ? 0 : 1;
}

const pmdi::bench::registrar reg("accuracy",
                                 "MiniONN float vs fixed-point accuracy on Fashion-MNIST for candidate rings",
                                 run);

}  // namespace
#endif  // PMDI_HAVE_ONNX
