#pragma once
// The message sequence of the protocol, stage by stage: for each message of
// the catalogue (proto/messages.hpp), the stages it is sent for. Read in
// order, per phase, the table is what every link carries for one inference
// (setup: once per run): for each cluster j in order, its way in, then for
// each of its stages k in order every step that occurs at k, then its way
// out. A link's messages arrive in that order (each link is first in, first
// out); the order across links is the roles' concern (DESIGN.md, "The
// protocol"; Algorithms 2-4 of the paper).
//
//   setup    client -> cloud          public_key                  once
//            cloud -> client          slot_widths                 once
//            cloud -> garbler[j]      model_share                 every stage k of cluster j
//            cloud -> compute[j,v]    model_share                 every stage, every v
//   offline  client -> cloud          enc_stage_input             every stage
//            cloud -> garbler[j]      mask_share                  every stage
//            cloud -> compute[j,v]    mask_share                  every stage, every v
//            cloud -> client          enc_stage_value             every garbled stage
//            garbler[j] -> evaluator  garbled_tables, output_terms every garbled stage
//            client -> garbler[j]     ot_choice                   every garbled stage (Fig. 3)
//            garbler[j] -> client     ot_reply, output_mask       every garbled stage
//            client -> evaluator[j]   ot_forward, output_correction every garbled stage
//            cloud -> client          enc_output_mask             the last stage, when it is linear
//   online   client -> garbler[0]     masked_input                into the pipeline
//            garbler[j] -> compute    stage_input                 every stage, every v
//            compute -> garbler[j]    partial_product             every stage, every v
//            garbler -> evaluator[j]  garbler_labels              every garbled stage
//            evaluator -> garbler[j]  stage_output                every garbled stage
//            garbler[j] -> garbler[j+1] cluster_handoff           between clusters
//            garbler[P-1] -> client   masked_output               out of the pipeline
//
// expected_messages(plan, split, T, phase) expands the table for one plan;
// the protocol tests compare it with what every link of a local deployment
// received (run::local_deployment::messages()).
#include <boost/mp11/algorithm.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "pmdi/proto/messages.hpp"
#include "pmdi/proto/roles.hpp"
#include "pmdi/proto/stage.hpp"

