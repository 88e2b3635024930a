#pragma once
// The secure channel: every link is authenticated and encrypted.
//
// Handshake (initiator I connects to responder R; both hold static X25519 key
// pairs listed in the deployment file, and fresh ephemeral ones):
//   I -> R  hello    = version | name_I | name_R (expected) | S_I | E_I
//   R -> I  reply    = version | name_R | S_R | E_R           (or refuse = reason)
//   th      = BLAKE2b-256("pmdi/net/handshake/v1" | hello | reply)
//   ikm     = X25519(e_I, E_R) | X25519(e_I, S_R) | X25519(s_I, E_R) | X25519(s_I, S_R)
//   prk     = BLAKE2b-256(key = th, ikm)
//   k_IR, k_RI, pair secret = KDF(prk, 1 | 2 | 3, "pmdinet1")
//   both    finished = AEAD_k(out)(th), counter 0; each checks the other's.
// A party without the static secret key of the public key it claims cannot
// compute X25519(e, S) and fails the key confirmation; a name that is not in
// the directory or a public key that differs from it is refused before any
// key is derived; the refusing side tells the other why (refuse frame).
// [ref] the pattern is Noise KK's set of DH terms (Perrin, The Noise Protocol
// Framework, rev. 34, section 7.5) with explicit key confirmation.
//
// Records: AES-256-GCM per message with the key of its direction, nonce =
// 64-bit message counter, associated data = message type (net/record_cipher.hpp);
// a tampered, replayed, reordered or dropped message fails authentication
// (decode_error).
// The frame header (length, type) stays in the clear and is authenticated.
#include <sodium.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "pmdi/core/bytes.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/core/secret.hpp"
#include "pmdi/net/framing.hpp"
#include "pmdi/net/keys.hpp"
#include "pmdi/net/memory.hpp"
#include "pmdi/net/record_cipher.hpp"
#include "pmdi/net/transport.hpp"

namespace pmdi::net {

inline constexpr message_type hello_type = 0xFF01;
inline constexpr message_type reply_type = 0xFF02;
inline constexpr message_type finished_type = 0xFF03;
inline constexpr message_type refuse_type = 0xFF04;

inline constexpr std::uint16_t handshake_version = 2;  // 2: AES-256-GCM records
inline constexpr std::size_t max_party_name = 64;
inline constexpr std::size_t max_refuse_reason = 256;
inline constexpr std::size_t pair_secret_bytes = crypto_kdf_KEYBYTES;
static_assert(pair_secret_bytes == 32 && record_key_bytes >= crypto_kdf_BYTES_MIN && record_key_bytes <= crypto_kdf_BYTES_MAX);

// This party: its name (as the deployment file prints it) and static key pair.
struct local_identity {
  std::string name;
  key_pair keys;
};

// The parties this one accepts connections from: name -> static public key.
using peer_directory = std::map<std::string, public_key, std::less<>>;

namespace detail {

// Session keys of one link; zeroed on destruction.
struct session_keys {
  record_key tx{}, rx{};
  master_key pair{};
  ~session_keys() {
    secure_zero(tx.data(), tx.size());
    secure_zero(rx.data(), rx.size());
    secure_zero(pair.data(), pair.size());
  }
};

// Printable ASCII only, bounded: text from a peer goes into our error messages.
inline std::string sanitize(std::span<const std::byte> b, std::size_t max) {
  std::string s;
  for (std::size_t i = 0; i < b.size() && i < max; ++i) {
    const auto c = static_cast<char>(b[i]);
    s += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return s;
}

}  // namespace detail

class secure_transport final : public transport {
 public:
  // Made by secure_connect / secure_accept.
  secure_transport(std::unique_ptr<transport> inner, detail::session_keys&& keys)
      : transport(inner->names()),
        inner_(std::move(inner)),
        tx_(keys.tx, detail::record_cipher::direction::seal),
        rx_(keys.rx, detail::record_cipher::direction::open),
        pair_(keys.pair) {}
  ~secure_transport() override {
    shutdown();
    secure_zero(pair_.data(), pair_.size());
  }

  // A 32-byte secret that only the two ends of this link know, fresh per
  // handshake, equal on both ends: the master key for pmdi::derive_seed.
  [[nodiscard]] std::span<const std::byte> pair_secret() const noexcept override { return pair_; }
  [[nodiscard]] const master_key& pair_master_key() const noexcept { return pair_; }

  void shutdown() noexcept override { inner_->shutdown(); }

  [[nodiscard]] link_counters counters() const noexcept override {
    link_counters c = app_;
    const link_counters w = inner_->counters();
    c.wire_bytes_sent = w.wire_bytes_sent;
    c.wire_bytes_received = w.wire_bytes_received;
    return c;
  }
  [[nodiscard]] asio::any_io_executor get_executor() const override { return inner_->get_executor(); }
  [[nodiscard]] transport& inner() noexcept { return *inner_; }

