#pragma once
// Boolean circuit IR for garbling, and its AND-level schedule.
//
//   enum class gc::gate_kind { xor_, and_, inv, zero, one };
//   struct gc::gate { wire a, b, out; gate_kind kind; };
//   class gc::circuit {
//     static circuit make(std::uint32_t num_wires, std::vector<gate> gates,
//                         std::vector<wire> inputs, std::vector<wire> outputs);
//     num_wires(), gates(), inputs(), outputs(), and_count(), depth(), schedule(),
//     eval_plain(bits)   plaintext reference
//   };
//   At most 2^30 wires, inputs and outputs.
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
// (their outputs have depth d + 1). Independent sub-circuits (connected
// components, constants excluded) are packed into tiles of about tile_width
// ANDs per level, and the schedule runs tile after tile, each tile phase by
// phase: levels stay wide enough for the AES pipeline while one tile's labels
// stay in cache. A step is one (tile, phase). AND gate k in schedule order
// owns table rows 2k, 2k+1 and tweak tweak_base + k.
//
// Lanes. Components that are the same sub-circuit up to renaming of wires
// (the n ReLUs of a stage) are not scheduled one by one: they are grouped
// into lane groups of up to lane_width copies of one template circuit, and
// every gate of the template runs on all lanes of a group at once (labels
// laid out lane-contiguous), so the gate list is read once per group, free
// gates are straight-line loops and every AND level of the template is one
// hash batch of lanes x ANDs. Schedule order: first the ANDs of the other
// gates (schedule() above), then group after group; inside a group, template
// AND t (template schedule order) of lane j is number t * lanes + j.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
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
// is input i (read straight from the caller's input labels), output_slot | i
// is output i (written straight into the caller's output span); slot_zero
// and slot_one hold the labels of the constants (garbler: 0 and delta;
// evaluator: 0 and 0); slots 2 .. num_slots-1 are scratch, reused once the
// wire they held is dead.
inline constexpr wire input_slot = 0x80000000U;
inline constexpr wire output_slot = 0x40000000U;  // output i, written in place
inline constexpr wire slot_index_mask = 0x3fffffffU;
inline constexpr wire slot_zero = 0, slot_one = 1;

struct schedule {
  std::vector<xor_gate> free_gates;   // phase by phase, all XOR after lowering
  std::vector<and_gate> and_gates;    // level by level (schedule order)
  std::vector<std::uint32_t> free_offsets;  // size steps + 1
  std::vector<std::uint32_t> and_offsets;   // size steps + 1
  std::vector<wire> output_slots;           // slot of each output
  std::uint32_t num_slots = 2;
  // Tile t runs steps [tile_steps[t], tile_steps[t+1]) and reads the input
  // labels in prefetch_ranges[prefetch_offsets[t] .. prefetch_offsets[t+1]).
  std::vector<std::uint32_t> tile_steps{0, 0};
  std::vector<std::uint32_t> prefetch_offsets{0, 0};
  std::vector<std::pair<std::uint32_t, std::uint32_t>> prefetch_ranges;
  [[nodiscard]] std::size_t tiles() const noexcept { return tile_steps.size() - 1; }
  [[nodiscard]] std::size_t steps() const noexcept { return free_offsets.size() - 1; }
};

// A group of lanes: `lanes` copies of template `tmpl`. Template input k of
// lane j is circuit input lane_inputs()[in_offset + k * lanes + j], template
// output k of lane j is circuit output lane_outputs()[out_offset + k * lanes + j].
struct lane_group {
  std::uint32_t tmpl = 0, lanes = 0;
  std::uint32_t in_offset = 0, out_offset = 0;
  std::uint64_t and_base = 0;  // ANDs before this group in schedule order
};

class circuit {
 public:
  // Target width (AND gates per level) of a tile: enough to keep the AES
  // pipeline full (the garbler hashes 4 blocks per AND), small enough that a
  // tile's live labels stay in L1/L2. Tuned with pmdi-bench gc (16..256 tried).
  static constexpr std::size_t tile_width = 32;
  // Copies of one template run side by side in a lane group (see above).
  // Tuned with pmdi-bench gc.
  static constexpr std::size_t lane_width = 32;
  // Components with fewer ANDs stay one by one.
  static constexpr std::size_t min_lane_ands = 2;

