#pragma once
// Calibration for the planner (plan/placement.hpp): this machine's per-core
// rates of the online work, measured on the network's own stages.
//   macs_per_s           the stages' linear operators on shares (proto::share_product)
//   and_per_s            the garbled stages' online work at both ends per AND gate: the
//                        garbler's labels of a_k, the evaluator's half-gates and decoding
//                        (proto::evaluate_stage_words), the material freed and wiped after
//                        its one use
//   channel_bytes_per_s  messages over the secure channel on TCP loopback, both ends
//                        (net/secure.hpp's AEAD, the socket's copies and system calls)
//   messages_per_s       small messages back and forth between two threads, each with
//                        an io_context of its own as two parties' processes have, over
//                        the secure channel on TCP loopback: what a message costs its
//                        two ends whatever its size (system calls, waking the thread
//                        that waits in epoll, the receive deadline's timer, the record)
// Each is timed on this thread's CPU clock (what one core spends; the
// messages on the process's, both threads), the median of `reps` runs, so
// other load on the machine does not count.
#include <algorithm>
#include <cstddef>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstring>
#include <vector>

#include "pmdi/core/huge_pages.hpp"
#include "pmdi/core/pool.hpp"
#include "pmdi/core/prg.hpp"
#include "pmdi/core/secret.hpp"
#include "pmdi/core/timing.hpp"
#include "pmdi/crypto/gc/halfgates.hpp"
#include "pmdi/net/loopback.hpp"
#include "pmdi/plan/placement.hpp"
#include "pmdi/proto/circuits.hpp"
#include "pmdi/proto/common.hpp"

