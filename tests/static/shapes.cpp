// Compile-time shapes of declared networks (this file passes by compiling).
#include "pmdi/nn/sequential.hpp"
#include "pmdi/nn/zoo.hpp"

namespace nn = pmdi::nn;
using pmdi::shape3;

namespace {
using mnist = nn::zoo::minionn_mnist;
using T = nn::traits<mnist>;
static_assert(nn::valid_v<mnist>);
static_assert(T::layer_count == 11);
static_assert(T::input_shape == shape3{1, 28, 28});
static_assert(T::output_of(1) == shape3{16, 24, 24});
static_assert(T::output_of(3) == shape3{16, 12, 12});
static_assert(T::output_of(4) == shape3{16, 8, 8});
static_assert(T::output_of(6) == shape3{16, 4, 4});
static_assert(T::output_of(7) == shape3{256, 1, 1});
static_assert(T::output_shape == shape3{10, 1, 1});

// Odd sizes, stride, padding, rectangular kernels, pooling with stride.
using odd = nn::sequential<nn::input<3, 11, 9>, nn::conv2d<4, 3, 2, 1>, nn::relu, nn::conv2d_rect<5, 3, 1>,
                           nn::maxpool<2, 1>, nn::meanpool<3>, nn::flatten, nn::dense<7>, nn::argmax>;
using O = nn::traits<odd>;
static_assert(nn::valid_v<odd>);
static_assert(O::output_of(1) == shape3{4, 6, 5});
static_assert(O::output_of(3) == shape3{5, 4, 5});
static_assert(O::output_of(4) == shape3{5, 3, 4});
static_assert(O::output_of(5) == shape3{5, 1, 1});
static_assert(O::output_shape == shape3{1, 1, 1});

// A residual block with identity and with a projection shortcut.
using res = nn::sequential<nn::input<4, 8, 8>, nn::conv2d<4, 3, 1, 1>, nn::relu,
                           nn::residual<nn::conv2d<4, 3, 1, 1>, nn::batchnorm, nn::relu, nn::conv2d<4, 3, 1, 1>>,
                           nn::relu,
                           nn::residual<nn::conv2d<8, 3, 2, 1>, nn::relu, nn::conv2d<8, 3, 1, 1>,
                                        nn::shortcut<nn::conv2d<8, 1, 2>, nn::batchnorm>>,
                           nn::relu, nn::flatten, nn::dense<3>>;
using R = nn::traits<res>;
static_assert(nn::valid_v<res>);
// layers: 0 input, 1 conv, 2 relu, 3 conv, 4 bn, 5 relu, 6 conv, 7 add, 8 relu,
//         9 conv/2, 10 relu, 11 conv, 12 conv 1x1 (shortcut), 13 bn, 14 add, 15 relu, 16 flatten, 17 dense
static_assert(R::layer_count == 18);
static_assert(R::output_of(7) == shape3{4, 8, 8});
static_assert(R::output_of(12) == shape3{8, 4, 4});
static_assert(R::output_of(14) == shape3{8, 4, 4});
static_assert(R::nodes[R::position(12)].src == R::position(8));
static_assert(R::nodes[R::position(14)].src == R::position(11));
static_assert(R::nodes[R::position(14)].skip == R::position(13));
static_assert(R::nodes[R::position(7)].skip == R::position(2));
}  // namespace

#include "pmdi/plan/split.hpp"
namespace {
namespace plan = pmdi::plan;
// MiniONN: [conv][relu] [meanpool conv][relu] [meanpool flatten dense][relu] [dense]
using S = plan::split<mnist>;
static_assert(S::count == 4);
static_assert(plan::hana_run_count_v<mnist> == 7);
static_assert(S::stages[0].in_shape == shape3{1, 28, 28});
static_assert(S::stages[0].linear_shape == shape3{16, 24, 24});
static_assert(S::stages[1].in_shape == shape3{16, 24, 24});
static_assert(S::stages[1].linear_shape == shape3{16, 8, 8});
static_assert(S::stages[2].linear_shape == shape3{100, 1, 1});
static_assert(!S::stages[3].has_nonlinear());
static_assert(S::stages[3].out_shape == shape3{10, 1, 1});
// odd: [conv][relu] [conv_rect][maxpool] [meanpool flatten dense][argmax]
static_assert(plan::split<odd>::count == 3);
static_assert(plan::split<odd>::stages[1].linear_shape == shape3{5, 4, 5});
static_assert(plan::split<odd>::stages[1].out_shape == shape3{5, 3, 4});
static_assert(plan::split<odd>::stages[2].has_nonlinear());
// res: [conv][relu] [conv bn][relu] [conv add][relu] [conv/2][relu] [conv sc bn add][relu] [flatten dense]
using RS = plan::split<res>;
static_assert(RS::count == 6);
static_assert(plan::hana_run_count_v<res> == 11);
static_assert(RS::stages[2].skip_count == 1 && RS::stages[2].skips[0] == 1);  // the block input is tensor 1
static_assert(RS::stages[4].skip_count == 1 && RS::stages[4].skips[0] == 3);
static_assert(RS::stages[1].skip_count == 0);
// starts with a non-linear layer: stage 0 has an empty linear run
using pre = nn::sequential<nn::input<2, 4, 4>, nn::relu, nn::conv2d<2, 3>>;
static_assert(plan::split<pre>::count == 2);
static_assert(!plan::split<pre>::stages[0].has_linear());
static_assert(plan::hana_run_count_v<pre> == 2);
}  // namespace

