// Multi-party runs of the whole protocol over in-memory pipes: bit-exact
// agreement with the plaintext fixed-point reference, zero online traffic on
// the cloud's links, one-use offline material, and transcripts free of the
// input and of the weights.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cstring>
#include <string>

#include "pmdi/core/ring.hpp"
#include "pmdi/net/memory.hpp"
#include "pmdi/run/local.hpp"
#include "../unit/net/net_test_util.hpp"
#include "random_net.hpp"

using namespace pmdi;

namespace {

constexpr unsigned test_key_bits = 1024;

template <class Ring>
std::vector<typename Ring::value_type> random_input(prg& g, std::size_t n) {
  std::vector<typename Ring::value_type> x(n);
  for (auto& v : x) v = static_cast<typename Ring::value_type>(test::small(g, std::int64_t{1} << Ring::frac));
  return x;
}

// A local deployment that compiles the one shape a test runs.
template <class Ring, std::size_t P, std::size_t T>
using deployment = run::local_deployment<Ring, run::shape_list<proto::shape<P, T>>>;

template <class Ring, std::size_t P, std::size_t T>
void check_agreement(int variant, std::uint64_t seed_byte, std::size_t link_buffer_bytes = 0) {
  seed s{};
  s[0] = static_cast<std::byte>(seed_byte);
  prg g(s);
  auto net = test::make_random_net(g, Ring::frac, variant);
  auto stages = net.stages;
  run::local_options opt;
  opt.topo = {P, T};
  opt.paillier_bits = test_key_bits;
  opt.deadline = std::chrono::seconds(120);
  opt.link_buffer_bytes = link_buffer_bytes;
  deployment<Ring, P, T> d(std::move(stages), net.input_size, opt);
  d.setup();
  for (std::uint64_t id = 1; id <= 2; ++id) {
    auto x = random_input<Ring>(g, net.input_size);
    d.offline(id);
    auto before = d.links();
    auto y = d.online(id, x);
    auto after = d.links();
    CHECK(y == test::reference<Ring>(net, x));
    // The cloud takes no part online: zero bytes either way on each of its links.
    for (std::size_t i = 0; i < after.size(); ++i) {
      if (after[i].a != "cloud" && after[i].b != "cloud") continue;
      const auto delta = after[i].counters - before[i].counters;
      INFO(after[i].a << " <-> " << after[i].b);
      CHECK(delta.bytes_sent == 0);
      CHECK(delta.bytes_received == 0);
    }
  }
}

// A message log as lines "sender -> receiver: name name ...", for readable
// failures.
std::string render(const proto::message_log& log) {
  std::string s;
  for (const auto& [link, ids] : log) {
    s += link.first.to_string();  // appended piece by piece: GCC 12's -Wrestrict false positive
    s += " -> ";
    s += link.second.to_string();
    s += ":";
    for (auto id : ids) {
      s += " ";
      s += proto::message_name(id);
    }
    s += "\n";
  }
  return s;
}

// Runs setup, one offline and one online phase with every link recorded, and
// compares each phase's messages with the table of proto/sequence.hpp.
template <class Ring, std::size_t P, std::size_t T>
void check_sequence(int variant) {
  prg g(seed{});
  auto net = test::make_random_net(g, Ring::frac, variant);
  const auto plan = proto::public_plan(net.stages, net.input_size);
  const auto split = proto::split(plan, proto::topology{P, T});
  run::local_options opt;
  opt.topo = {P, T};
  opt.paillier_bits = test_key_bits;
  opt.record = true;
  opt.deadline = std::chrono::seconds(60);
  deployment<Ring, P, T> d(net.stages, net.input_size, opt);
  const auto x = random_input<Ring>(g, net.input_size);
  const auto check_phase = [&](proto::phase ph, const char* what) {
    INFO(what << " of variant " << variant << ", " << P << "x" << T);
    const auto expected = proto::expected_messages(plan, split, T, ph);
    REQUIRE_FALSE(expected.empty());
    CHECK(render(d.messages()) == render(expected));
    d.clear_transcripts();
  };
  d.setup();
  check_phase(proto::phase::setup, "setup");
  d.offline(1);
  check_phase(proto::phase::offline, "offline");
  CHECK(d.online(1, x) == test::reference<Ring>(net, x));
  check_phase(proto::phase::online, "online");
}

}  // namespace

