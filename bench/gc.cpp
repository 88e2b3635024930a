// pmdi-bench gc: half-gates garbling and evaluation throughput on one core
// and on all threads of the machine, against the raw fixed-key AES rate
// measured in the same run; three-halves garbling (one core) beside it.
//   batch: 2^22 independent AND gates (one level)
//   relu:  10,000 ReLUs at l = 32 with truncation, relu(trunc(a + w, 12)) with arithmetic
//          outputs (the circuit inference runs, gc/arithmetic.hpp), as lane groups (the
//          default) and one by one (lane_mode::off), and on a worker_pool; beside it the
//          same ReLUs with the mask subtracted in the circuit (relu(trunc(a + w, 12)) - r,
//          relu_masked_circuit_*); and the ReLUs as inference runs them (relu_stage_*:
//          proto/circuits.hpp). AND/s figures time the circuit; ReLU/s figures the whole
//          work, the output terms included.
#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "bench.hpp"
#include "pmdi/core/pool.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/core/timing.hpp"
#include "pmdi/crypto/gc/arithmetic.hpp"
#include "pmdi/crypto/gc/builder.hpp"
#include "pmdi/crypto/gc/halfgates.hpp"
#include "pmdi/crypto/gc/three_halves.hpp"
#include "pmdi/crypto/ot.hpp"
#include "pmdi/proto/circuits.hpp"