 protected:
  [[nodiscard]] asio::awaitable<void> do_send(message_type type, std::span<const std::byte> payload) override {
    co_await do_send_owned(type, record_buffer(payload));
  }
  // A buffer handed over is sealed where it lies.
  [[nodiscard]] asio::awaitable<void> do_send_owned(message_type type, std::vector<std::byte> payload) override {
    if (type >= first_reserved_type)
      throw usage_error(names_.self + ": message " + type_label(type) + " is reserved for the handshake");
    const std::size_t n = payload.size();
    tx_.seal_in_place(tx_counter_, type, payload);
    ++tx_counter_;
    co_await inner_->send(type, std::move(payload));
    ++app_.messages_sent;
    app_.payload_bytes_sent += n;
  }

  [[nodiscard]] asio::awaitable<message> do_receive(const type_limits& limits, deadline until,
                                                    std::string_view awaited) override {
    if (failure_) std::rethrow_exception(failure_);
    const type_limits sealed_limits = [&limits](message_type t) -> std::optional<std::size_t> {
      if (t >= first_reserved_type || !limits) return std::nullopt;
      const auto m = limits(t);
      if (!m) return std::nullopt;
      return *m > max_frame_payload - record_overhead ? max_frame_payload : *m + record_overhead;
    };
    try {
      message m = co_await inner_->receive(sealed_limits, until, awaited);
      if (!rx_.open_in_place(rx_counter_, m.type, m.payload))
        throw decode_error(names_.self + ": message " + type_label(m.type) + " from " + peer_label() +
                           " failed authentication (tampered, replayed, reordered or forged) while waiting for " +
                           std::string(awaited));
      ++rx_counter_;
      ++app_.messages_received;
      app_.payload_bytes_received += m.payload.size();
      co_return m;
    } catch (...) {
      failure_ = std::current_exception();
      throw;
    }
  }

 private:
  std::unique_ptr<transport> inner_;
  detail::record_cipher tx_, rx_;
  master_key pair_{};
  std::uint64_t tx_counter_ = 1;  // counter 0 was the handshake's finished message
  std::uint64_t rx_counter_ = 1;
  link_counters app_{};
  std::exception_ptr failure_{};
};

namespace detail {

class handshake {
 public:
  handshake(transport& link, const local_identity& self, deadline until)
      : link_(link), self_(self), until_(until) {}

  [[nodiscard]] handshake_error refused(const std::string& reason) const {
    return handshake_error(self_.name + ": handshake with " + link_.peer_label() + " refused: " + reason);
  }

  // Tells the peer why (best effort), closes, and returns the local error.
  asio::awaitable<void> refuse(const std::string& local_reason, const std::string& told) {
    const std::string text = told.substr(0, max_refuse_reason);
    try {
      co_await link_.send(refuse_type, std::as_bytes(std::span(text.data(), text.size())));
    } catch (...) {
    }
    link_.shutdown();
    throw refused(local_reason);
  }

  asio::awaitable<message> receive(message_type want, std::size_t max, const char* what) {
    message m = co_await link_.receive(
        [want, max](message_type t) -> std::optional<std::size_t> {
          if (t == want) return max;
          if (t == refuse_type) return max_refuse_reason;
          return std::nullopt;
        },
        until_, what);
    if (m.type == refuse_type)
      throw handshake_error(self_.name + ": handshake with " + link_.peer_label() +
                            " refused by the peer: " + sanitize(m.payload, max_refuse_reason));
    co_return m;
  }

  static void put_name(byte_writer& w, std::string_view name) {
    w.put<std::uint8_t>(static_cast<std::uint8_t>(name.size()));
    w.put_bytes(std::as_bytes(std::span(name.data(), name.size())));
  }
  static std::string get_name(byte_reader& r) {
    const auto n = r.get_in<std::uint8_t>(1, max_party_name, "name length");
    const auto b = r.take(n);
    for (std::byte c : b)
      if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)
        throw decode_error(r.what() + ": party name has a character outside printable ASCII");
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
  }

