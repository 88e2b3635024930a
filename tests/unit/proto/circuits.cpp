// proto/circuits.hpp: a stage garbled in chunks and evaluated the way the
// evaluator does online (the garbler's labels as message bytes, the client's
// in chunk order, each chunk's arithmetic outputs made words at once, the
// client's correction added) equals the plaintext stage function
// relu(trunc(a + w, s)) - r, on one thread and two.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "pmdi/core/pool.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/core/ring.hpp"
#include "pmdi/proto/circuits.hpp"
#include "programs.hpp"

namespace proto = pmdi::proto;
namespace gc = pmdi::gc;
using pmdi::block;
using pmdi::shape3;
using namespace pmdi::test_programs;

TEST_CASE("a ReLU stage in chunks, evaluated from message bytes and chunk-ordered labels, equals the plaintext stage",
          "[proto][circuits]") {
  using R = pmdi::ring<32, 5>;
  constexpr unsigned l = 32, shift = 5;
  constexpr std::size_t n = 300;  // three chunks of 128, the last one partial
  proto::public_stage s;
  s.inputs = {0};
  s.linear.input_sizes = {4};
  s.linear.ops = {dense(0, shape3{4, 1, 1}, n)};
  s.linear.result = 1;
  s.linear_out = s.out = shape3{n, 1, 1};
  s.shift = shift;
  s.ops = {proto::nonlinear_op{proto::op_kind::relu}};
  const auto sc = proto::stage_circuit_chunks(s, l);
  REQUIRE(sc.chunks.size() == 3);

  auto g = test_prg(7);
  auto gk = gc::garbler::keygen(g);
  const auto zero = gc::keygen_zero_labels(g, sc.input_bits());
  std::vector<block> tables(sc.table_blocks());
  std::vector<std::uint32_t> terms(sc.terms), masks(sc.out);
  CHECK(sc.and_gates == n * (2 * l - shift - 2));  // adder and ReLU; the mask is added outside the circuit
  CHECK(sc.terms == n * (l - shift - 1));
  pmdi::worker_pool two(2), one(1);
  const std::span<const block> z(zero.data(), zero.size());
  (void)proto::garble_stage<std::uint32_t>(sc, gk, z, tables, std::span<std::uint32_t>(terms),
                                           std::span<std::uint32_t>(masks), two);

  std::vector<std::uint32_t> a(n), w(n), r(n);
  for (std::size_t i = 0; i < n; ++i) a[i] = g.next<std::uint32_t>(), w[i] = g.next<std::uint32_t>(), r[i] = g.next<std::uint32_t>();
  a[0] = 0x80000000U, w[0] = 0;
  const std::size_t na = n * l;
  std::vector<std::byte> a_bytes(na * sizeof(block) + 3);  // a message body: not aligned
  const auto a_body = std::span<std::byte>(a_bytes).subspan(3);
  gc::encode_words<std::uint32_t>(z.first(na), a, l, gk.delta(), a_body);
  const auto client = gc::encode(z.subspan(na), gc::words_to_bits<std::uint32_t>(w, l), gk.delta());
  const auto correction = proto::output_correction<std::uint32_t>(r, masks, l);

  for (auto* pool : {&one, &two}) {
    auto in = proto::chunk_ordered_inputs(sc, client);
    std::vector<std::uint32_t> got(n);
    proto::evaluate_stage_words<std::uint32_t>(sc, a_body, std::span<block>(in.data(), in.size()), tables,
                                               std::span<const std::uint32_t>(terms),
                                               std::span<const std::uint32_t>(correction), std::span<std::uint32_t>(got),
                                               *pool);
    for (std::size_t i = 0; i < n; ++i) {
      const auto t = R::trunc(a[i] + w[i], shift);
      CAPTURE(i);
      CHECK(got[i] == static_cast<std::uint32_t>((R::to_signed(t) < 0 ? 0U : t) - r[i]));
    }
  }
  auto in = proto::chunk_ordered_inputs(sc, client);
  std::vector<std::uint32_t> got(n - 1);
  CHECK_THROWS_AS(proto::evaluate_stage_words<std::uint32_t>(sc, a_body, std::span<block>(in.data(), in.size()), tables,
                                                             std::span<const std::uint32_t>(terms),
                                                             std::span<const std::uint32_t>(correction),
                                                             std::span<std::uint32_t>(got), one),
                  pmdi::usage_error);
  CHECK_THROWS_AS(proto::output_correction<std::uint32_t>(r, std::span<const std::uint32_t>(masks).first(n - 1), l),
                  pmdi::usage_error);
  CHECK_THROWS_AS(proto::chunk_ordered_inputs(sc, std::span<const block>(client).first(10)), pmdi::usage_error);
}
