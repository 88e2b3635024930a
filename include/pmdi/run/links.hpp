#pragma once
// open_links() connects one party to the peers it talks to: the party with
// the larger role_id connects, the smaller listens; every link is a secure
// channel authenticated against the deployment file (run/deployment_file.hpp).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/net/secure.hpp"
#include "pmdi/net/tcp.hpp"
#include "pmdi/proto/channel.hpp"
#include "pmdi/run/deployment_file.hpp"

namespace pmdi::run {

namespace asio = boost::asio;

using link_map = std::map<role_id, std::unique_ptr<net::transport>>;

// One line about a connection dropped during start-up (a port scan, a health
// probe, garbage, a half handshake, a second connection from a party already
// linked). The run goes on; open_links() writes them to stderr by default.
using startup_log = std::function<void(const std::string&)>;
[[nodiscard]] inline startup_log stderr_log() {
  return [](const std::string& line) { std::cerr << line << std::endl; };
}

// At most this many handshakes are in flight on one listener; a connection
// beyond them is closed at once (it cannot hold the real parties out for
// longer than one handshake deadline, and the descriptors stay bounded).
inline constexpr std::size_t max_pending_handshakes = 128;

namespace detail {

// The listening half of open_links(): accepts connections until every
// expected peer has an authenticated link, or `until`. Each connection's
// handshake runs as its own coroutine with its own deadline (the deployment's
// handshake timeout), so a silent or slow connection holds up nobody; a
// connection whose handshake fails, or that authenticates as a party already
// linked, is dropped with one line on `log`. Every coroutine it starts has
// ended when it returns.
// [ref] Asio: "Coroutines TS support", co_spawn with per-operation timers.
[[nodiscard]] inline asio::awaitable<std::map<std::string, std::unique_ptr<net::transport>>> accept_peers(
    net::tcp_listener& listener, const net::local_identity& me, const net::peer_directory& expected,
    std::chrono::milliseconds handshake_timeout, net::deadline until, prg& rng, const startup_log& log) {
  auto ex = co_await asio::this_coro::executor;
  struct state {
    explicit state(asio::any_io_executor e) : wake(e) {}
    std::map<std::string, std::unique_ptr<net::transport>> linked;
    std::set<net::transport*> pending;  // handshakes in flight (closed when we stop)
    std::size_t running = 0;            // coroutines started and not ended
    bool stopping = false;
    asio::steady_timer wake;  // cancelled to wake the waiting coroutine
  };
  state st(ex);
  const auto drop = [&](const std::string& who, const std::string& why) {
    if (log) log(me.name + ": dropped a connection from " + who + " during start-up: " + why);
  };
  const auto handshake = [&](std::unique_ptr<net::transport> raw) -> asio::awaitable<void> {
    net::transport* t = raw.get();
    const std::string where = raw->peer_label();
    struct done {
      state& st;
      net::transport* t;
      ~done() {
        st.pending.erase(t);
        --st.running;
        st.wake.cancel();
      }
    } guard{st, t};
    try {
      const auto by = std::min(until, net::after(handshake_timeout));
      auto link = co_await net::secure_accept(std::move(raw), me, expected, rng, by);
      const std::string peer = link->names().peer;
      st.pending.erase(t);
      if (st.stopping) co_return;
      if (st.linked.count(peer)) {
        drop(where, "a second connection from " + peer + ", which is already linked");
        co_return;
      }
      st.linked.emplace(peer, std::move(link));
    } catch (const std::exception& e) {
      if (!st.stopping) drop(where, e.what());
    }
  };
  const auto accept_loop = [&]() -> asio::awaitable<void> {
    struct done {
      state& st;
      ~done() {
        --st.running;
        st.wake.cancel();
      }
    } guard{st};
    while (!st.stopping) {
      std::unique_ptr<net::transport> raw;
      std::string failed;
      try {
        raw = co_await listener.accept(until);
      } catch (const std::exception& e) {
        failed = e.what();
      }
      if (!raw) {
        if (st.stopping || net::clock::now() >= until) co_return;
        drop("an unknown address", failed);  // e.g. out of descriptors: pause, then go on
        asio::steady_timer pause(ex, std::chrono::milliseconds(50));
        (void)co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (st.stopping) co_return;
      if (st.pending.size() >= max_pending_handshakes) {
        drop(raw->peer_label(), std::to_string(max_pending_handshakes) + " handshakes are already in flight");
        continue;  // raw closes here
      }
      st.pending.insert(raw.get());
      ++st.running;
      asio::co_spawn(ex, handshake(std::move(raw)), asio::detached);
    }
  };
  ++st.running;
  asio::co_spawn(ex, accept_loop(), asio::detached);
  while (st.linked.size() < expected.size() && net::clock::now() < until) {
    st.wake.expires_at(until);
    (void)co_await st.wake.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  // Stop: no more accepts, close the handshakes still in flight, and wait
  // until every coroutine above has ended (they refer to this frame).
  st.stopping = true;
  listener.close();
  for (auto* t : st.pending) t->shutdown();
  while (st.running > 0) {
    st.wake.expires_at(net::clock::time_point::max());
    (void)co_await st.wake.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return std::move(st.linked);
}

}  // namespace detail

// Opens secure links from `self` to each of `peers` (run every party's call at
// once, in any order, in one process or many): listens on self's host:port
// when a larger role_id talks to it, connects (with retries) to the smaller
// ones, and authenticates every peer against the deployment file. A
// connection to the listening port that does not complete the handshake as
// an expected party (a stray one) is dropped with a line on `log`; the party
// keeps waiting for the real peers until the connect deadline.
[[nodiscard]] inline asio::awaitable<link_map> open_links(const deployment_file& d, const net::local_identity& me,
                                                          role_id self, std::vector<role_id> peers, prg& rng,
                                                          startup_log log = stderr_log()) {
  auto ex = co_await asio::this_coro::executor;
  const net::deadline until = net::after(d.timeouts.connect + d.timeouts.handshake);
  const party_entry& mine = d.party(self);
  net::peer_directory larger;             // accepted from, by name
  std::map<std::string, role_id> by_name;  // name -> role of the accepted ones
  for (const auto& p : peers) {
    if (p == self) throw usage_error(me.name + ": open_links: a party cannot link to itself");
    if (self < p) {
      larger.emplace(p.to_string(), d.party(p).public_key);
      by_name.emplace(p.to_string(), p);
    }
  }
  // The file's deadlines: a send, or a message's payload once its header has
  // come, fails when no byte of it moved for the receive deadline.
  net::tcp_options tcp;
  tcp.stall = d.timeouts.receive;
  std::optional<net::tcp_listener> listener;
  if (!larger.empty()) listener.emplace(ex, me.name, mine.host, mine.port, tcp);
  link_map links;
  for (const auto& p : peers) {
    if (!(p < self)) continue;
    const party_entry& there = d.party(p);
    auto raw = co_await net::tcp_connect(me.name, p.to_string(), there.host, there.port, until, tcp);
    links.emplace(p, co_await net::secure_connect(std::move(raw), me, p.to_string(), there.public_key, rng, until));
  }
  if (!larger.empty()) {
    auto accepted = co_await detail::accept_peers(*listener, me, larger, d.timeouts.handshake, until, rng, log);
    std::string missing;
    for (const auto& kv : larger)
      if (!accepted.count(kv.first)) missing += (missing.empty() ? "" : ", ") + kv.first;
    if (!missing.empty())
      throw timeout_error(me.name + ": no authenticated connection from " + missing + " on " + mine.host + ":" +
                          std::to_string(mine.port) + " before the deadline");
    for (auto& [name, link] : accepted) links.emplace(by_name.at(name), std::move(link));
  }
  co_return links;
}

// Moves the link to Peer out of `links` into a typed channel.
template <class Self, class Peer>
[[nodiscard]] proto::channel<Self, Peer> take_channel(link_map& links) {
  const auto it = links.find(proto::role_id_v<Peer>);
  if (it == links.end() || !it->second)
    throw usage_error(std::string(proto::role_name_v<Self>) + ": no open link to " +
                      std::string(proto::role_name_v<Peer>));
  proto::channel<Self, Peer> ch(std::move(it->second));
  links.erase(it);
  return ch;
}

}  // namespace pmdi::run