  circuit() { sched_.free_offsets = {0}; sched_.and_offsets = {0}; }

  // Validates the gate list (topological, wires in range, defined once) and
  // builds the level schedule. Throws usage_error naming the offending gate.
  // lane_mode::off schedules every gate one by one (tests, comparisons).
  enum class lane_mode { on, off };
  [[nodiscard]] static circuit make(std::uint32_t num_wires, std::vector<gate> gates, std::vector<wire> inputs,
                                    std::vector<wire> outputs, lane_mode lanes = lane_mode::on) {
    circuit c;
    c.lanes_allowed_ = lanes == lane_mode::on;
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
  [[nodiscard]] std::size_t and_count() const noexcept { return and_count_; }
  [[nodiscard]] std::size_t depth() const noexcept { return depth_; }  // AND depth
  // The gates that run one by one (everything outside the lane groups).
  [[nodiscard]] const gc::schedule& schedule() const noexcept { return sched_; }
  // Lane groups (see above): templates, groups, their input and output maps.
  [[nodiscard]] const std::vector<circuit>& lane_templates() const noexcept { return templates_; }
  [[nodiscard]] const std::vector<lane_group>& lane_groups() const noexcept { return groups_; }
  [[nodiscard]] const std::vector<std::uint32_t>& lane_inputs() const noexcept { return lane_in_; }
  [[nodiscard]] const std::vector<std::uint32_t>& lane_outputs() const noexcept { return lane_out_; }
  // Group g reads the input labels in lane_prefetch_ranges()[lane_prefetch_offsets()[g] .. [g + 1]).
  [[nodiscard]] const std::vector<std::uint32_t>& lane_prefetch_offsets() const noexcept { return lane_pf_off_; }
  [[nodiscard]] const std::vector<std::pair<std::uint32_t, std::uint32_t>>& lane_prefetch_ranges() const noexcept {
    return lane_prefetch_ranges_;
  }

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
    auto gate_fail = [&](std::size_t i, const std::string& what) { fail("gate " + std::to_string(i) + ": " + what); };
    if (num_wires_ > slot_index_mask || inputs_.size() > slot_index_mask || outputs_.size() > slot_index_mask)
      fail("too many wires (at most 2^30)");
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
      const wire w = inputs_[i];
      if (w >= num_wires_) fail("input " + std::to_string(i) + " names wire " + std::to_string(w) + " out of range");
      if (level[w] != undefined) fail("input wire " + std::to_string(w) + " listed twice");
      level[w] = 0;
    }
    // Union-find over wires: independent sub-circuits (one ReLU each, say)
    // become separate components; constants join none.
    std::vector<wire> parent(num_wires_);
    for (wire w = 0; w < num_wires_; ++w) parent[w] = w;
    auto find = [&](wire w) {
      while (parent[w] != w) w = parent[w] = parent[parent[w]];
      return w;
    };
    std::vector<std::uint8_t> is_const(num_wires_, 0);
    auto join = [&](wire x, wire y) {
      if (is_const[y]) return;
      x = find(x), y = find(y);
      if (x != y) parent[std::max(x, y)] = std::min(x, y);
    };
    std::size_t n_and = 0;
    std::vector<std::uint32_t> glevel(gates_.size());
    for (std::size_t i = 0; i < gates_.size(); ++i) {
      const gate& g = gates_[i];
      auto use = [&](wire w) {
        if (w >= num_wires_) gate_fail(i, "input wire " + std::to_string(w) + " out of range");
        if (level[w] == undefined) gate_fail(i, "input wire " + std::to_string(w) + " used before it is defined");
        return level[w];
      };
      if (g.out >= num_wires_) gate_fail(i, "output wire " + std::to_string(g.out) + " out of range");
      std::uint32_t l = 0;
      switch (g.kind) {
        case gate_kind::xor_:
        case gate_kind::and_: l = std::max(use(g.a), use(g.b)); break;
        case gate_kind::inv: l = use(g.a); break;
        case gate_kind::zero:
        case gate_kind::one: l = 0; break;
        default: gate_fail(i, "unknown gate kind");
      }
      if (level[g.out] != undefined) gate_fail(i, "output wire " + std::to_string(g.out) + " defined twice");
      glevel[i] = l;  // phase in which the gate runs
      level[g.out] = g.kind == gate_kind::and_ ? l + 1 : l;
      if (g.kind == gate_kind::and_) ++n_and;
      if (g.kind == gate_kind::zero || g.kind == gate_kind::one) is_const[g.out] = g.kind == gate_kind::zero ? 1 : 2;
      if (g.kind == gate_kind::xor_ || g.kind == gate_kind::and_ || g.kind == gate_kind::inv) join(g.out, g.a);
      if (g.kind == gate_kind::xor_ || g.kind == gate_kind::and_) join(g.out, g.b);
    }
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
      const wire w = outputs_[i];
      if (w >= num_wires_ || level[w] == undefined)
        fail("output " + std::to_string(i) + " names wire " + std::to_string(w) + " that is never defined");
    }
    // Components in order of first gate; pack them into tiles of about
    // tile_width ANDs per level. Constants go to a prologue tile 0.
    std::vector<std::uint32_t> comp_of_root(num_wires_, undefined);
    struct comp_info { std::size_t ands = 0; std::uint32_t depth = 0; };
    std::vector<comp_info> comps;
    std::vector<std::uint32_t> gcomp(gates_.size(), undefined);
    for (std::size_t i = 0; i < gates_.size(); ++i) {
      const gate& g = gates_[i];
      if (is_const[g.out]) continue;
      const wire r = find(g.out);
      if (comp_of_root[r] == undefined) comp_of_root[r] = static_cast<std::uint32_t>(comps.size()), comps.emplace_back();
      const std::uint32_t ci = gcomp[i] = comp_of_root[r];
      comps[ci].ands += g.kind == gate_kind::and_;
      comps[ci].depth = std::max(comps[ci].depth, glevel[i]);
    }
    depth_ = 0;
    for (std::size_t i = 0; i < num_wires_; ++i)
      if (level[i] != undefined) depth_ = std::max<std::size_t>(depth_, level[i]);
    // Lane groups: components equal up to renaming, found by a canonical
    // encoding of each component (gates in order, wires numbered by first
    // appearance, constants by kind, then its outputs in output order).
    std::vector<std::uint8_t> in_lanes(comps.size(), 0);
    std::vector<std::uint8_t> out_in_lanes(outputs_.size(), 0);
    std::size_t lane_ands = 0;
    if (lanes_allowed_ && comps.size() >= 2) {
      const std::size_t nc = comps.size();
      std::vector<std::uint32_t> goff(nc + 1, 0), gl;
      for (std::size_t i = 0; i < gates_.size(); ++i)
        if (gcomp[i] != undefined) ++goff[gcomp[i] + 1];
      for (std::size_t c = 0; c < nc; ++c) goff[c + 1] += goff[c];
      gl.resize(goff[nc]);
      {
        std::vector<std::uint32_t> pos(goff.begin(), goff.end() - 1);
        for (std::size_t i = 0; i < gates_.size(); ++i)
          if (gcomp[i] != undefined) gl[pos[gcomp[i]]++] = static_cast<std::uint32_t>(i);
      }
      std::vector<std::uint32_t> ooff(nc + 1, 0), ol, ocomp(outputs_.size(), undefined);
      for (std::size_t o = 0; o < outputs_.size(); ++o) {
        const wire w = outputs_[o];
        if (is_const[w]) continue;
        const std::uint32_t ci = comp_of_root[find(w)];
        if (ci == undefined) continue;
        ocomp[o] = ci;
        ++ooff[ci + 1];
      }
      for (std::size_t c = 0; c < nc; ++c) ooff[c + 1] += ooff[c];
      ol.resize(ooff[nc]);
      {
        std::vector<std::uint32_t> pos(ooff.begin(), ooff.end() - 1);
        for (std::size_t o = 0; o < outputs_.size(); ++o)
          if (ocomp[o] != undefined) ol[pos[ocomp[o]]++] = static_cast<std::uint32_t>(o);
      }
      std::vector<std::uint32_t> in_pos(num_wires_, undefined);
      for (std::size_t i = 0; i < inputs_.size(); ++i) in_pos[inputs_[i]] = static_cast<std::uint32_t>(i);
      std::vector<std::uint32_t> local(num_wires_, 0), stamp(num_wires_, undefined);
      constexpr std::uint32_t const_code = 0xfffffff0U, separator = 0xffffffffU;
      std::vector<std::uint32_t> enc, ins;
      auto encode = [&](std::uint32_t ci) {
        enc.clear(), ins.clear();
        std::uint32_t next_id = 0;
        auto code = [&](wire w) {
          if (is_const[w]) return const_code + is_const[w];
          if (stamp[w] != ci) {
            stamp[w] = ci, local[w] = next_id++;
            if (in_pos[w] != undefined) ins.push_back(in_pos[w]);  // operand not yet defined: an input
          }
          return local[w];
        };
        for (std::uint32_t k = goff[ci]; k < goff[ci + 1]; ++k) {
          const gate& g = gates_[gl[k]];
          enc.push_back(static_cast<std::uint32_t>(g.kind));
          if (g.kind == gate_kind::xor_ || g.kind == gate_kind::and_ || g.kind == gate_kind::inv) enc.push_back(code(g.a));
          if (g.kind == gate_kind::xor_ || g.kind == gate_kind::and_) enc.push_back(code(g.b));
          enc.push_back(code(g.out));
        }
        enc.push_back(separator);
        for (std::uint32_t k = ooff[ci]; k < ooff[ci + 1]; ++k) enc.push_back(code(outputs_[ol[k]]));
        std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
        for (std::uint32_t v : enc) h = (h ^ v) * 0x100000001b3ULL;
        return h;
      };
      struct lane_class {
        std::vector<std::uint32_t> enc, members;
        std::uint32_t n_in = 0;
      };
      std::vector<lane_class> classes;
      std::vector<std::uint32_t> class_of(nc, undefined);
      std::vector<std::uint32_t> comp_ins_off(nc + 1, 0), comp_ins;
      {
        std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> by_hash;
        for (std::uint32_t ci = 0; ci < nc; ++ci) {
          const std::uint64_t h = encode(ci);
          comp_ins.insert(comp_ins.end(), ins.begin(), ins.end());
          comp_ins_off[ci + 1] = static_cast<std::uint32_t>(comp_ins.size());
          // A one-AND component gains nothing from lanes: the gather of its
          // inputs costs more than reading them in place (the AND batch).
          if (comps[ci].ands < min_lane_ands) continue;
          auto& cands = by_hash[h];
          std::uint32_t cl = undefined;
          for (std::uint32_t c : cands)
            if (classes[c].enc == enc) cl = c;
          if (cl == undefined) {
            cl = static_cast<std::uint32_t>(classes.size());
            classes.push_back({enc, {}, static_cast<std::uint32_t>(ins.size())});
            cands.push_back(cl);
          }
          classes[cl].members.push_back(ci);
          class_of[ci] = cl;
        }
      }
      // Generic ANDs first, then the groups.
      std::size_t generic_ands = 0;
      for (std::uint32_t ci = 0; ci < nc; ++ci)
        if (class_of[ci] == undefined || classes[class_of[ci]].members.size() < 2) generic_ands += comps[ci].ands;
      std::uint64_t and_base = generic_ands;
      for (auto& cl : classes) {
        if (cl.members.size() < 2) continue;
        // The template: the encoding read back as a circuit, constants first.
        std::uint32_t n_local = 0;
        std::vector<gate> tg;
        std::vector<wire> t_in, t_out;
        wire cw[3] = {0, 0, 0};
        std::size_t p = 0;
        std::vector<gate> body;
        std::vector<std::uint8_t> seen;
        auto tw = [&](std::uint32_t v) -> wire {
          if (v >= const_code + 1 && v <= const_code + 2) {
            const unsigned k = v - const_code;
            if (cw[k] == 0) cw[k] = 0x80000000U | k;  // placeholder, fixed below
            return cw[k];
          }
          if (v >= seen.size()) seen.resize(v + 1, 0);
          if (!seen[v]) seen[v] = 1, t_in.push_back(v);  // first appearance as operand: an input
          n_local = std::max(n_local, v + 1);
          return v;
        };
        while (cl.enc[p] != separator) {
          gate g;
          g.kind = static_cast<gate_kind>(cl.enc[p++]);
          if (g.kind == gate_kind::xor_ || g.kind == gate_kind::and_ || g.kind == gate_kind::inv) g.a = tw(cl.enc[p++]);
          if (g.kind == gate_kind::xor_ || g.kind == gate_kind::and_) g.b = tw(cl.enc[p++]);
          const std::uint32_t o = cl.enc[p++];
          if (o >= seen.size()) seen.resize(o + 1, 0);
          seen[o] = 1;
          n_local = std::max(n_local, o + 1);
          g.out = o;
          body.push_back(g);
        }
        ++p;
        for (; p < cl.enc.size(); ++p) t_out.push_back(cl.enc[p]);
        for (unsigned k = 1; k <= 2; ++k)
          if (cw[k] != 0) {
            const wire cwire = n_local++;
            tg.push_back(gate{0, 0, cwire, k == 1 ? gate_kind::zero : gate_kind::one});
            for (gate& g : body) {
              if (g.a == cw[k] && (g.kind == gate_kind::xor_ || g.kind == gate_kind::and_ || g.kind == gate_kind::inv)) g.a = cwire;
              if (g.b == cw[k] && (g.kind == gate_kind::xor_ || g.kind == gate_kind::and_)) g.b = cwire;
            }
          }
        tg.insert(tg.end(), body.begin(), body.end());
        if (t_in.size() != cl.n_in) fail("internal: lane template inputs");
        circuit t;
        t.lanes_allowed_ = false;
        t.num_wires_ = n_local;
        t.gates_ = std::move(tg);
        t.inputs_ = std::move(t_in);
        t.outputs_ = std::move(t_out);
        t.finish();
        const auto tmpl = static_cast<std::uint32_t>(templates_.size());
        const std::size_t t_ands = t.and_count(), n_in = t.inputs().size(), n_out = t.outputs().size();
        templates_.push_back(std::move(t));
        for (std::size_t m0 = 0; m0 < cl.members.size(); m0 += lane_width) {
          const std::size_t lanes = std::min(lane_width, cl.members.size() - m0);
          lane_group grp{tmpl, static_cast<std::uint32_t>(lanes), static_cast<std::uint32_t>(lane_in_.size()),
                         static_cast<std::uint32_t>(lane_out_.size()), and_base};
          lane_in_.resize(lane_in_.size() + n_in * lanes);
          lane_out_.resize(lane_out_.size() + n_out * lanes);
          for (std::size_t j = 0; j < lanes; ++j) {
            const std::uint32_t ci = cl.members[m0 + j];
            in_lanes[ci] = 1;
            for (std::size_t k = 0; k < n_in; ++k) lane_in_[grp.in_offset + k * lanes + j] = comp_ins[comp_ins_off[ci] + k];
            for (std::size_t k = 0; k < n_out; ++k) {
              const std::uint32_t o = ol[ooff[ci] + k];
              lane_out_[grp.out_offset + k * lanes + j] = o;
              out_in_lanes[o] = 1;
            }
          }
          and_base += t_ands * lanes;
          lane_ands += t_ands * lanes;
          groups_.push_back(grp);
          // The group's input labels as runs of 4-label cache lines, to prefetch.
          std::vector<std::uint32_t> lines(lane_in_.begin() + grp.in_offset, lane_in_.end());
          for (auto& v : lines) v /= 4;
          std::sort(lines.begin(), lines.end());
          lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
          for (std::size_t i = 0; i < lines.size();) {
            std::size_t j = i + 1;
            while (j < lines.size() && lines[j] == lines[j - 1] + 1) ++j;
            lane_prefetch_ranges_.push_back({4 * lines[i], 4 * (lines[j - 1] + 1)});
            i = j;
          }
          lane_pf_off_.push_back(static_cast<std::uint32_t>(lane_prefetch_ranges_.size()));
        }
      }
    }
    std::vector<std::uint32_t> tile_of(comps.size());
    std::vector<std::uint32_t> tile_depth{0};  // tile 0: constants
    {
      std::size_t ands = 0;
      std::uint32_t depth = 0;
      bool open = false;
      for (std::size_t ci = 0; ci < comps.size(); ++ci) {
        if (in_lanes[ci]) continue;
        if (!open) tile_depth.push_back(0), ands = 0, depth = 0, open = true;
        tile_of[ci] = static_cast<std::uint32_t>(tile_depth.size() - 1);
        ands += comps[ci].ands;
        depth = std::max(depth, comps[ci].depth);
        tile_depth.back() = depth;
        if (ands >= tile_width * (static_cast<std::size_t>(depth) + 1)) open = false;
      }
    }
    // Gates of lane groups leave the one-by-one schedule.
    std::vector<std::uint8_t> skip(gates_.size(), 0);
    std::size_t n_skip = 0, n_skip_and = 0;
    for (std::size_t i = 0; i < gates_.size(); ++i)
      if (gcomp[i] != undefined && in_lanes[gcomp[i]]) {
        skip[i] = 1, ++n_skip;
        n_skip_and += gates_[i].kind == gate_kind::and_;
      }
    and_count_ = n_and;
    n_and -= n_skip_and;
    if (n_skip_and != lane_ands) fail("internal: lane AND count");
    // Steps: tile by tile, phase by phase inside a tile.
    std::vector<std::uint32_t> step_base(tile_depth.size() + 1, 0);
    for (std::size_t t = 0; t < tile_depth.size(); ++t) step_base[t + 1] = step_base[t] + tile_depth[t] + 1;
    const std::size_t steps = step_base.back();
    std::vector<std::uint32_t> gstep(gates_.size());
    for (std::size_t i = 0; i < gates_.size(); ++i)
      gstep[i] = gcomp[i] == undefined ? 0 : step_base[tile_of[gcomp[i]]] + glevel[i];
    // Counting sort of the gates into steps, keeping topological order inside each.
    sched_.free_offsets.assign(steps + 1, 0);
    sched_.and_offsets.assign(steps + 1, 0);
    for (std::size_t i = 0; i < gates_.size(); ++i)
      if (!skip[i]) ++(gates_[i].kind == gate_kind::and_ ? sched_.and_offsets : sched_.free_offsets)[gstep[i] + 1];
    for (std::size_t p = 0; p < steps; ++p) {
      sched_.free_offsets[p + 1] += sched_.free_offsets[p];
      sched_.and_offsets[p + 1] += sched_.and_offsets[p];
    }
    std::vector<gate> free(gates_.size() - n_skip - n_and);
    sched_.and_gates.resize(n_and);
    std::vector<std::uint32_t> fpos(sched_.free_offsets.begin(), sched_.free_offsets.end() - 1);
    std::vector<std::uint32_t> apos(sched_.and_offsets.begin(), sched_.and_offsets.end() - 1);
    for (std::size_t i = 0; i < gates_.size(); ++i) {
      if (skip[i]) continue;
      const gate& g = gates_[i];
      if (g.kind == gate_kind::and_)
        sched_.and_gates[apos[gstep[i]]++] = and_gate{g.a, g.b, g.out};
      else
        free[fpos[gstep[i]]++] = g;
    }
    sched_.free_gates.resize(free.size());
    // Slot allocation in execution order: a gate's output takes a slot freed
    // by a wire whose last reader has run (LIFO, so it is still in cache), and
    // an output wire is written straight into the caller's output span. The
    // scratch labels then hold only the live wires of about one tile.
    constexpr std::uint32_t forever = 0xffffffffU;
    std::vector<std::uint32_t> last(num_wires_, 0), out_index(num_wires_, undefined);
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
      if (out_in_lanes[i]) continue;
      last[outputs_[i]] = forever;
      if (out_index[outputs_[i]] == undefined) out_index[outputs_[i]] = static_cast<std::uint32_t>(i);
    }
    {
      std::uint32_t pos = 0;
      for (std::size_t p = 0; p < steps; ++p) {
        for (std::uint32_t i = sched_.free_offsets[p]; i < sched_.free_offsets[p + 1]; ++i, ++pos) {
          const gate& g = free[i];
          if (g.kind == gate_kind::xor_ || g.kind == gate_kind::inv) last[g.a] = std::max(last[g.a], pos);
          if (g.kind == gate_kind::xor_) last[g.b] = std::max(last[g.b], pos);
        }
        for (std::uint32_t i = sched_.and_offsets[p]; i < sched_.and_offsets[p + 1]; ++i, ++pos) {
          const and_gate& g = sched_.and_gates[i];
          last[g.a] = std::max(last[g.a], pos);
          last[g.b] = std::max(last[g.b], pos);
        }
      }
    }
    std::vector<wire> slot(num_wires_, 0);
    std::vector<std::uint8_t> is_input(num_wires_, 0);
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
      slot[inputs_[i]] = input_slot | static_cast<wire>(i);
      is_input[inputs_[i]] = 1;
    }
    std::vector<wire> pool;
    wire next = 2;
    std::uint32_t pos = 0;
    auto release = [&](wire w) {
      if (!is_input[w] && last[w] == pos) {
        pool.push_back(slot[w]);
        last[w] = forever;  // released once even if read twice by this gate
      }
    };
    auto define = [&](wire w) {
      wire sl;
      if (out_index[w] != undefined) {
        sl = output_slot | out_index[w];
      } else if (!pool.empty()) {
        sl = pool.back();
        pool.pop_back();
      } else {
        sl = next++;
      }
      slot[w] = sl;
      if (last[w] == 0 && out_index[w] == undefined) pool.push_back(sl);  // never read: free at once
      return sl;
    };
    for (std::size_t p = 0; p < steps; ++p) {
      for (std::uint32_t i = sched_.free_offsets[p]; i < sched_.free_offsets[p + 1]; ++i, ++pos) {
        const gate& g = free[i];
        xor_gate& x = sched_.free_gates[i];
        switch (g.kind) {
          case gate_kind::xor_: x.a = slot[g.a], x.b = slot[g.b], release(g.a), release(g.b); break;
          case gate_kind::inv: x.a = slot[g.a], x.b = slot_one, release(g.a); break;
          case gate_kind::zero: x.a = slot_zero, x.b = slot_zero; break;
          case gate_kind::one: x.a = slot_one, x.b = slot_zero; break;
          case gate_kind::and_: break;
        }
        x.out = define(g.out);
      }
      for (std::uint32_t i = sched_.and_offsets[p]; i < sched_.and_offsets[p + 1]; ++i, ++pos) {
        and_gate& g = sched_.and_gates[i];
        const wire a = g.a, b2 = g.b;
        g.a = slot[a];
        g.b = slot[b2];
        release(a);
        release(b2);
        g.out = define(g.out);
      }
    }
    sched_.num_slots = next;
    // Per tile, the runs of input labels it reads (in 4-label cache lines),
    // so that a run can prefetch the next tile's inputs while it works.
    sched_.tile_steps = step_base;
    sched_.prefetch_offsets.assign(1, 0);
    std::vector<std::uint32_t> lines;
    for (std::size_t t = 0; t + 1 < step_base.size(); ++t) {
      lines.clear();
      auto note = [&](wire sl) {
        if ((sl & input_slot) != 0) lines.push_back((sl & slot_index_mask) / 4);
      };
      for (std::uint32_t p = step_base[t]; p < step_base[t + 1]; ++p) {
        for (std::uint32_t i = sched_.free_offsets[p]; i < sched_.free_offsets[p + 1]; ++i)
          note(sched_.free_gates[i].a), note(sched_.free_gates[i].b);
        for (std::uint32_t i = sched_.and_offsets[p]; i < sched_.and_offsets[p + 1]; ++i)
          note(sched_.and_gates[i].a), note(sched_.and_gates[i].b);
      }
      std::sort(lines.begin(), lines.end());
      lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
      for (std::size_t i = 0; i < lines.size();) {
        std::size_t j = i + 1;
        while (j < lines.size() && lines[j] == lines[j - 1] + 1) ++j;
        sched_.prefetch_ranges.push_back({4 * lines[i], 4 * (lines[j - 1] + 1)});
        i = j;
      }
      sched_.prefetch_offsets.push_back(static_cast<std::uint32_t>(sched_.prefetch_ranges.size()));
    }
    sched_.output_slots.resize(outputs_.size());
    for (std::size_t i = 0; i < outputs_.size(); ++i)
      sched_.output_slots[i] = out_in_lanes[i] ? (output_slot | static_cast<wire>(i)) : slot[outputs_[i]];
  }

  std::uint32_t num_wires_ = 0;
  std::vector<gate> gates_;
  std::vector<wire> inputs_, outputs_;
  gc::schedule sched_;
  std::size_t depth_ = 0, and_count_ = 0;
  bool lanes_allowed_ = true;  // false for a lane template itself
  std::vector<circuit> templates_;
  std::vector<lane_group> groups_;
  std::vector<std::uint32_t> lane_in_, lane_out_;
  std::vector<std::uint32_t> lane_pf_off_{0};
  std::vector<std::pair<std::uint32_t, std::uint32_t>> lane_prefetch_ranges_;
};

}  // namespace pmdi::gc
