// plan::lower against a direct layer-by-layer fixed-point evaluation, the
// fixed-point oracle against the float one, and weight-check refusals.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "pmdi/plan/oracle.hpp"
#include "pmdi/nn/zoo.hpp"
#include "pmdi/deployment.hpp"
#include "pmdi/plan/lower.hpp"

namespace nn = pmdi::nn;
namespace plan = pmdi::plan;
namespace oracle = pmdi::oracle;
using pmdi::shape3;

namespace {

pmdi::prg test_prg(unsigned char tag) {
  pmdi::seed s{};
  s[0] = std::byte{tag};
  return pmdi::prg(s);
}

std::vector<double> random_input(pmdi::prg& g, std::size_t n, double a = 1.0) {
  std::vector<double> x(n);
  for (auto& v : x) v = nn::uniform_real(g, -a, a);
  return x;
}

// Direct evaluation, layer by layer over Z_2^l (no composition): each tensor
// carries its scale exponent; a non-linear layer reading a tensor at scale
// e > f truncates it by e - f first, and so does a conv2d or dense layer
// whose input already went through a conv2d or dense layer since the last
// truncation (the cut of plan/split.hpp).
template <class Net, class Ring>
std::vector<typename Ring::value_type> direct_fixed(const nn::model_weights& w, std::span<const double> xin) {
  using V = typename Ring::value_type;
  using T = nn::traits<Net>;
  constexpr unsigned f = Ring::frac;
  const auto folded = nn::fold_batchnorm<Net>(w);
  std::vector<std::vector<V>> val(T::flat_size);
  std::vector<unsigned> sc(T::flat_size, f);
  std::vector<char> weighted(T::flat_size, 0);  // a weighted layer since the last truncation
  for (double v : xin) val[0].push_back(Ring::encode(v));
  auto enc = [](double v, unsigned e) { return static_cast<V>(std::llround(std::ldexp(v, static_cast<int>(e)))); };
  for (std::size_t i = 1; i < T::flat_size; ++i) {
    const nn::node& n = T::nodes[i];
    if (!n.is_layer()) continue;
    const auto& s = n.spec;
    std::vector<V> v = val[n.src];
    unsigned e = sc[n.src];
    bool wpath = weighted[n.src] || (n.skip != nn::npos && weighted[n.skip]);
    const shape3 in = n.in, out = n.out;
    const bool weighs = s.kind == nn::layer_kind::conv2d || s.kind == nn::layer_kind::dense;
    if ((n.nonlinear() && e > f) || (weighs && weighted[n.src])) {
      for (auto& t : v) t = Ring::trunc(t, e - f);
      e = f;
      wpath = false;
    }
    std::vector<V> o(out.size(), V{0});
    switch (s.kind) {
      case nn::layer_kind::conv2d:
        for (std::size_t oc = 0; oc < out.c; ++oc)
          for (std::size_t y = 0; y < out.h; ++y)
            for (std::size_t x = 0; x < out.w; ++x) {
              V acc = enc(folded[n.index].bias[oc], e + f);
              for (std::size_t c = 0; c < in.c; ++c)
                for (std::size_t ky = 0; ky < s.kernel_h; ++ky)
                  for (std::size_t kx = 0; kx < s.kernel_w; ++kx) {
                    const long iy = long(y * s.stride + ky) - long(s.pad), ix = long(x * s.stride + kx) - long(s.pad);
                    if (iy < 0 || ix < 0 || iy >= long(in.h) || ix >= long(in.w)) continue;
                    acc += enc(folded[n.index].weight[((oc * in.c + c) * s.kernel_h + ky) * s.kernel_w + kx], f) *
                           v[(c * in.h + std::size_t(iy)) * in.w + std::size_t(ix)];
                  }
              o[(oc * out.h + y) * out.w + x] = acc;
            }
        e += f;
        break;
      case nn::layer_kind::dense:
        for (std::size_t r = 0; r < out.size(); ++r) {
          V acc = enc(folded[n.index].bias[r], e + f);
          for (std::size_t j = 0; j < in.size(); ++j) acc += enc(folded[n.index].weight[r * in.size() + j], f) * v[j];
          o[r] = acc;
        }
        e += f;
        break;
      case nn::layer_kind::meanpool:
      case nn::layer_kind::maxpool: {
        const std::size_t kk = s.kernel_h * s.kernel_w;
        const bool pow2 = (kk & (kk - 1)) == 0;
        const V wv = pow2 ? V{1} : enc(1.0 / double(kk), f);
        for (std::size_t c = 0; c < out.c; ++c)
          for (std::size_t y = 0; y < out.h; ++y)
            for (std::size_t x = 0; x < out.w; ++x) {
              V acc = s.kind == nn::layer_kind::maxpool ? v[(c * in.h + y * s.stride) * in.w + x * s.stride] : V{0};
              for (std::size_t ky = 0; ky < s.kernel_h; ++ky)
                for (std::size_t kx = 0; kx < s.kernel_w; ++kx) {
                  const V t = v[(c * in.h + y * s.stride + ky) * in.w + x * s.stride + kx];
                  if (s.kind == nn::layer_kind::maxpool)
                    acc = Ring::to_signed(t) > Ring::to_signed(acc) ? t : acc;
                  else
                    acc += wv * t;
                }
              o[(c * out.h + y) * out.w + x] = acc;
            }
        if (s.kind == nn::layer_kind::meanpool) e += pow2 ? unsigned(std::countr_zero(kk)) : f;
        break;
      }
      case nn::layer_kind::relu:
        for (std::size_t q = 0; q < o.size(); ++q) o[q] = Ring::to_signed(v[q]) < 0 ? V{0} : v[q];
        break;
      case nn::layer_kind::argmax: {
        std::size_t b = 0;
        for (std::size_t q = 1; q < v.size(); ++q)
          if (Ring::to_signed(v[q]) > Ring::to_signed(v[b])) b = q;
        o[0] = V(b);
        break;
      }
      case nn::layer_kind::residual_add: {
        const unsigned eb = sc[n.skip], em = std::max(e, eb);
        for (std::size_t q = 0; q < o.size(); ++q)
          o[q] = (v[q] << (em - e)) + (val[n.skip][q] << (em - eb));
        e = em;
        break;
      }
      default: o = v; break;  // flatten; batchnorm is folded into the layer before it
    }
    val[i] = std::move(o);
    sc[i] = e;
    weighted[i] = static_cast<char>(n.linear() && (weighs || wpath));
  }
  return val[T::last_position];
}

template <class Net, class Ring>
void check_lowering(unsigned char seed, double wscale = 1.0) {
  auto g = test_prg(seed);
  const auto w = nn::random_weights<Net>(g, wscale);
  const auto stages = plan::lower<Net, Ring>(w);
  REQUIRE(stages.size() == plan::split<Net>::count);
  for (int rep = 0; rep < 3; ++rep) {
    const auto x = random_input(g, nn::traits<Net>::input_shape.size());
    const auto xf = oracle::encode<Ring>(x);
    const auto got = oracle::fixed<Ring>(stages, xf);
    const auto want = direct_fixed<Net, Ring>(w, x);
    REQUIRE(got == want);
  }
  for (std::size_t k = 0; k < stages.size(); ++k) {
    const auto& st = stages[k];
    CHECK(pmdi::proto::bound_bits(st.pub.linear, st.weights, st.bias, Ring::bits) <=
          plan::numerics<Net, Ring>::stages[k].paillier_bits);
    CHECK(st.pub.linear.out_size() == st.pub.linear_out.size());
    CHECK(st.weights.size() == st.pub.linear.weight_count());
  }
}

using odd = nn::sequential<nn::input<3, 11, 9>, nn::conv2d<4, 3, 2, 1>, nn::relu, nn::conv2d_rect<5, 3, 1>,
                           nn::maxpool<2, 1>, nn::meanpool<3>, nn::flatten, nn::dense<7>, nn::argmax>;
using res = nn::sequential<nn::input<4, 8, 8>, nn::conv2d<4, 3, 1, 1>, nn::batchnorm, nn::relu,
                           nn::residual<nn::conv2d<4, 3, 1, 1>, nn::batchnorm, nn::relu, nn::conv2d<4, 3, 1, 1>>,
                           nn::relu,
                           nn::residual<nn::conv2d<8, 3, 2, 1>, nn::relu, nn::conv2d<8, 3, 1, 1>, nn::batchnorm,
                                        nn::shortcut<nn::conv2d<8, 1, 2>, nn::batchnorm>>,
                           nn::relu, nn::meanpool<2>, nn::flatten, nn::dense<3>>;
using pools = nn::sequential<nn::input<2, 13, 12>, nn::meanpool<3>, nn::conv2d<3, 2>, nn::relu, nn::meanpool<2, 1>,
                             nn::maxpool<2>, nn::relu, nn::flatten, nn::dense<4>>;
using stacked = nn::sequential<nn::input<20, 1, 1>, nn::dense<16>, nn::dense<8>, nn::relu, nn::dense<5>>;
using starts_nonlinear = nn::sequential<nn::input<2, 5, 5>, nn::relu, nn::maxpool<2, 1>, nn::conv2d<3, 2>>;

}  // namespace

