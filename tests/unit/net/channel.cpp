// Typed channels and role names (proto/roles.hpp, proto/channel.hpp), with
// messages of the catalogue (proto/messages.hpp).
#include <catch2/catch.hpp>

#include "pmdi/proto/messages.hpp"
#include "net_test_util.hpp"

namespace asio = boost::asio;
namespace net = pmdi::net;
namespace proto = pmdi::proto;
namespace role = pmdi::role;
using pmdi::test::run_all;
using namespace std::chrono_literals;

static_assert(proto::role_name_v<role::client> == "client");
static_assert(proto::role_name_v<role::cloud> == "cloud");
static_assert(proto::role_name_v<role::garbler<1>> == "garbler[1]");
static_assert(proto::role_name_v<role::evaluator<12>> == "evaluator[12]");
static_assert(proto::role_name_v<role::compute<0, 2>> == "compute[0,2]");
static_assert(!proto::is_role_v<int>);
static_assert(proto::declared_message<proto::msg_masked_input>);
static_assert(!proto::declared_message<int>);

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

namespace {
using words = std::vector<std::uint64_t>;

// What the receiving end of masked_input (client -> garbler[0], 3 ring
// elements expected) makes of what the client end sends; "" when it is taken.
template <class Send>
std::string garbler_receives(Send send, words* got = nullptr) {
  asio::io_context io;
  auto chans = proto::memory_channel_pair<role::client, role::garbler<0>>(io.get_executor());
  std::string what;
  run_all(io, [&]() -> asio::awaitable<void> {
    co_await send(chans.first);
    try {
      auto z = co_await proto::receive_words<proto::msg_masked_input, std::uint64_t>(chans.second, 1, 3);
      if (got) *got = z;
    } catch (const pmdi::error& e) {
      what = e.what();
    }
  }());
  return what;
}
}  // namespace

TEST_CASE("channel: catalogue messages round trip in memory, counted", "[proto][channel]") {
  asio::io_context io;
  auto chans = proto::memory_channel_pair<role::client, role::garbler<0>>(io.get_executor());
  auto& c = chans.first;
  auto& g = chans.second;
  words got, back;
  run_all(io, [&]() -> asio::awaitable<void> {
    const words z{1, 2, 3};
    co_await proto::send<proto::msg_masked_input>(c, 1, std::span<const std::uint64_t>(z));
    got = co_await proto::receive_words<proto::msg_masked_input, std::uint64_t>(g, 1, 3);
    const words y{42};
    co_await proto::send<proto::msg_masked_output<0>>(g, 1, std::span<const std::uint64_t>(y));
    back = co_await proto::receive_words<proto::msg_masked_output<0>, std::uint64_t>(c, 1, 1);
  }());
  CHECK(got == words{1, 2, 3});
  CHECK(back == words{42});
  CHECK(c.counters().messages_sent == 1);
  CHECK(c.counters().payload_bytes_sent == 8 + 4 + 3 * 8);  // inference, count, values
  CHECK(g.counters().payload_bytes_sent == 8 + 4 + 8);
}

TEST_CASE("channel: refusals name self, step, peer and message", "[proto][channel]") {
  const auto send_words = [](words z, std::uint64_t inference = 1) {
    return [z, inference](proto::channel<role::client, role::garbler<0>>& c) -> asio::awaitable<void> {
      co_await proto::send<proto::msg_masked_input>(c, inference, std::span<const std::uint64_t>(z));
    };
  };
  words got;
  CHECK(garbler_receives(send_words({7, 8, 9}), &got).empty());
  CHECK(got == words{7, 8, 9});
  CHECK(garbler_receives(send_words({1, 2})) ==
        "garbler[0]: step 'receive masked_input' with client: masked_input from client: field 'values' has 2 "
        "elements, expected 3");
  CHECK(garbler_receives(send_words({1, 2, 3}, 2)) ==
        "garbler[0]: step 'receive masked_input' with client: message for inference 2 while working on inference 1");
  CHECK_THAT(garbler_receives(send_words({1, 2, 3, 4})),
             Catch::Contains("announces 44 bytes, more than the 36 allowed for masked_input"));
  // Raw frames; each coroutine owns its payload until the send completes.
  CHECK_THAT(garbler_receives([](auto& c) -> asio::awaitable<void> { co_await c.link().send(0x0307, {}); }),
             Catch::Contains("unexpected message type 0x0307 from client while waiting for masked_input"));
  CHECK_THAT(garbler_receives([](auto& c) -> asio::awaitable<void> {
               const std::vector<std::byte> seven(7);
               co_await c.link().send(0x0301, seven);
             }),
             Catch::Contains("truncated: need 8 bytes at offset 0, have 7"));
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
// A links struct as the roles declare theirs (proto/garbler.hpp, ...).
struct toy_links {
  proto::channel<role::garbler<1>, role::cloud> cloud;
  proto::channel<role::garbler<1>, role::evaluator<1>> evaluator;
  template <class F>
  void each(F&& f) {
    f(cloud);
    f(evaluator);
  }
};
}  // namespace

TEST_CASE("links: the peers and the channel to a peer are read from a links struct", "[proto][channel]") {
  using proto::role_id;
  using K = proto::role_kind;
  CHECK(proto::peers_of<toy_links>() == std::vector<role_id>{{K::cloud, 0, 0}, {K::evaluator, 1, 0}});
  toy_links l;
  std::string found;
  CHECK(proto::with_channel_to<role::evaluator<1>>(l, [&](auto& ch) { found = std::string(ch.peer_name()); }));
  CHECK(found == "evaluator[1]");
  CHECK_FALSE(proto::with_channel_to<role::client>(l, [&](auto&) { found = "client"; }));
  CHECK(found == "evaluator[1]");
}
