#pragma once
// Local deployments compiled apart; run/local.hpp includes this at its end.
//
// The explicit instantiation of one compiled shape: compiling every role of a
// shape takes tens of seconds, and a program that builds several executables
// on local deployments can compile each (ring, shape) once, in its own
// translation unit,
//   PMDI_LOCAL_PARTIES_INSTANCE(template, 32, 5, 2, 1)
// and declare it in the others, which then skip that work:
//   PMDI_LOCAL_PARTIES_INSTANCE(extern template, 32, 5, 2, 1)
// (pmdi's own tests, demo and benchmarks do: instances/CMakeLists.txt).
#define PMDI_LOCAL_PARTIES_INSTANCE(KIND, BITS, FRAC, P, T)                                                  \
  KIND std::unique_ptr<::pmdi::run::detail::local_parties_base<::pmdi::ring<BITS, FRAC>>>                   \
  pmdi::run::detail::make_local_parties<::pmdi::ring<BITS, FRAC>, ::pmdi::proto::shape<P, T>>(              \
      const ::pmdi::proto::public_config&, std::vector<::pmdi::proto::stage>&, const ::pmdi::run::local_options&)

// The instances this program compiles apart (see PMDI_LOCAL_PARTIES_INSTANCE).
#ifdef PMDI_LOCAL_INSTANCES
#include <pmdi_local_instances.hpp>
#endif