TEST_CASE("lowering equals a direct layer-by-layer fixed-point evaluation", "[nn][lower]") {
  SECTION("MiniONN-MNIST, ring<64, 13>") { check_lowering<nn::zoo::minionn_mnist, pmdi::ring<64, 13>>(1); }
  SECTION("MiniONN-MNIST, ring<32, 7>") { check_lowering<nn::zoo::minionn_mnist, pmdi::ring<32, 7>>(2); }
  SECTION("odd sizes, stride, padding, rectangular kernel, max-pool, meanpool 3, argmax") {
    check_lowering<odd, pmdi::ring<64, 12>>(3);
    check_lowering<odd, pmdi::ring<32, 6>>(4);
  }
  SECTION("residual blocks with batchnorm and a strided projection shortcut") {
    check_lowering<res, pmdi::ring<64, 12>>(5);
  }
  SECTION("meanpool 3 and 2 (stride 1), max-pool after relu") { check_lowering<pools, pmdi::ring<64, 13>>(6); }
  SECTION("two dense layers in series (cut, truncated between)") { check_lowering<stacked, pmdi::ring<64, 10>>(7); }
  SECTION("a network that starts with non-linear layers") { check_lowering<starts_nonlinear, pmdi::ring<64, 13>>(8); }
}

TEST_CASE("lowered stages: inputs, scales and shifts", "[nn][lower]") {
  auto g = test_prg(9);
  const auto st = plan::lower<res, pmdi::ring<64, 12>>(nn::random_weights<res>(g));
  REQUIRE(st.size() == 6);
  CHECK(st[0].pub.inputs == std::vector<std::size_t>{0});
  CHECK(st[2].pub.inputs == std::vector<std::size_t>{2, 1});  // the identity skip reads tensor 1
  CHECK(st[2].pub.in_size() == 2 * 4 * 8 * 8);
  CHECK(st[2].pub.linear.input_sizes == std::vector<std::size_t>{256, 256});
  REQUIRE(st[2].pub.linear.ops.size() == 2);  // conv, then add of the skip (scale 12 -> 24)
  CHECK(st[2].pub.linear.ops[1].kind == pmdi::proto::linear_kind::add);
  CHECK(st[2].pub.linear.ops[1].shift_b == 12);
  CHECK(st[4].pub.inputs == std::vector<std::size_t>{4, 3});
  CHECK(st[4].pub.scale_bits == 24);
  CHECK(st[4].pub.shift == 12);
  CHECK(st[5].pub.shift == 0);
  CHECK(st[5].pub.scale_bits == 12 + 2 + 12);  // sum-pool 2x2, dense
  CHECK(st[5].pub.ops.empty());
  using mnist = nn::zoo::minionn_mnist;
  const auto mn = plan::lower<mnist, pmdi::ring<64, 13>>(nn::random_weights<mnist>(g));
  // meanpool 2 then conv 5x5 stay two operators: the convolution's 6,400
  // weights once, 409,600 MACs (a composed matrix had 1.64 M entries)
  REQUIRE(mn[1].pub.linear.ops.size() == 2);
  CHECK(mn[1].pub.linear.ops[0].kind == pmdi::proto::linear_kind::sumpool);
  CHECK(mn[1].pub.linear.ops[1].kind == pmdi::proto::linear_kind::conv2d);
  CHECK(mn[1].weights.size() == 16 * 16 * 5 * 5);
  CHECK(mn[1].pub.linear.macs() == 16 * 8 * 8 * 16 * 5 * 5);
  std::size_t macs = 0, weights = 0, biases = 0;
  for (const auto& s : mn) {
    macs += s.pub.linear.macs();
    weights += s.weights.size();
    biases += s.bias.size();
  }
  CHECK(macs == plan::macs_v<mnist>);
  CHECK(weights == 400 + 6400 + 25600 + 1000);
  CHECK(biases == 16 + 16 + 100 + 10);
  CHECK(mn[0].pub.ops.size() == 1);
}

