#pragma once
// Typed channels: a channel<Self, Peer> wraps a net::transport and moves the
// frames of messages whose declared sender and receiver match its two roles.
// The messages, their ids and payload codecs are the catalogue of
// proto/messages.hpp; its send<M>(ch, inference, ...) and receive<M>(ch,
// inference, ...) reach a channel through send_frame<M> and receive_frame<M>,
// which compile only for M declared Self -> Peer (or Peer -> Self): sending
// or receiving any other message does not compile (diag/errors.hpp, "roles").
// Errors name this role, the peer and the message.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <concepts>
#include <functional>
#include <map>
#include <span>
#include <vector>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "pmdi/core/bytes.hpp"
#include "pmdi/core/error.hpp"
#include "pmdi/diag/errors.hpp"
#include "pmdi/net/memory.hpp"
#include "pmdi/net/secure.hpp"
#include "pmdi/net/transport.hpp"
#include "pmdi/proto/roles.hpp"

namespace pmdi::proto {

namespace asio = boost::asio;

// A message declared with its sender, receiver and id (the protocol's
// catalogue, proto/messages.hpp, declares its payload codecs beside them).
template <class M>
concept declared_message = requires {
  typename M::sender;
  typename M::receiver;
  { M::id } -> std::convertible_to<std::uint16_t>;
} && is_role_v<typename M::sender> && is_role_v<typename M::receiver> && (M::id < net::first_reserved_type);

// The message's name for errors: M::name when declared, else "message type 0x....".
template <class M>
[[nodiscard]] std::string message_name() {
  if constexpr (requires { std::string_view(M::name); })
    return std::string(M::name);
  else
    return "message " + net::type_label(M::id);
}

namespace detail {

template <class Self, class Peer>
constexpr bool check_roles() {
  if constexpr (!is_role_v<Self>) {
    (void)diag::roles::not_a_role<Self>{};
    return false;
  } else if constexpr (!is_role_v<Peer>) {
    (void)diag::roles::not_a_role<Peer>{};
    return false;
  } else if constexpr (std::is_same_v<Self, Peer>) {
    (void)diag::roles::role_self_channel<Self>{};
    return false;
  } else {
    return true;
  }
}

template <class Self, class Peer, class Msg>
constexpr bool check_send() {
  if constexpr (!declared_message<Msg>) {
    (void)diag::roles::not_a_message<Msg>{};
    return false;
  } else if constexpr (!std::is_same_v<typename Msg::sender, Self>) {
    (void)diag::roles::role_cannot_send<Self, Msg, typename Msg::sender>{};
    return false;
  } else if constexpr (!std::is_same_v<typename Msg::receiver, Peer>) {
    (void)diag::roles::peer_cannot_receive<Peer, Msg, typename Msg::receiver>{};
    return false;
  } else {
    return true;
  }
}

template <class Self, class Peer, class Msg>
constexpr bool check_receive_roles() {
  if constexpr (!declared_message<Msg>) {
    (void)diag::roles::not_a_message<Msg>{};
    return false;
  } else if constexpr (!std::is_same_v<typename Msg::receiver, Self>) {
    (void)diag::roles::role_cannot_receive<Self, Msg, typename Msg::receiver>{};
    return false;
  } else if constexpr (!std::is_same_v<typename Msg::sender, Peer>) {
    (void)diag::roles::peer_cannot_send<Peer, Msg, typename Msg::sender>{};
    return false;
  } else {
    return true;
  }
}

}  // namespace detail

// One party's turn across all its channels (see channel::set_turns).
// flights[peer] counts the flights that went to that peer.
struct party_turns {
  bool last_was_send = false;
  std::map<std::string, std::uint64_t, std::less<>> flights;
  // A phase starts a new turn: its first send starts a flight, even when the
  // party's last act of the phase before was a send.
  void new_phase() noexcept { last_was_send = false; }
};

template <class Self, class Peer>
class channel {
  static constexpr bool roles_ok = detail::check_roles<Self, Peer>();
  static_assert(roles_ok || true, "instantiates the role checks with the class (their own message comes first)");

 public:
  using self_role = Self;
  using peer_role = Peer;

  // A channel without a link: a place for one (connected() is false until a
  // connected channel is moved in); every operation on it is a usage_error.
  channel() = default;
  explicit channel(std::unique_ptr<net::transport> link) : link_(std::move(link)) {
    if (!link_) throw usage_error(std::string(self_name()) + ": channel to " + std::string(peer_name()) + " has no link");
  }

  [[nodiscard]] static constexpr std::string_view self_name() noexcept {
    if constexpr (roles_ok) return role_name_v<Self>;
    else return "?";
  }
  [[nodiscard]] static constexpr std::string_view peer_name() noexcept {
    if constexpr (roles_ok) return role_name_v<Peer>;
    else return "?";
  }

  [[nodiscard]] bool connected() const noexcept { return link_ != nullptr; }
  [[nodiscard]] net::transport& link() { return *require(); }
  [[nodiscard]] net::link_counters counters() const { return require()->counters(); }

  // ---- protocol frames (proto/messages.hpp serializes and parses them) ----

  // How long each receive of a protocol frame may wait.
  void set_deadline(net::clock::duration d) noexcept { deadline_ = d; }
  [[nodiscard]] net::clock::duration deadline() const noexcept { return deadline_; }
  // The party's channels share one turn: a send that follows a receive on any
  // of them (or is the party's first send in a phase) starts a flight, counted here.
  void set_turns(party_turns* t) noexcept { turns_ = t; }
  // The flights this end started to Peer (0 without set_turns).
  [[nodiscard]] std::uint64_t flights() const {
    if (turns_ == nullptr) return 0;
    const auto it = turns_->flights.find(peer_name());
    return it == turns_->flights.end() ? 0 : it->second;
  }
  // Sees every protocol payload this end receives (transcript tests).
  std::function<void(std::uint16_t, std::span<const std::byte>)> on_receive;

