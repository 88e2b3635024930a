#pragma once
// Strict parser for Bristol Fashion circuits.
// [ref] Archer et al., "Bristol Fashion" MPC circuits,
//       https://nigelsmart.github.io/MPC-Circuits/
//
//   gc::bristol_circuit gc::parse_bristol(std::string_view text);
//   struct bristol_circuit { circuit c; std::vector<std::size_t> input_sizes, output_sizes; };
//
// Format:
//   <gates> <wires>
//   <niv> <bits of input 1> ... <bits of input niv>
//   <nov> <bits of output 1> ... <bits of output nov>
//   (blank line)
//   one gate per line: <nin> <nout> <in wires...> <out wires...> <op>
// with op in XOR (2 1), AND (2 1), INV (1 1), EQ (1 1, the input is the
// constant 0 or 1), EQW (1 1, wire copy), MAND (2k k: in_1..in_2k out_1..out_k,
// out_i = in_i AND in_{k+i}). Input wires are 0..n_in-1, output wires the
// last n_out wires. Anything else — a wrong count, an unknown gate, a wire
// out of range, used before it is assigned or assigned twice, a missing or
// extra line — throws pmdi::decode_error naming the line.
//
// Allocations are bounded by what the text holds, not by what its header
// claims: a wire is an input or a gate's output (a wire used before it is
// assigned is refused), and every gate output takes at least two bytes of the
// file, so a header with more wires than inputs + size / 2 is refused before
// anything is allocated; inputs are at most 2^24 (16 M input bits).
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/crypto/gc/circuit.hpp"

namespace pmdi::gc {

struct bristol_circuit {
  circuit c;
  std::vector<std::size_t> input_sizes, output_sizes;
};

namespace detail {

class bristol_lines {
 public:
  explicit bristol_lines(std::string_view t) : t_(t) {}
  // Next line's tokens; false at end of text. Tracks the line number.
  bool next(std::vector<std::string_view>& tok) {
    tok.clear();
    if (pos_ >= t_.size()) return false;
    std::size_t e = t_.find('\n', pos_);
    if (e == std::string_view::npos) e = t_.size();
    std::string_view line = t_.substr(pos_, e - pos_);
    pos_ = e + 1;
    ++line_no_;
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      std::size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
      if (j > i) tok.push_back(line.substr(i, j - i));
      i = j;
    }
    return true;
  }
  // Next non-blank line; false at end.
  bool next_nonblank(std::vector<std::string_view>& tok) {
    while (next(tok))
      if (!tok.empty()) return true;
    return false;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw decode_error("bristol: line " + std::to_string(line_no_) + ": " + what);
  }
  std::uint64_t number(std::string_view s, const char* what) const {
    std::uint64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc{} || r.ptr != s.data() + s.size())
      fail(std::string("expected a non-negative integer for ") + what + ", found '" + std::string(s) + "'");
    return v;
  }
  [[nodiscard]] std::size_t line_no() const noexcept { return line_no_; }

 private:
  std::string_view t_;
  std::size_t pos_ = 0, line_no_ = 0;
};

}  // namespace detail