TEST_CASE("the public plan from the type equals the public part of the lowered stages", "[nn][lower]") {
  auto g = test_prg(12);
  const auto same = [&]<class Net, class Ring>() {
    const auto st = plan::lower<Net, Ring>(nn::random_weights<Net>(g));
    const auto pub = plan::public_network_plan<Net, Ring>();
    CHECK(pub == pmdi::proto::public_plan(st, pmdi::proto::input_size(st)));
    CHECK(pub.stages.size() == st.size());
  };
  using bn_net = nn::sequential<nn::input<2, 4, 4>, nn::conv2d<3, 3>, nn::batchnorm, nn::relu, nn::flatten, nn::dense<4>>;
  same.template operator()<res, pmdi::ring<64, 12>>();
  same.template operator()<nn::zoo::minionn_mnist, pmdi::ring<64, 13>>();
  same.template operator()<stacked, pmdi::ring<64, 10>>();
  same.template operator()<bn_net, pmdi::ring<64, 10>>();
  // pmdi::deployment, the one type run/ takes, gives the same two views
  using dep = pmdi::deployment<res, pmdi::ring<64, 12>, pmdi::proto::shape<3, 2>>;
  static_assert(pmdi::a_deployment<dep> && !pmdi::a_deployment<res>);
  static_assert(dep::shape::clusters == 3 && dep::shape::compute == 2);
  const auto w = nn::random_weights<res>(g);
  const auto st = dep::lower(w);
  CHECK(dep::public_plan() == pmdi::proto::public_plan(st, pmdi::proto::input_size(st)));
  CHECK(st[1].weights == plan::lower<res, pmdi::ring<64, 12>>(w)[1].weights);
  // the comparison sees the operators: another network's plan differs
  CHECK_FALSE(plan::public_network_plan<stacked, pmdi::ring<64, 10>>() == plan::public_network_plan<bn_net, pmdi::ring<64, 10>>());
}

