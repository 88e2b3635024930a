#pragma once
// Circuit builder with word-level helpers over Z_2^l (two's complement).
// A word is a vector of wire ids, least significant bit first.
//
//   gc::builder b;
//   word a = b.input_word(32);                 inputs in call order
//   wire x = b.xor_(p, q), b.and_(p, q), b.not_(p), b.or_(p, q), b.zero(), b.one()
//   word b.constant(v, l)
//   word b.add(x, y), b.sub(x, y)              mod 2^l           (l - 1 AND)
//   wire b.less_signed(x, y)                   x < y as signed   (l AND)
//   wire b.equal(x, y)                                           (l - 1 AND)
//   word b.mux(s, x0, x1)                      s ? x1 : x0       (l AND)
//   word b.relu(x)                             x < 0 ? 0 : x     (l - 1 AND)
//   word b.trunc(x, s)                         arithmetic shift right by s, free
//   word b.max(x, y), b.max(list)              signed maximum (max-pool)
//   word b.argmax(list)                        index of the first maximum, width index_bits(n)
//   b.output(w) / b.output_word(x)             outputs in call order
//   circuit std::move(b).build()
//
// The builder folds constants (AND with 0/1, XOR with 0/1, x AND NOT x, ...),
// so helpers applied to constant words cost no gates.
//
//   gc::relu_stage_circuit(l, s, n)  C(a, w, r) = relu(trunc(a + w, s)) - r for n activations;
//     inputs: a_0..a_{n-1}, then w_0..w_{n-1}, then r_0..r_{n-1} (l bits each, LSB first);
//     outputs: n words of l bits.
//   gc::maxpool_stage_circuit(l, s, n_out, window)  max over each window of trunc(a + w, s), minus r
//   gc::argmax_stage_circuit(l, s, n)  zero-extended argmax of trunc(a + w, s), minus r
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/crypto/gc/circuit.hpp"

namespace pmdi::gc {

using word = std::vector<wire>;

// Bits needed to write an index in [0, n): at least 1.
[[nodiscard]] inline unsigned index_bits(std::size_t n) noexcept {
  unsigned b = 1;
  while ((std::size_t{1} << b) < n) ++b;
  return b;
}

class builder {
 public:
  static constexpr wire none = 0xffffffffU;

  [[nodiscard]] wire input() {
    const wire w = fresh();
    inputs_.push_back(w);
    return w;
  }
  [[nodiscard]] word input_word(unsigned l) {
    word x(l);
    for (auto& w : x) w = input();
    return x;
  }
  void output(wire w) {
    check(w);
    outputs_.push_back(w);
  }
  void output_word(const word& x) {
    for (wire w : x) output(w);
  }

  // Whether w is the constant 0 / 1 wire (the folding's constants).
  [[nodiscard]] bool is_zero(wire w) const noexcept { return w == zero_; }
  [[nodiscard]] bool is_one(wire w) const noexcept { return w == one_; }

  [[nodiscard]] wire zero() {
    if (zero_ == none) zero_ = emit(gate_kind::zero, 0, 0);
    return zero_;
  }
  [[nodiscard]] wire one() {
    if (one_ == none) one_ = emit(gate_kind::one, 0, 0);
    return one_;
  }
  [[nodiscard]] wire constant_bit(bool v) { return v ? one() : zero(); }
  [[nodiscard]] word constant(std::uint64_t v, unsigned l) {
    word x(l);
    for (unsigned i = 0; i < l; ++i) x[i] = constant_bit(i < 64 && ((v >> i) & 1U));
    return x;
  }