namespace pmdi::run {

// One core's rates on the stages of `p` over Z_2^l (V: the ring's word).
template <class V>
[[nodiscard]] plan::core_rates calibrate(const proto::network_plan& p, unsigned l, int reps = 5) {
  prg g = prg::from_os();
  auto fill = [&](std::vector<V>& v) {
    for (auto& x : v) x = g.next<V>();
  };
  double macs = 0, mac_s = 0, ands = 0, and_s = 0;
  worker_pool one(1);
  for (const auto& s : p.stages) {
    if (s.linear.macs() > 0) {
      std::vector<V> w(s.linear.weight_count()), z(s.in_size()), r(s.mid_size()), out(s.mid_size());
      fill(w);
      fill(z);
      fill(r);
      mac_s += timing::median_cpu_seconds(reps, [&] {
        proto::share_product<V>(s.linear, w, z, r, out, true, 1);
      });
      macs += static_cast<double>(s.linear.macs());
    }
    if (s.garbled()) {
      // A garbled stage's online work at both ends, from the material as the
      // roles hold it when the stage begins (prepared offline: not timed):
      // the garbler encodes the labels of a_k and drops its zero labels, the
      // evaluator evaluates and decodes, then frees the tables and wipes the
      // labels (what release_in_background does on a helper thread).
      const auto c = proto::stage_circuit_chunks(s, l);
      gc::garbler gk = gc::garbler::keygen(g);
      auto zero = gc::keygen_zero_labels(g, c.input_bits());
      large_vector<block> garbled(c.table_blocks());
      std::vector<V> terms(c.terms), masks(c.out);
      const std::uint64_t base = proto::garble_stage<V>(c, gk, std::span<const block>(zero.data(), zero.size()), garbled,
                                                        std::span<V>(terms), std::span<V>(masks), one);
      const std::vector<V> correction(c.out);  // the client's: any words do
      const std::size_t na = c.mid * c.l;
      const std::span<const block> all(zero.data(), zero.size());
      const std::vector<V> a(c.mid);  // zero words: their labels are the zero labels, a valid input
      std::vector<V> out(c.out);
      struct held {
        secret_vector<block> a_zero;  // the garbler's
        large_vector<block> tables;   // the evaluator's
        secret_vector<block> inputs;
      };
      and_s += timing::median_of_prepared(
          reps, timing::thread_cpu_seconds,
          [&] {
            held h{secret_vector<block>(na), garbled, proto::chunk_ordered_inputs(c, all.subspan(na))};
            std::copy_n(all.begin(), na, h.a_zero.begin());
            return h;
          },
          [&](held h) {
            std::vector<std::byte> labels(na * sizeof(block));
            gc::encode_words<V>(h.a_zero, a, l, gk.delta(), labels);
            h.a_zero.wipe();
            proto::evaluate_stage_words<V>(c, labels, std::span<block>(h.inputs.data(), h.inputs.size()), h.tables,
                                           std::span<const V>(terms), std::span<const V>(correction), std::span<V>(out),
                                           one, base);
          });
      ands += static_cast<double>(c.and_gates);
    }
  }
  // Messages of 4 MiB (the size of a stage's labels) over the secure channel
  // on a TCP loopback connection, both ends on this thread: sealing, the
  // socket's copies and system calls, opening.
  boost::asio::io_context io;
  auto [ta, tb] = net::tcp_loopback_pair(io);
  auto [sa, sb] = net::secure_pair(io, std::move(ta), std::move(tb), g);
  constexpr std::size_t message = std::size_t{4} << 20;
  constexpr int messages = 8;
  const std::vector<std::byte> payload(message, std::byte{0x5a});
  const auto limits = net::expect_type(1, message);
  const double rec_s = timing::median_cpu_seconds(reps, [&] {
    std::size_t got = 0;
    boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
      for (int i = 0; i < messages; ++i) co_await sa->send(1, payload);
    }, boost::asio::detached);
    boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
      for (int i = 0; i < messages; ++i) {
        const net::message m = co_await sb->receive(limits, net::after(std::chrono::seconds(30)));
        got += m.payload.size();
      }
    }, boost::asio::detached);
    io.run();
    io.restart();
    if (got != message * messages) throw error("calibrate: the loopback channel lost messages");
  });
  // Small messages: 400 bytes (a hundred words, a small stage's), each end
  // on its own io_context and thread, every message answered before the next.
  boost::asio::io_context io_a, io_b;
  auto [pa, pb] = net::tcp_loopback_pair(io_a, io_b);
  auto [ma, mb] = net::secure_pair(io_a, io_b, std::move(pa), std::move(pb), g);
  constexpr int rounds = 500;
  const std::vector<std::byte> note(400, std::byte{0x3c});
  const auto note_limits = net::expect_type(2, note.size());
  std::exception_ptr failed_a, failed_b;
  const double ping_s = timing::median_of(reps, timing::process_cpu_seconds, [&] {
    int answered = 0;
    // An end that fails closes its own link, which ends the other's wait: both
    // coroutines finish, and nothing is left pending on the links.
    boost::asio::co_spawn(io_a, [&]() -> boost::asio::awaitable<void> {
      try {
        for (int i = 0; i < rounds; ++i) {
          co_await ma->send(2, note);
          (void)co_await ma->receive(note_limits, net::after(std::chrono::seconds(30)));
          ++answered;
        }
      } catch (...) {
        failed_a = std::current_exception();
        ma->shutdown();
      }
    }, boost::asio::detached);
    boost::asio::co_spawn(io_b, [&]() -> boost::asio::awaitable<void> {
      try {
        for (int i = 0; i < rounds; ++i) {
          const net::message m = co_await mb->receive(note_limits, net::after(std::chrono::seconds(30)));
          co_await mb->send(2, m.payload);
        }
      } catch (...) {
        failed_b = std::current_exception();
        mb->shutdown();
      }
    }, boost::asio::detached);
    net::run_both(io_a, io_b);
    for (const auto& f : {failed_a, failed_b})
      if (f) std::rethrow_exception(f);
    if (answered != rounds) throw error("calibrate: the loopback channel lost messages");
  });
  plan::core_rates r;
  r.messages_per_s = ping_s > 0 ? 2.0 * rounds / ping_s : 0;
  r.macs_per_s = mac_s > 0 ? macs / mac_s : 0;
  r.and_per_s = and_s > 0 ? ands / and_s : 0;
  r.channel_bytes_per_s = rec_s > 0 ? static_cast<double>(messages) * static_cast<double>(message) / rec_s : 0;
  return r;
}

}  // namespace pmdi::run