namespace pmdi::proto {

// When a step of the table happens.
enum class occurs : std::uint8_t {
  once,               // once per phase; neither end belongs to a cluster
  every_stage,        // for every stage k, with the cluster that runs k
  garbled_stage,      // for every stage with a garbled part
  last_stage_linear,  // for the network's last stage, when it has no garbled part
  into_pipeline,      // once, into the first cluster
  between_clusters,   // once per boundary, from cluster j to cluster j + 1
  out_of_pipeline,    // once, out of the last cluster
};

// One step: a message of the catalogue (its id, name, ends and phase, taken
// from its declaration at cluster 0 and server 0) and when it occurs. A
// cluster end of the declaration stands for the same role of cluster j (plus
// the declaration's own offset: cluster_handoff<0> goes to garbler<1>); a
// compute end, for every compute server of the cluster.
struct sequence_step {
  std::uint16_t id = 0;
  std::string_view name;
  role_id from, to;
  phase when = phase::setup;
  occurs at = occurs::once;
};

template <class M>
[[nodiscard]] consteval sequence_step step(occurs at) {
  return {M::id, M::name, role_id_v<typename M::sender>, role_id_v<typename M::receiver>, M::when, at};
}

inline constexpr std::array message_sequence{
    // setup
    step<msg_public_key>(occurs::once),
    step<msg_slot_widths>(occurs::once),
    step<msg_model_share_garbler<0>>(occurs::every_stage),
    step<msg_model_share_compute<0, 0>>(occurs::every_stage),
    // offline (Algorithm 2 and Fig. 3)
    step<msg_enc_stage_input>(occurs::every_stage),
    step<msg_mask_share_garbler<0>>(occurs::every_stage),
    step<msg_mask_share_compute<0, 0>>(occurs::every_stage),
    step<msg_enc_stage_value>(occurs::garbled_stage),
    step<msg_garbled_tables<0>>(occurs::garbled_stage),
    step<msg_output_terms<0>>(occurs::garbled_stage),
    step<msg_ot_choice<0>>(occurs::garbled_stage),
    step<msg_ot_reply<0>>(occurs::garbled_stage),
    step<msg_output_mask<0>>(occurs::garbled_stage),
    step<msg_ot_forward<0>>(occurs::garbled_stage),
    step<msg_output_correction<0>>(occurs::garbled_stage),
    step<msg_enc_output_mask>(occurs::last_stage_linear),
    // online (Algorithms 3 and 4)
    step<msg_masked_input>(occurs::into_pipeline),
    step<msg_stage_input<0, 0>>(occurs::every_stage),
    step<msg_partial_product<0, 0>>(occurs::every_stage),
    step<msg_garbler_labels<0>>(occurs::garbled_stage),
    step<msg_stage_output<0>>(occurs::garbled_stage),
    step<msg_cluster_handoff<0>>(occurs::between_clusters),
    step<msg_masked_output<0>>(occurs::out_of_pipeline),
};

namespace detail {

// Every message of the catalogue is a step of the table exactly once, the
// steps of a phase are together and in phase order, and a step that occurs
// once has no cluster end.
template <class... M>
consteval bool sequence_covers(boost::mp11::mp_list<M...>) {
  for (std::uint16_t id : {M::id...}) {
    int n = 0;
    for (const auto& s : message_sequence) n += s.id == id ? 1 : 0;
    if (n != 1) return false;
  }
  return message_sequence.size() == sizeof...(M);
}
consteval bool sequence_well_formed() {
  for (std::size_t i = 0; i < message_sequence.size(); ++i) {
    const auto& s = message_sequence[i];
    if (i > 0 && s.when < message_sequence[i - 1].when) return false;
    if (s.at == occurs::once && (s.from.has_cluster() || s.to.has_cluster())) return false;
  }
  return true;
}

}  // namespace detail

static_assert(detail::sequence_covers(catalogue{}), "every message of the catalogue is one step of message_sequence");
static_assert(detail::sequence_well_formed(), "message_sequence: phases in order, and no cluster end on a once step");

// What each link carries in one phase: (sender, receiver) -> message ids, in
// the order they are sent.
using message_log = std::map<std::pair<role_id, role_id>, std::vector<std::uint16_t>>;

namespace detail {

// The role of a declared end for cluster j and compute server v.
[[nodiscard]] constexpr role_id end_of(role_id declared, std::size_t j, std::size_t v) noexcept {
  if (declared.has_cluster()) declared.cluster += static_cast<std::uint32_t>(j);
  if (declared.kind == role_kind::compute) declared.server = static_cast<std::uint32_t>(v);
  return declared;
}

inline void append_step(message_log& log, const sequence_step& s, std::size_t j, std::size_t compute) {
  const bool fan = s.from.kind == role_kind::compute || s.to.kind == role_kind::compute;
  for (std::size_t v = 0; v < (fan ? compute : 1); ++v)
    log[{end_of(s.from, j, v), end_of(s.to, j, v)}].push_back(s.id);
}

}  // namespace detail

// The table expanded for `plan` split over the clusters of `split`, each of
// `compute` servers: what every link carries in phase `ph` of one inference.
[[nodiscard]] inline message_log expected_messages(const network_plan& plan, const cluster_split& split,
                                                   std::size_t compute, phase ph) {
  message_log log;
  const auto each = [&](occurs at, std::size_t j) {
    for (const auto& s : message_sequence)
      if (s.when == ph && s.at == at) detail::append_step(log, s, j, compute);
  };
  each(occurs::once, 0);
  const std::size_t P = split.clusters(), L = plan.stages.size();
  for (std::size_t j = 0; j < P; ++j) {
    if (j == 0) each(occurs::into_pipeline, j);
    for (std::size_t k = split.first(j); k < split.end(j); ++k)
      for (const auto& s : message_sequence) {
        if (s.when != ph) continue;
        const bool garbled = plan.stages[k].garbled();
        const bool here = s.at == occurs::every_stage || (s.at == occurs::garbled_stage && garbled) ||
                          (s.at == occurs::last_stage_linear && !garbled && k + 1 == L);
        if (here) detail::append_step(log, s, j, compute);
      }
    each(j + 1 < P ? occurs::between_clusters : occurs::out_of_pipeline, j);
  }
  return log;
}

// The name of a message id ("?" for none of the catalogue), for test output.
[[nodiscard]] constexpr std::string_view message_name(std::uint16_t id) noexcept {
  for (const auto& s : message_sequence)
    if (s.id == id) return s.name;
  return "?";
}

}  // namespace pmdi::proto