namespace {

using namespace pmdi;

// The machine is shared: one core's work on this thread's CPU clock, work
// over several threads on the wall clock (the machine's other load counts there).
using timing::median_cpu_seconds;
using timing::median_wall_seconds;

struct rates {
  double garble, eval;
};

// One core (thread CPU time), or on `pool` (wall time) when given.
rates measure(const gc::circuit& c, int reps, worker_pool* pool = nullptr) {
  prg g = prg::from_os();
  gc::garbler gk = gc::garbler::keygen(g);
  auto zero = gc::keygen_zero_labels(g, c.inputs().size());
  std::span<const block> z(zero.data(), zero.size());
  std::vector<block> tables(gc::table_blocks(c)), out0(c.outputs().size()), out(c.outputs().size());
  std::vector<std::uint8_t> bits(c.inputs().size());
  for (auto& b : bits) b = g.next_bit();
  const auto in = gc::encode(z, bits, gk.delta());
  std::uint64_t tweak = 0;
  auto garble = [&] {
    tweak = pool ? gk.garble(c, z, tables, out0, *pool) : gk.garble(c, z, tables, out0);
    bench::keep(tables);
  };
  auto evaluate = [&] {
    if (pool)
      gc::evaluate(c, in, tables, tweak, out, *pool);
    else
      gc::evaluate(c, in, tables, tweak, out);
    bench::keep(out);
  };
  garble();  // warm up: page in buffers
  const double tg = pool ? median_wall_seconds(reps, garble) : median_cpu_seconds(reps, garble);
  evaluate();
  const double te = pool ? median_wall_seconds(reps, evaluate) : median_cpu_seconds(reps, evaluate);
  if (gc::decode(out, gc::decode_bits(out0)) != c.eval_plain(bits)) throw error("bench gc: garbled result is wrong");
  const double n = static_cast<double>(c.and_count());
  return {n / tg, n / te};
}

// The same with three-halves garbling (one core, this thread's CPU time).
rates measure_three_halves(const gc::circuit& c, int reps) {
  prg g = prg::from_os();
  gc::garbler gk = gc::garbler::keygen(g);
  auto zero = gc::keygen_zero_labels(g, c.inputs().size());
  std::span<const block> z(zero.data(), zero.size());
  std::vector<std::byte> tables(gc::three_halves::table_bytes(c));
  std::vector<block> out0(c.outputs().size()), out(c.outputs().size());
  std::vector<std::uint8_t> bits(c.inputs().size());
  for (auto& b : bits) b = g.next_bit();
  const auto in = gc::encode(z, bits, gk.delta());
  std::uint64_t tweak = 0;
  auto garble = [&] {
    tweak = gc::three_halves::garble(gk, c, z, g, tables, out0);
    bench::keep(tables);
  };
  auto evaluate = [&] {
    gc::three_halves::evaluate(c, in, tables, tweak, out);
    bench::keep(out);
  };
  garble();
  const double tg = median_cpu_seconds(reps, garble);
  evaluate();
  const double te = median_cpu_seconds(reps, evaluate);
  if (gc::decode(out, gc::decode_bits(out0)) != c.eval_plain(bits))
    throw error("bench gc: three-halves garbled result is wrong");
  const double n = static_cast<double>(c.and_count());
  return {n / tg, n / te};
}

// Seconds per run of the output terms alone (gc/arithmetic.hpp), one core:
// the garbler's two hashes per term and the evaluator's one.
rates measure_terms(const gc::arithmetic_circuit& ac, int reps) {
  prg g = prg::from_os();
  gc::garbler gk = gc::garbler::keygen(g);
  const auto labels = gc::keygen_zero_labels(g, ac.out.terms());
  const std::span<const block> z(labels.data(), labels.size());
  std::vector<std::uint32_t> tables(ac.out.terms()), masks(ac.out.words()), out(ac.out.words());
  std::uint64_t first = 0;
  auto garble = [&] {
    gc::garbling_run run = gk.reserve(ac.out.terms());
    first = run.tweak_base();
    gc::garble_arithmetic<std::uint32_t>(ac.out, run, 0, z, tables, masks);
    bench::keep(tables);
  };
  auto evaluate = [&] {
    gc::evaluate_arithmetic<std::uint32_t>(ac.out, z, tables, first, out);
    bench::keep(out);
  };
  garble();
  const double tg = median_cpu_seconds(reps, garble);
  evaluate();
  const double te = median_cpu_seconds(reps, evaluate);
  for (std::size_t j = 0; j < out.size(); ++j)  // zero labels: every bit 0
    if (static_cast<std::uint32_t>(out[j] - masks[j]) != ac.out.offset[j]) throw error("bench gc: output terms are wrong");
  return {tg, te};
}

// The ReLUs of a stage as the protocol runs them (proto/circuits.hpp): chunks
// of 128 ReLUs garbled into one run of tweaks; evaluated from the garbler's
// labels as message bytes and the client's labels in chunk order (which the
// evaluator arranges offline), each chunk's outputs decoded into ring words
// at once. One core on `one` (this thread's CPU time, pool.size() == 1),
// otherwise wall time on the pool. The words are checked against the
// plaintext stage function. Returns ReLU/s.
rates measure_stage(std::size_t n, int reps, worker_pool& pool) {
  constexpr unsigned l = 32, shift = 12;
  proto::public_stage s;
  s.linear_out = s.out = shape3{n, 1, 1};
  s.shift = shift;
  s.ops = {proto::nonlinear_op{proto::op_kind::relu}};
  const auto sc = proto::stage_circuit_chunks(s, l);
  prg g = prg::from_os();
  gc::garbler gk = gc::garbler::keygen(g);
  const auto zero = gc::keygen_zero_labels(g, sc.input_bits());
  const std::span<const block> z(zero.data(), zero.size());
  std::vector<block> tables(sc.table_blocks());
  std::vector<std::uint32_t> terms(sc.terms), masks(sc.out);
  std::uint64_t tweak = 0;
  auto garble = [&] {
    tweak = proto::garble_stage<std::uint32_t>(sc, gk, z, tables, std::span<std::uint32_t>(terms),
                                               std::span<std::uint32_t>(masks), pool);
    bench::keep(tables);
  };
  const bool one_core = pool.size() == 1;
  garble();  // warm up: page in buffers
  const double tg = one_core ? median_cpu_seconds(reps, garble) : median_wall_seconds(reps, garble);

  std::vector<std::uint32_t> a(n), w(n), r(n), got(n);
  for (auto& v : a) v = g.next<std::uint32_t>();
  for (auto& v : w) v = g.next<std::uint32_t>();
  for (auto& v : r) v = g.next<std::uint32_t>();
  const std::size_t na = n * l;
  std::vector<std::byte> a_bytes(na * block_bytes);
  gc::encode_words<std::uint32_t>(z.first(na), a, l, gk.delta(), a_bytes);
  const auto client = gc::encode(z.subspan(na), gc::words_to_bits<std::uint32_t>(w, l), gk.delta());
  auto in = proto::chunk_ordered_inputs(sc, client);
  const auto correction = proto::output_correction<std::uint32_t>(r, masks, l);
  auto evaluate = [&] {
    proto::evaluate_stage_words<std::uint32_t>(sc, a_bytes, std::span<block>(in.data(), in.size()), tables,
                                               std::span<const std::uint32_t>(terms),
                                               std::span<const std::uint32_t>(correction), std::span<std::uint32_t>(got),
                                               pool, tweak);
    bench::keep(got);
  };
  evaluate();
  const double te = one_core ? median_cpu_seconds(reps, evaluate) : median_wall_seconds(reps, evaluate);
  for (std::size_t i = 0; i < n; ++i) {
    const auto t = static_cast<std::int32_t>(a[i] + w[i]) >> shift;
    if (got[i] != static_cast<std::uint32_t>(std::max(t, 0)) - r[i]) throw error("bench gc: garbled stage result is wrong");
  }
  return {static_cast<double>(n) / tg, static_cast<double>(n) / te};  // ReLU/s
}

int run(const bench::args& a, bench::report& r) {
  const int reps = a.quick ? 3 : 9;
  const auto& h = gc::hasher::instance();
  r.note(std::string("hash path: ") + gc::hash_path_name(h.path()) +
         "; times are this thread's CPU time, medians of " + std::to_string(reps) + " runs");

  // Raw fixed-key AES (MMO: pi(x) ^ x) rate on an L1-resident buffer, on the
  // path the hash uses, and on the plain AES-NI path for reference.
  std::vector<block> buf(1024);
  prg g = prg::from_os();
  g.fill(buf.data(), buf.size() * sizeof(block));
  const int inner = a.quick ? 200 : 2000;
  const double t_aes = median_cpu_seconds(reps, [&] {
    for (int i = 0; i < inner; ++i) h.mmo_inplace(buf.data(), buf.size());
    bench::keep(buf);
  });
  const double aes_rate = static_cast<double>(buf.size()) * inner / t_aes;
  r.metric("gc", "aes_blocks_per_s", aes_rate, "blocks/s");
  const double t_aesni = median_cpu_seconds(reps, [&] {
    for (int i = 0; i < inner; ++i) h.mmo_inplace_aesni(buf.data(), buf.size());
    bench::keep(buf);
  });
  r.metric("gc", "aesni_blocks_per_s", static_cast<double>(buf.size()) * inner / t_aesni, "blocks/s");

  // A batch of independent AND gates.
  const std::size_t n_and = a.quick ? (std::size_t{1} << 18) : (std::size_t{1} << 22);
  std::vector<gc::gate> gates(n_and);
  std::vector<gc::wire> in(2 * n_and), outw(n_and);
  for (std::size_t i = 0; i < 2 * n_and; ++i) in[i] = static_cast<gc::wire>(i);
  for (std::size_t i = 0; i < n_and; ++i) {
    gates[i] = {static_cast<gc::wire>(2 * i), static_cast<gc::wire>(2 * i + 1), static_cast<gc::wire>(2 * n_and + i),
                gc::gate_kind::and_};
    outw[i] = static_cast<gc::wire>(2 * n_and + i);
  }
  const auto batch = gc::circuit::make(static_cast<std::uint32_t>(3 * n_and), std::move(gates), std::move(in),
                                       std::move(outw));
  const rates b = measure(batch, reps);
  r.metric("gc", "garble_and_per_s", b.garble, "AND/s");
  r.metric("gc", "eval_and_per_s", b.eval, "AND/s");
  r.metric("gc", "garble_aes_fraction", 4 * b.garble / aes_rate, "x");  // 4 hashes per garbled AND
  r.metric("gc", "eval_aes_fraction", 2 * b.eval / aes_rate, "x");      // 2 hashes per evaluated AND

  // A ReLU stage circuit: lane groups (the default), one by one, and on all threads.
  const std::size_t n_relu = a.quick ? 1000 : 10000;
  const double relus = static_cast<double>(n_relu);
  const auto relu_ac = gc::relu_arithmetic_circuit(32, 12, n_relu);
  const gc::circuit& relu = relu_ac.c;
  const double per_relu = static_cast<double>(relu.and_count()) / relus;
  const rates rr = measure(relu, reps);
  const rates terms = measure_terms(relu_ac, reps);  // seconds
  // ReLU/s of the whole work, from the circuit's rate and the terms' time.
  auto relu_rate = [&](double and_rate, double terms_s) { return relus / (relus * per_relu / and_rate + terms_s); };
  r.metric("gc", "relu_and_count", static_cast<double>(relu.and_count()), "AND");
  r.metric("gc", "relu_and_per_relu", per_relu, "AND");
  r.metric("gc", "relu_terms_per_relu", static_cast<double>(relu_ac.out.terms()) / relus, "terms");
  r.metric("gc", "relu_levels", static_cast<double>(relu.depth()), "levels");
  r.metric("gc", "relu_garble_and_per_s", rr.garble, "AND/s");
  r.metric("gc", "relu_eval_and_per_s", rr.eval, "AND/s");
  const double relu_garble = relu_rate(rr.garble, terms.garble), relu_eval = relu_rate(rr.eval, terms.eval);
  r.metric("gc", "relu_garble_per_s", relu_garble, "ReLU/s");
  r.metric("gc", "relu_eval_per_s", relu_eval, "ReLU/s");
  r.metric("gc", "relu_bytes_per_relu",
           static_cast<double>(gc::table_blocks(relu) * block_bytes + sizeof(std::uint32_t) * relu_ac.out.terms()) / relus,
           "B");
  {
    // The mask subtracted in the circuit (the protocol's circuit before the
    // arithmetic outputs), in this run: 81 ANDs per ReLU, decoding bits.
    const auto masked = gc::relu_stage_circuit(32, 12, n_relu);
    const double masked_per_relu = static_cast<double>(masked.and_count()) / relus;
    const rates rm = measure(masked, reps);
    const double masked_garble = rm.garble / masked_per_relu, masked_eval = rm.eval / masked_per_relu;  // ReLU/s
    r.metric("gc", "relu_masked_circuit_and_per_relu", masked_per_relu, "AND");
    r.metric("gc", "relu_masked_circuit_garble_per_s", masked_garble, "ReLU/s");
    r.metric("gc", "relu_masked_circuit_eval_per_s", masked_eval, "ReLU/s");
    r.metric("gc", "relu_garble_per_s_vs_masked_circuit", relu_garble / masked_garble, "x");
    r.metric("gc", "relu_eval_per_s_vs_masked_circuit", relu_eval / masked_eval, "x");
  }
  {
    gc::builder b;
    std::vector<gc::word> x(2 * n_relu);
    for (auto& v : x) v = b.input_word(32);
    gc::arithmetic_outputs out;
    for (std::size_t i = 0; i < n_relu; ++i) gc::output_arithmetic(b, b.relu(b.trunc(b.add(x[i], x[n_relu + i]), 12)), out);
    const auto one_by_one = std::move(b).build(gc::circuit::lane_mode::off);
    const rates ro = measure(one_by_one, reps);
    r.metric("gc", "relu_garble_and_per_s_one_by_one", ro.garble, "AND/s");
    r.metric("gc", "relu_eval_and_per_s_one_by_one", ro.eval, "AND/s");
  }
  {
    const unsigned threads = std::max(1U, std::thread::hardware_concurrency());
    worker_pool one(1), all(threads);
    const rates r1 = measure(relu, reps, &one);
    const rates rt = measure(relu, reps, &all);
    r.metric("gc", "relu_threads", threads, "threads");
    r.metric("gc", "relu_garble_and_per_s_threads", rt.garble, "AND/s");
    r.metric("gc", "relu_eval_and_per_s_threads", rt.eval, "AND/s");
    // The terms split over the threads as a stage's chunks do (relu_stage_* measures that).
    r.metric("gc", "relu_garble_per_s_threads", relu_rate(rt.garble, terms.garble / threads), "ReLU/s");
    r.metric("gc", "relu_eval_per_s_threads", relu_rate(rt.eval, terms.eval / threads), "ReLU/s");
    // Against one thread timed the same way (wall clock), in this run.
    r.metric("gc", "relu_garble_threads_speedup", rt.garble / r1.garble, "x");
    r.metric("gc", "relu_eval_threads_speedup", rt.eval / r1.eval, "x");
  }
  {
    // The same ReLUs as inference runs them (the output terms and the
    // client's correction included): one core, then all threads.
    const unsigned threads = std::max(1U, std::thread::hardware_concurrency());
    worker_pool one(1), all(threads);
    const rates s1 = measure_stage(n_relu, reps, one);
    const rates st = measure_stage(n_relu, reps, all);
    r.metric("gc", "relu_stage_garble_and_per_s", s1.garble * per_relu, "AND/s");
    r.metric("gc", "relu_stage_eval_and_per_s", s1.eval * per_relu, "AND/s");
    r.metric("gc", "relu_stage_garble_per_s", s1.garble, "ReLU/s");
    r.metric("gc", "relu_stage_eval_per_s", s1.eval, "ReLU/s");
    r.metric("gc", "relu_stage_garble_and_per_s_threads", st.garble * per_relu, "AND/s");
    r.metric("gc", "relu_stage_eval_and_per_s_threads", st.eval * per_relu, "AND/s");
  }
  r.metric("gc", "bytes_per_and", static_cast<double>(gc::table_blocks_per_and * block_bytes), "B");

  // Three-halves garbling, one core: the same AND batch and ReLU circuit,
  // against half-gates measured above in this run.
  {
    const rates tb = measure_three_halves(batch, reps);
    r.metric("gc", "three_halves_garble_and_per_s", tb.garble, "AND/s");
    r.metric("gc", "three_halves_eval_and_per_s", tb.eval, "AND/s");
    r.metric("gc", "three_halves_garble_aes_fraction", 6 * tb.garble / aes_rate, "x");  // 6 hashes per garbled AND
    r.metric("gc", "three_halves_eval_aes_fraction", 3 * tb.eval / aes_rate, "x");      // 3 per evaluated AND
    const rates tr = measure_three_halves(relu, reps);
    r.metric("gc", "relu_three_halves_garble_and_per_s", tr.garble, "AND/s");
    r.metric("gc", "relu_three_halves_eval_and_per_s", tr.eval, "AND/s");
    r.metric("gc", "relu_three_halves_garble_vs_half_gates", tr.garble / rr.garble, "x");
    r.metric("gc", "relu_three_halves_eval_vs_half_gates", tr.eval / rr.eval, "x");
    r.metric("gc", "bytes_per_and_three_halves",
             static_cast<double>(gc::three_halves::table_bytes(relu)) / static_cast<double>(relu.and_count()), "B");
  }

  // Three-party OT, per label: each party's step on a batch of 2^20 bits.
  {
    const std::size_t n = a.quick ? (std::size_t{1} << 16) : (std::size_t{1} << 20);
    prg ce = prg::from_os(), ge = prg::from_os(), gg = prg::from_os();
    const block delta = gc::keygen_delta(gg);
    auto k0 = gc::keygen_zero_labels(gg, n);
    std::vector<std::uint8_t> choice(n);
    for (auto& c : choice) c = gg.next_bit();
    std::vector<std::uint8_t> e;
    std::vector<block> pairs(2 * n), fwd(n), k(n);
    const double t1 = median_cpu_seconds(reps, [&] { e = ot::proxy_choose(choice, ce); });
    const double t2 = median_cpu_seconds(reps, [&] { ot::proxy_send(e, {k0.data(), n}, delta, ge, pairs); });
    const double t3 = median_cpu_seconds(reps, [&] { ot::proxy_forward(pairs, choice, fwd); });
    const double t4 = median_cpu_seconds(reps, [&] { ot::proxy_receive(fwd, ce, ge, k); });
    const double nn = static_cast<double>(n);
    r.metric("gc", "ot_choose_bits_per_s", nn / t1, "bit/s");
    r.metric("gc", "ot_send_labels_per_s", nn / t2, "label/s");
    r.metric("gc", "ot_forward_labels_per_s", nn / t3, "label/s");
    r.metric("gc", "ot_receive_labels_per_s", nn / t4, "label/s");
  }
  return 0;
}

const bench::registrar reg("gc",
                           "half-gates garble/evaluate throughput (one core, all threads) vs raw fixed-key AES; "
                           "three-halves beside it",
                           run);

}  // namespace
