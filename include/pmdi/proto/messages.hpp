#pragma once
// The message catalogue: every message of setup, offline and online, declared
// once with its id, sender, receiver and payload. `send<M>` and `receive<M>`
// only compile on a channel<Self, Peer> with Self == M::sender and
// Peer == M::receiver (and the mirror for receive): PMDI_E_ROLE_WRONG_SENDER,
// PMDI_E_ROLE_WRONG_RECEIVER. Every payload is validated on
// parse: counts against what the receiver expects from the public plan,
// lengths against per-message maxima, bit fields against 0/1; a violation is a
// decode_error, re-thrown as a protocol_error naming party, step and peer.
//
// Frame: the net message type is the id; payload [u64 inference][body].
#include <boost/mp11/list.hpp>

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "pmdi/core/block.hpp"
#include "pmdi/core/bytes.hpp"
#include "pmdi/core/error.hpp"
#include "pmdi/core/huge_pages.hpp"
#include "pmdi/net/record_cipher.hpp"
#include "pmdi/proto/channel.hpp"
#include "pmdi/proto/roles.hpp"

namespace pmdi::proto {

enum class phase : std::uint8_t { setup, offline, online };

// ---- payload codecs ---------------------------------------------------------
namespace wire {

inline constexpr std::size_t max_blob = std::size_t{1} << 20;          // one key
inline constexpr std::size_t max_ciphertext = 2 * 8192 / 8 + 64;        // one serialized ciphertext (N^2 < 2^16384)
inline constexpr std::size_t max_count = std::size_t{1} << 28;         // elements in one message

inline void put_count(byte_writer& w, std::size_t n) { w.put<std::uint32_t>(static_cast<std::uint32_t>(n)); }

inline std::size_t get_count(byte_reader& r, std::size_t expected, const char* field) {
  const auto n = r.get<std::uint32_t>();
  if (n != expected)
    throw decode_error(r.what() + ": field '" + field + "' has " + std::to_string(n) + " elements, expected " +
                       std::to_string(expected));
  return n;
}

// Ring elements: fixed width (sizeof V) little-endian words.
template <std::unsigned_integral V>
void put_words(byte_writer& w, std::span<const V> v) {
  put_count(w, v.size());
  w.put_array(v);
}
template <std::unsigned_integral V>
[[nodiscard]] std::vector<V> get_words(byte_reader& r, std::size_t expected, const char* field) {
  std::vector<V> v(get_count(r, expected, field));
  r.get_array(std::span<V>(v));
  return v;
}

inline void put_blocks(byte_writer& w, std::span<const block> b) {
  static_assert(sizeof(block) == block_bytes && std::is_trivially_copyable_v<block>);
  put_count(w, b.size());
  w.put_array(b);  // 16 bytes each, in memory order (little-endian lanes)
}
template <class Blocks = std::vector<block>>
[[nodiscard]] Blocks get_blocks(byte_reader& r, std::size_t expected, const char* field) {
  Blocks b(get_count(r, expected, field));
  r.get_array(std::span<block>(b));
  return b;
}

// Bits (0/1 bytes in memory), packed 8 per byte on the wire; padding bits must be zero.
inline void put_bits(byte_writer& w, std::span<const std::uint8_t> bits) {
  put_count(w, bits.size());
  std::vector<std::byte> p((bits.size() + 7) / 8);
  for (std::size_t i = 0; i < bits.size(); ++i)
    if (bits[i] & 1U) p[i / 8] |= std::byte{static_cast<unsigned char>(1U << (i % 8))};
  w.put_bytes(p);
}
[[nodiscard]] inline std::vector<std::uint8_t> get_bits(byte_reader& r, std::size_t expected, const char* field) {
  const std::size_t n = get_count(r, expected, field);
  auto p = r.take((n + 7) / 8);
  std::vector<std::uint8_t> bits(n);
  for (std::size_t i = 0; i < n; ++i) bits[i] = static_cast<std::uint8_t>((std::to_integer<unsigned>(p[i / 8]) >> (i % 8)) & 1U);
  if (n % 8 != 0 && (std::to_integer<unsigned>(p.back()) >> (n % 8)) != 0)
    throw decode_error(r.what() + ": field '" + field + "' has non-zero padding bits");
  return bits;
}

inline void put_blob(byte_writer& w, std::span<const std::byte> b) {
  put_count(w, b.size());
  w.put_bytes(b);
}
[[nodiscard]] inline std::vector<std::byte> get_blob(byte_reader& r, std::size_t max, const char* field) {
  const auto n = r.get<std::uint32_t>();
  if (n > max)
    throw decode_error(r.what() + ": field '" + field + "' is " + std::to_string(n) + " bytes, at most " +
                       std::to_string(max) + " allowed");
  auto s = r.take(n);
  return {s.begin(), s.end()};
}

// A list of blobs (serialized ciphertexts), exactly `expected` of them.
inline void put_blobs(byte_writer& w, const std::vector<std::vector<std::byte>>& v) {
  put_count(w, v.size());
  for (const auto& b : v) put_blob(w, b);
}
[[nodiscard]] inline std::vector<std::vector<std::byte>> get_blobs(byte_reader& r, std::size_t expected,
                                                                   const char* field) {
  std::vector<std::vector<std::byte>> v(get_count(r, expected, field));
  for (auto& b : v) b = get_blob(r, max_ciphertext, field);
  return v;
}

}  // namespace wire

// ---- declarations -----------------------------------------------------------
// Every message: its id, sender and receiver (pmdi::role types: a cluster's
// messages name its J, a compute server's its J and V), the phase it belongs
// to, and its payload codec: write(w, ...), read(r, expected...), and
// max_body(expected...), the largest payload the receiver accepts, checked
// before anything is allocated.
template <std::uint16_t Id, class From, class To, phase Ph>
struct message_decl {
  static constexpr std::uint16_t id = Id;
  using sender = From;
  using receiver = To;
  static constexpr phase when = Ph;
};

// Ring-vector payload: exactly `n` ring elements.
template <class Decl>
struct words_message : Decl {
  template <std::unsigned_integral V>
  static void write(byte_writer& w, std::span<const V> v) { wire::put_words(w, v); }
  template <std::unsigned_integral V>
  [[nodiscard]] static std::vector<V> read(byte_reader& r, std::size_t n) { return wire::get_words<V>(r, n, "values"); }
  [[nodiscard]] static constexpr std::size_t max_body(std::size_t n) { return 4 + 8 * n; }
};

// Ciphertext list payload: exactly `n` serialized ciphertexts.
template <class Decl>
struct ciphertexts_message : Decl {
  static void write(byte_writer& w, const std::vector<std::vector<std::byte>>& c) { wire::put_blobs(w, c); }
  [[nodiscard]] static std::vector<std::vector<std::byte>> read(byte_reader& r, std::size_t n) {
    return wire::get_blobs(r, n, "ciphertexts");
  }
  [[nodiscard]] static constexpr std::size_t max_body(std::size_t n) { return 4 + n * (4 + wire::max_ciphertext); }
};

// Bounded 32-bit values: exactly `n` of them, each in [lo, hi].
template <class Decl>
struct bounded_words_message : Decl {
  static void write(byte_writer& w, std::span<const std::uint32_t> v) { wire::put_words(w, v); }
  [[nodiscard]] static std::vector<std::uint32_t> read(byte_reader& r, std::size_t n, std::uint32_t lo, std::uint32_t hi) {
    auto v = wire::get_words<std::uint32_t>(r, n, "values");
    for (auto x : v)
      if (x < lo || x > hi)
        throw decode_error(r.what() + ": field 'values' holds " + std::to_string(x) + ", outside [" +
                           std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return v;
  }
  [[nodiscard]] static constexpr std::size_t max_body(std::size_t n, std::uint32_t, std::uint32_t) { return 4 + 4 * n; }
};

template <class Decl>
struct blob_message : Decl {
  static void write(byte_writer& w, std::span<const std::byte> b) { wire::put_blob(w, b); }
  [[nodiscard]] static std::vector<std::byte> read(byte_reader& r, std::size_t max) { return wire::get_blob(r, max, "bytes"); }
  [[nodiscard]] static constexpr std::size_t max_body(std::size_t max) { return 4 + max; }
};

template <class Decl>
struct blocks_message : Decl {
  static void write(byte_writer& w, std::span<const block> b) { wire::put_blocks(w, b); }
  [[nodiscard]] static std::vector<block> read(byte_reader& r, std::size_t n) { return wire::get_blocks(r, n, "labels"); }
  [[nodiscard]] static constexpr std::size_t max_body(std::size_t n) { return 4 + block_bytes * n; }
  // The same body, its n blocks written in place by fill(std::span<std::byte>)
  // and read in place (16 bytes each, in memory order, not aligned).
  template <class Fill>
  static void write_in_place(byte_writer& w, std::size_t n, Fill&& fill) {
    wire::put_count(w, n);
    auto& b = w.bytes();
    const std::size_t at = b.size();
    b.resize(at + block_bytes * n);
    fill(std::span<std::byte>(b).subspan(at));
  }
  [[nodiscard]] static std::span<const std::byte> read_in_place(byte_reader& r, std::size_t n) {
    (void)wire::get_count(r, n, "labels");
    return r.take(block_bytes * n);
  }
};

template <class Decl>
struct bits_message : Decl {
  static void write(byte_writer& w, std::span<const std::uint8_t> b) { wire::put_bits(w, b); }
  [[nodiscard]] static std::vector<std::uint8_t> read(byte_reader& r, std::size_t n) { return wire::get_bits(r, n, "bits"); }
  [[nodiscard]] static constexpr std::size_t max_body(std::size_t n) { return 4 + (n + 7) / 8; }
};

// Bits already packed 8 per byte (LSB first): exactly n bits, zero padding.
template <class Decl>
struct packed_bits_message : Decl {
  static void write(byte_writer& w, std::span<const std::uint8_t> packed, std::size_t n) {
    wire::put_count(w, n);
    w.put_array(packed);
  }
  [[nodiscard]] static std::vector<std::uint8_t> read(byte_reader& r, std::size_t n) {
    wire::get_count(r, n, "bits");
    auto s = r.take((n + 7) / 8);
    std::vector<std::uint8_t> p(s.size());
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = std::to_integer<std::uint8_t>(s[i]);
    if (n % 8 != 0 && (p.back() >> (n % 8)) != 0)
      throw decode_error(r.what() + ": padding bits past bit " + std::to_string(n) + " are set");
    return p;
  }
  [[nodiscard]] static constexpr std::size_t max_body(std::size_t n) { return 4 + (n + 7) / 8; }
};

// Setup ---------------------------------------------------------------------
// The client's Paillier public key.
struct msg_public_key : blob_message<message_decl<0x0101, role::client, role::cloud, phase::setup>> {
  static constexpr const char* name = "public_key";
};
// [A_k]_{T+1} for every stage of cluster J (values of A_k's sparsity, in
// stage order); one message per stage.
template <std::size_t J>
struct msg_model_share_garbler : words_message<message_decl<0x0102, role::cloud, role::garbler<J>, phase::setup>> {
  static constexpr const char* name = "model_share";
};
template <std::size_t J, std::size_t V>
struct msg_model_share_compute : words_message<message_decl<0x0103, role::cloud, role::compute<J, V>, phase::setup>> {
  static constexpr const char* name = "model_share";
};
// The slot width W_k of every stage (proto/offline_layout.hpp): the client
// lays its uploads out and reads the cloud's answers by them.
struct msg_slot_widths : bounded_words_message<message_decl<0x0104, role::cloud, role::client, phase::setup>> {
  static constexpr const char* name = "slot_widths";
};

// Offline -------------------------------------------------------------------
// The client's masks that stage k reads, encrypted in the stage's layout
// (proto/offline_layout.hpp); one message per stage, in stage order.
struct msg_enc_stage_input : ciphertexts_message<message_decl<0x0201, role::client, role::cloud, phase::offline>> {
  static constexpr const char* name = "enc_stage_input";
};
// [s_k]_v for one stage.
template <std::size_t J>
struct msg_mask_share_garbler : words_message<message_decl<0x0202, role::cloud, role::garbler<J>, phase::offline>> {
  static constexpr const char* name = "mask_share";
};
template <std::size_t J, std::size_t V>
struct msg_mask_share_compute : words_message<message_decl<0x0203, role::cloud, role::compute<J, V>, phase::offline>> {
  static constexpr const char* name = "mask_share";
};
// Enc(A_k c_k + b_k + s'_k) in the stage's output layout, for a stage with a garbled part.
struct msg_enc_stage_value : ciphertexts_message<message_decl<0x0204, role::cloud, role::client, phase::offline>> {
  static constexpr const char* name = "enc_stage_value";
};
// Garbled tables of C_k.
template <std::size_t J>
struct msg_garbled_tables : blocks_message<message_decl<0x0206, role::garbler<J>, role::evaluator<J>, phase::offline>> {
  static constexpr const char* name = "garbled_tables";
  // Kept until the stage is evaluated online: in huge pages.
  [[nodiscard]] static large_vector<block> read(byte_reader& r, std::size_t n) {
    return wire::get_blocks<large_vector<block>>(r, n, "tables");
  }
};
// The table values of C_k's output terms (gc/arithmetic.hpp), one ring
// element per term, in chunk order.
template <std::size_t J>
struct msg_output_terms : words_message<message_decl<0x0207, role::garbler<J>, role::evaluator<J>, phase::offline>> {
  static constexpr const char* name = "output_terms";
};
// Three-party OT (Fig. 3): i ^ b for every client input bit of C_k.
template <std::size_t J>
struct msg_ot_choice : packed_bits_message<message_decl<0x0208, role::client, role::garbler<J>, phase::offline>> {
  static constexpr const char* name = "ot_choice";
};
// (k0 ^ u_{i^b}, k1 ^ u_{1-(i^b)}) per bit, interleaved.
template <std::size_t J>
struct msg_ot_reply : blocks_message<message_decl<0x0209, role::garbler<J>, role::client, phase::offline>> {
  static constexpr const char* name = "ot_reply";
};
// k_i ^ u_b per bit.
template <std::size_t J>
struct msg_ot_forward : blocks_message<message_decl<0x020a, role::client, role::evaluator<J>, phase::offline>> {
  static constexpr const char* name = "ot_forward";
};
// m: the garbler's mask of each output word of C_k (the evaluator gets y + m).
template <std::size_t J>
struct msg_output_mask : words_message<message_decl<0x020c, role::garbler<J>, role::client, phase::offline>> {
  static constexpr const char* name = "output_mask";
};
// -r_{k+1} - m per output word of C_k: the evaluator's z = y - r_{k+1}.
template <std::size_t J>
struct msg_output_correction : words_message<message_decl<0x020d, role::client, role::evaluator<J>, phase::offline>> {
  static constexpr const char* name = "output_correction";
};
// Enc(c_{L+1}) in the last stage's output layout, when that stage is linear.
struct msg_enc_output_mask : ciphertexts_message<message_decl<0x020b, role::cloud, role::client, phase::offline>> {
  static constexpr const char* name = "enc_output_mask";
};

// Online --------------------------------------------------------------------
// z_1 = x - c_1, to the first cluster.
struct msg_masked_input : words_message<message_decl<0x0301, role::client, role::garbler<0>, phase::online>> {
  static constexpr const char* name = "masked_input";
};
// z_k to a compute server of the cluster.
template <std::size_t J, std::size_t V>
struct msg_stage_input : words_message<message_decl<0x0302, role::garbler<J>, role::compute<J, V>, phase::online>> {
  static constexpr const char* name = "stage_input";
};
// [A_k]_v z_k - [s_k]_v.
template <std::size_t J, std::size_t V>
struct msg_partial_product : words_message<message_decl<0x0303, role::compute<J, V>, role::garbler<J>, phase::online>> {
  static constexpr const char* name = "partial_product";
};
// Labels of a_k.
template <std::size_t J>
struct msg_garbler_labels : blocks_message<message_decl<0x0304, role::garbler<J>, role::evaluator<J>, phase::online>> {
  static constexpr const char* name = "garbler_labels";
};
// z_{k+1} = x_{k+1} - r_{k+1}.
template <std::size_t J>
struct msg_stage_output : words_message<message_decl<0x0305, role::evaluator<J>, role::garbler<J>, phase::online>> {
  static constexpr const char* name = "stage_output";
};
// The live masked tensors, from the garbler of cluster J to the next one.
template <std::size_t J>
struct msg_cluster_handoff : words_message<message_decl<0x0306, role::garbler<J>, role::garbler<J + 1>, phase::online>> {
  static constexpr const char* name = "cluster_handoff";
};
// x_{L+1} - c_{L+1}, from the last cluster's garbler (J = P - 1).
template <std::size_t J>
struct msg_masked_output : words_message<message_decl<0x0307, role::garbler<J>, role::client, phase::online>> {
  static constexpr const char* name = "masked_output";
};

// ---- typed send / receive ---------------------------------------------------
// Payload: [u64 inference][body]; setup messages use inference 0. send<M>
// compiles only on a channel<M::sender, M::receiver>, receive<M> only on a
// channel<M::receiver, M::sender> (PMDI_E_ROLE_WRONG_SENDER,
// PMDI_E_ROLE_WRONG_RECEIVER, diag/errors.hpp).

inline constexpr std::size_t inference_field_bytes = 8;

// Sends M for `inference`; `args` go to M::write (serialized before the
// first suspension, so temporaries may be passed).
template <class M, class Self, class Peer, class... Args>
[[nodiscard]] asio::awaitable<void> send(channel<Self, Peer>& ch, std::uint64_t inference, const Args&... args) {
  byte_writer w;
  w.put<std::uint64_t>(inference);
  M::write(w, args...);
  return ch.template send_frame<M>(w.take());
}

namespace detail {

// Parses a received payload of M: the inference it is for, then the body.
template <class M, class Read>
[[nodiscard]] auto parse_payload(const std::vector<std::byte>& payload, std::uint64_t inference, std::string_view self,
                                 std::string_view peer, Read read) {
  const std::string step = std::string("receive ") + M::name;
  try {
    byte_reader r(payload, std::string(M::name) + " from " + std::string(peer));
    const auto inst = r.get<std::uint64_t>();
    if (inst != inference)
      throw decode_error("message for inference " + std::to_string(inst) + " while working on inference " +
                         std::to_string(inference));
    auto v = read(r);
    r.expect_end();
    return v;
  } catch (const decode_error& e) {
    throw protocol_error(std::string(self), step, std::string(peer), e.what());
  }
}

}  // namespace detail

// Receives M for `inference`, parsed with the receiver's expectations.
template <class M, class Self, class Peer, class... Expect>
[[nodiscard]] auto receive(channel<Self, Peer>& ch, std::uint64_t inference, Expect... expect)
    -> asio::awaitable<decltype(M::read(std::declval<byte_reader&>(), expect...))> {
  auto payload = co_await ch.template receive_frame<M>(inference_field_bytes + M::max_body(expect...));
  co_return detail::parse_payload<M>(payload, inference, ch.self_name(), ch.peer_name(),
                                     [&](byte_reader& r) { return M::read(r, expect...); });
}

// Ring vectors: the element type is spelled out.
template <class M, class V, class Self, class Peer>
[[nodiscard]] asio::awaitable<std::vector<V>> receive_words(channel<Self, Peer>& ch, std::uint64_t inference,
                                                            std::size_t n) {
  auto payload = co_await ch.template receive_frame<M>(inference_field_bytes + M::max_body(n));
  co_return detail::parse_payload<M>(payload, inference, ch.self_name(), ch.peer_name(),
                                     [&](byte_reader& r) { return M::template read<V>(r, n); });
}

// Large label messages without a copy of their 16 bytes per label: send_in_place
// has fill(std::span<std::byte>) write the n blocks into the payload, and
// receive_in_place leaves them where they arrived (blocks messages).
template <class M, class Self, class Peer, class Fill>
[[nodiscard]] asio::awaitable<void> send_in_place(channel<Self, Peer>& ch, std::uint64_t inference, std::size_t n,
                                                  Fill fill) {
  byte_writer w;
  w.bytes().reserve(inference_field_bytes + M::max_body(n) + net::record_overhead);  // the record's tag too
  w.put<std::uint64_t>(inference);
  M::write_in_place(w, n, fill);
  return ch.template send_frame<M>(w.take());
}
class blocks_in_place {
 public:
  blocks_in_place(std::vector<std::byte> payload, std::size_t at, std::size_t n)
      : payload_(std::move(payload)), at_(at), n_(n) {}
  // The n blocks, 16 bytes each, inside the payload.
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept {
    return std::span<const std::byte>(payload_).subspan(at_, block_bytes * n_);
  }

