// Typed channels and role names (proto/roles.hpp, proto/channel.hpp).
#include <catch2/catch.hpp>

#include "pmdi/proto/channel.hpp"
#include "net_test_util.hpp"

namespace asio = boost::asio;
namespace net = pmdi::net;
namespace proto = pmdi::proto;
namespace role = pmdi::role;
using pmdi::test::run_all;
using namespace std::chrono_literals;

namespace {

// Example messages (the real catalogue is proto/messages.hpp).
template <std::size_t J>
struct masked_input {
  using sender = role::client;
  using receiver = role::garbler<J>;
  static constexpr std::uint16_t id = 0x0101;
  static constexpr std::string_view name = "masked_input";
  std::vector<std::uint64_t> z;
  void serialize(pmdi::byte_writer& w) const {
    w.put<std::uint32_t>(static_cast<std::uint32_t>(z.size()));
    w.put_array<std::uint64_t>(z);
  }
  static std::size_t max_bytes(std::size_t n) { return 4 + 8 * n; }
  static masked_input parse(pmdi::byte_reader& r, std::size_t n) {
    masked_input m;
    m.z.resize(r.get_in<std::uint32_t>(static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(n), "count"));
    r.get_array<std::uint64_t>(m.z);
    return m;
  }
};

template <std::size_t J>
struct result_back {  // garbler<J> -> client, no name, fixed size
  using sender = role::garbler<J>;
  using receiver = role::client;
  static constexpr std::uint16_t id = 0x0102;
  std::uint64_t value = 0;
  void serialize(pmdi::byte_writer& w) const { w.put(value); }
  static std::size_t max_bytes() { return 8; }
  static result_back parse(pmdi::byte_reader& r) { return {r.get<std::uint64_t>()}; }
};

// Another client -> garbler<0> message the garbler does not expect in receive_any.
struct probe_msg {
  using sender = role::client;
  using receiver = role::garbler<0>;
  static constexpr std::uint16_t id = 0x0104;
  void serialize(pmdi::byte_writer&) const {}
};
probe_msg result_back_probe() { return {}; }

}  // namespace

static_assert(proto::role_name_v<role::client> == "client");
static_assert(proto::role_name_v<role::cloud> == "cloud");
static_assert(proto::role_name_v<role::garbler<1>> == "garbler[1]");
static_assert(proto::role_name_v<role::evaluator<12>> == "evaluator[12]");
static_assert(proto::role_name_v<role::compute<0, 2>> == "compute[0,2]");
static_assert(!proto::is_role_v<int>);
static_assert(proto::typed_message<masked_input<0>>);
static_assert(!proto::typed_message<int>);

TEST_CASE("role ids: names, paths and parsing", "[proto][roles]") {
  CHECK(proto::role_id_v<role::compute<3, 1>>.to_string() == "compute[3,1]");
  CHECK(proto::role_id_v<role::compute<3, 1>>.path() == "compute/3/1");
  CHECK(proto::role_id::parse("evaluator/7") == proto::role_id_v<role::evaluator<7>>);
  CHECK(proto::role_id::parse("cloud") == proto::role_id_v<role::cloud>);
  CHECK(proto::role_id::parse("compute/0/2") == proto::role_id_v<role::compute<0, 2>>);
  CHECK_THROWS_WITH(proto::role_id::parse("garbler"), Catch::Contains("'garbler' takes 1 index(es)"));
  CHECK_THROWS_WITH(proto::role_id::parse("garbler/x"), Catch::Contains("cluster index 'x'"));
  CHECK_THROWS_WITH(proto::role_id::parse("server/1"), Catch::Contains("unknown role 'server'"));
  CHECK_THROWS_WITH(proto::role_id::parse("client/1"), Catch::Contains("takes 0 index(es)"));
}

TEST_CASE("channel: typed round trip in memory", "[proto][channel]") {
  asio::io_context io;
  auto chans = proto::memory_channel_pair<role::client, role::garbler<0>>(io.get_executor());
    auto& c = chans.first;
    auto& g = chans.second;
  std::vector<std::uint64_t> got;
  std::uint64_t back = 0;
  run_all(io, [&]() -> asio::awaitable<void> {
    const masked_input<0> msg{std::vector<std::uint64_t>{1, 2, 3}};
      co_await c.send(msg);
    auto m = co_await g.receive<masked_input<0>>(net::after(1s), std::size_t{3});
    got = m.z;
    co_await g.send(result_back<0>{42});
    back = (co_await c.receive<result_back<0>>(net::after(1s))).value;
  }());
  CHECK(got == std::vector<std::uint64_t>{1, 2, 3});
  CHECK(back == 42);
  CHECK(c.counters().messages_sent == 1);
  CHECK(c.counters().payload_bytes_sent == 4 + 24);
  CHECK(g.counters().payload_bytes_sent == 8);
}

