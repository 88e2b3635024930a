#pragma once
// What a local deployment (run/local.hpp) is given and reports: its options,
// the compiled shapes it chooses from, and the traffic of one link.
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "pmdi/core/prg.hpp"
#include "pmdi/proto/common.hpp"
#include "pmdi/proto/progress.hpp"
#include "pmdi/proto/shape.hpp"
#include "pmdi/proto/stage.hpp"

namespace pmdi::run {

struct local_options {
  proto::topology topo{};
  unsigned paillier_bits = 2048;
  unsigned threads = 2;                                         // worker threads for Paillier work and garbling
  std::chrono::milliseconds deadline{std::chrono::minutes(10)};  // every wait
  bool record = false;                                          // keep every received payload per party, and each link's message ids
  // Authenticated, encrypted channels (net's secure handshake and AEAD over
  // in-memory transports) instead of plain in-memory pairs.
  bool secure_channels = false;
  // Unread bytes each direction of an in-memory link holds at most, as
  // a socket's buffers would (0: no bound); a sender waits for its reader
  // beyond it, so a test sees the waits that TCP imposes.
  std::size_t link_buffer_bytes = 0;
  std::optional<seed> test_seed;                                // fixed seeds: reproducible transcripts
  proto::progress_sink progress;                         // done/total and ETA of long offline work
  std::function<void(const std::string&)> stage_log;     // the cloud's line per offline stage
};

// Traffic of one link, seen from its first end.
struct link_figures {
  std::string a, b;
  proto::link_counters counters;  // a's view: sent = a -> b
};

template <class... Shapes>
struct shape_list {};

// The shapes local_deployment compiles by default.
using default_local_shapes = shape_list<proto::shape<1, 1>, proto::shape<1, 2>, proto::shape<2, 1>,
                                        proto::shape<2, 2>, proto::shape<3, 1>, proto::shape<3, 2>>;

}  // namespace pmdi::run