  [[nodiscard]] wire xor_(wire a, wire b) {
    check(a), check(b);
    if (is_zero(a)) return b;
    if (is_zero(b)) return a;
    if (is_one(a)) return not_(b);
    if (is_one(b)) return not_(a);
    if (a == b) return zero();
    if (negation(a) == b) return one();
    return emit(gate_kind::xor_, a, b);
  }
  [[nodiscard]] wire and_(wire a, wire b) {
    check(a), check(b);
    if (is_zero(a) || is_zero(b)) return zero();
    if (is_one(a)) return b;
    if (is_one(b)) return a;
    if (a == b) return a;
    if (negation(a) == b) return zero();
    return emit(gate_kind::and_, a, b);
  }
  [[nodiscard]] wire not_(wire a) {
    check(a);
    if (is_zero(a)) return one();
    if (is_one(a)) return zero();
    if (const wire n = negation(a); n != none) return n;
    const wire o = emit(gate_kind::inv, a, 0);
    neg_[a] = o;
    neg_[o] = a;  // emit grew neg_ to cover o
    return o;
  }
  [[nodiscard]] wire or_(wire a, wire b) { return not_(and_(not_(a), not_(b))); }
  // s ? y : x for one bit.
  [[nodiscard]] wire mux_bit(wire s, wire x, wire y) { return xor_(x, and_(s, xor_(x, y))); }

  // ---- words ----------------------------------------------------------------
  [[nodiscard]] word add(const word& x, const word& y) { return add_carry(x, y, zero()); }
  // x - y with a borrow chain, no INV:
  // d_i = x_i ^ y_i ^ b_i, b_{i+1} = y_i ^ ((x_i ^ b_i) & (y_i ^ b_i)) (= maj(~x_i, y_i, b_i)).
  [[nodiscard]] word sub(const word& x, const word& y) {
    same(x, y, "sub");
    word d(x.size());
    wire b = zero();
    for (std::size_t i = 0; i < x.size(); ++i) {
      const wire u = xor_(x[i], b);
      d[i] = xor_(u, y[i]);
      if (i + 1 < x.size()) b = xor_(y[i], and_(u, xor_(y[i], b)));
    }
    return d;
  }
  [[nodiscard]] word invert(const word& x) {
    word r(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) r[i] = not_(x[i]);
    return r;
  }
  [[nodiscard]] word neg(const word& x) { return sub(constant(0, width(x)), x); }