TEST_CASE("channel: refusals name self, peer and message", "[proto][channel]") {
  asio::io_context io;
  SECTION("wrong count is out of range") {
    auto chans = proto::memory_channel_pair<role::client, role::garbler<0>>(io.get_executor());
    auto& c = chans.first;
    auto& g = chans.second;
    std::string what;
    run_all(io, [&]() -> asio::awaitable<void> {
      const masked_input<0> msg{std::vector<std::uint64_t>{1, 2}};
      co_await c.send(msg);
      try {
        (void)co_await g.receive<masked_input<0>>(net::after(1s), std::size_t{3});
      } catch (const pmdi::decode_error& e) {
        what = e.what();
      }
    }());
    CHECK(what == "garbler[0]: masked_input from client: field 'count' = 2 out of range [3, 3]");
  }
  SECTION("too long for the expected size") {
    auto chans = proto::memory_channel_pair<role::client, role::garbler<0>>(io.get_executor());
    auto& c = chans.first;
    auto& g = chans.second;
    std::string what;
    run_all(io, [&]() -> asio::awaitable<void> {
      const masked_input<0> msg{std::vector<std::uint64_t>{1, 2, 3, 4}};
      co_await c.send(msg);
      try {
        (void)co_await g.receive<masked_input<0>>(net::after(1s), std::size_t{3});
      } catch (const pmdi::decode_error& e) {
        what = e.what();
      }
    }());
    CHECK(what == "garbler[0]: message type 0x0101 from client announces 36 bytes, more than the 28 allowed for "
                  "masked_input");
  }
  SECTION("another message than the awaited one") {
    auto chans = proto::memory_channel_pair<role::garbler<0>, role::client>(io.get_executor());
    auto& g = chans.first;
    auto& c = chans.second;
    std::string what;
    run_all(io, [&]() -> asio::awaitable<void> {
      co_await g.link().send(0x0101, {});
      try {
        (void)co_await c.receive<result_back<0>>(net::after(1s));
      } catch (const pmdi::decode_error& e) {
        what = e.what();
      }
    }());
    CHECK(what == "client: unexpected message type 0x0101 from garbler[0] while waiting for message type 0x0102");
  }
  SECTION("short payload") {
    auto chans = proto::memory_channel_pair<role::garbler<0>, role::client>(io.get_executor());
    auto& g = chans.first;
    auto& c = chans.second;
    std::string what;
    run_all(io, [&]() -> asio::awaitable<void> {
      const std::vector<std::byte> seven(7);
      co_await g.link().send(0x0102, seven);
      try {
        (void)co_await c.receive<result_back<0>>(net::after(1s));
      } catch (const pmdi::decode_error& e) {
        what = e.what();
      }
    }());
    CHECK(what == "client: message type 0x0102 from garbler[0]: truncated: need 8 bytes at offset 0, have 7");
  }
}

TEST_CASE("channel: over the secure wrapper in memory, with pair secrets", "[proto][channel][secure]") {
  asio::io_context io;
  pmdi::prg rng(pmdi::seed{});
  std::optional<std::pair<proto::channel<role::client, role::evaluator<0>>,
                          proto::channel<role::evaluator<0>, role::client>>> chans;
  run_all(io, [&]() -> asio::awaitable<void> {
    chans.emplace(co_await proto::secure_memory_channel_pair<role::client, role::evaluator<0>>(rng));
  }());
  const auto a = chans->first.pair_secret(), b = chans->second.pair_secret();
  CHECK(std::equal(a.begin(), a.end(), b.begin()));
  CHECK(pmdi::derive_seed(a, 1, "pmdi-ot3") == pmdi::derive_seed(b, 1, "pmdi-ot3"));
  CHECK(chans->first.link().names().peer == "evaluator[0]");
  auto plain = proto::memory_channel_pair<role::client, role::cloud>(io.get_executor());
  CHECK_THROWS_WITH(plain.first.pair_secret(), "client: the link to cloud is not a secure channel, so it has no pair secret");
}

namespace {
template <std::size_t J>
struct stop_msg {  // client -> garbler<J>, empty
  using sender = role::client;
  using receiver = role::garbler<J>;
  static constexpr std::uint16_t id = 0x0103;
  static constexpr std::string_view name = "stop";
  void serialize(pmdi::byte_writer&) const {}
  static std::size_t max_bytes(std::size_t) { return 0; }
  static stop_msg parse(pmdi::byte_reader&, std::size_t) { return {}; }
};
}  // namespace

TEST_CASE("channel: receive_any returns whichever message came", "[proto][channel]") {
  asio::io_context io;
  auto chans = proto::memory_channel_pair<role::client, role::garbler<0>>(io.get_executor());
  auto& c = chans.first;
  auto& g = chans.second;
  std::vector<std::size_t> kinds;
  std::string what;
  run_all(io, [&]() -> asio::awaitable<void> {
    const masked_input<0> in{std::vector<std::uint64_t>{5, 6}};
    co_await c.send(in);
    co_await c.send(stop_msg<0>{});
    co_await c.send(result_back_probe());
    for (int i = 0; i < 2; ++i) {
      auto v = co_await g.receive_any<masked_input<0>, stop_msg<0>>(net::after(1s), std::size_t{2});
      kinds.push_back(v.index());
      if (v.index() == 0) CHECK(std::get<0>(v).z == std::vector<std::uint64_t>{5, 6});
    }
    try {
      (void)co_await g.receive_any<masked_input<0>, stop_msg<0>>(net::after(1s), std::size_t{2});
    } catch (const pmdi::decode_error& e) {
      what = e.what();
    }
  }());
  CHECK(kinds == std::vector<std::size_t>{0, 1});
  CHECK(what == "garbler[0]: unexpected message type 0x0104 from client while waiting for masked_input or stop");
}