  // Everything after both hellos: DH terms, keys, key confirmation.
  asio::awaitable<std::unique_ptr<secure_transport>> finish(std::span<const std::byte> hello,
                                                           std::span<const std::byte> reply, bool initiator,
                                                           const secret_key& eph_sk, const public_key& peer_static,
                                                           const public_key& peer_eph) {
    // Transcript hash.
    std::array<unsigned char, 32> th{};
    {
      crypto_generichash_state st;
      static constexpr char label[] = "pmdi/net/handshake/v1";
      ::crypto_generichash_init(&st, nullptr, 0, th.size());
      ::crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(label), sizeof label - 1);
      ::crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(hello.data()), hello.size());
      ::crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(reply.data()), reply.size());
      ::crypto_generichash_final(&st, th.data(), th.size());
    }
    // DH terms in the initiator's order: ee, es, se, ss.
    std::array<unsigned char, 4 * 32> ikm{};
    const auto dh = [&](unsigned char* out, const secret_key& sk, const public_key& pk) {
      return ::crypto_scalarmult(out, sk.data(), reinterpret_cast<const unsigned char*>(pk.data())) == 0;
    };
    const secret_key& st_sk = self_.keys.sk;
    bool ok = dh(ikm.data(), eph_sk, peer_eph);
    if (initiator) {
      ok = dh(ikm.data() + 32, eph_sk, peer_static) && ok;   // es
      ok = dh(ikm.data() + 64, st_sk, peer_eph) && ok;       // se
    } else {
      ok = dh(ikm.data() + 32, st_sk, peer_eph) && ok;       // es = X(s_R, E_I)
      ok = dh(ikm.data() + 64, eph_sk, peer_static) && ok;   // se = X(e_R, S_I)
    }
    ok = dh(ikm.data() + 96, st_sk, peer_static) && ok;      // ss
    if (!ok) {
      secure_zero(ikm.data(), ikm.size());
      co_await refuse("the peer sent a public key of low order", "invalid public key");
    }
    std::array<unsigned char, crypto_kdf_KEYBYTES> prk{};
    ::crypto_generichash(prk.data(), prk.size(), ikm.data(), ikm.size(), th.data(), th.size());
    secure_zero(ikm.data(), ikm.size());
    session_keys keys;
    record_key k_ir{}, k_ri{};
    static constexpr char ctx[] = "pmdinet1";
    ::crypto_kdf_derive_from_key(k_ir.data(), k_ir.size(), 1, ctx, prk.data());
    ::crypto_kdf_derive_from_key(k_ri.data(), k_ri.size(), 2, ctx, prk.data());
    ::crypto_kdf_derive_from_key(reinterpret_cast<unsigned char*>(keys.pair.data()), keys.pair.size(), 3, ctx,
                                 prk.data());
    secure_zero(prk.data(), prk.size());
    keys.tx = initiator ? k_ir : k_ri;
    keys.rx = initiator ? k_ri : k_ir;
    secure_zero(k_ir.data(), k_ir.size());
    secure_zero(k_ri.data(), k_ri.size());

    // Key confirmation, both directions at once.
    const auto th_bytes = std::as_bytes(std::span(th));
    const auto fin = record_cipher(keys.tx, record_cipher::direction::seal).seal(0, finished_type, th_bytes);
    co_await link_.send(finished_type, fin);
    const message m = co_await receive(finished_type, th.size() + record_overhead, "the handshake's key confirmation");
    const auto got = record_cipher(keys.rx, record_cipher::direction::open).open(0, finished_type, m.payload);
    if (!got || !ct_equal(*got, th_bytes))
      co_await refuse("peer key does not match the deployment file (key confirmation failed)",
                      "key confirmation failed: key does not match the deployment file");
    co_return std::make_unique<secure_transport>(release(), std::move(keys));
  }

  // The inner link moves into the secure transport at the end.
  void adopt(std::unique_ptr<transport> inner) { owned_ = std::move(inner); }
  std::unique_ptr<transport> release() { return std::move(owned_); }

 private:
  transport& link_;
  const local_identity& self_;
  deadline until_;
  std::unique_ptr<transport> owned_;
};

inline constexpr std::size_t hello_max = 2 + 2 * (1 + max_party_name) + 2 * public_key_bytes;
inline constexpr std::size_t reply_max = 2 + 1 + max_party_name + 2 * public_key_bytes;

}  // namespace detail