 private:
  std::vector<std::byte> payload_;
  std::size_t at_, n_;
};
template <class M, class Self, class Peer>
[[nodiscard]] asio::awaitable<blocks_in_place> receive_in_place(channel<Self, Peer>& ch, std::uint64_t inference,
                                                                std::size_t n) {
  auto payload = co_await ch.template receive_frame<M>(inference_field_bytes + M::max_body(n));
  const auto b = detail::parse_payload<M>(payload, inference, ch.self_name(), ch.peer_name(),
                                          [&](byte_reader& rd) { return M::read_in_place(rd, n); });
  const auto at = static_cast<std::size_t>(b.data() - payload.data());
  co_return blocks_in_place(std::move(payload), at, n);
}

// Every message of the catalogue (at cluster 0 and server 0: ids do not depend
// on J or V). Their ids are distinct, so no message can be taken for another
// on any channel.
using catalogue = boost::mp11::mp_list<
    msg_public_key, msg_model_share_garbler<0>, msg_model_share_compute<0, 0>, msg_slot_widths,
    msg_enc_stage_input, msg_mask_share_garbler<0>, msg_mask_share_compute<0, 0>, msg_enc_stage_value,
    msg_garbled_tables<0>, msg_output_terms<0>, msg_ot_choice<0>, msg_ot_reply<0>, msg_output_mask<0>,
    msg_ot_forward<0>, msg_output_correction<0>,
    msg_enc_output_mask, msg_masked_input, msg_stage_input<0, 0>, msg_partial_product<0, 0>,
    msg_garbler_labels<0>, msg_stage_output<0>, msg_cluster_handoff<0>, msg_masked_output<0>>;

namespace detail {
template <class... M>
consteval bool distinct_ids(boost::mp11::mp_list<M...>) {
  std::array<std::uint16_t, sizeof...(M)> ids{M::id...};
  std::sort(ids.begin(), ids.end());
  return std::adjacent_find(ids.begin(), ids.end()) == ids.end();
}
}  // namespace detail
static_assert(detail::distinct_ids(catalogue{}), "two messages of the catalogue share an id");

}  // namespace pmdi::proto
