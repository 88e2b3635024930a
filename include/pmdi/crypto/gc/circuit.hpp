#pragma once
// Boolean circuit IR for garbling, and its AND-level schedule.
//
//   enum class gc::gate_kind { xor_, and_, inv, zero, one };
//   struct gc::gate { wire a, b, out; gate_kind kind; };
//   class gc::circuit {
//     static circuit make(std::uint32_t num_wires, std::vector<gate> gates,
//                         std::vector<wire> inputs, std::vector<wire> outputs);
//     num_wires(), gates(), inputs(), outputs(), and_count(), depth(), schedule();
//   };
//
// Gates are listed in a topological order (every input wire is an input of
// the circuit or the output of an earlier gate; each wire is defined once).
// INV and the constants are free under half-gates: INV flips the garbler's
// zero label by delta, the constants have the public evaluator label 0.
//
// The schedule groups the gates by AND depth so that a whole level of AND
// gates is hashed in one batch (the AES pipeline stays full when a stage
// circuit holds thousands of independent ReLUs): phase d first runs the free
// gates whose AND depth is d, then the AND gates whose inputs have depth <= d
// (their outputs have depth d + 1). AND gate k in schedule order owns table
// rows 2k, 2k+1 and tweak tweak_base + k.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pmdi/core/error.hpp"

namespace pmdi::gc {

using wire = std::uint32_t;

enum class gate_kind : std::uint8_t { xor_, and_, inv, zero, one };

struct gate {
  wire a = 0, b = 0, out = 0;  // inv uses a; zero/one use neither
  gate_kind kind = gate_kind::xor_;
};

struct and_gate {
  wire a, b, out;
};
// After scheduling every free gate is an XOR of two slots: INV(a) is
// a ^ slot_one, the constants are slot_zero ^ slot_zero and slot_one ^ slot_zero.
using xor_gate = and_gate;

// Slots: the schedule names labels by slot, not by wire. Slot input_slot | i
// is input i (read straight from the caller's input labels); slot_zero and
// slot_one hold the labels of the constants (garbler: 0 and delta; evaluator:
// 0 and 0); slots 2, 3, ... are the gate outputs in execution order.
inline constexpr wire input_slot = 0x80000000U;
inline constexpr wire slot_zero = 0, slot_one = 1;

struct schedule {
  std::vector<xor_gate> free_gates;   // phase by phase, all XOR after lowering
  std::vector<and_gate> and_gates;    // level by level (schedule order)
  std::vector<std::uint32_t> free_offsets;  // size phases + 1
  std::vector<std::uint32_t> and_offsets;   // size phases + 1
  std::vector<wire> output_slots;           // slot of each output
  std::uint32_t num_slots = 0;
  [[nodiscard]] std::size_t phases() const noexcept { return free_offsets.size() - 1; }
};

class circuit {
 public:
  circuit() { sched_.free_offsets = {0}; sched_.and_offsets = {0}; }

  // Validates the gate list (topological, wires in range, defined once) and
  // builds the level schedule. Throws usage_error naming the offending gate.
  [[nodiscard]] static circuit make(std::uint32_t num_wires, std::vector<gate> gates, std::vector<wire> inputs,
                                    std::vector<wire> outputs) {
    circuit c;
    c.num_wires_ = num_wires;
    c.gates_ = std::move(gates);
    c.inputs_ = std::move(inputs);
    c.outputs_ = std::move(outputs);
    c.finish();
    return c;
  }

  [[nodiscard]] std::uint32_t num_wires() const noexcept { return num_wires_; }
  [[nodiscard]] const std::vector<gate>& gates() const noexcept { return gates_; }
  [[nodiscard]] const std::vector<wire>& inputs() const noexcept { return inputs_; }
  [[nodiscard]] const std::vector<wire>& outputs() const noexcept { return outputs_; }
  [[nodiscard]] std::size_t and_count() const noexcept { return sched_.and_gates.size(); }
  [[nodiscard]] std::size_t depth() const noexcept { return depth_; }  // AND depth
  [[nodiscard]] const gc::schedule& schedule() const noexcept { return sched_; }

  // Plaintext evaluation (reference for tests): bits are 0/1 bytes.
  [[nodiscard]] std::vector<std::uint8_t> eval_plain(const std::vector<std::uint8_t>& in) const {
    if (in.size() != inputs_.size()) throw usage_error("circuit::eval_plain: wrong number of input bits");
    std::vector<std::uint8_t> w(num_wires_, 0);
    for (std::size_t i = 0; i < in.size(); ++i) w[inputs_[i]] = in[i] & 1U;
    for (const gate& g : gates_) {
      switch (g.kind) {
        case gate_kind::xor_: w[g.out] = w[g.a] ^ w[g.b]; break;
        case gate_kind::and_: w[g.out] = w[g.a] & w[g.b]; break;
        case gate_kind::inv: w[g.out] = w[g.a] ^ 1U; break;
        case gate_kind::zero: w[g.out] = 0; break;
        case gate_kind::one: w[g.out] = 1; break;
      }
    }
    std::vector<std::uint8_t> out(outputs_.size());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = w[outputs_[i]];
    return out;
  }

