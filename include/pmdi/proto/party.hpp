#pragma once
// The part every role builds on (client, cloud, garbler<J>, evaluator<J>,
// compute<J, V>), each a class template over the ring, the shape and its
// indices: its public configuration and the plan's split over the clusters,
// checked against the shape it is built for; its typed channels (its links
// struct, the one definition of its peers: proto/channel.hpp), every one
// metered; its report; and the metered offline step that fills the material
// of one inference (used exactly once online: material_store).
//
//   template <class Ring, class Shape, std::size_t J>
//   class evaluator : public party<role::evaluator<J>, evaluator_links<J>, Ring, Shape> { ... };
//
// The ring's and the shape's numbers every role uses (V, l, P, T) are
// defined here once; a role names the ones it uses in a using-declaration.
#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "pmdi/proto/channel.hpp"
#include "pmdi/proto/common.hpp"

namespace pmdi::proto {

template <class Self, class Links, class Ring, class Shape>
class party {
  static constexpr role_id id = role_id_v<Self>;
  static_assert(!id.has_cluster() || id.cluster < Shape::clusters, "a cluster party whose J is not a cluster of the shape");
  static_assert(id.kind != role_kind::compute || id.server < Shape::compute, "compute<J, V>: V is not a server of the shape");

 public:
  using self_role = Self;
  using links = Links;
  using V = typename Ring::value_type;  // a ring element
  static constexpr unsigned l = Ring::bits;
  static constexpr std::size_t P = Shape::clusters, T = Shape::compute;

  party(const party&) = delete;
  party& operator=(const party&) = delete;

  [[nodiscard]] static std::string name() { return std::string(role_name_v<Self>); }
  [[nodiscard]] const party_report& report() const noexcept { return report_; }
  // The role's channels (tests reach into them).
  [[nodiscard]] Links& channels() noexcept { return links_; }

 protected:
  party(public_config cfg, Links lk) : cfg_(std::move(cfg)), links_(std::move(lk)) {
    validate(cfg_.plan);
    split_ = split(cfg_.plan, cfg_.topo);
    check_shape<Shape>(cfg_.topo, name());
    report_.party = name();
    for (const char* ph : {"setup", "offline", "online"}) report_.phases[ph];  // a role without a phase reports zeros
    links_.each([&](const auto& ch) { meter_.add(ch); });
  }
  ~party() = default;

  // The stages of this party's cluster, [first(), end()) (cluster parties).
  [[nodiscard]] std::size_t first() const noexcept { return split_.first(id.cluster); }
  [[nodiscard]] std::size_t end() const noexcept { return split_.end(id.cluster); }

  // The offline step of inference `id`, metered as the report's offline
  // phase: prepare(material&) fills what the online step of `id` takes.
  template <class Material, class Prepare>
  asio::awaitable<void> prepare_offline(material_store<Material>& store, std::uint64_t id, Prepare prepare) {
    meter_.begin();
    co_await store.prepare(id, name(), std::move(prepare));
    meter_.end(report_.phase("offline"));
  }

  public_config cfg_;
  Links links_;
  cluster_split split_;
  party_report report_;
  phase_meter meter_;  // time and traffic of every channel, per phase
};

}  // namespace pmdi::proto
