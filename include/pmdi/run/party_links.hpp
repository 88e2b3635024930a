#pragma once
// The links of one party process: the transports to its peers (its role's
// links struct names them) taken into its role's typed channels, the end of the run with every peer,
// and the traffic per peer for its report.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/proto/channel.hpp"
#include "pmdi/proto/common.hpp"
#include "pmdi/run/deployment.hpp"
#include "pmdi/run/report.hpp"

namespace pmdi::run {

// The transports of one party, taken into its role's typed channels, and the
// turn they share (flights). Lives for the whole run, so the error path can
// shut every link.
class party_links {
 public:
  party_links(std::string self, std::chrono::milliseconds deadline) : self_(std::move(self)), deadline_(deadline) {}

  // Opens the links to `peers` (proto::peers_of<typename Party::links>()).
  [[nodiscard]] asio::awaitable<void> open(const deployment_file& d, const net::local_identity& me,
                                           const role_id& self, std::vector<role_id> peers) {
    prg rng = prg::from_os();
    raw_ = co_await open_links(d, me, self, std::move(peers), rng);
    for (auto& [r, l] : raw_) by_peer_.emplace(r.to_string(), l.get());
  }

  // Moves the link to the channel's peer into `ch` and sets it up for this run.
  template <class Self, class Peer>
  void take(proto::channel<Self, Peer>& ch) {
    ch = take_channel<Self, Peer>(raw_);
    ch.set_deadline(deadline_);
    ch.set_turns(&turns_);
  }

  // The end of the run: tells every peer this party is done, then waits
  // until each peer says the same. A peer that fails or dies before its own
  // "done" makes this party fail too, naming it. A peer whose "done" arrives
  // has finished its part: if it is gone by the time ours reaches it (a
  // cloud killed while it waits through the online phase), that is no
  // failure of this run. Nothing follows the end message, so a peer never
  // meets it in a protocol receive (it would be refused there: its type is
  // outside the catalogue).
  [[nodiscard]] asio::awaitable<void> finish(std::chrono::milliseconds deadline) {
    std::map<std::string, std::string> unsent;  // peer -> why our "done" did not go
    for (auto& [peer, t] : by_peer_) {
      try {
        co_await t->send(end_of_run_type, {});
      } catch (const error& e) {
        unsent.emplace(peer, e.what());
      }
    }
    for (auto& [peer, t] : by_peer_) {
      try {
        (void)co_await t->receive(net::expect_type(end_of_run_type, 0), net::after(deadline), "the end of the run");
      } catch (const error& e) {
        const auto it = unsent.find(peer);
        throw protocol_error(self_, "finish", peer, it != unsent.end() ? it->second : std::string(e.what()));
      }
    }
  }

  // A phase begins: its first send starts a flight (proto::party_turns).
  void new_phase() noexcept { turns_.new_phase(); }
  // Shuts every link: the peers' waits on them end at once.
  void close_all() noexcept {
    for (auto& [peer, t] : by_peer_) t->shutdown();
  }
  // Forgets the links (their owners, the role's channels, are gone).
  void release() noexcept { by_peer_.clear(); }

  struct snapshot {
    std::map<std::string, proto::link_counters> at;
  };
  [[nodiscard]] snapshot take_snapshot() const {
    snapshot s;
    for (const auto& [peer, t] : by_peer_) s.at[peer] = proto::link_counters::of(t->counters(), flights(peer));
    return s;
  }
  // Adds what crossed each link since `before` to `into`.
  void add_since(const snapshot& before, proto::phase_figures& into) const {
    for (const auto& [peer, t] : by_peer_)
      into.peers[peer] += proto::link_counters::of(t->counters(), flights(peer)) - before.at.at(peer);
  }
  void fill_wire(proto::party_report& r) const {
    for (const auto& [peer, t] : by_peer_) {
      const auto w = t->counters();
      r.wire[peer] = {w.wire_bytes_sent, w.wire_bytes_received};
    }
  }

  static constexpr net::message_type end_of_run_type = 0x0FFF;

 private:
  [[nodiscard]] std::uint64_t flights(const std::string& peer) const {
    const auto it = turns_.flights.find(peer);
    return it == turns_.flights.end() ? 0 : it->second;
  }

  std::string self_;
  std::chrono::milliseconds deadline_;
  link_map raw_;                              // opened, not yet taken by a channel
  std::map<std::string, net::transport*> by_peer_;  // every link, by peer name
  proto::party_turns turns_;
};

}  // namespace pmdi::run
