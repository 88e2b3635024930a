// The protocol on networks declared as types and lowered by plan::lower,
// checked bit for bit against the fixed-point oracle (plan/oracle.hpp), over
// odd sizes, stride, padding, max-pool, residual blocks, P in {1, 2, 3} and
// T in {1, 2}, for 32- and 64-bit rings.
#include <catch2/catch.hpp>

#include "pmdi/plan/oracle.hpp"
#include "pmdi/nn/sequential.hpp"
#include "pmdi/nn/weights.hpp"
#include "pmdi/plan/lower.hpp"
#include "pmdi/run/local.hpp"

using namespace pmdi;

namespace {

using odd = nn::sequential<nn::input<3, 11, 9>, nn::conv2d<4, 3, 2, 1>, nn::relu, nn::conv2d_rect<5, 3, 1>,
                           nn::maxpool<2, 1>, nn::meanpool<3>, nn::flatten, nn::dense<7>, nn::argmax>;
using res = nn::sequential<nn::input<2, 6, 6>, nn::conv2d<2, 3, 1, 1>, nn::relu,
                           nn::residual<nn::conv2d<2, 3, 1, 1>, nn::relu, nn::conv2d<2, 3, 1, 1>>, nn::relu,
                           nn::residual<nn::conv2d<3, 3, 2, 1>, nn::relu, nn::conv2d<3, 3, 1, 1>,
                                        nn::shortcut<nn::conv2d<3, 1, 2>>>,
                           nn::relu, nn::flatten, nn::dense<3>>;
using pools = nn::sequential<nn::input<2, 13, 12>, nn::meanpool<3>, nn::conv2d<3, 2>, nn::relu, nn::meanpool<2, 1>,
                             nn::maxpool<2>, nn::relu, nn::flatten, nn::dense<4>>;
using starts_nonlinear = nn::sequential<nn::input<2, 5, 5>, nn::relu, nn::maxpool<2, 1>, nn::conv2d<3, 2>>;

template <class Net, class Ring, std::size_t P, std::size_t T>
void check(unsigned char seed_byte) {
  seed s{};
  s[0] = static_cast<std::byte>(seed_byte);
  s[1] = std::byte{0x77};
  prg g(s);
  const auto w = nn::random_weights<Net>(g);
  const auto stages = plan::lower<Net, Ring>(w);
  run::local_options opt;
  opt.topo = {P, T};
  opt.paillier_bits = 1024;
  opt.deadline = std::chrono::seconds(120);
  opt.test_seed = s;
  run::local_deployment<Ring, run::shape_list<proto::shape<P, T>>> d(stages, pmdi::proto::input_size(stages), opt);
  d.setup();
  d.offline(1);
  std::vector<typename Ring::value_type> x(pmdi::proto::input_size(stages));
  for (auto& v : x) v = Ring::encode(static_cast<double>(g.uniform(2001)) / 1000.0 - 1.0);
  const auto y = d.online(1, x);
  CHECK(y == oracle::fixed<Ring>(stages, x));
}

}  // namespace

TEST_CASE("lowered networks: protocol output equals the fixed-point oracle", "[protocol][lowered]") {
  SECTION("odd sizes, stride, padding, max-pool, argmax; ring<32, 5>; P=3, T=1") { check<odd, ring<32, 5>, 3, 1>(1); }
  SECTION("odd sizes; ring<32, 5>; P=1, T=2") { check<odd, ring<32, 5>, 1, 2>(2); }
  SECTION("residual blocks; ring<64, 13>; P=2, T=2") { check<res, ring<64, 13>, 2, 2>(3); }
  SECTION("residual blocks; ring<64, 13>; P=3, T=1 (skips cross clusters)") { check<res, ring<64, 13>, 3, 1>(4); }
  SECTION("mean-pool 3, max-pool; ring<64, 13>; P=2, T=1") { check<pools, ring<64, 13>, 2, 1>(5); }
  SECTION("starts with non-linear layers; ring<64, 13>; P=2, T=2") { check<starts_nonlinear, ring<64, 13>, 2, 2>(6); }
}