  // Unsigned x < y: the borrow out of x - y (one AND per bit, see sub).
  [[nodiscard]] wire less_unsigned(const word& x, const word& y) {
    same(x, y, "less_unsigned");
    wire b = zero();
    for (std::size_t i = 0; i < x.size(); ++i) b = xor_(y[i], and_(xor_(x[i], b), xor_(y[i], b)));
    return b;
  }
  // Signed x < y: flip both sign bits, then compare unsigned. A top bit that
  // repeats the bit below it in both words (sign extension, as after trunc)
  // does not change the signed values: it is dropped first, so comparing two
  // truncated l-bit words costs l - s ANDs, not l.
  [[nodiscard]] wire less_signed(const word& x, const word& y) {
    same(x, y, "less_signed");
    word xs = x, ys = y;
    while (xs.size() > 1 && xs[xs.size() - 1] == xs[xs.size() - 2] && ys[ys.size() - 1] == ys[ys.size() - 2])
      xs.pop_back(), ys.pop_back();
    xs.back() = not_(xs.back());
    ys.back() = not_(ys.back());
    return less_unsigned(xs, ys);
  }
  [[nodiscard]] wire equal(const word& x, const word& y) {
    same(x, y, "equal");
    std::vector<wire> t(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) t[i] = not_(xor_(x[i], y[i]));
    while (t.size() > 1) {  // balanced AND tree: depth log2 l
      std::vector<wire> u;
      for (std::size_t i = 0; i + 1 < t.size(); i += 2) u.push_back(and_(t[i], t[i + 1]));
      if (t.size() % 2 != 0) u.push_back(t.back());
      t = std::move(u);
    }
    return t[0];
  }
  // s ? y : x. Bit positions that repeat an earlier pair (x_i, y_i) reuse its
  // result: a sign-extended pair costs one AND for all its sign copies, and
  // the result stays sign-extended (one wire repeated).
  [[nodiscard]] word mux(wire s, const word& x, const word& y) {
    same(x, y, "mux");
    word r(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      r[i] = none;
      if (i > 0 && x[i] == x[i - 1] && y[i] == y[i - 1]) r[i] = r[i - 1];
      if (r[i] == none) r[i] = mux_bit(s, x[i], y[i]);
    }
    return r;
  }
  [[nodiscard]] word relu(const word& x) {
    const wire keep = not_(x.back());
    word r(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) r[i] = and_(x[i], keep);
    return r;
  }
  // floor(x / 2^s) as signed: rewiring plus sign extension, no gates.
  [[nodiscard]] word trunc(const word& x, unsigned s) const {
    if (x.empty()) throw usage_error("gc::builder::trunc: empty word");
    word r(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) r[i] = i + s < x.size() ? x[i + s] : x.back();
    return r;
  }
  [[nodiscard]] word max(const word& x, const word& y) { return mux(less_signed(x, y), x, y); }
  [[nodiscard]] word max(const std::vector<word>& xs) {
    if (xs.empty()) throw usage_error("gc::builder::max: empty list");
    std::vector<word> t = xs;
    while (t.size() > 1) {
      std::vector<word> u;
      for (std::size_t i = 0; i + 1 < t.size(); i += 2) u.push_back(max(t[i], t[i + 1]));
      if (t.size() % 2 != 0) u.push_back(t.back());
      t = std::move(u);
    }
    return t[0];
  }
  // Index (index_bits(n) wide) of the first maximal word; a balanced
  // tournament where the right candidate wins only if strictly greater.
  [[nodiscard]] word argmax(const std::vector<word>& xs) {
    if (xs.empty()) throw usage_error("gc::builder::argmax: empty list");
    const unsigned ib = index_bits(xs.size());
    std::vector<std::pair<word, word>> t;
    for (std::size_t i = 0; i < xs.size(); ++i) t.emplace_back(xs[i], constant(i, ib));
    while (t.size() > 1) {
      std::vector<std::pair<word, word>> u;
      for (std::size_t i = 0; i + 1 < t.size(); i += 2) {
        const wire c = less_signed(t[i].first, t[i + 1].first);
        u.emplace_back(mux(c, t[i].first, t[i + 1].first), mux(c, t[i].second, t[i + 1].second));
      }
      if (t.size() % 2 != 0) u.push_back(t.back());
      t = std::move(u);
    }
    return t[0].second;
  }

  [[nodiscard]] std::size_t and_count() const noexcept { return n_and_; }

  // The circuit of the outputs: gates no output depends on are dropped (the
  // sum bits of an addition that a truncation shifts out, the value half of
  // an argmax's last comparison, constants never read).
  [[nodiscard]] circuit build(circuit::lane_mode lanes = circuit::lane_mode::on) && {
    std::vector<std::uint8_t> live(next_, 0);
    for (wire w : outputs_) live[w] = 1;
    for (std::size_t i = gates_.size(); i-- > 0;) {
      const gate& g = gates_[i];
      if (!live[g.out]) continue;
      if (g.kind == gate_kind::xor_ || g.kind == gate_kind::and_ || g.kind == gate_kind::inv) live[g.a] = 1;
      if (g.kind == gate_kind::xor_ || g.kind == gate_kind::and_) live[g.b] = 1;
    }
    std::erase_if(gates_, [&](const gate& g) { return !live[g.out]; });
    return circuit::make(next_, std::move(gates_), std::move(inputs_), std::move(outputs_), lanes);
  }