TEST_CASE("protocol agrees bit-exactly with the fixed-point reference, ring<32, 5>", "[protocol]") {
  using R = ring<32, 5>;
  SECTION("P=1, T=1, linear last stage") { check_agreement<R, 1, 1>(0, 1); }
  SECTION("P=2, T=2, argmax last stage") { check_agreement<R, 2, 2>(1, 2); }
  SECTION("P=3, T=1, residual across clusters") { check_agreement<R, 3, 1>(2, 3); }
}

TEST_CASE("protocol agrees bit-exactly with the fixed-point reference, ring<64, 13>", "[protocol]") {
  using R = ring<64, 13>;
  SECTION("P=2, T=1") { check_agreement<R, 2, 1>(0, 4); }
  SECTION("P=3, T=2, argmax") { check_agreement<R, 3, 2>(3, 5); }
}

// Every link holds at most 128 unread bytes each way, as a socket's buffers
// would (but smaller than any upload or answer): the cloud answers stage k
// before it reads upload k + 1, so a client that read no answer before its
// last upload had gone left both ends blocked in a send (ResNet-32 over TCP).
TEST_CASE("links with socket-like buffers: no two parties wait on each other's sends", "[protocol][net]") {
  using R = ring<32, 5>;
  SECTION("P=1, T=1") { check_agreement<R, 1, 1>(0, 6, 128); }
  SECTION("P=3, T=1, residual across clusters") { check_agreement<R, 3, 1>(2, 7, 128); }
}

TEST_CASE("offline material is used at most once", "[protocol]") {
  using R = ring<32, 5>;
  prg g(seed{});
  auto net = test::make_random_net(g, R::frac, 0);
  run::local_options opt;
  opt.topo = {2, 1};
  opt.paillier_bits = test_key_bits;
  opt.deadline = std::chrono::seconds(60);
  deployment<R, 2, 1> d(net.stages, net.input_size, opt);
  d.setup();
  d.offline(7);
  auto x = random_input<R>(g, net.input_size);
  CHECK(d.online(7, x) == test::reference<R>(net, x));
  // A second use of inference 7 is refused by the parties that hold its material.
  try {
    (void)d.online(7, x);
    FAIL("a second online run with the same offline material was accepted");
  } catch (const protocol_error& e) {
    CHECK(std::string(e.what()).find("already used") != std::string::npos);
  }
  // An inference with no offline material is refused too.
  CHECK_THROWS_AS(d.online(8, x), protocol_error);
}

TEST_CASE("party reports are JSON with per-peer traffic, rounds and stages", "[protocol][report]") {
  using R = ring<32, 5>;
  prg g(seed{});
  auto net = test::make_random_net(g, R::frac, 1);
  run::local_options opt;
  opt.topo = {2, 1};
  opt.paillier_bits = test_key_bits;
  opt.deadline = std::chrono::seconds(60);
  deployment<R, 2, 1> d(net.stages, net.input_size, opt);
  d.setup();
  d.offline(1);
  (void)d.online(1, random_input<R>(g, net.input_size));
  const auto reports = d.reports();
  REQUIRE(reports.size() == 2 + 2 * 3);
  for (const auto& r : reports) {
    INFO(r.to_json());
    const auto v = boost::json::parse(r.to_json()).as_object();
    CHECK(v.at("party").as_string() == r.party);
    CHECK(v.at("peak_rss_bytes").to_number<double>() > 0);
    const auto& phases = v.at("phases");
    CHECK(phases.at("online").as_object().contains("peers"));
    if (r.party == "cloud") {
      CHECK(phases.at("online").at("bytes_sent").to_number<double>() == 0);
      CHECK(phases.at("online").at("bytes_received").to_number<double>() == 0);
      CHECK(phases.at("offline").at("bytes_sent").to_number<double>() > 0);
    }
    if (r.party == "client") {
      // one flight online: z_1 to garbler[0], then the wait for the result
      CHECK(phases.at("online").at("rounds").to_number<double>() == 1);
      CHECK(phases.at("online").at("peers").at("garbler[0]").at("flights").to_number<double>() == 1);
      CHECK(phases.at("online").at("peers").at("garbler[0]").at("bytes_sent").to_number<double>() == 8 + 4 + 4.0 * net.input_size);  // inference, count, values
    }
    // The JSON reads back as the same report.
    CHECK(proto::report_from_json(boost::json::parse(r.to_json())).to_json() == r.to_json());
    if (r.party == "evaluator[0]") CHECK(v.at("stages").as_array().size() >= 1);
  }
}

