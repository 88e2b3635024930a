// pmdi-bench plain: the plaintext references of a network, the physical floor
// the private protocol is compared against: float inference (double, layer by
// layer) and fixed-point inference over Z_2^l from the lowered stages (the
// oracle), plus the time to lower the network. Random weights.
//   pmdi-bench plain [--quick] [--json] [resnet32]
#include <string>

#include <algorithm>

#include "../examples/networks/resnet32.hpp"
#include "bench.hpp"
#include "pmdi/plan/oracle.hpp"
#include "pmdi/nn/zoo.hpp"
#include "pmdi/plan/lower.hpp"

namespace {
namespace nn = pmdi::nn;

template <class Net, class Ring>
void measure(const std::string& name, const pmdi::bench::args& a, pmdi::bench::report& r) {
  using namespace pmdi::bench;
  const int reps = a.quick ? 3 : 21;
  pmdi::prg g(pmdi::seed{});
  const auto w = nn::random_weights<Net>(g);
  std::vector<double> x(nn::traits<Net>::input_shape.size());
  for (auto& v : x) v = nn::uniform_real(g, -1, 1);
  std::vector<pmdi::proto::stage> stages;
  const double t_lower = median_seconds(a.quick ? 1 : 3, [&] { stages = pmdi::plan::lower<Net, Ring>(w); });
  const auto xf = pmdi::oracle::encode<Ring>(x);
  const double t_float = median_seconds(reps, [&] { keep(pmdi::oracle::infer_float<Net>(w, x)); });
  const double t_fixed = median_seconds(reps, [&] { keep(pmdi::oracle::fixed<Ring>(stages, xf)); });
  std::size_t weights = 0;
  for (const auto& s : stages) weights += s.weights.size();
  r.metric("plain", name + ".float_ms", t_float * 1e3, "ms");
  r.metric("plain", name + ".fixed_ms", t_fixed * 1e3, "ms");
  r.metric("plain", name + ".lower_ms", t_lower * 1e3, "ms");
  r.metric("plain", name + ".macs", static_cast<double>(pmdi::plan::macs_v<Net>), "MAC");
  r.metric("plain", name + ".stored_weights", static_cast<double>(weights), "entries");
}

int run(const pmdi::bench::args& a, pmdi::bench::report& r) {
  r.note("plaintext float and fixed-point (ring<64, 13>) inference, random weights, single thread");
  measure<nn::zoo::minionn_mnist, pmdi::ring<64, 13>>("minionn_mnist", a, r);
  measure<nn::zoo::minionn_mnist, pmdi::ring<32, 7>>("minionn_mnist_l32", a, r);
  // ResNet-32 lowers to 63 M matrix entries (about 1 GB, 6 s): only on request.
  if (std::find(a.rest.begin(), a.rest.end(), "resnet32") != a.rest.end())
    measure<networks::resnet32, pmdi::ring<64, 13>>("resnet32", a, r);
  return 0;
}
const pmdi::bench::registrar reg("plain", "plaintext float / fixed-point inference (the oracle) per network", run);
}  // namespace