TEST_CASE("two weighted layers in series: the run is cut and the first part truncates", "[nn][lower]") {
  auto g = test_prg(10);
  using R = pmdi::ring<64, 10>;
  const auto st = plan::lower<stacked, R>(nn::random_weights<stacked>(g));
  static_assert(plan::split<stacked>::count == 3 && plan::split<stacked>::stages[0].truncates);
  REQUIRE(st.size() == 3);
  for (const auto& s : st) {
    REQUIRE(s.pub.linear.ops.size() == 1);
    CHECK(s.pub.linear.ops[0].kind == pmdi::proto::linear_kind::dense);
  }
  CHECK(st[0].pub.ops.empty());
  CHECK(st[0].pub.shift == 10);  // truncation only: a garbled stage without operators
  CHECK(st[0].pub.garbled());
  CHECK(st[1].pub.scale_bits == 20);
  CHECK(st[0].weights.size() == 16 * 20);
  CHECK(st[1].weights.size() == 8 * 16);
}

TEST_CASE("fixed point agrees with float inference within the documented error", "[nn][oracle]") {
  // Documented bound (docs/dsl.md): with f = 13 and these random networks
  // (outputs of magnitude about 1), |fixed - float| < 2^-6.
  auto run = [](auto net_tag, unsigned char seed) {
    using Net = typename decltype(net_tag)::type;
    using R = pmdi::ring<64, 13>;
    auto g = test_prg(seed);
    const auto w = nn::random_weights<Net>(g);
    const auto st = plan::lower<Net, R>(w);
    double worst = 0;
    for (int rep = 0; rep < 5; ++rep) {
      const auto x = random_input(g, nn::traits<Net>::input_shape.size());
      const auto want = oracle::infer_float<Net>(w, x);
      const auto got = oracle::decode_output<R>(st, oracle::fixed<R>(st, oracle::encode<R>(x)));
      REQUIRE(got.size() == want.size());
      for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - want[i]));
    }
    CHECK(worst < 1.0 / 64);
    return worst;
  };
  struct mnist_t { using type = nn::zoo::minionn_mnist; };
  struct res_t { using type = res; };
  struct pools_t { using type = pools; };
  struct stacked_t { using type = stacked; };
  run(mnist_t{}, 11);
  run(res_t{}, 12);
  run(pools_t{}, 13);
  run(stacked_t{}, 14);
}

