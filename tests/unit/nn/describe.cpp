// nn::describe<Net>(): the run-time mirror of the network type.
#include <catch2/catch.hpp>

#include "pmdi/nn/sequential.hpp"
#include "pmdi/nn/zoo.hpp"

namespace nn = pmdi::nn;
using pmdi::shape3;

TEST_CASE("describe lists MiniONN-MNIST's layers with shapes and parameter counts", "[nn][describe]") {
  const auto d = nn::describe<nn::zoo::minionn_mnist>();
  REQUIRE(d.size() == 11);
  CHECK(d[0].name == "input<1, 28, 28>");
  CHECK(d[1].name == "conv2d<16, 5>");
  CHECK(d[1].weight_count() == 16 * 25);
  CHECK(d[1].bias_count() == 16);
  CHECK(d[4].weight_count() == 16 * 16 * 25);
  CHECK(d[6].name == "meanpool<2>");
  CHECK(d[6].out == shape3{16, 4, 4});
  CHECK(d[8].name == "dense<100>");
  CHECK(d[8].in == shape3{256, 1, 1});
  CHECK(d[8].weight_count() == 25600);
  CHECK(d[10].out == shape3{10, 1, 1});
  CHECK(d[2].linear == false);
  CHECK(d[3].linear == true);
  for (std::size_t i = 1; i < d.size(); ++i) CHECK(d[i].input_from == i - 1);
}

TEST_CASE("describe expands residual blocks: body, shortcut, then the add", "[nn][describe]") {
  using net = nn::sequential<nn::input<4, 8, 8>, nn::relu,
                             nn::residual<nn::conv2d<8, 3, 2, 1>, nn::batchnorm, nn::relu, nn::conv2d<8, 3, 1, 1>,
                                          nn::shortcut<nn::conv2d<8, 1, 2>>>,
                             nn::relu, nn::flatten, nn::dense<2>, nn::argmax>;
  const auto d = nn::describe<net>();
  REQUIRE(d.size() == 12);
  CHECK(d[2].name == "conv2d<8, 3, 2, 1>");
  CHECK(d[6].name == "conv2d<8, 1, 2>");
  CHECK(d[6].input_from == 1);
  CHECK(d[6].out == shape3{8, 4, 4});
  CHECK(d[7].kind == nn::layer_kind::residual_add);
  CHECK(d[7].input_from == 5);
  CHECK(d[7].skip_from == 6);
  CHECK(d[11].kind == nn::layer_kind::argmax);
}
