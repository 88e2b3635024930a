// proto/offline_layout.hpp and proto/he_slots.hpp: the slot-packed products
// of the offline phase against the exact integers A c + term, and against
// the elementwise products (one exponentiation per tap, packed afterwards),
// for every layer kind, at the slot bound, with the work they save counted;
// a plaintext that overflows its slots is refused.
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "pmdi/crypto/paillier.hpp"
#include "pmdi/proto/he.hpp"
#include "pmdi/proto/he_slots.hpp"
#include "pmdi/proto/offline_layout.hpp"
#include "programs.hpp"

namespace proto = pmdi::proto;
namespace paillier = pmdi::paillier;
using pmdi::shape3;
using proto::client_value;
using proto::offline_mode;
using namespace pmdi::test_programs;

namespace {

constexpr unsigned ring_bits = 32;

// A plan whose last stage is `p` (garbled: a ReLU after it). A second input
// of p is the output of a garbled dense stage 0 (a mask the client holds);
// with `cloud_held`, stage 0 is a plain linear stage instead, so the cloud
// holds that input encrypted.
proto::network_plan plan_of(const proto::linear_program& p, bool cloud_held = false) {
  proto::network_plan plan;
  plan.tensor_sizes.push_back(p.input_sizes[0]);
  std::vector<std::size_t> inputs{0};
  if (p.inputs() == 2) {
    proto::public_stage s0;
    s0.inputs = {0};
    s0.linear.input_sizes = {p.input_sizes[0]};
    s0.linear.ops = {dense(0, shape3{p.input_sizes[0], 1, 1}, p.input_sizes[1])};
    s0.linear.result = 1;
    s0.linear_out = s0.out = shape3{p.input_sizes[1], 1, 1};
    if (!cloud_held) s0.ops = {proto::nonlinear_op{proto::op_kind::relu}};
    plan.stages.push_back(s0);
    plan.tensor_sizes.push_back(p.input_sizes[1]);
    inputs.push_back(1);
  }
  proto::public_stage s;
  s.inputs = inputs;
  s.linear = p;
  s.linear_out = s.out = shape3{p.out_size(), 1, 1};
  s.ops = {proto::nonlinear_op{proto::op_kind::relu}};
  plan.stages.push_back(s);
  plan.tensor_sizes.push_back(p.out_size());
  proto::validate(plan);
  return plan;
}

struct keys {
  paillier::key_pair kp;
  keys() {
    auto g = test_prg(40);
    kp = paillier::keygen(g, 1024);
  }
};
const keys& test_keys() {
  static const keys k;
  return k;
}

enum class masks { random, max };
enum class terms { random, min, max };

struct outcome {
  offline_mode mode = offline_mode::elementwise;
  std::uint64_t packed_products = 0, elementwise_products = 0;
  std::size_t uploads = 0, elementwise_uploads = 0;
};

// Runs the last stage of plan_of(p) both ways and checks every slot value
// against the exact integer (A c)_i + term_i.
outcome check_stage(const proto::linear_program& p, const std::vector<std::int64_t>& w, pmdi::prg& g,
                    masks mk = masks::random, terms tm = terms::random) {
  const auto& kp = test_keys().kp;
  const auto plan = plan_of(p);
  const std::size_t k = plan.stages.size() - 1, plain_bits = kp.pk.bits() - 2;
  const unsigned B = proto::bound_bits(p, w, {}, ring_bits), W = proto::slot_width(B);
  const auto lay = proto::layout_of(plan, k, W, plain_bits, ring_bits);
  const auto flat = proto::elementwise_layout(plan, k, W, plain_bits);

  std::vector<client_value> x(p.in_size());
  for (auto& v : x) v = mk == masks::max ? (client_value{1} << ring_bits) - 1 : client_value(g.uniform(1ULL << ring_bits));
  std::vector<paillier::mpz> term(p.out_size());
  for (auto& t : term) {
    proto::he::random_bits(t, B + proto::statistical_bits, g);  // s' = 2^B + [0, 2^(B+40))
    if (tm == terms::min) ::mpz_set_ui(t, 0);
    if (tm == terms::max) {
      ::mpz_set_ui(t, 0);
      ::mpz_setbit(t, B + proto::statistical_bits);
      ::mpz_sub_ui(t, t, 1);
    }
    paillier::mpz off;
    ::mpz_setbit(off, B);
    ::mpz_add(t, t, off);
  }
  // the exact values
  const auto ax = proto::apply<client_value, std::int64_t>(p, w, {}, x);
  std::vector<paillier::mpz> want(ax.size());
  for (std::size_t i = 0; i < ax.size(); ++i) {
    proto::he::detail::set_value(want[i], ax[i]);
    ::mpz_add(want[i], want[i], term[i]);
    REQUIRE(want[i].sign() > 0);
    REQUIRE(want[i].bits() <= W);
  }
  auto read = [&](const proto::stage_layout& l, const std::vector<paillier::ciphertext>& c) {
    REQUIRE(c.size() == l.output_ciphertexts);
    std::vector<paillier::mpz> got(l.values);
    for (std::size_t i = 0; i < c.size(); ++i) {
      const auto sp = l.output(i);
      auto v = paillier::unpack(kp.sk, c[i], W, sp.count);
      for (std::size_t s = 0; s < sp.count; ++s) got[sp.element + s] = v[s];
    }
    return got;
  };
  outcome o;
  o.mode = lay.mode;
  // elementwise: one ciphertext per input value, one product per tap, packed
  {
    std::vector<paillier::mpz> m;
    for (auto v : x) m.emplace_back(static_cast<std::uint64_t>(v));
    const auto enc = paillier::encrypt_many(kp.sk, std::span<const paillier::mpz>(m), g, 2);
    o.elementwise_uploads = enc.size();
    auto prod = proto::he::apply(kp.pk, p, w, enc, term, g, 2, &o.elementwise_products);
    const auto got = read(flat, proto::he::pack_all(kp.pk, prod, W, 2));
    for (std::size_t i = 0; i < want.size(); ++i) REQUIRE(got[i] == want[i]);
  }
  if (lay.mode == offline_mode::conv_groups) {
    const auto plain = proto::he::upload_plaintexts(p, lay, x);
    REQUIRE(plain.size() == lay.input_ciphertexts);
    const auto enc = paillier::encrypt_many(kp.sk, std::span<const paillier::mpz>(plain), g, 2);
    o.uploads = enc.size();
    const auto packed_term = proto::he::pack_terms(lay, term);
    const auto out = proto::he::apply_conv_groups(kp.pk, p, lay, w, enc, packed_term, 2, o.packed_products);
    const auto got = read(lay, out);
    for (std::size_t i = 0; i < want.size(); ++i) REQUIRE(got[i] == want[i]);
    // and the client's ring view of them
    const auto ring = proto::he::unpack_layout<std::uint32_t>(kp.sk, out, lay, 2);
    for (std::size_t i = 0; i < want.size(); ++i) REQUIRE(ring[i] == static_cast<std::uint32_t>(want[i].low_u64()));
  }
  return o;
}

std::size_t nonzero(const std::vector<std::int64_t>& w) {
  std::size_t n = 0;
  for (auto v : w) n += v != 0;
  return n;
}

}  // namespace

