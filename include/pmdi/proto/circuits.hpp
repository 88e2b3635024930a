#pragma once
// The garbled circuit of a stage and its outputs:
//   C_k(a, w) = g_k(trunc(a + w, shift))   over Z_2^l, as arithmetic outputs,
// where a = A_k z_k - s_k (the garbler's input) and w = A_k c_k + b_k + s_k
// (the client's, from the offline phase). a + w = A_k x_k + b_k mod 2^l, so
// the circuit sees the stage's true pre-activation only inside the garbling.
//
// The circuit does not subtract the client's output mask r = r_{k+1}: each
// output word y leaves it as the sum of its bits' labels turned into
// additive values (gc/arithmetic.hpp), so the evaluator gets y + m, m known
// to the garbler only. The garbler sends m to the client (`output_mask`), the
// client sends -r - m to the evaluator (`output_correction`), and the
// evaluator's z = (y + m) + (-r - m) = y - r is what the subtraction in the
// circuit gave before, bit for bit. The evaluator sees y + m (independent of
// y, see arithmetic.hpp) and -r - m (uniform, r is), whose sum y - r it saw
// before; the client sees m, which does not depend on y. Per ReLU at l = 32,
// shift 12 this is 50 ANDs and 19 one-hash terms instead of 81 ANDs (the
// l - 1 borrows of the subtraction), and r's bits leave the OT.
//
// Input order: the m_k words of a (garbler), then the m_k words of w
// (client, via the three-party OT); l bits per word, LSB first. Outputs:
// out_k arithmetic words.
//
// g_k is the stage's run of non-linear operators, applied in order on signed
// values with the plaintext oracle's rules: relu(x) = max(x, 0); maxpool{k,
// stride} over each channel's k x k windows (no padding), signed maximum;
// argmax over the whole tensor gives the index of the first maximum as an
// unsigned integer.
#include <algorithm>
#include <array>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/pool.hpp"
#include "pmdi/core/secret.hpp"
#include "pmdi/core/tensor.hpp"
#include "pmdi/crypto/gc/arithmetic.hpp"
#include "pmdi/crypto/gc/builder.hpp"
#include "pmdi/crypto/gc/circuit.hpp"
#include "pmdi/crypto/gc/halfgates.hpp"
#include "pmdi/proto/stage.hpp"

