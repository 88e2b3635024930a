// Faults in a running deployment, over real processes on loopback:
//  - a proxy on the link between evaluator[0] (which dials) and garbler[0]
//    (which listens) forwards both ways and, at one record of garbler[0]'s
//    stream, flips a byte, cuts the link, sends the record twice, replays an
//    earlier record, or stops forwarding (a stalled peer). Every party then
//    exits 1 with one sentence naming itself and the step, no output is
//    written, and nobody outlives its receive deadline (plus 1 s for a stall);
//  - parties killed at random moments: nobody hangs, every failure is one
//    sentence, and any output written equals the oracle's.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "local_run.hpp"

using namespace pmdi;
using namespace std::chrono_literals;
using namespace pmdi_test;
using clock_type = std::chrono::steady_clock;

namespace {

enum class fault { flip, truncate, duplicate, replay, stall };

const char* to_string(fault f) {
  switch (f) {
    case fault::flip: return "flip";
    case fault::truncate: return "truncate";
    case fault::duplicate: return "duplicate";
    case fault::replay: return "replay";
    case fault::stall: return "stall";
  }
  return "?";
}

bool send_all(int fd, const std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

// A TCP proxy on 127.0.0.1 in front of `target`: it takes one connection,
// links it to the target and forwards both ways, one thread per direction
// (so it blocks only where the direct link would). The stream from the
// target is cut into frames (net/framing.hpp: an 8-byte header whose first
// four bytes are the payload length), and frame `at` gets the fault.
class fault_proxy {
 public:
  // `taken`: the deployment's ports (chosen free, but not held): the proxy's
  // own port, which the kernel picks, must be none of them.
  fault_proxy(std::uint16_t target, fault f, std::size_t at, const std::set<std::uint16_t>& taken)
      : target_(target), fault_(f), at_(at) {
    std::vector<int> refused;  // held open until a port is found, so the kernel moves on
    for (int tries = 0; tries < 64; ++tries) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a = loopback(0);
      REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
      socklen_t len = sizeof a;
      REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
      if (taken.count(ntohs(a.sin_port)) == 0) {
        listen_ = fd;
        port_ = ntohs(a.sin_port);
        break;
      }
      refused.push_back(fd);
    }
    for (int fd : refused) ::close(fd);
    REQUIRE(listen_ >= 0);
    REQUIRE(::listen(listen_, 4) == 0);
    accept_thread_ = std::thread([this] { accept_and_link(); });
  }
  fault_proxy(const fault_proxy&) = delete;
  fault_proxy& operator=(const fault_proxy&) = delete;
  ~fault_proxy() {
    stop_ = true;
    ::shutdown(listen_, SHUT_RDWR);
    for (int fd : {dialer_.load(), target_fd_.load()})
      if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
    for (auto* t : {&accept_thread_, &up_, &down_})
      if (t->joinable()) t->join();
    for (int fd : {listen_, dialer_.load(), target_fd_.load()})
      if (fd >= 0) ::close(fd);
  }

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  // When the fault was applied; nothing if the stream never reached frame `at`.
  [[nodiscard]] std::optional<clock_type::time_point> faulted() const {
    std::lock_guard lock(mutex_);
    return faulted_;
  }
  [[nodiscard]] std::size_t frames() const noexcept { return frames_; }

 private:
  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }
  void accept_and_link() {
    const int d = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
    if (d < 0 || stop_) return;
    dialer_ = d;
    // The target may not listen yet: retry as a dialing party would.
    const auto until = clock_type::now() + 20s;
    int t = -1;
    while (!stop_ && clock_type::now() < until) {
      t = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a = loopback(target_);
      if (::connect(t, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) break;
      ::close(t);
      t = -1;
      std::this_thread::sleep_for(5ms);
    }
    if (t < 0) return;
    target_fd_ = t;
    up_ = std::thread([this] { forward_up(); });
    down_ = std::thread([this] { forward_down(); });
  }
  void hold_while_stalled() {
    while (stalled_ && !stop_) std::this_thread::sleep_for(5ms);
  }
  // From the dialer to the target, as it comes (until a stall).
  void forward_up() {
    std::vector<std::uint8_t> buf(1 << 16);
    for (;;) {
      const ssize_t n = ::recv(dialer_, buf.data(), buf.size(), 0);
      hold_while_stalled();
      if (n <= 0 || stop_ || !send_all(target_fd_, buf.data(), static_cast<std::size_t>(n))) break;
    }
    ::shutdown(target_fd_, SHUT_WR);
  }
  // From the target to the dialer, frame by frame, with the fault at frame `at`.
  void forward_down() {
    std::vector<std::uint8_t> frame, earlier;
    auto read_exact = [&](std::size_t n) {
      frame.resize(n);
      std::size_t got = 0;
      while (got < n) {
        const ssize_t k = ::recv(target_fd_, frame.data() + got, n - got, 0);
        if (k <= 0 || stop_) return false;
        got += static_cast<std::size_t>(k);
      }
      return true;
    };
    for (std::size_t index = 0;; ++index) {
      if (!read_exact(8)) break;
      std::uint32_t length = 0;
      std::memcpy(&length, frame.data(), 4);
      const std::vector<std::uint8_t> header(frame.begin(), frame.end());
      if (!read_exact(length)) break;
      frame.insert(frame.begin(), header.begin(), header.end());
      frames_ = index + 1;
      bool ok = true;
      if (index == at_) {
        {
          std::lock_guard lock(mutex_);
          faulted_ = clock_type::now();
        }
        switch (fault_) {
          case fault::flip:
            frame[8 + length / 2] ^= 0x01;  // length > 0 for every frame after the handshake
            ok = send_all(dialer_, frame.data(), frame.size());
            break;
          case fault::truncate:
            (void)send_all(dialer_, frame.data(), 8 + length / 2);
            ::shutdown(dialer_, SHUT_RDWR);
            ::shutdown(target_fd_, SHUT_RDWR);
            return;
          case fault::duplicate:
            ok = send_all(dialer_, frame.data(), frame.size()) && send_all(dialer_, frame.data(), frame.size());
            break;
          case fault::replay:  // the record before, sent again after this one
            ok = send_all(dialer_, frame.data(), frame.size()) && send_all(dialer_, earlier.data(), earlier.size());
            break;
          case fault::stall:
            stalled_ = true;
            hold_while_stalled();
            return;
        }
      } else {
        ok = send_all(dialer_, frame.data(), frame.size());
      }
      if (!ok || stop_) break;
      if (index + 1 == at_) earlier = frame;
    }
    ::shutdown(dialer_, SHUT_WR);
  }

  std::uint16_t target_, port_ = 0;
  fault fault_;
  std::size_t at_;
  int listen_ = -1;
  std::atomic<int> dialer_{-1}, target_fd_{-1};
  std::atomic<bool> stop_{false}, stalled_{false};
  std::atomic<std::size_t> frames_{0};
  mutable std::mutex mutex_;
  std::optional<clock_type::time_point> faulted_;
  std::thread accept_thread_, up_, down_;
};

const run::role_id garbler0{proto::role_kind::garbler, 0, 0};
const run::role_id evaluator0{proto::role_kind::evaluator, 0, 0};

// Runs a deployment of 2 images whose evaluator[0] reaches garbler[0] through
// a proxy applying `f` at garbler[0]'s frame `at`; checks how every party ends.
void run_with_fault(fault f, std::size_t at, std::chrono::milliseconds receive_deadline) {
  constexpr std::uint64_t images = 2;
  local_run r(std::string("fault-") + to_string(f), 2, 1, test_timeouts(receive_deadline));
  std::uint16_t garbler_port = 0;
  std::set<std::uint16_t> taken;
  for (const auto& p : r.files.file.parties) {
    taken.insert(p.port);
    if (p.role == garbler0) garbler_port = p.port;
  }
  REQUIRE(garbler_port != 0);
  fault_proxy proxy(garbler_port, f, at, taken);
  // evaluator[0] alone sees garbler[0] at the proxy's port.
  run::deployment_file seen = r.files.file;
  for (auto& p : seen.parties)
    if (p.role == garbler0) p.port = proxy.port();
  const auto seen_file = r.files.dir / "evaluator0-deployment.json";
  local_run::write_deployment(seen_file, seen);

  r.started = clock_type::now();
  for (const auto& role : r.roles) {
    auto a = r.args(role, images);
    if (role == evaluator0) local_run::replace_arg(a, "--deployment", seen_file.string());
    r.start(role, a);
  }
  const auto st = r.group.wait_all(clock_type::now() + 120s);
  const auto faulted = proxy.faulted();
  INFO("fault '" << to_string(f) << "' at garbler[0]'s frame " << at << " of " << proxy.frames());
  REQUIRE(faulted.has_value());
  const double fault_at = std::chrono::duration<double>(*faulted - r.started).count();
  const double deadline_s = std::chrono::duration<double>(receive_deadline).count();
  // A stalled peer is noticed only by a deadline: its waiting partner gives up
  // after receive_deadline and the others follow it within 1 s. Every other
  // fault is noticed at once and ends the run well before any deadline.
  const double limit_s = f == fault::stall ? deadline_s + 1.0 : deadline_s / 2;
  double last_end = 0;
  for (const auto& role : r.roles) {
    const auto& s = st.at(role.path());
    const std::string text = run::read_text(r.log(role));
    INFO(role.to_string() << ": " << s.str() << " after " << s.seconds << " s (fault at " << fault_at << " s)\n"
                          << text);
    REQUIRE(s.finished);
    CHECK(s.code == 1);
    const auto m = failure_sentence(text, role.to_string());
    REQUIRE(!m.empty());
    CHECK(!m[1].str().empty());  // the step
    last_end = std::max(last_end, s.seconds);
  }
  INFO("last party ended " << last_end - fault_at << " s after the fault");
  CHECK(last_end - fault_at < limit_s);
  // evaluator[0], which met the fault, names garbler[0] as the peer.
  const auto eval = failure_sentence(run::read_text(r.log(evaluator0)), evaluator0.to_string());
  REQUIRE(!eval.empty());
  CHECK(eval[2].str() == garbler0.to_string());
  if (f == fault::stall) CHECK_THAT(eval[3].str(), Catch::Contains("timed out"));
  CHECK_FALSE(std::filesystem::exists(r.files.dir / "outputs.txt"));
}

// garbler[0]'s frames to evaluator[0]: the handshake's first, then records of
// setup and the offline phase. Frame 4 is a record of the first offline batch.
constexpr std::size_t fault_frame = 4;

}  // namespace