TEST_CASE("slot-packed convolution products equal the exact integers and the elementwise products",
          "[proto][offline_layout][paillier]") {
  auto g = test_prg(41);
  const shape3 in{3, 11, 9};
  const std::vector<proto::linear_op> convs = {conv(0, in, 4, 3, 3, 1, 1), conv(0, in, 2, 5, 3, 2, 2),
                                               conv(0, in, 3, 2, 2, 2, 0), conv(0, in, 2, 11, 9, 1, 0),
                                               conv(0, in, 5, 1, 1, 1, 0)};
  for (const auto& op : convs) {
    INFO("conv " << op.in.str() << " -> " << op.out.str() << " k " << op.kernel_h << "x" << op.kernel_w << " s "
                 << op.stride << " p " << op.pad);
    proto::linear_program p;
    p.input_sizes = {in.size()};
    p.ops = {op};
    p.result = 1;
    auto w = random_weights(g, p.weight_count(), 40);
    w[0] = 0;  // a zero weight costs nothing
    const auto o = check_stage(p, w, g);
    CHECK(o.mode == offline_mode::conv_groups);
    CHECK(o.elementwise_products == proto::rows(op, w).nnz());
    // one product per non-zero weight and output group
    const auto lay = proto::layout_of(plan_of(p), 0, proto::slot_width(proto::bound_bits(p, w, {}, ring_bits)),
                                      test_keys().kp.pk.bits() - 2, ring_bits);
    CHECK(o.packed_products == nonzero(w) * lay.groups);
    if (op.out.h * op.out.w > 1) CHECK(o.packed_products < o.elementwise_products);
  }
}

TEST_CASE("slot-packed stages with client-side pooling, residual adds and two convolutions",
          "[proto][offline_layout][paillier]") {
  auto g = test_prg(42);
  SECTION("sum-pool, convolution, skip added at 2^5 (the client pools and lays the skip out)") {
    const auto p = residual_program();
    const auto o = check_stage(p, random_weights(g, p.weight_count(), 30), g);
    CHECK(o.mode == offline_mode::conv_groups);
    CHECK(o.packed_products < o.elementwise_products);
  }
  SECTION("a down-sampling block: 3x3 stride-2 convolution plus a 1x1 stride-2 projection") {
    proto::linear_program p;
    const shape3 x{2, 8, 8};
    const auto c3 = conv(0, x, 3, 3, 3, 2, 1), c1 = conv(1, x, 3, 1, 1, 2, 0);
    p.input_sizes = {x.size(), x.size()};
    p.ops = {c3, c1, add(2, 3, c3.out, 0, 0)};
    p.result = 4;
    REQUIRE_NOTHROW(proto::validate(p, ""));
    const auto o = check_stage(p, random_weights(g, p.weight_count(), 30), g);
    CHECK(o.mode == offline_mode::conv_groups);
  }
  SECTION("a convolution after a mean-pool with a negative public factor") {
    proto::linear_program p;
    const shape3 x{2, 9, 9};
    p.input_sizes = {x.size()};
    p.ops = {sumpool(0, x, 3, 3, -7), conv(1, shape3{2, 3, 3}, 4, 2, 2, 1, 1)};
    p.result = 2;
    const auto o = check_stage(p, random_weights(g, p.weight_count(), 30), g);
    CHECK(o.mode == offline_mode::conv_groups);
  }
}