 private:
  void finish() {
    constexpr std::uint32_t undefined = 0xffffffffU;
    std::vector<std::uint32_t> level(num_wires_, undefined);
    auto fail = [](const std::string& what) { throw usage_error("gc::circuit: " + what); };
    if (num_wires_ >= input_slot || inputs_.size() >= input_slot) fail("too many wires (at most 2^31)");
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
      const wire w = inputs_[i];
      if (w >= num_wires_) fail("input " + std::to_string(i) + " names wire " + std::to_string(w) + " out of range");
      if (level[w] != undefined) fail("input wire " + std::to_string(w) + " listed twice");
      level[w] = 0;
    }
    std::size_t n_and = 0;
    std::uint32_t max_level = 0;
    std::vector<std::uint32_t> glevel(gates_.size());
    for (std::size_t i = 0; i < gates_.size(); ++i) {
      const gate& g = gates_[i];
      const std::string at = "gate " + std::to_string(i) + ": ";
      auto use = [&](wire w) {
        if (w >= num_wires_) fail(at + "input wire " + std::to_string(w) + " out of range");
        if (level[w] == undefined) fail(at + "input wire " + std::to_string(w) + " used before it is defined");
        return level[w];
      };
      std::uint32_t l = 0;
      switch (g.kind) {
        case gate_kind::xor_: l = std::max(use(g.a), use(g.b)); break;
        case gate_kind::and_: l = std::max(use(g.a), use(g.b)); ++n_and; break;
        case gate_kind::inv: l = use(g.a); break;
        case gate_kind::zero:
        case gate_kind::one: l = 0; break;
        default: fail(at + "unknown gate kind");
      }
      if (g.out >= num_wires_) fail(at + "output wire " + std::to_string(g.out) + " out of range");
      if (level[g.out] != undefined) fail(at + "output wire " + std::to_string(g.out) + " defined twice");
      glevel[i] = l;  // phase in which the gate runs
      level[g.out] = g.kind == gate_kind::and_ ? l + 1 : l;
      max_level = std::max(max_level, level[g.out]);
    }
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
      const wire w = outputs_[i];
      if (w >= num_wires_ || level[w] == undefined)
        fail("output " + std::to_string(i) + " names wire " + std::to_string(w) + " that is never defined");
    }
    depth_ = max_level;
    // Counting sort of the gates into phases, keeping topological order inside each.
    const std::size_t phases = static_cast<std::size_t>(max_level) + 1;
    sched_.free_offsets.assign(phases + 1, 0);
    sched_.and_offsets.assign(phases + 1, 0);
    for (std::size_t i = 0; i < gates_.size(); ++i)
      ++(gates_[i].kind == gate_kind::and_ ? sched_.and_offsets : sched_.free_offsets)[glevel[i] + 1];
    for (std::size_t p = 0; p < phases; ++p) {
      sched_.free_offsets[p + 1] += sched_.free_offsets[p];
      sched_.and_offsets[p + 1] += sched_.and_offsets[p];
    }
    std::vector<gate> free(gates_.size() - n_and);
    sched_.and_gates.resize(n_and);
    std::vector<std::uint32_t> fpos(sched_.free_offsets.begin(), sched_.free_offsets.end() - 1);
    std::vector<std::uint32_t> apos(sched_.and_offsets.begin(), sched_.and_offsets.end() - 1);
    for (std::size_t i = 0; i < gates_.size(); ++i) {
      const gate& g = gates_[i];
      if (g.kind == gate_kind::and_)
        sched_.and_gates[apos[glevel[i]]++] = and_gate{g.a, g.b, g.out};
      else
        free[fpos[glevel[i]]++] = g;
    }
    sched_.free_gates.resize(free.size());
    // Renumber wires into slots in execution order, so that a level reads and
    // writes labels as contiguous runs (streaming, not scattered over all
    // wires): input i is slot input_slot | i, gate outputs get 0, 1, 2, ...
    std::vector<wire> slot(num_wires_, 0);
    for (std::size_t i = 0; i < inputs_.size(); ++i) slot[inputs_[i]] = input_slot | static_cast<wire>(i);
    wire next = 2;
    for (std::size_t p = 0; p < phases; ++p) {
      for (std::uint32_t i = sched_.free_offsets[p]; i < sched_.free_offsets[p + 1]; ++i) {
        const gate& g = free[i];
        xor_gate& x = sched_.free_gates[i];
        switch (g.kind) {
          case gate_kind::xor_: x.a = slot[g.a], x.b = slot[g.b]; break;
          case gate_kind::inv: x.a = slot[g.a], x.b = slot_one; break;
          case gate_kind::zero: x.a = slot_zero, x.b = slot_zero; break;
          case gate_kind::one: x.a = slot_one, x.b = slot_zero; break;
          case gate_kind::and_: break;
        }
        x.out = slot[g.out] = next++;
      }
      for (std::uint32_t i = sched_.and_offsets[p]; i < sched_.and_offsets[p + 1]; ++i) {
        and_gate& g = sched_.and_gates[i];
        g.a = slot[g.a];
        g.b = slot[g.b];
        g.out = slot[g.out] = next++;
      }
    }
    sched_.num_slots = next;
    sched_.output_slots.resize(outputs_.size());
    for (std::size_t i = 0; i < outputs_.size(); ++i) sched_.output_slots[i] = slot[outputs_[i]];
  }

  std::uint32_t num_wires_ = 0;
  std::vector<gate> gates_;
  std::vector<wire> inputs_, outputs_;
  gc::schedule sched_;
  std::size_t depth_ = 0;
};

}  // namespace pmdi::gc