TEST_CASE("preparing the same inference twice is refused", "[protocol]") {
  using R = ring<32, 5>;
  prg g(seed{});
  auto net = test::make_random_net(g, R::frac, 1);
  run::local_options opt;
  opt.topo = {1, 1};
  opt.paillier_bits = test_key_bits;
  opt.deadline = std::chrono::seconds(60);
  deployment<R, 1, 1> d(net.stages, net.input_size, opt);
  d.setup();
  d.offline(3);
  CHECK_THROWS_AS(d.offline(3), protocol_error);
}

namespace {

// Does `hay` contain `needle` as a contiguous byte string?
bool contains(const std::vector<std::byte>& hay, const std::vector<std::byte>& needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

template <class V>
std::vector<std::byte> bytes_of(const std::vector<V>& v) {
  std::vector<std::byte> b(v.size() * sizeof(V));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

}  // namespace

TEST_CASE("transcripts: only the client sees the input, only the cloud the weights", "[protocol]") {
  using R = ring<64, 13>;
  using V = R::value_type;
  prg g(seed{});
  auto net = test::make_random_net(g, R::frac, 0);
  // Canary weights: every weight of stage 0 is the same distinctive value, so
  // a run of them in the clear would show as a repeated 8-byte pattern.
  const std::int64_t canary_w = 0x5A17;
  for (auto& w : net.stages[0].weights) w = canary_w;
  // Canary input: a distinctive 64-bit pattern in every element.
  std::vector<V> x(net.input_size, V{0x1234'5678'9abc'def1ULL});
  run::local_options opt;
  opt.topo = {2, 2};
  opt.paillier_bits = test_key_bits;
  opt.record = true;
  opt.deadline = std::chrono::seconds(60);
  deployment<R, 2, 2> d(net.stages, net.input_size, opt);
  d.setup();
  d.offline(1);
  auto y = d.online(1, x);
  CHECK(y == test::reference<R>(net, x));

  const auto input_pattern = bytes_of(std::vector<V>(2, x[0]));
  // Three canary weights in a row as ring words (how shares would carry them).
  const auto weight_pattern = bytes_of(std::vector<V>(3, static_cast<V>(canary_w)));
  const auto tr = d.transcripts();
  REQUIRE(tr.size() >= 4);
  for (const auto& [party, frames] : tr) {
    INFO("party " << party);
    for (const auto& f : frames) {
      if (party != "client") CHECK_FALSE(contains(f, input_pattern));
      if (party != "cloud") CHECK_FALSE(contains(f, weight_pattern));
    }
  }
  // The pattern search works: the canary is found where it is expected.
  std::vector<std::byte> probe = input_pattern;
  probe.insert(probe.begin(), std::byte{1});
  CHECK(contains(probe, input_pattern));
}

TEST_CASE("every link carries the messages of the sequence table, in its order", "[protocol][sequence]") {
  check_sequence<ring<32, 5>, 2, 2>(0);  // the last stage linear: enc_output_mask
  check_sequence<ring<32, 5>, 3, 1>(1);  // the last stage garbled (argmax); two cluster handoffs
}

TEST_CASE("the sequence table expands per stage and per cluster", "[protocol][sequence]") {
  prg g(seed{});
  auto net = test::make_random_net(g, 8, 1);
  const auto plan = proto::public_plan(net.stages, net.input_size);
  const auto split = proto::split(plan, proto::topology{3, 2});
  std::size_t garbled = 0;
  for (const auto& st : plan.stages) garbled += st.garbled() ? 1 : 0;
  REQUIRE(garbled > 0);
  const auto off = proto::expected_messages(plan, split, 2, proto::phase::offline);
  std::size_t choices = 0, stage_inputs = 0;
  for (const auto& [link, ids] : off)
    for (auto id : ids) {
      choices += id == proto::msg_ot_choice<0>::id ? 1 : 0;
      stage_inputs += id == proto::msg_enc_stage_input::id ? 1 : 0;
    }
  CHECK(choices == garbled);
  CHECK(stage_inputs == plan.stages.size());
  // The cloud's mask shares reach both compute servers of every cluster.
  for (std::uint32_t j = 0; j < 3; ++j)
    for (std::uint32_t v = 0; v < 2; ++v) {
      const proto::role_id cloud{proto::role_kind::cloud, 0, 0}, server{proto::role_kind::compute, j, v};
      CHECK(off.at({cloud, server}).size() == split.end(j) - split.first(j));
    }
  const auto on = proto::expected_messages(plan, split, 2, proto::phase::online);
  const proto::role_id g1{proto::role_kind::garbler, 1, 0}, g2{proto::role_kind::garbler, 2, 0};
  CHECK(on.at({g1, g2}) == std::vector<std::uint16_t>{proto::msg_cluster_handoff<0>::id});
  CHECK(on.count({g2, {proto::role_kind::garbler, 3, 0}}) == 0);
  CHECK(on.at({g2, {proto::role_kind::client, 0, 0}}) == std::vector<std::uint16_t>{proto::msg_masked_output<0>::id});
}

TEST_CASE("the protocol runs over authenticated encrypted channels (net's secure memory links)", "[protocol][net]") {
  using R = ring<32, 5>;
  prg g(seed{});
  auto net = test::make_random_net(g, R::frac, 1);
  run::local_options opt;
  opt.topo = {2, 1};
  opt.paillier_bits = test_key_bits;
  opt.secure_channels = true;
  opt.deadline = std::chrono::seconds(60);
  deployment<R, 2, 1> d(net.stages, net.input_size, opt);
  d.setup();
  d.offline(1);
  auto x = random_input<R>(g, net.input_size);
  const auto before = d.links();
  CHECK(d.online(1, x) == test::reference<R>(net, x));
  const auto after = d.links();
  for (std::size_t i = 0; i < after.size(); ++i)
    if (after[i].a == "cloud" || after[i].b == "cloud") {
      const auto delta = after[i].counters - before[i].counters;
      CHECK(delta.bytes_sent + delta.bytes_received == 0);
    }
  CHECK_THROWS_AS(d.online(1, x), protocol_error);
}

namespace {

// The protocol_error that ends `a` (a test failure when it ends otherwise).
protocol_error error_of(boost::asio::io_context& io, boost::asio::awaitable<void> a) {
  try {
    test::run_all(io, std::move(a));
  } catch (const protocol_error& e) {
    INFO(e.what());
    return e;
  }
  FAIL("accepted");
  return protocol_error("", "", "", "");
}

}  // namespace

TEST_CASE("bad frames are refused with the party, the step and the peer", "[protocol][messages]") {
  using namespace pmdi::proto;
  boost::asio::io_context io;
  auto ends = net::memory_pair(io.get_executor(), "garbler[0]", "compute[0,1]");
  net::memory_transport* raw = ends.first.get();
  channel<role::garbler<0>, role::compute<0, 1>> g(std::move(ends.first));
  channel<role::compute<0, 1>, role::garbler<0>> c(std::move(ends.second));
  c.set_deadline(std::chrono::milliseconds(200));
  const std::vector<std::uint32_t> z{1, 2, 3};
  std::vector<std::uint32_t> got;
  const auto receive_z = [&]() -> boost::asio::awaitable<void> {
    got = co_await receive_words<msg_stage_input<0, 1>, std::uint32_t>(c, 5, 3);
  };
  auto expect_error = [&](const char* needle) {
    const auto e = error_of(io, receive_z());
    INFO(e.what());
    CHECK(e.party == "compute[0,1]");
    CHECK(e.peer == "garbler[0]");
    CHECK(e.step == "receive stage_input");
    CHECK(std::string(e.what()).find(needle) != std::string::npos);
  };
  // Right message, right inference: accepted.
  test::run_all(io, send<msg_stage_input<0, 1>>(g, 5, std::span<const std::uint32_t>(z)), receive_z());
  CHECK(got == z);
  // Wrong element count.
  test::run_all(io, send<msg_stage_input<0, 1>>(g, 5, std::span<const std::uint32_t>(z.data(), 2)));
  expect_error("expected 3");
  // Another inference's material.
  test::run_all(io, send<msg_stage_input<0, 1>>(g, 6, std::span<const std::uint32_t>(z)));
  expect_error("inference 6");
  // Another message where stage_input was expected: refused by its type before its payload is read.
  // (the compile-time checks keep a garbler from sending one, so the raw link does).
  const std::vector<std::byte> forged(20);
  test::run_all(io, raw->send(msg_partial_product<0, 1>::id, forged));
  expect_error("unexpected message");
}

TEST_CASE("a frame longer than the receiver's expectation is refused before it is read", "[protocol][messages]") {
  using namespace pmdi::proto;
  boost::asio::io_context io;
  auto ends = net::memory_pair(io.get_executor(), "garbler[1]", "evaluator[1]");
  channel<role::garbler<1>, role::evaluator<1>> g(std::move(ends.first));
  channel<role::evaluator<1>, role::garbler<1>> e(std::move(ends.second));
  e.set_deadline(std::chrono::milliseconds(200));
  const auto x = error_of(io, [&]() -> boost::asio::awaitable<void> {
    const std::vector<block> labels(100);
    co_await send<msg_garbler_labels<1>>(g, 3, std::span<const block>(labels));
    (void)co_await receive<msg_garbler_labels<1>>(e, 3, std::size_t{10});
  }());
  CHECK(x.party == "evaluator[1]");
  CHECK(x.step == "receive garbler_labels");
  CHECK(std::string(x.what()).find("more than the") != std::string::npos);
}

TEST_CASE("a party that waits in vain stops at its deadline, naming the peer", "[protocol][messages]") {
  using namespace pmdi::proto;
  boost::asio::io_context io;
  auto ends = net::memory_pair(io.get_executor(), "client", "garbler[0]");
  channel<role::client, role::garbler<0>> c(std::move(ends.first));
  c.set_deadline(std::chrono::milliseconds(100));
  const auto x = error_of(io, [&]() -> boost::asio::awaitable<void> {
    (void)co_await receive_words<msg_masked_output<0>, std::uint32_t>(c, 1, 4);
  }());
  CHECK(x.party == "client");
  CHECK(x.peer == "garbler[0]");
  CHECK(std::string(x.what()).find("timed out") != std::string::npos);
}

TEST_CASE("a stream of inferences flows through the cluster pipeline", "[protocol][stream]") {
  using R = ring<64, 13>;
  prg g(seed{});
  auto net = test::make_random_net(g, R::frac, 2);
  run::local_options opt;
  opt.topo = {3, 1};
  opt.paillier_bits = test_key_bits;
  opt.deadline = std::chrono::seconds(60);
  deployment<R, 3, 1> d(net.stages, net.input_size, opt);
  d.setup();
  std::vector<std::uint64_t> ids{11, 12, 13, 14};
  std::vector<std::vector<R::value_type>> xs;
  for (auto id : ids) {
    d.offline(id);
    xs.push_back(random_input<R>(g, net.input_size));
  }
  const auto ys = d.online_stream(ids, xs);
  REQUIRE(ys.size() == ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) CHECK(ys[i] == test::reference<R>(net, xs[i]));
  CHECK_THROWS_AS(d.online_stream({12}, {xs[1]}), protocol_error);
}
