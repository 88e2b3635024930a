#pragma once
// How the offline phase lays a stage's values out in Paillier plaintext slots
// (docs/paillier.md, "Slot-packed products"). Everything here is public: the
// client and the cloud derive the same layout from the public plan and the
// slot width W_k of each stage, which the cloud announces at setup
// (msg_slot_widths).
//
// A plaintext holds S = floor((bits(N) - 2) / W) slots; slot s of a
// plaintext is the integer sum_s v_s 2^(sW).
//
// Two layouts of a stage:
//
//  - elementwise: the client encrypts every value of the stage's inputs it
//    holds in a ciphertext of its own; the cloud computes one product per tap
//    and packs the results, value e in slot e mod S of ciphertext e / S.
//
//  - conv_groups, when every weighted operator of the stage is a conv2d with
//    the same output shape (c, h, w) and the operators after them are residual
//    adds: the output positions p = y * w + x of a channel fall into
//    G = ceil(h * w / S) groups, position p in slot p mod S of group p / S.
//    For every tap t = (input channel, ky, kx) of a convolution and every
//    group g the client encrypts the packed plaintext X(t, g) whose slot s
//    holds the convolution's input at the tap t of position g S + s (0 in the
//    padding): the shifted copies a kernel needs are made by the client, who
//    knows its masks. The cloud's output ciphertext (channel o, group g) is
//    prod_t X(t, g)^(W[o, t]): ONE exponentiation step per tap serves S output
//    positions, so the cloud performs 1/S of the products of the elementwise
//    layout. The operand of a residual add that the client can compute comes
//    as ciphertexts in the output layout; public operators before the
//    convolutions (a mean-pool) are applied by the client to its masks.
//
// Why this is exact (slot bound): the cloud adds to every used slot the term
// b_i + s'_i with s'_i = 2^B + uniform[0, 2^(B+40)) where |A c + b| < 2^B
// (proto/cloud.hpp). Every final slot value u_i = (A c + b)_i + s'_i is then
// an integer in (0, 2^(B+41)) and W = B + 41 bits, so the plaintext
// sum_s u_s 2^(sW) lies in [0, 2^(SW)) with SW <= bits(N) - 2: below N, it
// is recovered exactly by decryption, and its W-bit slots are the u_s, whatever
// borrows negative weights caused between slots along the way (the product is
// one integer identity, sum_s (sum_t W[o,t] X_s(t) + term_s) 2^(sW)). Unused
// slots of a last group hold 0: no input, no term.
//
// Why the client learns nothing new: it decrypts exactly the values u_i it
// decrypts in the elementwise layout, each masked by its own s'_i (statistical
// distance at most 2^-40 per slot from a value independent of A c + b); its
// own uploads are encryptions of values it already knows, which the cloud
// cannot read (semantic security of Paillier).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/tensor.hpp"
#include "pmdi/proto/linear.hpp"
#include "pmdi/proto/stage.hpp"

namespace pmdi::proto {

// sigma: every value the client decrypts carries its own mask of sigma bits
// more than the value's bound (the slot bound above).
inline constexpr unsigned statistical_bits = 40;

// W_k for a bound |A_k c + b_k| < 2^bound: the masked values lie in (0, 2^(bound + sigma + 1)).
[[nodiscard]] constexpr unsigned slot_width(unsigned bound) noexcept { return bound + statistical_bits + 1; }

enum class offline_mode : std::uint8_t { elementwise, conv_groups };

// Values the client computes before encrypting (public operators on its masks):
// exact 128-bit integers, far wider than any mask and its public sums.
__extension__ typedef __int128 client_value;

struct stage_layout {
  // One piece of the client's upload for a stage, in upload order.
  struct part {
    std::size_t op = 0;       // the cloud-side operator that reads it
    std::size_t slot = 0;     // the program slot whose values it carries
    bool im2col = false;      // conv_groups: a convolution's taps x groups (else: the output layout)
    std::size_t ciphertexts = 0;
  };

  offline_mode mode = offline_mode::elementwise;
  unsigned slot_bits = 0;   // W_k
  std::size_t slots = 1;    // S: values per plaintext
  std::size_t values = 0;   // the stage's linear outputs (mid_size)
  // conv_groups
  shape3 shape{};                   // the common output shape of the cloud-side operators
  std::size_t groups = 0;           // ceil(h * w / S)
  std::vector<char> cloud_side;     // per program slot: depends on a weighted operator
  // elementwise: the stage inputs (in public_stage::inputs order) the client uploads
  std::vector<char> client_inputs;
  std::vector<part> parts;
  std::size_t input_ciphertexts = 0;
  std::size_t output_ciphertexts = 0;