TEST_CASE("argmax of the fixed-point oracle matches the float argmax", "[nn][oracle]") {
  using R = pmdi::ring<64, 13>;
  auto g = test_prg(15);
  const auto w = nn::random_weights<odd>(g);
  const auto st = plan::lower<odd, R>(w);
  for (int rep = 0; rep < 5; ++rep) {
    const auto x = random_input(g, nn::traits<odd>::input_shape.size());
    const auto out = oracle::fixed<R>(st, oracle::encode<R>(x));
    REQUIRE(out.size() == 1);
    CHECK(double(out[0]) == oracle::infer_float<odd>(w, x)[0]);
  }
}

TEST_CASE("weights that do not match the declared layers are refused, naming the layer", "[nn][weights]") {
  using net = nn::zoo::minionn_mnist;
  using R = pmdi::ring<64, 13>;
  auto g = test_prg(16);
  const auto good = nn::random_weights<net>(g);
  REQUIRE_NOTHROW(plan::lower<net, R>(good));
  auto msg = [](const nn::model_weights& w) {
    try {
      (void)plan::lower<net, R>(w);
    } catch (const pmdi::usage_error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  auto w = good;
  w.layers[1].weight.pop_back();  // conv2d<16, 5> at layer 4
  CHECK_THAT(msg(w), Catch::Contains("conv2d<16, 5> (layer 4)") && Catch::Contains("expected 6400 weights"));
  w = good;
  w.layers[2].bias.push_back(0.F);
  CHECK_THAT(msg(w), Catch::Contains("dense<100> (layer 8)") && Catch::Contains("biases"));
  w = good;
  w.layers.pop_back();
  CHECK_THAT(msg(w), Catch::Contains("dense<10> (layer 10): no weights given"));
  w = good;
  w.layers[0].layer_index = 2;
  CHECK_THAT(msg(w), Catch::Contains("relu (layer 2), which takes no parameters"));
  w = good;
  w.layers.push_back(w.layers[0]);
  CHECK_THAT(msg(w), Catch::Contains("given twice for conv2d<16, 5> (layer 1)"));
  w = good;
  w.layers[3].weight[0] = 2.5F;  // default bounds: |w| < 2
  CHECK_THAT(msg(w), Catch::Contains("dense<10> (layer 10)") && Catch::Contains("declared bound"));
  using bn_net = nn::sequential<nn::input<2, 4, 4>, nn::conv2d<3, 3>, nn::batchnorm, nn::relu>;
  auto wb = nn::random_weights<bn_net>(g);
  wb.layers[1].var.pop_back();
  CHECK_THROWS_WITH((plan::lower<bn_net, R>(wb)), Catch::Contains("batchnorm (layer 2)"));
}