namespace pmdi::proto {

// Shape after one non-linear operator.
[[nodiscard]] inline shape3 op_output_shape(const nonlinear_op& op, shape3 in) {
  switch (op.kind) {
    case op_kind::relu: return in;
    case op_kind::maxpool: {
      if (op.k == 0 || op.stride == 0 || op.k > in.h || op.k > in.w)
        throw usage_error("maxpool window " + std::to_string(op.k) + " does not fit a " + in.str() + " tensor");
      return shape3{in.c, (in.h - op.k) / op.stride + 1, (in.w - op.k) / op.stride + 1};
    }
    case op_kind::argmax: return shape3{1, 1, 1};
  }
  return in;
}

[[nodiscard]] inline shape3 ops_output_shape(const std::vector<nonlinear_op>& ops, shape3 in) {
  for (const auto& op : ops) in = op_output_shape(op, in);
  return in;
}

// g_k on words (the circuit part), shape tracked alongside.
[[nodiscard]] inline std::vector<gc::word> apply_ops(gc::builder& b, std::vector<gc::word> x, shape3 shape,
                                                     const std::vector<nonlinear_op>& ops, unsigned l) {
  for (const auto& op : ops) {
    const shape3 out = op_output_shape(op, shape);
    switch (op.kind) {
      case op_kind::relu:
        for (auto& v : x) v = b.relu(v);
        break;
      case op_kind::maxpool: {
        std::vector<gc::word> y(out.size());
        for (std::size_t c = 0; c < out.c; ++c)
          for (std::size_t i = 0; i < out.h; ++i)
            for (std::size_t j = 0; j < out.w; ++j) {
              std::vector<gc::word> win;
              for (std::size_t di = 0; di < op.k; ++di)
                for (std::size_t dj = 0; dj < op.k; ++dj)
                  win.push_back(x[(c * shape.h + i * op.stride + di) * shape.w + j * op.stride + dj]);
              y[(c * out.h + i) * out.w + j] = b.max(win);
            }
        x = std::move(y);
        break;
      }
      case op_kind::argmax: {
        gc::word idx = b.argmax(x);
        while (idx.size() < l) idx.push_back(b.zero());  // unsigned index, zero-extended
        idx.resize(l);
        x = {std::move(idx)};
        break;
      }
    }
    shape = out;
  }
  return x;
}

// C_k for one stage over l-bit words.
[[nodiscard]] inline gc::arithmetic_circuit stage_circuit(const public_stage& s, unsigned l) {
  if (s.shift >= l) throw usage_error("stage circuit: shift " + std::to_string(s.shift) + " >= ring width");
  const std::size_t m = s.mid_size();
  if (ops_output_shape(s.ops, s.linear_out).size() != s.out_size())
    throw usage_error("stage circuit: the operators map " + s.linear_out.str() + " to " +
                      ops_output_shape(s.ops, s.linear_out).str() + ", not to the declared " + s.out.str());
  gc::builder b;
  std::vector<gc::word> a(m), w(m);
  for (auto& v : a) v = b.input_word(l);
  for (auto& v : w) v = b.input_word(l);
  std::vector<gc::word> y(m);
  for (std::size_t i = 0; i < m; ++i) y[i] = b.trunc(b.add(a[i], w[i]), s.shift);
  y = apply_ops(b, std::move(y), s.linear_out, s.ops, l);
  gc::arithmetic_outputs out;
  out.l = l;
  for (const auto& v : y) gc::output_arithmetic(b, v, out);
  return {std::move(b).build(), std::move(out)};
}

// C_k split into independent chunks: element-wise runs (ReLU, or only the
// truncation) in blocks of `chunk` elements, runs with a max-pool channel by
// channel, argmax as one circuit. Every chunk is the stage circuit of a
// smaller stage, so a chunk's inputs are (a, w of its elements) in the same
// order, and its outputs are a contiguous range of the stage's output words.
// Chunks of one shape share one circuit; they keep the evaluator's wire array
// small (cache-resident) and run on several threads. The garbled material is
// the concatenation over chunks: tables, output terms' values, in chunk
// order. Tweaks: the AND gates take 0 .. and_gates - 1 of the stage's
// garbling run, chunk after chunk, the output terms and_gates .. and_gates +
// terms - 1.
struct stage_chunks {
  struct chunk {
    std::size_t circuit = 0;            // index into circuits
    std::size_t mid_first = 0, mid_count = 0;  // elements of a and w (contiguous)
    std::size_t out_first = 0, out_count = 0;  // output words
    std::uint64_t tweak_base = 0;       // AND gates before this chunk
    std::size_t input_first = 0;        // input bits before this chunk, chunks laid out one after another
    std::size_t term_first = 0;         // output terms before this chunk
  };
  std::vector<gc::arithmetic_circuit> circuits;
  std::vector<chunk> chunks;
  std::size_t mid = 0, out = 0;
  unsigned l = 0;
  std::uint64_t and_gates = 0;
  std::uint64_t terms = 0;  // output terms: one table value and one tweak each

  [[nodiscard]] std::size_t table_blocks() const noexcept { return 2 * and_gates; }
  [[nodiscard]] std::size_t input_bits() const noexcept { return 2 * mid * l; }
  [[nodiscard]] std::uint64_t tweaks() const noexcept { return and_gates + terms; }