TEST_CASE("a flipped byte on a link ends every party with one sentence", "[processes][faults]") {
  run_with_fault(fault::flip, fault_frame, 10s);
}

TEST_CASE("a link cut in the middle of a record ends every party with one sentence", "[processes][faults]") {
  run_with_fault(fault::truncate, fault_frame, 10s);
}

TEST_CASE("a record sent twice ends every party with one sentence", "[processes][faults]") {
  run_with_fault(fault::duplicate, fault_frame, 10s);
}

TEST_CASE("an earlier record replayed ends every party with one sentence", "[processes][faults]") {
  run_with_fault(fault::replay, fault_frame, 10s);
}

TEST_CASE("a stalled peer ends every party within its receive deadline plus 1 s", "[processes][faults]") {
  run_with_fault(fault::stall, fault_frame, 4s);
}

TEST_CASE("parties killed at random moments leave nobody hanging and no wrong output", "[processes][faults]") {
  constexpr std::uint64_t images = 3;
  const auto receive_deadline = 10s;
  const unsigned seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  // A random party, killed as soon as it is in a random step of its life
  // (the steps its status file shows: docs/deployment.md, section 4).
  const std::vector<std::string> steps{"setup",    "offline 1", "offline 2", "offline 3",
                                       "online 1", "online 2",  "online 3",  "finish"};
  int killed = 0;
  constexpr int runs = 4;
  for (int run_index = 0; run_index < runs; ++run_index) {
    local_run r("kill-random-" + std::to_string(run_index), 2, 1, test_timeouts(receive_deadline));
    r.start_all(images);
    const auto victim = r.roles[std::uniform_int_distribution<std::size_t>(0, r.roles.size() - 1)(rng)];
    auto step = steps[std::uniform_int_distribution<std::size_t>(0, steps.size() - 1)(rng)];
    if (victim.kind == proto::role_kind::cloud && step.rfind("online", 0) == 0) step = "finish";  // no online steps
    // Waits until the victim is in that step or a later one (a step may last
    // less than the polling interval).
    const auto order = [&](const std::string& status) {
      for (std::size_t i = steps.size(); i-- > 0;)
        if (status.rfind(steps[i], 0) == 0) return static_cast<int>(i);
      return status.rfind("done", 0) == 0 ? static_cast<int>(steps.size()) : -1;
    };
    const int wanted = order(step);
    const bool reached = r.wait_until(victim, [&](const std::string& s) { return order(s) >= wanted; }, 60s);
    const auto k = r.kill_and_wait(victim, 2 * receive_deadline);
    INFO("run " << run_index << ": " << victim.to_string() << " killed at " << k.at_s << " s, in step '" << step
                << "'" << (reached ? "" : " (not reached)"));
    if (k.status.at(victim.path()).signal == SIGKILL) ++killed;
    r.each_other_party(victim, k.status, [&](const run::role_id& role, const run::exit_status& s,
                                             const std::string& text) {
      CHECK(s.seconds - k.at_s < std::chrono::duration<double>(receive_deadline).count());
      CHECK((s.code == 0 || s.code == 1));
      if (s.code == 1) {
        const auto m = failure_sentence(text, role.to_string());
        CHECK(!m.empty());
      }
    });
    // What the client wrote, if anything, is the oracle's; nothing half-written.
    const auto out = r.files.dir / "outputs.txt";
    if (std::filesystem::exists(out)) CHECK(run::read_outputs<V>(out) == oracle_outputs(images));
  }
  CHECK(killed >= runs - 1);  // the kills fell within the parties' lives
}