  // Output ciphertext c: its first value and how many values it holds; the
  // value of slot s is element first + s (elementwise) or the element at
  // position p + s of its channel (conv_groups, p = first position).
  struct span_of {
    std::size_t element = 0, count = 0;
  };
  [[nodiscard]] span_of output(std::size_t c) const noexcept {
    if (mode == offline_mode::elementwise) return {c * slots, std::min(slots, values - c * slots)};
    const std::size_t plane = shape.h * shape.w, ch = c / groups, g = c % groups;
    return {ch * plane + g * slots, std::min(slots, plane - g * slots)};
  }
};

// Whether tensor t of the plan is a mask the client knows (the network input,
// or the output of a garbled stage: r_{k+1}); otherwise the cloud holds it
// encrypted (the output of a plain linear stage).
[[nodiscard]] inline bool client_holds(const network_plan& plan, std::size_t t) noexcept {
  return t == 0 || plan.stages[t - 1].garbled();
}

// Whether stage k's linear result goes to the client (a garbled stage's
// masked values, or the last stage's output mask); otherwise the cloud keeps
// it encrypted as input of later products.
[[nodiscard]] inline bool result_to_client(const network_plan& plan, std::size_t k) noexcept {
  return plan.stages[k].garbled() || k + 1 == plan.stages.size();
}

namespace detail {

// Taps of one position of a conv2d: input channels x kernel.
[[nodiscard]] inline std::size_t conv_taps(const linear_op& o) noexcept { return o.in.c * o.kernel_h * o.kernel_w; }

// The largest magnitude of the client-side slots, in bits, for inputs below 2^in_bits.
[[nodiscard]] inline unsigned client_bits(const linear_program& p, const std::vector<char>& cloud_side, unsigned in_bits) {
  unsigned worst = in_bits;
  for (std::size_t i = 0; i < p.ops.size(); ++i) {
    if (cloud_side[p.inputs() + i]) continue;
    linear_program sub{p.input_sizes, {p.ops.begin(), p.ops.begin() + static_cast<std::ptrdiff_t>(i + 1)}, p.inputs() + i};
    worst = std::max(worst, bound_bits(sub, {}, {}, in_bits));
  }
  return worst;
}

}  // namespace detail

inline void check_slot_width(std::size_t k, unsigned slot_bits, std::size_t plaintext_bits) {
  if (slot_bits < 2 || slot_bits > plaintext_bits)
    throw usage_error("offline layout: stage " + std::to_string(k) + ": a " + std::to_string(slot_bits) +
                      "-bit slot does not fit a " + std::to_string(plaintext_bits) + "-bit plaintext");
}

// The elementwise layout of stage k (every stage can take it).
[[nodiscard]] inline stage_layout elementwise_layout(const network_plan& plan, std::size_t k, unsigned slot_bits,
                                                     std::size_t plaintext_bits) {
  check_slot_width(k, slot_bits, plaintext_bits);
  const auto& st = plan.stages.at(k);
  stage_layout e;
  e.slot_bits = slot_bits;
  e.slots = plaintext_bits / slot_bits;
  e.values = st.mid_size();
  e.client_inputs.resize(st.inputs.size());
  for (std::size_t i = 0; i < st.inputs.size(); ++i) {
    e.client_inputs[i] = static_cast<char>(client_holds(plan, st.inputs[i]));
    if (e.client_inputs[i]) e.input_ciphertexts += st.linear.input_sizes[i];
  }
  e.output_ciphertexts = (e.values + e.slots - 1) / e.slots;
  return e;
}

// The layout of stage k for slot width `slot_bits` and plaintexts of
// `plaintext_bits` bits (bits(N) - 2), for a ring of `ring_bits` bits:
// conv_groups where the stage allows it, elementwise otherwise.
[[nodiscard]] inline stage_layout layout_of(const network_plan& plan, std::size_t k, unsigned slot_bits,
                                            std::size_t plaintext_bits, unsigned ring_bits) {
  check_slot_width(k, slot_bits, plaintext_bits);
  const auto& st = plan.stages.at(k);
  const auto& p = st.linear;
  stage_layout lay;
  lay.slot_bits = slot_bits;
  lay.slots = plaintext_bits / slot_bits;
  lay.values = st.mid_size();
  const auto elementwise = [&] { return elementwise_layout(plan, k, slot_bits, plaintext_bits); };

  // conv_groups needs every input from the client, and a result that leaves
  // for the client (a plain linear stage's result stays with the cloud as
  // elementwise input of later products).
  bool ok = result_to_client(plan, k);
  for (auto t : st.inputs) ok = ok && client_holds(plan, t);
  lay.cloud_side.assign(p.inputs() + p.ops.size(), 0);
  // Client-side operators come first (the client evaluates a prefix of the
  // program); then convolutions and the adds that combine them.
  bool any_conv = false;
  for (std::size_t i = 0; i < p.ops.size() && ok; ++i) {
    const auto& o = p.ops[i];
    const bool weighted = o.weight_count() != 0 || o.kind == linear_kind::matrix;
    const bool after = !weighted && (lay.cloud_side[o.src] || (o.kind == linear_kind::add && lay.cloud_side[o.src2]));
    if (weighted) {
      ok = o.kind == linear_kind::conv2d && (!any_conv || o.out == lay.shape);
      lay.shape = o.out;
      any_conv = true;
    } else if (after) {
      ok = o.kind == linear_kind::add && o.out == lay.shape;
    } else {
      ok = !any_conv;
    }
    lay.cloud_side[p.inputs() + i] = static_cast<char>(weighted || after);
  }
  // Every client value must fit half a slot, so a packed plaintext stays
  // below 2^(SW) in magnitude (and exact in 128-bit integers).
  ok = ok && any_conv && lay.cloud_side[p.result] && detail::client_bits(p, lay.cloud_side, ring_bits) + 1 < std::min(slot_bits, 126U);
  if (!ok) return elementwise();

  lay.mode = offline_mode::conv_groups;
  const std::size_t plane = lay.shape.h * lay.shape.w;
  lay.groups = (plane + lay.slots - 1) / lay.slots;
  for (std::size_t i = 0; i < p.ops.size(); ++i) {
    const auto& o = p.ops[i];
    if (!lay.cloud_side[p.inputs() + i]) continue;
    if (o.kind == linear_kind::conv2d) {
      lay.parts.push_back({i, o.src, true, detail::conv_taps(o) * lay.groups});
    } else {  // add: its client-side operands in the output layout
      for (auto s : {o.src, o.src2})
        if (!lay.cloud_side[s]) lay.parts.push_back({i, s, false, lay.shape.c * lay.groups});
    }
  }
  for (const auto& pt : lay.parts) lay.input_ciphertexts += pt.ciphertexts;
  lay.output_ciphertexts = lay.shape.c * lay.groups;
  return lay;
}

// The values of the client-side slots of a stage's program, from the values
// of its inputs (concatenated): the public operators the client applies to
// its masks. Only the slots the layout's parts name are kept.
[[nodiscard]] inline std::vector<std::vector<client_value>> client_slot_values(const linear_program& p,
                                                                               const stage_layout& lay,
                                                                               std::span<const client_value> x) {
  std::vector<std::vector<client_value>> out(p.inputs() + p.ops.size());
  for (const auto& pt : lay.parts) {
    if (!out[pt.slot].empty()) continue;
    if (pt.slot < p.inputs()) {
      std::size_t at = 0;
      for (std::size_t i = 0; i < pt.slot; ++i) at += p.input_sizes[i];
      out[pt.slot].assign(x.begin() + static_cast<std::ptrdiff_t>(at),
                          x.begin() + static_cast<std::ptrdiff_t>(at + p.input_sizes[pt.slot]));
    } else {  // public operators only lead here
      linear_program sub{p.input_sizes, {p.ops.begin(), p.ops.begin() + static_cast<std::ptrdiff_t>(pt.slot - p.inputs() + 1)},
                         pt.slot};
      out[pt.slot] = apply<client_value, std::int64_t>(sub, {}, {}, x);
    }
  }
  return out;
}

// Calls put(ciphertext, slot, value) for every non-zero slot value of part
// `pt`, its ciphertexts numbered from 0: im2col parts group-major (ciphertext
// g * taps + t), output-layout parts channel-major (ciphertext o * groups + g).
template <class Put>
void for_each_part_value(const linear_program& p, const stage_layout& lay, const stage_layout::part& pt,
                         std::span<const client_value> v, Put&& put) {
  const std::size_t plane = lay.shape.h * lay.shape.w, S = lay.slots;
  if (!pt.im2col) {
    for (std::size_t e = 0; e < v.size(); ++e) {
      const std::size_t ch = e / plane, pos = e % plane;
      if (v[e] != 0) put(ch * lay.groups + pos / S, pos % S, v[e]);
    }
    return;
  }
  const auto& o = p.ops[pt.op];
  const std::size_t taps = detail::conv_taps(o);
  // position pos of output channel 0: its weight index is the tap index
  for (std::size_t pos = 0; pos < plane; ++pos)
    proto::detail::for_each_window_tap(o, pos, [&](std::size_t in, std::size_t t) {
      if (v[in] != 0) put(pos / S * taps + t, pos % S, v[in]);
    });
}

}  // namespace pmdi::proto
