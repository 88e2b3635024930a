// Deployment files, key files, and opening every party's links on loopback.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "pmdi/run/deployment.hpp"
#include "net_test_util.hpp"

namespace asio = boost::asio;
namespace net = pmdi::net;
namespace run = pmdi::run;
namespace role = pmdi::role;
using pmdi::proto::role_id;
using pmdi::test::run_all;
using namespace std::chrono_literals;

namespace {

pmdi::prg fixed_prg(std::uint8_t tag) {
  pmdi::seed s{};
  s[0] = std::byte{tag};
  return pmdi::prg(s);
}

std::string valid_text() {
  auto rng = fixed_prg(1);
  return run::to_json(run::generate_local_deployment(2, 2, 7000, "127.0.0.1", &rng).file);
}

// Replaces the first occurrence of `from` in the valid file.
std::string edited(const std::string& from, const std::string& to) {
  std::string s = valid_text();
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

std::filesystem::path scratch_dir() {
  auto d = std::filesystem::temp_directory_path() / ("pmdi-net-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace

TEST_CASE("deployment: a generated file parses back to the same parties", "[run][deployment]") {
  auto rng = fixed_prg(1);
  const auto g = run::generate_local_deployment(2, 2, 7000, "127.0.0.1", &rng);
  const auto d = run::parse_deployment(run::to_json(g.file), "deployment.json");
  CHECK(d.clusters == 2);
  CHECK(d.compute_per_cluster == 2);
  CHECK(d.ring_bits == 64);
  CHECK(d.fraction_bits == 13);
  CHECK(d.timeouts.connect == 30s);
  REQUIRE(d.parties.size() == 2 + 2 * (2 + 2));
  const auto& e1 = d.party(pmdi::proto::role_id_v<role::evaluator<1>>);
  CHECK(e1.port == 7000 + 7);
  CHECK(e1.public_key == g.file.party(e1.role).public_key);
  CHECK(d.party(role_id::parse("compute/1/1")).port == 7009);
  CHECK(d.directory().count("compute[0,1]") == 1);
}

TEST_CASE("deployment: errors name the file and the field", "[run][deployment]") {
  using Catch::Contains;
  const auto parse = [](const std::string& t) { (void)run::parse_deployment(t, "deployment.json"); };
  CHECK_THROWS_WITH(parse("{"), Contains("deployment.json: not valid JSON"));
  CHECK_THROWS_WITH(parse(edited("\"clusters\": 2", "\"clusters\": 0")),
                    "deployment.json: clusters: expected an integer in [1, 64], got 0");
  CHECK_THROWS_WITH(parse(edited("\"port\":7002", "\"port\":70000")),
                    "deployment.json: parties[2] (garbler[0]).port: expected an integer in [1, 65535], got 70000");
  CHECK_THROWS_WITH(parse(edited("\"port\":7002", "\"port\":7001")),
                    "deployment.json: parties[2] (garbler[0]).port: 127.0.0.1:7001 is already used by another party");
  CHECK_THROWS_WITH(parse(edited("\"public_key\":\"", "\"public_key\":\"zz")),
                    Contains("deployment.json: parties[0] (client).public_key: expected a 32-byte X25519 key as 64 "
                             "hex digits or base64"));
  CHECK_THROWS_WITH(parse(edited("\"role\":\"garbler/1\"", "\"role\":\"garbler/2\"")),
                    "deployment.json: parties[6] (garbler[2]).role: cluster index 2 but clusters = 2");
  CHECK_THROWS_WITH(parse(edited("\"role\":\"garbler/1\"", "\"role\":\"garbler/0\"")),
                    "deployment.json: parties[6] (garbler[0]).role: listed twice");
  CHECK_THROWS_WITH(parse(edited("\"role\":\"cloud\"", "\"role\":\"server\"")),
                    Contains("deployment.json: parties[1].role: role 'server': unknown role 'server'"));
  CHECK_THROWS_WITH(parse(edited("\"compute_per_cluster\": 2", "\"compute_per_cluster\": 3")),
                    "deployment.json: parties: no entry for compute/0/2 (clusters = 2, compute_per_cluster = 3)");
  CHECK_THROWS_WITH(parse(edited("\"host\":", "\"hots\":\"x\",\"host\":")),
                    "deployment.json: parties[0].hots: unknown field");
  CHECK_THROWS_WITH(parse(edited("\"bits\":64", "\"bits\":48")), "deployment.json: ring.bits: must be 32 or 64");
}

// Files that were accepted and should not be.
TEST_CASE("deployment: shared, small-order keys, odd hosts and role spellings are refused", "[run][deployment]") {
  using Catch::Contains;
  const auto parse = [](const std::string& t) { (void)run::parse_deployment(t, "deployment.json"); };
  const std::string text = valid_text();
  const auto key_at = [&](std::size_t n) {  // the n-th public_key's 64 hex digits
    std::size_t at = 0;
    for (std::size_t i = 0; i <= n; ++i) at = text.find("\"public_key\":\"", at) + 14;
    return at;
  };
  // Two parties with one key.
  {
    std::string t = text;
    t.replace(key_at(2), 64, text.substr(key_at(0), 64));
    CHECK_THROWS_WITH(parse(t), "deployment.json: parties[2] (garbler[0]).public_key: the same key as client; every "
                                "party needs its own key pair");
  }
  // The all-zero key and the other points of small order (RFC 7748 / libsodium's blocklist).
  for (const char* bad : {"0000000000000000000000000000000000000000000000000000000000000000",
                          "0100000000000000000000000000000000000000000000000000000000000000",
                          "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
                          "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
                          "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"}) {
    INFO(bad);
    std::string t = text;
    t.replace(key_at(1), 64, bad);
    CHECK_THROWS_WITH(parse(t), "deployment.json: parties[1] (cloud).public_key: a point of small order (such as the "
                                "all-zero key) cannot authenticate a party");
  }
  CHECK(!net::usable_public_key(net::public_key{}));
  CHECK(net::usable_public_key(net::keygen().pk));
  // A NUL or other control character in a host (it also hid a duplicate endpoint).
  CHECK_THROWS_WITH(parse(edited("\"host\":\"127.0.0.1\",\"port\":7001", "\"host\":\"127.0.0.1\\u0000evil\",\"port\":7001")),
                    "deployment.json: parties[1] (cloud).host: \"127.0.0.1\\x00evil\" contains a control character");
  CHECK_THROWS_WITH(parse(edited("\"host\":\"127.0.0.1\"", "\"host\":\"127.0.0.1\\n\"")),
                    Contains("parties[0] (client).host: \"127.0.0.1\\x0a\" contains a control character"));
  // A name instead of an address: refused at parse, naming the field and the host.
  CHECK_THROWS_WITH(parse(edited("\"host\":\"127.0.0.1\"", "\"host\":\"localhost\"")),
                    "deployment.json: parties[0] (client).host: \"localhost\" is not a numeric IPv4 or IPv6 address "
                    "(host names are not resolved; write the address, e.g. 10.0.0.1)");
  // IPv6 is an address; two spellings of one address are one endpoint.
  CHECK_NOTHROW(parse(edited("\"host\":\"127.0.0.1\"", "\"host\":\"::1\"")));
  {
    std::string t = edited("\"host\":\"127.0.0.1\",\"port\":7001", "\"host\":\"::1\",\"port\":7001");
    const std::string from = "\"host\":\"127.0.0.1\",\"port\":7002";
    const auto at = t.find(from);
    REQUIRE(at != std::string::npos);
    t.replace(at, from.size(), "\"host\":\"0:0::1\",\"port\":7001");
    CHECK_THROWS_WITH(parse(t), "deployment.json: parties[2] (garbler[0]).port: ::1:7001 is already used by another party");
  }
  // Role indices in their one canonical spelling.
  CHECK_THROWS_WITH(parse(edited("\"role\":\"garbler/0\"", "\"role\":\"garbler/00\"")),
                    "deployment.json: parties[2] (garbler[0]).role: \"garbler/00\" is not the canonical form; write "
                    "\"garbler/0\"");
  CHECK_THROWS_WITH(parse(edited("\"role\":\"compute/1/1\"", "\"role\":\"compute/1/01\"")),
                    Contains("(compute[1,1]).role: \"compute/1/01\" is not the canonical form; write \"compute/1/1\""));
}

TEST_CASE("deployment: public keys in hex or base64", "[run][deployment]") {
  auto rng = fixed_prg(4);
  const auto kp = net::keygen(rng);
  char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
  ::sodium_bin2base64(b64, sizeof b64, reinterpret_cast<const unsigned char*>(kp.pk.data()), kp.pk.size(),
                      sodium_base64_VARIANT_ORIGINAL);
  CHECK(net::parse_public_key(b64) == kp.pk);
  CHECK(net::parse_public_key(net::to_hex(kp.pk)) == kp.pk);
  CHECK(!net::parse_public_key(std::string(b64) + "A"));
  CHECK(!net::parse_public_key(net::to_hex(kp.pk).substr(2)));
  std::string text = valid_text();
  const auto at = text.find("\"public_key\":\"") + 14;
  text.replace(at, 64, b64);
  const auto d = run::parse_deployment(text, "deployment.json");
  CHECK(d.parties[0].public_key == kp.pk);
}

TEST_CASE("deployment: key files are 0600 and must match the listed key", "[run][deployment]") {
  auto rng = fixed_prg(2);
  const auto g = run::generate_local_deployment(1, 1, 7100, "127.0.0.1", &rng);
  const auto dir = scratch_dir();
  const role_id garbler = pmdi::proto::role_id_v<role::garbler<0>>;
  const auto file = dir / run::key_file_name(garbler);
  CHECK(run::key_file_name(role_id::parse("compute/0/3")) == "compute-0-3.key");
  run::write_secret_key(file, g.secret_keys.at(garbler));
  struct ::stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  const auto id = run::load_identity(g.file, garbler, file);
  CHECK(id.name == "garbler[0]");
  CHECK(id.keys.pk == g.file.party(garbler).public_key);
  CHECK_THROWS_WITH(run::load_identity(g.file, pmdi::proto::role_id_v<role::evaluator<0>>, file),
                    Catch::Contains("this is not the secret key of evaluator[0]"));
  ::chmod(file.c_str(), 0644);
  CHECK_THROWS_WITH(run::read_secret_key(file), Catch::Contains("accessible to other users (mode 0644)"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("deployment: every party opens its links on loopback, in any order", "[run][deployment][tcp]") {
  // Free ports: bind to port 0, note the port, release it.
  asio::io_context io;
  std::uint16_t base = 0;
  {
    net::tcp_listener probe(io.get_executor(), "probe", "127.0.0.1", 0);
    base = probe.port();
  }
  if (base > 65000) base = 40000 + base % 20000;
  auto rng = fixed_prg(3);
  auto g = run::generate_local_deployment(1, 1, base, "127.0.0.1", &rng);
  g.file.timeouts.connect = 5s;
  const auto client = pmdi::proto::role_id_v<role::client>;
  const auto garbler = pmdi::proto::role_id_v<role::garbler<0>>;
  const auto evaluator = pmdi::proto::role_id_v<role::evaluator<0>>;
  const auto compute = pmdi::proto::role_id_v<role::compute<0, 0>>;
  // Who talks to whom (a subset of privateMDI's graph).
  const std::map<role_id, std::vector<role_id>> talks{{client, {garbler, evaluator}},
                                                      {garbler, {client, evaluator, compute}},
                                                      {evaluator, {client, garbler}},
                                                      {compute, {garbler}}};
  std::map<role_id, run::link_map> links;
  std::vector<pmdi::prg> rngs;
  for (std::uint8_t i = 0; i < 4; ++i) rngs.push_back(fixed_prg(static_cast<std::uint8_t>(10 + i)));
  const auto party = [&](role_id self, std::size_t k) -> asio::awaitable<void> {
    net::local_identity me{self.to_string(), {g.file.party(self).public_key, g.secret_keys.at(self)}};
    links[self] = co_await run::open_links(g.file, me, self, talks.at(self), rngs[k]);
  };
  // Started in reverse order: the connecting parties come up first and retry.
  run_all(io, party(compute, 0), party(evaluator, 1), party(garbler, 2), party(client, 3));
  for (const auto& [self, peers] : talks) {
    REQUIRE(links[self].size() == peers.size());
    for (const auto& p : peers) CHECK(links[self].at(p)->names().peer == p.to_string());
  }
  // The client/evaluator pair secret agrees; typed channels work over the links.
  const auto a = links[client].at(evaluator)->pair_secret(), b = links[evaluator].at(client)->pair_secret();
  CHECK(std::equal(a.begin(), a.end(), b.begin(), b.end()));
  auto ch_c = run::take_channel<role::client, role::garbler<0>>(links[client]);
  auto ch_g = run::take_channel<role::garbler<0>, role::client>(links[garbler]);
  CHECK(ch_c.pair_secret().size() == 32);
  CHECK_THROWS_WITH((run::take_channel<role::client, role::garbler<0>>(links[client])),
                    "client: no open link to garbler[0]");
}

// A stray connection to a listening party during start-up
// (silent, garbage, a half handshake, a hello from a name the party does not
// know, a second connection from a linked party) is dropped with one line,
// and the party goes on waiting for its real peers.
TEST_CASE("deployment: stray connections during start-up are dropped, the real peers still link",
          "[run][deployment][tcp]") {
  asio::io_context io;
  std::uint16_t base = 0;
  {
    net::tcp_listener probe(io.get_executor(), "probe", "127.0.0.1", 0);
    base = probe.port();
  }
  if (base > 65000) base = 40000 + base % 20000;
  auto rng = fixed_prg(5);
  auto g = run::generate_local_deployment(1, 1, base, "127.0.0.1", &rng);
  g.file.timeouts.connect = 5s;
  g.file.timeouts.handshake = 1s;  // a silent stray is dropped after 1 s
  const auto client = pmdi::proto::role_id_v<role::client>;
  const auto garbler = pmdi::proto::role_id_v<role::garbler<0>>;
  const auto evaluator = pmdi::proto::role_id_v<role::evaluator<0>>;
  const auto& listen = g.file.party(client);
  std::vector<std::string> lines;
  std::map<role_id, run::link_map> links;
  std::vector<pmdi::prg> rngs;
  for (std::uint8_t i = 0; i < 3; ++i) rngs.push_back(fixed_prg(static_cast<std::uint8_t>(20 + i)));
  std::vector<std::unique_ptr<net::transport>> held;  // strays that stay open, silent
  const auto pause = [](std::chrono::milliseconds d) -> asio::awaitable<void> {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
  };
  const auto stray = [&](int kind) -> asio::awaitable<void> {
    auto t = co_await net::tcp_connect("stray", "client", listen.host, listen.port, net::after(5s));
    auto& sock = dynamic_cast<net::tcp_transport&>(*t).stream().socket();
    std::vector<std::uint8_t> bytes;
    if (kind == 1) bytes.assign(64, 0xA5);  // garbage: a reserved header field that is not 0
    if (kind == 2) bytes = {100, 0, 0, 0, 0x01, 0xFF, 0, 0, 1, 0, 9};  // a hello announcing 100 bytes; 3 come
    if (!bytes.empty()) co_await asio::async_write(sock, asio::buffer(bytes), asio::use_awaitable);
    if (kind == 3) {  // a hello from a party the deployment does not list
      net::local_identity who{"mallory", net::keygen()};
      try {
        (void)co_await net::secure_connect(std::move(t), who, "client", listen.public_key, rng, net::after(5s));
      } catch (const net::handshake_error&) {
      }
      co_return;
    }
    held.push_back(std::move(t));
  };
  const auto identity = [&](role_id r) {
    return net::local_identity{r.to_string(), {g.file.party(r).public_key, g.secret_keys.at(r)}};
  };
  // (Outside the coroutines: GCC 12 cannot keep a braced list's array in a coroutine frame.)
  const std::vector<role_id> client_peers{garbler, evaluator}, to_client{client};
  const run::startup_log keep = [&](const std::string& l) { lines.push_back(l); };
  const auto client_party = [&]() -> asio::awaitable<void> {
    const auto me = identity(client);
    links[client] = co_await run::open_links(g.file, me, client, client_peers, rngs[0], keep);
  };
  const auto garbler_party = [&]() -> asio::awaitable<void> {
    co_await pause(1500ms);  // after the silent strays' handshake deadline
    const auto me = identity(garbler);
    links[garbler] = co_await run::open_links(g.file, me, garbler, to_client, rngs[1]);
    // A second connection with the garbler's own key: authenticated, and dropped as a duplicate.
    auto again = co_await net::tcp_connect("garbler[0]", "client", listen.host, listen.port, net::after(5s));
    try {
      auto l = co_await net::secure_connect(std::move(again), me, "client", listen.public_key, rngs[1], net::after(2s));
      (void)co_await l->receive(net::expect_type(1, 1), net::after(2s));  // the client closes it
    } catch (const pmdi::error&) {
    }
  };
  const auto evaluator_party = [&]() -> asio::awaitable<void> {
    co_await pause(2000ms);
    const auto me = identity(evaluator);
    links[evaluator] = co_await run::open_links(g.file, me, evaluator, to_client, rngs[2]);
  };
  const auto started = std::chrono::steady_clock::now();
  run_all(io, client_party(), stray(0), stray(0), stray(1), stray(2), stray(3), garbler_party(), evaluator_party());
  const auto took = std::chrono::steady_clock::now() - started;
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  INFO(all);
  REQUIRE(links[client].size() == 2);
  CHECK(links[client].at(garbler)->names().peer == "garbler[0]");
  CHECK(links[client].at(evaluator)->names().peer == "evaluator[0]");
  const auto a = links[client].at(garbler)->pair_secret(), b = links[garbler].at(client)->pair_secret();
  CHECK(std::equal(a.begin(), a.end(), b.begin(), b.end()));
  CHECK(took < 4s);  // not the connect deadline: the client stopped when its peers had linked
  // One line per stray, each naming the party and the address it came from.
  CHECK(lines.size() == 6);
  for (const auto& l : lines)
    CHECK_THAT(l, Catch::StartsWith("client: dropped a connection from unauthenticated peer at 127.0.0.1:"));
  CHECK_THAT(all, Catch::Contains("reserved header field"));
  CHECK_THAT(all, Catch::Contains("waiting for the handshake hello"));
  CHECK_THAT(all, Catch::Contains("unknown peer 'mallory' is not in the deployment file"));
  CHECK_THAT(all, Catch::Contains("a second connection from garbler[0], which is already linked"));
}

TEST_CASE("deployment: offline_batch is optional, bounded and written back", "[run][deployment]") {
  const auto parse = [](const std::string& t) { return run::parse_deployment(t, "deployment.json"); };
  CHECK(parse(valid_text()).offline_batch == run::deployment_file::default_offline_batch);
  CHECK(parse(edited("\"offline_batch\": 8", "\"offline_batch\": 3")).offline_batch == 3);
  CHECK_THROWS_WITH(parse(edited("\"offline_batch\": 8", "\"offline_batch\": 0")),
                    "deployment.json: offline_batch: expected an integer in [1, 1000000], got 0");
  auto d = parse(valid_text());
  d.offline_batch = 5;
  CHECK(parse(run::to_json(d)).offline_batch == 5);
}

TEST_CASE("deployment: placement is optional, checked for form and written back", "[run][deployment]") {
  using Catch::Contains;
  using pmdi::proto::stage_range;
  const auto parse = [](const std::string& t) { return run::parse_deployment(t, "deployment.json"); };
  const auto with = [](const std::string& pl) { return edited("\"offline_batch\": 8", "\"offline_batch\": 8, \"placement\": " + pl); };
  CHECK(parse(valid_text()).placement.empty());
  CHECK(parse(with("[[0, 3], [3, 4]]")).placement == std::vector<stage_range>{{0, 3}, {3, 4}});
  CHECK_THROWS_WITH(parse(with("[[0, 3]]")),
                    "deployment.json: placement: 1 stage range(s) for 2 clusters; every cluster needs one");
  CHECK_THROWS_WITH(parse(with("[[0, 2], [3, 4]]")),
                    "deployment.json: placement: cluster 1's stages [3, 4) leave a gap: no cluster runs stage(s) [2, 3)");
  CHECK_THROWS_WITH(parse(with("[[0, 3], [2, 4]]")),
                    "deployment.json: placement: cluster 1's stages [2, 4) overlap cluster 0's [0, 3)");
  CHECK_THROWS_WITH(parse(with("[[1, 3], [3, 4]]")), Contains("cluster 0's stages [1, 3) leave a gap"));
  CHECK_THROWS_WITH(parse(with("[[0, 0], [0, 4]]")), Contains("cluster 0's stages [0, 0) are empty"));
  CHECK_THROWS_WITH(parse(with("[[0, 3], 4]")), "deployment.json: placement[1]: expected [first, end), two stage indices");
  CHECK_THROWS_WITH(parse(with("{}")), Contains("deployment.json: placement: expected an array"));
  CHECK_THROWS_WITH(parse(with("[[0, -1], [3, 4]]")), Contains("deployment.json: placement[0][1]: expected an integer"));
  auto d = parse(valid_text());
  d.placement = {{0, 1}, {1, 5}};
  CHECK(parse(run::to_json(d)).placement == d.placement);
  CHECK(run::parse_placement("[[0, 2], [2, 3]]", 2) == std::vector<stage_range>{{0, 2}, {2, 3}});
  CHECK_THROWS_WITH(run::parse_placement("0-2,2-3", 2), Contains("--placement: placement: not valid JSON"));
}