[[nodiscard]] inline bristol_circuit parse_bristol(std::string_view text) {
  detail::bristol_lines in(text);
  std::vector<std::string_view> tok;
  constexpr std::uint64_t max_wires = slot_index_mask - 1;  // what gc::circuit can hold

  if (!in.next_nonblank(tok)) in.fail("empty file: expected '<gates> <wires>'");
  if (tok.size() != 2) in.fail("header must be '<gates> <wires>', found " + std::to_string(tok.size()) + " fields");
  const std::uint64_t n_gates = in.number(tok[0], "the gate count");
  const std::uint64_t n_wires = in.number(tok[1], "the wire count");
  if (n_wires == 0 || n_wires > max_wires) in.fail("wire count out of range");
  if (n_gates > n_wires) in.fail("more gates (" + std::to_string(n_gates) + ") than wires");

  auto sizes = [&](const char* what) {
    if (!in.next_nonblank(tok)) in.fail(std::string("missing the ") + what + " line");
    const std::uint64_t n = in.number(tok[0], what);
    if (tok.size() != n + 1)
      in.fail(std::string(what) + " line declares " + std::to_string(n) + " values but lists " +
              std::to_string(tok.size() - 1));
    std::vector<std::size_t> v;
    std::uint64_t total = 0;
    for (std::size_t i = 1; i < tok.size(); ++i) {
      v.push_back(in.number(tok[i], what));
      total += v.back();
      if (total > n_wires) in.fail(std::string(what) + " need more wires than the header's " + std::to_string(n_wires));
    }
    return v;
  };
  bristol_circuit out;
  out.input_sizes = sizes("inputs");
  out.output_sizes = sizes("outputs");
  std::uint64_t n_in = 0, n_out = 0;
  for (auto s : out.input_sizes) n_in += s;
  for (auto s : out.output_sizes) n_out += s;
  if (n_in + n_out > n_wires) in.fail("inputs and outputs need more wires than the header's " + std::to_string(n_wires));
  constexpr std::uint64_t max_inputs = std::uint64_t{1} << 24;
  if (n_in > max_inputs)
    in.fail(std::to_string(n_in) + " input bits: more than the " + std::to_string(max_inputs) + " this parser takes");
  if (n_wires - n_in > text.size() / 2)
    in.fail("the header's " + std::to_string(n_wires) + " wires cannot be " + std::to_string(n_in) +
            " inputs and gate outputs in a file of " + std::to_string(text.size()) + " bytes");

  // One extra wire (index n_wires) is a constant zero, used for EQW copies.
  const wire zero_wire = static_cast<wire>(n_wires);
  bool zero_used = false;
  std::vector<gate> gates;
  gates.reserve(n_gates + 1);
  std::vector<std::uint8_t> assigned(n_wires, 0);
  for (std::uint64_t i = 0; i < n_in; ++i) assigned[i] = 1;

  for (std::uint64_t gi = 0; gi < n_gates; ++gi) {
    if (!in.next_nonblank(tok))
      in.fail("file ends after " + std::to_string(gi) + " gates, the header declares " + std::to_string(n_gates));
    if (tok.size() < 3) in.fail("a gate line needs '<nin> <nout> wires... <op>'");
    const std::uint64_t nin = in.number(tok[0], "the gate's input count");
    const std::uint64_t nout = in.number(tok[1], "the gate's output count");
    if (nin > 1024 || nout > 1024 || tok.size() != 3 + nin + nout)
      in.fail("gate lists " + std::to_string(tok.size() - 3) + " wires, its counts say " +
              std::to_string(nin) + " + " + std::to_string(nout));
    const std::string_view op = tok.back();
    auto arity = [&](std::uint64_t a, std::uint64_t b) {
      if (nin != a || nout != b)
        in.fail(std::string(op) + " takes " + std::to_string(a) + " input(s) and " + std::to_string(b) +
                " output(s), the line says " + std::to_string(nin) + " and " + std::to_string(nout));
    };
    auto use = [&](std::size_t k) {
      const std::uint64_t w = in.number(tok[2 + k], "a wire");
      if (w >= n_wires) in.fail("wire " + std::to_string(w) + " out of range (" + std::to_string(n_wires) + " wires)");
      if (!assigned[w]) in.fail("wire " + std::to_string(w) + " is read before it is assigned");
      return static_cast<wire>(w);
    };
    auto def = [&](std::size_t k) {
      const std::uint64_t w = in.number(tok[2 + nin + k], "a wire");
      if (w >= n_wires) in.fail("wire " + std::to_string(w) + " out of range (" + std::to_string(n_wires) + " wires)");
      if (assigned[w]) in.fail("wire " + std::to_string(w) + " is assigned twice");
      assigned[w] = 1;
      return static_cast<wire>(w);
    };
    if (op == "XOR" || op == "AND") {
      arity(2, 1);
      const wire a = use(0), b = use(1);
      gates.push_back(gate{a, b, def(0), op == "XOR" ? gate_kind::xor_ : gate_kind::and_});
    } else if (op == "INV") {
      arity(1, 1);
      const wire a = use(0);
      gates.push_back(gate{a, 0, def(0), gate_kind::inv});
    } else if (op == "EQ") {
      arity(1, 1);
      const std::uint64_t v = in.number(tok[2], "the EQ constant");
      if (v > 1) in.fail("EQ constant must be 0 or 1, found " + std::to_string(v));
      gates.push_back(gate{0, 0, def(0), v ? gate_kind::one : gate_kind::zero});
    } else if (op == "EQW") {
      arity(1, 1);
      const wire a = use(0);
      zero_used = true;
      gates.push_back(gate{a, zero_wire, def(0), gate_kind::xor_});
    } else if (op == "MAND") {
      if (nin != 2 * nout || nout == 0)
        in.fail("MAND takes 2k inputs and k outputs, the line says " + std::to_string(nin) + " and " +
                std::to_string(nout));
      std::vector<wire> a(nin);
      for (std::size_t k = 0; k < nin; ++k) a[k] = use(k);
      for (std::size_t k = 0; k < nout; ++k) gates.push_back(gate{a[k], a[nout + k], def(k), gate_kind::and_});
    } else {
      in.fail("unknown gate '" + std::string(op) + "' (expected XOR, AND, INV, EQ, EQW or MAND)");
    }
  }
  if (in.next_nonblank(tok)) in.fail("extra content after the " + std::to_string(n_gates) + " declared gates");
  for (std::uint64_t w = n_wires - n_out; w < n_wires; ++w)
    if (!assigned[w]) throw decode_error("bristol: output wire " + std::to_string(w) + " is never assigned");

  std::vector<wire> inputs(n_in), outputs(n_out);
  for (std::uint64_t i = 0; i < n_in; ++i) inputs[i] = static_cast<wire>(i);
  for (std::uint64_t i = 0; i < n_out; ++i) outputs[i] = static_cast<wire>(n_wires - n_out + i);
  if (zero_used) gates.insert(gates.begin(), gate{0, 0, zero_wire, gate_kind::zero});
  out.c = circuit::make(static_cast<std::uint32_t>(n_wires + 1), std::move(gates), std::move(inputs), std::move(outputs));
  return out;
}

}  // namespace pmdi::gc
