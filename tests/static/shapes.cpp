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