// Initiator side: authenticates `peer` (whose static public key the
// deployment file lists as `peer_key`) over `inner`, and returns the
// encrypted link. Throws handshake_error with the reason on refusal.
[[nodiscard]] inline asio::awaitable<std::unique_ptr<secure_transport>> secure_connect(
    std::unique_ptr<transport> inner, const local_identity& self, std::string peer, public_key peer_key, prg& rng,
    deadline until) {
  sodium_init_or_throw();
  if (self.name.empty() || self.name.size() > max_party_name || peer.empty() || peer.size() > max_party_name)
    throw usage_error("secure_connect: party names must have 1 to 64 characters");
  transport& link = *inner;
  link.set_peer_name(peer);
  detail::handshake hs(link, self, until);
  hs.adopt(std::move(inner));
  const key_pair eph = keygen(rng);

  byte_writer hello;
  hello.put<std::uint16_t>(handshake_version);
  detail::handshake::put_name(hello, self.name);
  detail::handshake::put_name(hello, peer);
  hello.put_bytes(self.keys.pk);
  hello.put_bytes(eph.pk);
  co_await link.send(hello_type, hello.bytes());

  const message m = co_await hs.receive(reply_type, detail::reply_max, "the handshake reply");
  byte_reader r(m.payload, self.name + ": handshake reply from " + link.peer_label());
  const auto version = r.get<std::uint16_t>();
  if (version != handshake_version)
    co_await hs.refuse("unsupported handshake version " + std::to_string(version), "unsupported handshake version");
  const std::string name = detail::handshake::get_name(r);
  public_key s_r{}, e_r{};
  r.get_array<std::byte>(s_r);
  r.get_array<std::byte>(e_r);
  r.expect_end();
  if (name != peer)
    co_await hs.refuse("the party there answers as '" + name + "'", "expected " + peer + ", not " + name);
  if (!ct_equal(s_r, peer_key))
    co_await hs.refuse("peer key does not match the deployment file", "key does not match the deployment file");
  co_return co_await hs.finish(hello.bytes(), m.payload, true, eph.sk, s_r, e_r);
}

// Responder side: waits for a hello, accepts only a party listed in `peers`
// with the listed key, and returns the encrypted link with the peer's name set.
[[nodiscard]] inline asio::awaitable<std::unique_ptr<secure_transport>> secure_accept(
    std::unique_ptr<transport> inner, const local_identity& self, const peer_directory& peers, prg& rng,
    deadline until) {
  sodium_init_or_throw();
  transport& link = *inner;
  detail::handshake hs(link, self, until);
  hs.adopt(std::move(inner));

  const message m = co_await hs.receive(hello_type, detail::hello_max, "the handshake hello");
  byte_reader r(m.payload, self.name + ": handshake hello from " + link.peer_label());
  const auto version = r.get<std::uint16_t>();
  if (version != handshake_version)
    co_await hs.refuse("unsupported handshake version " + std::to_string(version), "unsupported handshake version");
  const std::string name = detail::handshake::get_name(r);
  const std::string wanted = detail::handshake::get_name(r);
  public_key s_i{}, e_i{};
  r.get_array<std::byte>(s_i);
  r.get_array<std::byte>(e_i);
  r.expect_end();
  const auto it = peers.find(name);
  if (it == peers.end())
    co_await hs.refuse("unknown peer '" + name + "' is not in the deployment file",
                       "'" + name + "' is not a party this one talks to");
  link.set_peer_name(name);
  if (wanted != self.name)
    co_await hs.refuse("the peer wanted '" + wanted + "'", "this is " + self.name + ", not " + wanted);
  if (!ct_equal(s_i, it->second))
    co_await hs.refuse("peer key does not match the deployment file", "key does not match the deployment file");

  const key_pair eph = keygen(rng);
  byte_writer reply;
  reply.put<std::uint16_t>(handshake_version);
  detail::handshake::put_name(reply, self.name);
  reply.put_bytes(self.keys.pk);
  reply.put_bytes(eph.pk);
  co_await link.send(reply_type, reply.bytes());
  co_return co_await hs.finish(m.payload, reply.bytes(), false, eph.sk, s_i, e_i);
}

// How long the handshake of an in-memory secure pair may take by default.
inline constexpr clock::duration memory_handshake_timeout = std::chrono::seconds(10);

// Two secure transports joined in memory (tests, single-process runs): fresh
// static keys from `rng`, the full handshake, records encrypted as over TCP;
// `capacity` bounds each direction's unread bytes (memory_pair).
[[nodiscard]] inline asio::awaitable<std::pair<std::unique_ptr<secure_transport>, std::unique_ptr<secure_transport>>>
secure_memory_pair(std::string first, std::string second, prg& rng, clock::duration timeout = memory_handshake_timeout,
                   std::size_t capacity = 0) {
  using namespace asio::experimental::awaitable_operators;
  auto ex = co_await asio::this_coro::executor;
  auto ends = memory_pair(ex, first, second, std::nullopt, capacity);
  const local_identity ia{first, keygen(rng)};
  const local_identity ib{second, keygen(rng)};
  const peer_directory known{{first, ia.keys.pk}};
  const deadline until = after(timeout);
  auto both = co_await (secure_connect(std::move(ends.first), ia, second, ib.keys.pk, rng, until) &&
                        secure_accept(std::move(ends.second), ib, known, rng, until));
  co_return std::pair{std::move(std::get<0>(both)), std::move(std::get<1>(both))};
}

}  // namespace pmdi::net