#include "pmdi/plan/numerics.hpp"
namespace {
// Scales of MiniONN with ring<64, 13>: e_k = 26, 28, 28, 26.
using N64 = plan::numerics<mnist, pmdi::ring<64, 13>>;
static_assert(N64::stages[0].scale_bits == 26 && N64::stages[0].shift == 13);
static_assert(N64::stages[1].scale_bits == 28 && N64::stages[1].shift == 15);  // sum-pool adds 2
static_assert(N64::stages[2].scale_bits == 28 && N64::stages[2].shift == 15);
static_assert(N64::stages[3].scale_bits == 26 && N64::stages[3].shift == 0);  // final linear: no trunc
static_assert(plan::checked_v<mnist, pmdi::ring<64, 13>>);
static_assert(plan::checked_v<mnist, pmdi::ring<32, 7>>);
static_assert(!plan::fits_v<mnist, pmdi::ring<32, 8>>);
static_assert(plan::fits_v<mnist, pmdi::ring<32, 8>, nn::bounds<0, 3>>);
// meanpool 3x3 is not a power of two: weights encode(1/9) at f bits.
using mp3 = nn::sequential<nn::input<1, 9, 9>, nn::meanpool<3>, nn::relu>;
static_assert(plan::numerics<mp3, pmdi::ring<64, 10>>::stages[0].scale_bits == 20);
static_assert(plan::checked_v<res, pmdi::ring<64, 13>>);
static_assert(plan::numerics<res, pmdi::ring<64, 13>>::stages[2].scale_bits == 26);  // conv (26) + identity skip (13 -> 26)
}  // namespace

#include "pmdi/plan/costs.hpp"
namespace {
// MiniONN-MNIST: 230,400 + 409,600 + 25,600 + 1,000 MACs; 9,216 + 1,024 + 100 ReLUs.
static_assert(plan::macs_v<mnist> == 666600);
static_assert(plan::relus_v<mnist> == 10340);
using C32 = plan::costs<mnist, pmdi::ring<32, 7>>;
static_assert(C32::stages[0].macs == 230400 && C32::stages[0].relus == 9216);
// stage 0: adder 9216*31, relu 9216*32 (the mask is added outside the circuit)
static_assert(C32::stages[0].and_gates == 9216ULL * (31 + 32));
static_assert(C32::stages[3].and_gates == 0 && C32::stages[3].offline_bytes == 0);
static_assert(C32::stages[3].online_bytes == (100 + 10) * 4);
static_assert(C32::stages[0].online_bytes == 9216ULL * 32 * 16 + (784 + 9216) * 4);
}  // namespace

namespace {
// Max-pool and argmax circuits (l = 32): see plan/costs.hpp for the formula.
using CO = plan::costs<odd, pmdi::ring<32, 6>>;
static_assert(CO::stages[1].and_gates == 100 * 31 + 60 * 3 * 64);
static_assert(CO::stages[1].activations == 60 && CO::stages[1].relus == 0);
static_assert(CO::stages[2].and_gates == 7 * 31 + 6 * (64 + 3));
static_assert(CO::stages[2].macs == 7 * 5);
static_assert(CO::stages[2].offline_bytes ==
              (7 + 1) * 512 + CO::stages[2].and_gates * 32 + 7 * 32 * 48 + 1 * (32 + 2) * 4);
// residual stage reads its skip tensor: n = 2 * 256 inputs
using CR = plan::costs<res, pmdi::ring<64, 13>>;
static_assert(CR::stages[2].online_bytes == 256 * 64 * 16 + (2 * 256 + 256) * 8);
static_assert(CR::stages[4].macs == 8 * 4 * 4 * 8 * 9 + 8 * 4 * 4 * 4);  // conv 3x3 + 1x1 projection
}  // namespace