 private:
  static unsigned width(const word& x) { return static_cast<unsigned>(x.size()); }
  void same(const word& x, const word& y, const char* who) const {
    if (x.size() != y.size() || x.empty())
      throw usage_error(std::string("gc::builder::") + who + ": words of different or zero width (" +
                        std::to_string(x.size()) + " and " + std::to_string(y.size()) + ")");
  }
  void check(wire w) const {
    if (w >= next_) throw usage_error("gc::builder: wire " + std::to_string(w) + " does not exist");
  }
  [[nodiscard]] wire negation(wire w) const { return neg_[w]; }
  wire fresh() {
    neg_.push_back(none);
    return next_++;
  }
  wire emit(gate_kind k, wire a, wire b) {
    const wire o = fresh();
    gates_.push_back(gate{a, b, o, k});
    if (k == gate_kind::and_) ++n_and_;
    return o;
  }
  // Ripple-carry adder, one AND and four XOR per bit except the last:
  // t = x_i ^ c_i, s_i = t ^ y_i, c_{i+1} = c_i ^ (t & (y_i ^ c_i)).
  // [ref] the carry as a majority with one AND: Kolesnikov, Sadeghi, Schneider,
  //       Improved Garbled Circuit Building Blocks (CANS 2009).
  word add_carry(const word& x, const word& y, wire c) {
    same(x, y, "add");
    word s(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      const wire t = xor_(x[i], c);
      s[i] = xor_(t, y[i]);
      if (i + 1 < x.size()) c = xor_(c, and_(t, xor_(y[i], c)));
    }
    return s;
  }

  wire next_ = 0;
  wire zero_ = none, one_ = none;
  std::size_t n_and_ = 0;
  std::vector<gate> gates_;
  std::vector<wire> inputs_, outputs_;
  std::vector<wire> neg_;  // the INV of a wire, or none
};

// C(a, w, r) = relu(trunc(a + w, s)) - r over Z_2^l for n activations.
[[nodiscard]] inline circuit relu_stage_circuit(unsigned l, unsigned s, std::size_t n) {
  builder b;
  std::vector<word> a(n), w(n), r(n);
  for (auto& x : a) x = b.input_word(l);
  for (auto& x : w) x = b.input_word(l);
  for (auto& x : r) x = b.input_word(l);
  for (std::size_t i = 0; i < n; ++i) b.output_word(b.sub(b.relu(b.trunc(b.add(a[i], w[i]), s)), r[i]));
  return std::move(b).build();
}

// Max-pool stage: out_j = max_k trunc(a_{j,k} + w_{j,k}, s) - r_j for n_out
// windows of `window` values each. Inputs: a (n_out * window words, window
// after window), then w (same layout), then r (n_out words); outputs n_out words.
[[nodiscard]] inline circuit maxpool_stage_circuit(unsigned l, unsigned s, std::size_t n_out, std::size_t window) {
  if (window == 0) throw usage_error("gc::maxpool_stage_circuit: empty window");
  builder b;
  const std::size_t n_in = n_out * window;
  std::vector<word> a(n_in), w(n_in), r(n_out);
  for (auto& x : a) x = b.input_word(l);
  for (auto& x : w) x = b.input_word(l);
  for (auto& x : r) x = b.input_word(l);
  for (std::size_t j = 0; j < n_out; ++j) {
    std::vector<word> v(window);
    for (std::size_t k = 0; k < window; ++k) v[k] = b.trunc(b.add(a[j * window + k], w[j * window + k]), s);
    b.output_word(b.sub(b.max(v), r[j]));
  }
  return std::move(b).build();
}

// Argmax stage: zext(argmax_k trunc(a_k + w_k, s)) - r over Z_2^l, the index
// of the first maximum of n values. Inputs: a (n words), w (n words), r (one
// word); output: one word.
[[nodiscard]] inline circuit argmax_stage_circuit(unsigned l, unsigned s, std::size_t n) {
  if (n == 0) throw usage_error("gc::argmax_stage_circuit: no values");
  builder b;
  std::vector<word> a(n), w(n), v(n);
  for (auto& x : a) x = b.input_word(l);
  for (auto& x : w) x = b.input_word(l);
  const word r = b.input_word(l);
  for (std::size_t k = 0; k < n; ++k) v[k] = b.trunc(b.add(a[k], w[k]), s);
  word idx = b.argmax(v);
  while (idx.size() < l) idx.push_back(b.zero());
  idx.resize(l);
  b.output_word(b.sub(idx, r));
  return std::move(b).build();
}

}  // namespace pmdi::gc