  // Sends Msg's serialized payload; compiles only when Msg is declared
  // Self -> Peer. Failures are protocol_errors naming Self, the step and Peer.
  template <class Msg>
  [[nodiscard]] asio::awaitable<void> send_frame(std::vector<std::byte> payload) {
    if constexpr (detail::check_send<Self, Peer, Msg>())
      return send_frame_checked(Msg::id, message_name<Msg>(), std::move(payload));
    else
      return {};
  }

  // Receives the next frame, which must be a Msg of at most `max` bytes (both
  // checked before anything is allocated); compiles only when Msg is declared
  // Peer -> Self.
  template <class Msg>
  [[nodiscard]] asio::awaitable<std::vector<std::byte>> receive_frame(std::size_t max) {
    if constexpr (detail::check_receive_roles<Self, Peer, Msg>())
      return receive_frame_checked(Msg::id, message_name<Msg>(), max);
    else
      return {};
  }

  // The secret only Self and Peer know (secure links, or an in-memory pair
  // made with one): the master key for pmdi::derive_seed, e.g. the
  // client/evaluator and garbler/evaluator seeds of the three-party OT.
  [[nodiscard]] std::span<const std::byte, net::pair_secret_bytes> pair_secret() const {
    const auto s = require()->pair_secret();
    if (s.size() != net::pair_secret_bytes)
      throw usage_error(std::string(self_name()) + ": the link to " + std::string(peer_name()) +
                        " is not a secure channel, so it has no pair secret");
    return s.template first<net::pair_secret_bytes>();
  }
  void shutdown() noexcept {
    if (link_) link_->shutdown();
  }

 private:
  net::transport* require() const {
    if (!link_)
      throw usage_error(std::string(self_name()) + ": the channel to " + std::string(peer_name()) + " is not connected");
    return link_.get();
  }

  asio::awaitable<void> send_frame_checked(std::uint16_t id, std::string name, std::vector<std::byte> payload) {
    net::transport* l = require();
    if (turns_ != nullptr && !turns_->last_was_send) {
      turns_->last_was_send = true;
      ++turns_->flights[std::string(peer_name())];
    }
    try {
      co_await l->send(id, std::move(payload));
    } catch (const protocol_error&) {
      throw;
    } catch (const error& e) {
      throw protocol_error(std::string(self_name()), "send " + name, std::string(peer_name()), e.what());
    }
  }

  asio::awaitable<std::vector<std::byte>> receive_frame_checked(std::uint16_t id, std::string name, std::size_t max) {
    net::transport* l = require();
    net::message m;
    try {
      m = co_await l->receive(net::expect_type(id, max), net::after(deadline_), name);
    } catch (const protocol_error&) {
      throw;
    } catch (const error& e) {
      throw protocol_error(std::string(self_name()), "receive " + name, std::string(peer_name()), e.what());
    }
    if (turns_ != nullptr) turns_->last_was_send = false;
    if (on_receive) on_receive(id, m.payload);
    co_return std::move(m.payload);
  }

  std::unique_ptr<net::transport> link_;
  net::clock::duration deadline_ = std::chrono::minutes(10);
  party_turns* turns_ = nullptr;
};

// ---- who talks to whom -------------------------------------------------------
//
// Each role declares its channels once, in its links struct (client_links,
// cloud_links, garbler_links, evaluator_links, compute_links), whose each(f)
// visits every channel<Self, Peer>. That is the one definition of who talks
// to whom: a party's peers (peers_of: the links a role binary opens) and the
// wiring of a one-process run (with_channel_to, in run/local.hpp) are read
// from it.

// The peers of a role, in the order its links struct lists them.
template <class Links>
[[nodiscard]] std::vector<role_id> peers_of() {
  Links l;
  std::vector<role_id> peers;
  l.each([&]<class C>(C&) { peers.push_back(role_id_v<typename C::peer_role>); });
  return peers;
}

// Calls f on the channel of `links` that leads to Peer; false if it has none.
template <class Peer, class Links, class F>
bool with_channel_to(Links& links, F&& f) {
  bool found = false;
  links.each([&]<class C>(C& ch) {
    if constexpr (std::is_same_v<typename C::peer_role, Peer>) {
      found = true;
      f(ch);
    }
  });
  return found;
}

// Two channels joined in memory (tests, single-process runs): what `first`
// sends, `second` receives.
template <role_type A, role_type B>
[[nodiscard]] std::pair<channel<A, B>, channel<B, A>> memory_channel_pair(asio::any_io_executor ex) {
  auto [a, b] = net::memory_pair(std::move(ex), std::string(role_name_v<A>), std::string(role_name_v<B>));
  return {channel<A, B>(std::move(a)), channel<B, A>(std::move(b))};
}

// The same over the secure wrapper (handshake in memory, encrypted records,
// pair secrets): co_await proto::secure_memory_channel_pair<A, B>(rng).
template <role_type A, role_type B>
[[nodiscard]] asio::awaitable<std::pair<channel<A, B>, channel<B, A>>> secure_memory_channel_pair(prg& rng) {
  auto ends = co_await net::secure_memory_pair(std::string(role_name_v<A>), std::string(role_name_v<B>), rng);
  co_return std::pair<channel<A, B>, channel<B, A>>{channel<A, B>(std::move(ends.first)),
                                                    channel<B, A>(std::move(ends.second))};
}

}  // namespace pmdi::proto
