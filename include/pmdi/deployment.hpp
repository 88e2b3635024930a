#pragma once
// A deployment as one type: the network, the ring it runs in, the shape of
// the edge (P clusters of T compute servers) and the declared magnitude
// bounds. The role binaries, the launcher and the local runner take it whole
// (run::role_main<D>, run::launcher_main<D>), so the four parameters are
// written once, where the user declares them:
//
//   using minionn_deployment = pmdi::deployment<minionn, pmdi::ring<64, 13>,
//                                               pmdi::proto::shape<2, 1>>;
//
// pmdi_add_deployment (tools/cmake/PmdiRoles.cmake) writes this type from its
// NETWORK, RING, CLUSTERS, COMPUTE and BOUNDS arguments.
#include <type_traits>
#include <vector>

#include "pmdi/nn/weights.hpp"
#include "pmdi/plan/lower.hpp"
#include "pmdi/proto/shape.hpp"
#include "pmdi/proto/stage.hpp"

namespace pmdi {

template <class Net, class Ring, class Shape = proto::shape<2, 1>, class Bounds = nn::default_bounds>
struct deployment {
  using network = Net;
  using ring = Ring;
  using shape = Shape;
  using bounds = Bounds;

  // What every party but the cloud holds: derived from the type, no weights.
  [[nodiscard]] static proto::network_plan public_plan() { return plan::public_network_plan<Net, Ring, Bounds>(); }
  // The cloud's stages: the network with its weights, checked against the type.
  [[nodiscard]] static std::vector<proto::stage> lower(const nn::model_weights& w) {
    return plan::lower<Net, Ring, Bounds>(w);
  }
};

template <class T>
struct is_deployment : std::false_type {};
template <class Net, class Ring, class Shape, class Bounds>
struct is_deployment<deployment<Net, Ring, Shape, Bounds>> : std::true_type {};

// What run/ takes: a pmdi::deployment<...>.
template <class T>
concept a_deployment = is_deployment<T>::value;

}  // namespace pmdi
