#pragma once
// The garbled circuit of a stage:
//   C_k(a, w, r) = g_k(trunc(a + w, shift)) - r   over Z_2^l,
// where a = A_k z_k - s_k (the garbler's input), w = A_k c_k + b_k + s_k
// (the client's, from the offline phase) and r = r_{k+1} (the client's fresh
// output mask). a + w = A_k x_k + b_k mod 2^l, so the circuit sees the
// stage's true pre-activation only inside the garbling.
//
// Input order: the m_k words of a (garbler), then the m_k words of w, then
// the out_k words of r (client, via the three-party OT); l bits per word, LSB
// first. Outputs: out_k words of l bits.
//
// g_k is the stage's run of non-linear operators, applied in order on signed
// values with the plaintext oracle's rules: relu(x) = max(x, 0); maxpool{k,
// stride} over each channel's k x k windows (no padding), signed maximum;
// argmax over the whole tensor gives the index of the first maximum as an
// unsigned integer.
#include <cstddef>
#include <string>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/core/tensor.hpp"
#include "pmdi/crypto/gc/builder.hpp"
#include "pmdi/crypto/gc/circuit.hpp"
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
[[nodiscard]] inline gc::circuit stage_circuit(const public_stage& s, unsigned l) {
  if (s.shift >= l) throw usage_error("stage circuit: shift " + std::to_string(s.shift) + " >= ring width");
  const std::size_t m = s.mid_size();
  if (ops_output_shape(s.ops, s.linear_out).size() != s.out_size())
    throw usage_error("stage circuit: the operators map " + s.linear_out.str() + " to " +
                      ops_output_shape(s.ops, s.linear_out).str() + ", not to the declared " + s.out.str());
  gc::builder b;
  std::vector<gc::word> a(m), w(m), r(s.out_size());
  for (auto& v : a) v = b.input_word(l);
  for (auto& v : w) v = b.input_word(l);
  for (auto& v : r) v = b.input_word(l);
  std::vector<gc::word> y(m);
  for (std::size_t i = 0; i < m; ++i) y[i] = b.trunc(b.add(a[i], w[i]), s.shift);
  y = apply_ops(b, std::move(y), s.linear_out, s.ops, l);
  for (std::size_t i = 0; i < y.size(); ++i) b.output_word(b.sub(y[i], r[i]));
  return std::move(b).build();
}

// Input bit counts of C_k.
struct circuit_inputs {
  std::size_t garbler_bits = 0;  // a
  std::size_t client_bits = 0;   // w then r
};
[[nodiscard]] inline circuit_inputs stage_circuit_inputs(const public_stage& s, unsigned l) {
  return {s.mid_size() * l, (s.mid_size() + s.out_size()) * l};
}

}  // namespace pmdi::proto
