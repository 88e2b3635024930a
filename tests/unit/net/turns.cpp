// proto::party_turns through typed channels: the flights a party starts,
// which a report sums into its rounds (proto/report.hpp).
#include <catch2/catch.hpp>

#include "pmdi/proto/messages.hpp"
#include "net_test_util.hpp"

namespace asio = boost::asio;
namespace proto = pmdi::proto;
namespace role = pmdi::role;
using pmdi::test::run_all;

TEST_CASE("turns: a flight is the sends between two receives, or from a phase's start", "[proto][channel]") {
  asio::io_context io;
  auto chans = proto::memory_channel_pair<role::client, role::garbler<0>>(io.get_executor());
  auto& c = chans.first;
  auto& g = chans.second;
  proto::party_turns client_turns, garbler_turns;
  c.set_turns(&client_turns);
  g.set_turns(&garbler_turns);
  CHECK(c.flights() == 0);
  const std::vector<std::uint64_t> z{1, 2, 3}, y{4};
  const auto input = [&](std::uint64_t id) {
    return proto::send<proto::msg_masked_input>(c, id, std::span<const std::uint64_t>(z));
  };
  std::uint64_t after_one_phase = 0;
  run_all(io, [&]() -> asio::awaitable<void> {
    co_await input(1);
    co_await input(2);  // two sends, one flight
    (void)co_await proto::receive_words<proto::msg_masked_input, std::uint64_t>(g, 1, 3);
    (void)co_await proto::receive_words<proto::msg_masked_input, std::uint64_t>(g, 2, 3);
    co_await proto::send<proto::msg_masked_output<0>>(g, 1, std::span<const std::uint64_t>(y));
    (void)co_await proto::receive_words<proto::msg_masked_output<0>, std::uint64_t>(c, 1, 1);
    co_await input(3);  // after a receive: a second flight
    after_one_phase = c.flights();
    client_turns.new_phase();
    co_await input(4);  // the first send of a phase: a third, though the last act was a send
    co_await input(5);
  }());
  CHECK(after_one_phase == 2);
  CHECK(c.flights() == 3);
  CHECK(g.flights() == 1);
  CHECK(c.counters().messages_sent == 5);
}
