#pragma once
// A party's end of the channel to one peer, as the protocol steps see it:
// send a frame, receive the next frame before a deadline, count bytes and
// messages. The byte transport behind it is injected (`link`): an in-memory
// pipe for local runs and tests (run/local.hpp), a socket for deployments.
//
// Frames: [u16 message id][u64 inference id][payload]. The receiver names the
// message it expects and the inference it is working on; anything else is a
// protocol_error naming this party, the step and the peer.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pmdi/core/bytes.hpp"
#include "pmdi/core/error.hpp"

namespace pmdi::proto {

using frame = std::vector<std::byte>;

struct link_counters {
  std::uint64_t bytes_sent = 0, bytes_received = 0, messages_sent = 0, messages_received = 0;
  friend link_counters operator-(link_counters a, const link_counters& b) noexcept {
    a.bytes_sent -= b.bytes_sent;
    a.bytes_received -= b.bytes_received;
    a.messages_sent -= b.messages_sent;
    a.messages_received -= b.messages_received;
    return a;
  }
};

// One end of a bidirectional byte channel. Implementations are thread safe for
// one sender thread and one receiver thread.
class link {
 public:
  virtual ~link() = default;
  virtual void send(frame f) = 0;
  // The next frame; throws timeout_error after `deadline`, error if closed.
  [[nodiscard]] virtual frame receive(std::chrono::milliseconds deadline) = 0;
  virtual void close() noexcept = 0;
  [[nodiscard]] link_counters counters() const noexcept {
    return {sent_bytes_.load(), received_bytes_.load(), sent_msgs_.load(), received_msgs_.load()};
  }

 protected:
  void count_sent(std::size_t n) noexcept { sent_bytes_ += n; ++sent_msgs_; }
  void count_received(std::size_t n) noexcept { received_bytes_ += n; ++received_msgs_; }

 private:
  std::atomic<std::uint64_t> sent_bytes_{0}, received_bytes_{0}, sent_msgs_{0}, received_msgs_{0};
};

// In-memory pipe: two links sharing two queues. `on_receive`, when set, sees
// every frame its end receives (transcript tests).
class memory_pipe {
  struct queue {
    std::mutex m;
    std::condition_variable cv;
    std::deque<frame> q;
    bool closed = false;
  };

 public:
  class end final : public link {
   public:
    end(std::shared_ptr<queue> in, std::shared_ptr<queue> out) : in_(std::move(in)), out_(std::move(out)) {}
    void send(frame f) override {
      count_sent(f.size());
      {
        std::lock_guard lk(out_->m);
        if (out_->closed) throw error("memory pipe: send on a closed pipe");
        out_->q.push_back(std::move(f));
      }
      out_->cv.notify_one();
    }
    [[nodiscard]] frame receive(std::chrono::milliseconds deadline) override {
      std::unique_lock lk(in_->m);
      if (!in_->cv.wait_for(lk, deadline, [&] { return !in_->q.empty() || in_->closed; }))
        throw timeout_error("no message within " + std::to_string(deadline.count()) + " ms");
      if (in_->q.empty()) throw error("peer closed the channel");
      frame f = std::move(in_->q.front());
      in_->q.pop_front();
      lk.unlock();
      count_received(f.size());
      if (on_receive) on_receive(f);
      return f;
    }
    void close() noexcept override {
      for (auto* q : {in_.get(), out_.get()}) {
        {
          std::lock_guard lk(q->m);
          q->closed = true;
        }
        q->cv.notify_all();
      }
    }
    std::function<void(const frame&)> on_receive;

   private:
    std::shared_ptr<queue> in_, out_;
  };

  memory_pipe() : a_(std::make_shared<queue>()), b_(std::make_shared<queue>()), first_(a_, b_), second_(b_, a_) {}
  [[nodiscard]] end& first() noexcept { return first_; }
  [[nodiscard]] end& second() noexcept { return second_; }

 private:
  std::shared_ptr<queue> a_, b_;
  end first_, second_;
};

enum class party : std::uint8_t { client, cloud, garbler, evaluator, compute };

[[nodiscard]] constexpr const char* party_kind_name(party p) noexcept {
  switch (p) {
    case party::client: return "client";
    case party::cloud: return "cloud";
    case party::garbler: return "garbler";
    case party::evaluator: return "evaluator";
    case party::compute: return "compute";
  }
  return "?";
}

// A typed end: Self talks to Peer over `l`. Messages check these statically.
template <party Self, party Peer>
struct endpoint {
  link* l = nullptr;
  std::string self_name, peer_name;  // "garbler[0]", "compute[1,0]"
  std::chrono::milliseconds deadline{std::chrono::minutes(10)};

  [[nodiscard]] bool connected() const noexcept { return l != nullptr; }
};

}  // namespace pmdi::proto