  // A chunk's input bits as two runs of stage-level input bits, in the order
  // of the chunk circuit's inputs: a, w.
  struct run {
    std::size_t first = 0, count = 0;
  };
  [[nodiscard]] std::array<run, 2> input_runs(const chunk& c) const noexcept {
    return {{{c.mid_first * l, c.mid_count * l},           // a
             {(mid + c.mid_first) * l, c.mid_count * l}}};  // w
  }
  // Stage-level input index of a chunk's i-th input bit.
  template <class F>
  void for_each_input(const chunk& c, F&& f) const {
    std::size_t i = 0;
    for (const auto [first, count] : input_runs(c))
      for (std::size_t b = 0; b < count; ++b) f(i++, first + b);
  }
};

[[nodiscard]] inline stage_chunks stage_circuit_chunks(const public_stage& s, unsigned l, std::size_t chunk = 128) {
  stage_chunks sc;
  sc.mid = s.mid_size();
  sc.out = s.out_size();
  sc.l = l;
  bool elementwise = true, has_argmax = false;
  for (const auto& op : s.ops) {
    elementwise = elementwise && op.kind == op_kind::relu;
    has_argmax = has_argmax || op.kind == op_kind::argmax;
  }
  auto sub = [&](shape3 lin) {
    public_stage p;
    p.linear_out = lin;
    p.out = ops_output_shape(s.ops, lin);
    p.shift = s.shift;
    p.ops = s.ops;
    return p;
  };
  std::map<std::size_t, std::size_t> by_size;  // chunk shape (mid count) -> circuit
  auto circuit_for = [&](const public_stage& p) {
    auto it = by_size.find(p.mid_size());
    if (it != by_size.end()) return it->second;
    sc.circuits.push_back(stage_circuit(p, l));
    by_size.emplace(p.mid_size(), sc.circuits.size() - 1);
    return sc.circuits.size() - 1;
  };
  if (has_argmax || s.mid_size() == 0) {
    sc.circuits.push_back(stage_circuit(s, l));
    sc.chunks.push_back({0, 0, sc.mid, 0, sc.out});
  } else if (elementwise) {
    for (std::size_t i = 0; i < sc.mid; i += chunk) {
      const std::size_t n = std::min(chunk, sc.mid - i);
      sc.chunks.push_back({circuit_for(sub(shape3{n, 1, 1})), i, n, i, n});
    }
  } else {  // max-pool (and ReLU): channels are independent
    const shape3 lin{1, s.linear_out.h, s.linear_out.w};
    const std::size_t per_out = ops_output_shape(s.ops, lin).size();
    for (std::size_t c = 0; c < s.linear_out.c; ++c)
      sc.chunks.push_back({circuit_for(sub(lin)), c * lin.size(), lin.size(), c * per_out, per_out});
  }
  std::size_t input_bits = 0;
  for (auto& c : sc.chunks) {
    const auto& ac = sc.circuits[c.circuit];
    c.tweak_base = sc.and_gates;
    sc.and_gates += ac.c.and_count();
    c.input_first = input_bits;
    input_bits += ac.c.inputs().size();
    c.term_first = sc.terms;
    sc.terms += ac.out.terms();
  }
  return sc;
}

// Garbles every chunk with g's delta and the next tweaks() tweaks, chunks
// split over the party's pool (the result does not depend on the number of
// threads). zero: the stage's input zero labels (input_bits()); tables:
// table_blocks(); terms: the output terms' table values (terms); masks: m
// per output word (out), which the client turns into its correction.
// Returns the run's first tweak: the evaluator's tweak_base (0 for a fresh
// garbler).
template <class V>
std::uint64_t garble_stage(const stage_chunks& sc, gc::garbler& g, std::span<const block> zero, std::span<block> tables,
                           std::span<V> terms, std::span<V> masks, worker_pool& pool) {
  if (zero.size() != sc.input_bits() || tables.size() != sc.table_blocks() || terms.size() != sc.terms ||
      masks.size() != sc.out)
    throw usage_error("garble_stage: buffer sizes do not match the stage");
  gc::garbling_run run = g.reserve(sc.tweaks());
  pool.run(sc.chunks.size(), [&](std::size_t i) {
    const auto& c = sc.chunks[i];
    const auto& ac = sc.circuits[c.circuit];
    secret_vector<block> in(ac.c.inputs().size()), out_zero(ac.c.outputs().size());
    sc.for_each_input(c, [&](std::size_t k, std::size_t g) { in[k] = zero[g]; });
    run.garble(ac.c, c.tweak_base, std::span<const block>(in.data(), in.size()),
               tables.subspan(2 * c.tweak_base, 2 * ac.c.and_count()), std::span<block>(out_zero.data(), out_zero.size()));
    gc::garble_arithmetic<V>(ac.out, run, sc.and_gates + c.term_first,
                             std::span<const block>(out_zero.data(), out_zero.size()),
                             terms.subspan(c.term_first, ac.out.terms()), masks.subspan(c.out_first, c.out_count));
  });
  return run.tweak_base();
}

// The client's labels of C_k (w, in stage order, from the OT) laid out chunk
// after chunk as the chunk circuits take their inputs, each chunk's a run
// left zero for evaluate_stage_words to fill: the evaluator arranges them
// offline, so that online only the garbler's labels move.
[[nodiscard]] inline secret_vector<block> chunk_ordered_inputs(const stage_chunks& sc, std::span<const block> client_labels) {
  const std::size_t na = sc.mid * sc.l;
  if (client_labels.size() != sc.input_bits() - na) throw usage_error("chunk_ordered_inputs: label count does not match the stage");
  secret_vector<block> in(sc.input_bits());
  for (const auto& c : sc.chunks) {
    std::size_t k = c.input_first;
    for (const auto [first, count] : sc.input_runs(c)) {
      if (first >= na) std::copy_n(client_labels.begin() + static_cast<std::ptrdiff_t>(first - na), count, in.begin() + static_cast<std::ptrdiff_t>(k));
      k += count;
    }
  }
  return in;
}

// The client's correction of a stage's outputs: -r - m mod 2^l per word,
// from its output mask r = r_{k+1} and the garbler's masks m.
template <class V>
[[nodiscard]] std::vector<V> output_correction(std::span<const V> r, std::span<const V> m, unsigned l) {
  if (r.size() != m.size() || l == 0 || l > 8 * sizeof(V))
    throw usage_error("output_correction: " + std::to_string(r.size()) + " masks and " + std::to_string(m.size()) +
                      " garbler masks");
  const auto mask = static_cast<V>(gc::low_bits(l));
  std::vector<V> c(r.size());
  for (std::size_t i = 0; i < c.size(); ++i) c[i] = static_cast<V>((V{0} - r[i] - m[i]) & mask);
  return c;
}

// Evaluates every chunk. The stage's input labels come in two parts: the
// garbler's (a: mid * l labels, as the 16 bytes each of its message) and the
// client's, already in chunk order (chunk_ordered_inputs; each chunk's a run
// is filled here, in place). Each chunk's output labels become its words at
// once (the terms' values from the garbler, gc::evaluate_arithmetic) and the
// client's correction is added: z = y - r, out words, no label vector of the
// whole stage is made.
template <class V>
void evaluate_stage_words(const stage_chunks& sc, std::span<const std::byte> a_labels, std::span<block> chunk_inputs,
                          std::span<const block> tables, std::span<const V> terms, std::span<const V> correction,
                          std::span<V> z, worker_pool& pool, std::uint64_t tweak_base = 0) {
  if (a_labels.size() != block_bytes * sc.mid * sc.l || chunk_inputs.size() != sc.input_bits() ||
      tables.size() != sc.table_blocks() || terms.size() != sc.terms || correction.size() != sc.out || z.size() != sc.out ||
      sc.l > 8 * sizeof(V))
    throw usage_error("evaluate_stage_words: buffer sizes do not match the stage");
  const auto mask = static_cast<V>(gc::low_bits(sc.l));
  pool.run(sc.chunks.size(), [&](std::size_t i) {
    const auto& c = sc.chunks[i];
    const auto& ac = sc.circuits[c.circuit];
    const auto in = chunk_inputs.subspan(c.input_first, ac.c.inputs().size());
    const auto a = sc.input_runs(c)[0];
    std::memcpy(in.data(), a_labels.data() + block_bytes * a.first, block_bytes * a.count);
    thread_local std::vector<block> out;  // this thread's output labels of one chunk, reused
    out.resize(ac.c.outputs().size());
    gc::evaluate(ac.c, in, tables.subspan(2 * c.tweak_base, 2 * ac.c.and_count()), tweak_base + c.tweak_base, out);
    const auto words = z.subspan(c.out_first, c.out_count);
    gc::evaluate_arithmetic<V>(ac.out, out, terms.subspan(c.term_first, ac.out.terms()),
                               tweak_base + sc.and_gates + c.term_first, words);
    for (std::size_t j = 0; j < c.out_count; ++j) words[j] = static_cast<V>((words[j] + correction[c.out_first + j]) & mask);
  });
}

// Input bit counts of C_k.
struct circuit_inputs {
  std::size_t garbler_bits = 0;  // a
  std::size_t client_bits = 0;   // w
};
[[nodiscard]] inline circuit_inputs stage_circuit_inputs(const public_stage& s, unsigned l) {
  return {s.mid_size() * l, s.mid_size() * l};
}

}  // namespace pmdi::proto
