#pragma once
// The message catalogue: every message of setup, offline and online, declared
// once with its id, sender, receiver and payload. `send<M>` and `receive<M>`
// only compile on an endpoint<Self, Peer> with Self == M::from and
// Peer == M::to (and the mirror for receive): PMDI_E_ROLE_WRONG_SENDER,
// PMDI_E_ROLE_WRONG_RECEIVER. Every payload is validated on
// parse: counts against what the receiver expects from the public plan,
// lengths against per-message maxima, bit fields against 0/1; a violation is a
// decode_error, re-thrown as a protocol_error naming party, step and peer.
//
// Frame: [u16 id][u64 inference][payload]. Setup messages use inference 0.
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
#include "pmdi/proto/endpoint.hpp"

namespace pmdi::proto {

enum class phase : std::uint8_t { setup, offline, online };

// ---- payload codecs ---------------------------------------------------------
namespace wire {

inline constexpr std::size_t max_blob = std::size_t{1} << 20;          // one ciphertext or key
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
[[nodiscard]] inline std::vector<block> get_blocks(byte_reader& r, std::size_t expected, const char* field) {
  std::vector<block> b(get_count(r, expected, field));
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
  for (auto& b : v) b = get_blob(r, max_blob, field);
  return v;
}

}  // namespace wire

// ---- declarations -----------------------------------------------------------
template <std::uint16_t Id, party From, party To, phase Ph>
struct message_decl {
  static constexpr std::uint16_t id = Id;
  static constexpr party from = From;
  static constexpr party to = To;
  static constexpr phase when = Ph;
};

// Ring-vector payload: exactly `n` ring elements.
template <class Decl>
struct words_message : Decl {
  template <std::unsigned_integral V>
  static void write(byte_writer& w, std::span<const V> v) { wire::put_words(w, v); }
  template <std::unsigned_integral V>
  [[nodiscard]] static std::vector<V> read(byte_reader& r, std::size_t n) { return wire::get_words<V>(r, n, "values"); }
};

// Ciphertext list payload: exactly `n` serialized ciphertexts.
template <class Decl>
struct ciphertexts_message : Decl {
  static void write(byte_writer& w, const std::vector<std::vector<std::byte>>& c) { wire::put_blobs(w, c); }
  [[nodiscard]] static std::vector<std::vector<std::byte>> read(byte_reader& r, std::size_t n) {
    return wire::get_blobs(r, n, "ciphertexts");
  }
};

// Packed ciphertexts: the slot width, then exactly ceil(n / slots) ciphertexts,
// where slots = floor(plaintext bits / slot width). The reader passes the
// element count n, the ring width (the slot must be wider) and the plaintext bits.
template <class Decl>
struct packed_message : Decl {
  struct body {
    std::uint32_t slot_bits = 0;
    std::vector<std::vector<std::byte>> ciphertexts;
  };
  static void write(byte_writer& w, std::uint32_t slot_bits, const std::vector<std::vector<std::byte>>& c) {
    w.put(slot_bits);
    wire::put_blobs(w, c);
  }
  [[nodiscard]] static body read(byte_reader& r, std::size_t n, unsigned ring_bits, std::size_t plaintext_bits) {
    body b;
    b.slot_bits = r.get_in<std::uint32_t>(ring_bits, static_cast<std::uint32_t>(plaintext_bits), "slot_bits");
    const std::size_t slots = plaintext_bits / b.slot_bits;
    b.ciphertexts = wire::get_blobs(r, (n + slots - 1) / slots, "ciphertexts");
    return b;
  }
};

template <class Decl>
struct blob_message : Decl {
  static void write(byte_writer& w, std::span<const std::byte> b) { wire::put_blob(w, b); }
  [[nodiscard]] static std::vector<std::byte> read(byte_reader& r, std::size_t max) { return wire::get_blob(r, max, "bytes"); }
};

template <class Decl>
struct blocks_message : Decl {
  static void write(byte_writer& w, std::span<const block> b) { wire::put_blocks(w, b); }
  [[nodiscard]] static std::vector<block> read(byte_reader& r, std::size_t n) { return wire::get_blocks(r, n, "labels"); }
};

template <class Decl>
struct bits_message : Decl {
  static void write(byte_writer& w, std::span<const std::uint8_t> b) { wire::put_bits(w, b); }
  [[nodiscard]] static std::vector<std::uint8_t> read(byte_reader& r, std::size_t n) { return wire::get_bits(r, n, "bits"); }
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
};

// Setup ---------------------------------------------------------------------
// Client's Paillier public key.
struct msg_public_key : blob_message<message_decl<0x0101, party::client, party::cloud, phase::setup>> {
  static constexpr const char* name = "public_key";
};
// [A_k]_{T+1} for every stage of the cluster (values of A_k's sparsity, in
// stage order); one message per stage.
struct msg_model_share_garbler : words_message<message_decl<0x0102, party::cloud, party::garbler, phase::setup>> {
  static constexpr const char* name = "model_share";
};
struct msg_model_share_compute : words_message<message_decl<0x0103, party::cloud, party::compute, phase::setup>> {
  static constexpr const char* name = "model_share";
};
// OT seeds (KDF master keys): b shared client-evaluator, u0/u1 garbler-evaluator.
struct msg_ot_seed_client : blob_message<message_decl<0x0104, party::evaluator, party::client, phase::setup>> {
  static constexpr const char* name = "ot_seed";
};
struct msg_ot_seed_garbler : blob_message<message_decl<0x0105, party::evaluator, party::garbler, phase::setup>> {
  static constexpr const char* name = "ot_seed";
};

// Offline -------------------------------------------------------------------
// Enc(r_1), one ciphertext per input element.
struct msg_enc_input_mask : ciphertexts_message<message_decl<0x0201, party::client, party::cloud, phase::offline>> {
  static constexpr const char* name = "enc_input_mask";
};
// [s_k]_v for one stage.
struct msg_mask_share_garbler : words_message<message_decl<0x0202, party::cloud, party::garbler, phase::offline>> {
  static constexpr const char* name = "mask_share";
};
struct msg_mask_share_compute : words_message<message_decl<0x0203, party::cloud, party::compute, phase::offline>> {
  static constexpr const char* name = "mask_share";
};
// Enc(A_k c_k + b_k + s'_k), packed, for a stage with a garbled part.
struct msg_enc_stage_value : packed_message<message_decl<0x0204, party::cloud, party::client, phase::offline>> {
  static constexpr const char* name = "enc_stage_value";
};
// Enc(r_{k+1}).
struct msg_enc_next_mask : ciphertexts_message<message_decl<0x0205, party::client, party::cloud, phase::offline>> {
  static constexpr const char* name = "enc_next_mask";
};
// Garbled tables of C_k.
struct msg_garbled_tables : blocks_message<message_decl<0x0206, party::garbler, party::evaluator, phase::offline>> {
  static constexpr const char* name = "garbled_tables";
};
// Output-decoding bits of C_k.
struct msg_decode_bits : bits_message<message_decl<0x0207, party::garbler, party::evaluator, phase::offline>> {
  static constexpr const char* name = "decode_bits";
};
// Three-party OT (Fig. 3): i ^ b for every client input bit of C_k.
struct msg_ot_choice : packed_bits_message<message_decl<0x0208, party::client, party::garbler, phase::offline>> {
  static constexpr const char* name = "ot_choice";
};
// (k0 ^ u_{i^b}, k1 ^ u_{1-(i^b)}) per bit, interleaved.
struct msg_ot_reply : blocks_message<message_decl<0x0209, party::garbler, party::client, phase::offline>> {
  static constexpr const char* name = "ot_reply";
};
// k_i ^ u_b per bit.
struct msg_ot_forward : blocks_message<message_decl<0x020a, party::client, party::evaluator, phase::offline>> {
  static constexpr const char* name = "ot_forward";
};
// Enc(c_{L+1}), packed, when the last stage is linear.
struct msg_enc_output_mask : packed_message<message_decl<0x020b, party::cloud, party::client, phase::offline>> {
  static constexpr const char* name = "enc_output_mask";
};

// Online --------------------------------------------------------------------
// z_1 = x - c_1.
struct msg_masked_input : words_message<message_decl<0x0301, party::client, party::garbler, phase::online>> {
  static constexpr const char* name = "masked_input";
};
// z_k to a compute server.
struct msg_stage_input : words_message<message_decl<0x0302, party::garbler, party::compute, phase::online>> {
  static constexpr const char* name = "stage_input";
};
// [A_k]_v z_k - [s_k]_v.
struct msg_partial_product : words_message<message_decl<0x0303, party::compute, party::garbler, phase::online>> {
  static constexpr const char* name = "partial_product";
};
// Labels of a_k.
struct msg_garbler_labels : blocks_message<message_decl<0x0304, party::garbler, party::evaluator, phase::online>> {
  static constexpr const char* name = "garbler_labels";
};
// z_{k+1} = x_{k+1} - r_{k+1}.
struct msg_stage_output : words_message<message_decl<0x0305, party::evaluator, party::garbler, phase::online>> {
  static constexpr const char* name = "stage_output";
};
// The live masked tensors, from the last garbler of a cluster to the next.
struct msg_cluster_handoff : words_message<message_decl<0x0306, party::garbler, party::garbler, phase::online>> {
  static constexpr const char* name = "cluster_handoff";
};
// x_{L+1} - c_{L+1}.
struct msg_masked_output : words_message<message_decl<0x0307, party::garbler, party::client, phase::online>> {
  static constexpr const char* name = "masked_output";
};

// ---- typed send / receive ---------------------------------------------------
template <class M, party Self, party Peer>
inline constexpr bool sendable_v = M::from == Self && M::to == Peer;
template <class M, party Self, party Peer>
inline constexpr bool receivable_v = M::to == Self && M::from == Peer;

template <party P>
struct party_tag {};

// Failed role checks name the message and both ends in the template
// arguments, so the compiler's "required from" line shows them.
template <class Message, class Self, class Peer, bool Ok>
struct check_sender {
  static_assert(Ok, "PMDI_E_ROLE_WRONG_SENDER: this endpoint's role does not send this message to this peer "
                    "(see the message's declaration in proto/messages.hpp: from, to)");
  static constexpr bool value = Ok;
};
template <class Message, class Self, class Peer, bool Ok>
struct check_receiver {
  static_assert(Ok, "PMDI_E_ROLE_WRONG_RECEIVER: this endpoint's role does not receive this message from this "
                    "peer (see the message's declaration in proto/messages.hpp: from, to)");
  static constexpr bool value = Ok;
};

// Sends M; `write` fills the payload. Compiles only if Self sends M to Peer.
template <class M, party Self, party Peer, class... Args>
void send(endpoint<Self, Peer>& ep, std::uint64_t inference, const Args&... args) {
  static_assert(check_sender<M, party_tag<Self>, party_tag<Peer>, sendable_v<M, Self, Peer>>::value);
  byte_writer w;
  w.put<std::uint16_t>(M::id);
  w.put<std::uint64_t>(inference);
  M::write(w, args...);
  try {
    ep.l->send(w.take());
  } catch (const protocol_error&) {
    throw;
  } catch (const error& e) {
    throw protocol_error(ep.self_name, std::string("send ") + M::name, ep.peer_name, e.what());
  }
}

// Receives M for `inference`, parsed with the receiver's expectations.
template <class M, party Self, party Peer, class... Expect>
[[nodiscard]] auto receive(endpoint<Self, Peer>& ep, std::uint64_t inference, const Expect&... expect) {
  static_assert(check_receiver<M, party_tag<Self>, party_tag<Peer>, receivable_v<M, Self, Peer>>::value);
  const std::string step = std::string("receive ") + M::name;
  frame f;
  try {
    f = ep.l->receive(ep.deadline);
  } catch (const error& e) {
    throw protocol_error(ep.self_name, step, ep.peer_name, e.what());
  }
  try {
    byte_reader r(f, std::string(M::name) + " from " + ep.peer_name);
    const auto id = r.get<std::uint16_t>();
    if (id != M::id)
      throw decode_error("message id " + std::to_string(id) + " where " + M::name + " (" + std::to_string(M::id) +
                         ") was expected");
    const auto inst = r.get<std::uint64_t>();
    if (inst != inference)
      throw decode_error("message for inference " + std::to_string(inst) + " while working on inference " +
                         std::to_string(inference));
    auto v = M::read(r, expect...);
    r.expect_end();
    return v;
  } catch (const decode_error& e) {
    throw protocol_error(ep.self_name, step, ep.peer_name, e.what());
  }
}

// Typed receive of ring vectors needs the element type spelled out.
template <class M, class V, party Self, party Peer>
[[nodiscard]] std::vector<V> receive_words(endpoint<Self, Peer>& ep, std::uint64_t inference, std::size_t n) {
  static_assert(check_receiver<M, party_tag<Self>, party_tag<Peer>, receivable_v<M, Self, Peer>>::value);
  struct adapter : M {
    [[nodiscard]] static std::vector<V> read(byte_reader& r, std::size_t m) { return M::template read<V>(r, m); }
  };
  return receive<adapter>(ep, inference, n);
}

}  // namespace pmdi::proto