TEST_CASE("slot-packed products stay exact at the slot bound", "[proto][offline_layout][paillier]") {
  auto g = test_prg(43);
  proto::linear_program p;
  const shape3 in{4, 7, 7};
  p.input_sizes = {in.size()};
  p.ops = {conv(0, in, 3, 3, 3, 1, 1)};
  p.result = 1;
  for (std::int64_t sign : {1, -1}) {
    INFO("every weight " << sign * 1000);
    const std::vector<std::int64_t> w(p.weight_count(), sign * 1000);
    // the largest and the smallest slot values the cloud's mask allows
    CHECK(check_stage(p, w, g, masks::max, sign > 0 ? terms::max : terms::min).mode == offline_mode::conv_groups);
    CHECK(check_stage(p, w, g, masks::max, sign > 0 ? terms::min : terms::max).mode == offline_mode::conv_groups);
  }
}

TEST_CASE("dense, matrix and cloud-held inputs take the elementwise layout", "[proto][offline_layout]") {
  auto g = test_prg(44);
  const std::size_t plain_bits = 1022;
  proto::linear_program d;
  d.input_sizes = {12};
  d.ops = {dense(0, shape3{12, 1, 1}, 5)};
  d.result = 1;
  CHECK(check_stage(d, random_weights(g, d.weight_count(), 30), g).mode == offline_mode::elementwise);
  const auto lay = proto::layout_of(plan_of(d), 0, 80, plain_bits, ring_bits);
  CHECK(lay.input_ciphertexts == 12);
  CHECK(lay.output_ciphertexts == 1);  // 5 values of 80 bits in one plaintext
  CHECK(lay.slots == 12);
  // the residual program reading a plain linear stage's output: the cloud holds that input
  const auto res = plan_of(residual_program(), true);
  const auto held = proto::layout_of(res, 1, 90, plain_bits, ring_bits);
  CHECK(held.mode == offline_mode::elementwise);
  CHECK(held.input_ciphertexts == residual_program().input_sizes[0]);  // only the input the client holds
  const auto packed = proto::layout_of(plan_of(residual_program()), 1, 90, plain_bits, ring_bits);
  REQUIRE(packed.mode == offline_mode::conv_groups);
  CHECK(packed.parts.size() == 2);  // the convolution's taps, the skip in the output layout
  CHECK_THROWS_WITH(proto::layout_of(plan_of(d), 0, 2000, plain_bits, ring_bits), Catch::Contains("does not fit"));
}

TEST_CASE("a packed plaintext that overflows its slots is refused", "[proto][offline_layout][paillier]") {
  auto g = test_prg(45);
  const auto& kp = test_keys().kp;
  proto::linear_program p;
  const shape3 in{1, 6, 6};
  p.input_sizes = {in.size()};
  p.ops = {conv(0, in, 2, 3, 3, 1, 1)};
  p.result = 1;
  const unsigned W = 90;
  const auto lay = proto::layout_of(plan_of(p), 0, W, kp.pk.bits() - 2, ring_bits);
  REQUIRE(lay.mode == offline_mode::conv_groups);
  std::vector<paillier::mpz> m(lay.output_ciphertexts);
  ::mpz_setbit(m.back(), lay.output(m.size() - 1).count * W);  // one bit past the last used slot
  const auto c = paillier::encrypt_many(kp.sk, std::span<const paillier::mpz>(m), g, 1);
  CHECK_THROWS_AS(proto::he::unpack_layout<std::uint32_t>(kp.sk, c, lay, 1), pmdi::decode_error);
}

TEST_CASE("received ciphertexts are checked for units all at once, naming no false culprit", "[proto][paillier]") {
  auto g = test_prg(46);
  const auto& kp = test_keys().kp;
  std::vector<paillier::mpz> m(9);
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = static_cast<std::int64_t>(i);
  const auto c = paillier::encrypt_many(kp.sk, std::span<const paillier::mpz>(m), g, 1);
  auto wire = proto::he::to_wire(kp.pk, c);
  const auto back = proto::he::from_wire(kp.pk, wire, 2);
  REQUIRE(back.size() == c.size());
  for (std::size_t i = 0; i < c.size(); ++i) CHECK(back[i].value == c[i].value);
  paillier::ciphertext n;
  n.value = kp.pk.n();  // below N^2, but a multiple of both factors of N
  wire[5] = paillier::serialize(kp.pk, n);
  CHECK_THROWS_WITH(proto::he::from_wire(kp.pk, wire, 2), Catch::Contains("not coprime to N"));
}
