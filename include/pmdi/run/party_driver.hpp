#pragma once
// The run of one party on its open links: setup, then the offline and online
// phases batch by batch, timed and counted per phase and peer, then the end
// of the run with every peer (run/role_main.hpp starts it).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pmdi/core/prg.hpp"
#include "pmdi/proto/common.hpp"
#include "pmdi/run/deployment.hpp"
#include "pmdi/run/party_links.hpp"
#include "pmdi/run/report.hpp"
#include "pmdi/run/role_options.hpp"

namespace pmdi::run {

// What a role does, as steps the driver times and counts.
struct role_steps {
  std::function<asio::awaitable<void>(prg&)> setup;
  std::function<asio::awaitable<void>(std::uint64_t, prg&)> offline;
  std::function<asio::awaitable<void>(std::uint64_t)> online;  // empty for the cloud (no online part)
  // Instead of online: the images [first, last] of one offline batch at
  // once (a stream: the client's --stream).
  std::function<asio::awaitable<void>(std::uint64_t, std::uint64_t)> online_batch;
  std::function<const proto::party_report&()> report;
};

// The steps every role has (setup, offline, report), taken from its object;
// the caller adds the online step where the role has one.
template <class Party>
[[nodiscard]] role_steps common_steps(Party& p) {
  role_steps s;
  s.setup = [&p](prg& g) { return p.setup(g); };
  s.offline = [&p](std::uint64_t id, prg& g) { return p.offline(id, g); };
  s.report = [&p]() -> const proto::party_report& { return p.report(); };
  return s;
}

namespace detail {

// The status file holds the step as its last non-empty line. It is rewritten
// in place by one pwrite: the step, then newlines over whatever the file held
// beyond it, so that a reader sees the old step or the new one and the file
// never shrinks. (A new file and a rename per step, as before, cost about
// 0.2 ms of kernel time each on ext4 here: an inode allocated, a journal
// entry, the rename's flush; in perf, half the CPU of a pipeline cluster that
// runs one small stage.)
inline void write_status(const std::filesystem::path& file, const std::string& step) {
  if (file.empty()) return;
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;  // the status file is advisory: the run goes on without it
  std::string text = step + "\n";
  struct stat st {};
  if (::fstat(fd, &st) == 0 && static_cast<std::size_t>(st.st_size) > text.size())
    text.resize(static_cast<std::size_t>(st.st_size), '\n');
  [[maybe_unused]] const auto n = ::pwrite(fd, text.data(), text.size(), 0);
  ::close(fd);
}

}  // namespace detail

// The protocol's view of a run: which deployment, which party, its step.
struct run_context {
  std::string deployment_name;
  role_options opt;
  deployment_file file;
  role_id self;
  std::string self_name;
  std::string step = "start";
  proto::party_report report;

  void at(std::string s) {
    step = std::move(s);
    show(step, step != "start");
  }
  // Progress inside the current step ("online 1..8 (3 collected)"): the
  // status file and the terminal show it; errors still name the step.
  void progress(const std::string& what) const { show(step + " (" + what + ")", true); }

 private:
  void show(const std::string& line, bool on_terminal) const {
    detail::write_status(opt.status, line);
    if (!opt.quiet && on_terminal) std::cerr << self_name << ": " << line << std::endl;
  }
};

// Runs the steps of a role with its links open; fills ctx.report.
[[nodiscard]] inline asio::awaitable<void> drive(run_context& ctx, party_links& links, const role_steps& s) {
  prg g = prg::from_os();
  party_links::snapshot before;
  auto t0 = std::chrono::steady_clock::now();
  const auto begin = [&] {
    links.new_phase();
    before = links.take_snapshot();
    t0 = std::chrono::steady_clock::now();
  };
  const auto end = [&](const char* name) {
    auto& p = ctx.report.phases[name];
    p.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    links.add_since(before, p);
    for (const auto& [kind, w] : s.report().phase(name).work) p.work[kind] += w;
  };
  ctx.at("setup");
  begin();
  co_await s.setup(g);
  end("setup");
  // Offline material is prepared for a batch of offline_batch inferences,
  // then their online phases run, then the next batch: a party holds at most
  // one batch's material (the deployment file sets the batch, so every party
  // follows the same schedule, the client's stream included: it sends a
  // batch's inputs at once and collects them before the next batch).
  const std::uint64_t n = ctx.opt.images;
  const std::uint64_t batch = std::max<std::uint64_t>(1, ctx.file.offline_batch);
  for (std::uint64_t first = 1; first <= n; first += batch) {
    const std::uint64_t last = std::min(n, first + batch - 1);
    for (std::uint64_t i = first; i <= last; ++i) {
      ctx.at("offline " + std::to_string(i));
      begin();
      co_await s.offline(i, g);
      end("offline");
    }
    if (first == 1 && ctx.opt.online_delay.count() > 0) {  // --online-delay-ms: outside the online phase's time
      ctx.at("online delay");
      asio::steady_timer t(co_await asio::this_coro::executor, ctx.opt.online_delay);
      co_await t.async_wait(asio::use_awaitable);
    }
    if (s.online_batch) {
      ctx.at("online " + std::to_string(first) + ".." + std::to_string(last));
      begin();
      co_await s.online_batch(first, last);
      end("online");
    } else if (s.online) {
      for (std::uint64_t i = first; i <= last; ++i) {
        ctx.at("online " + std::to_string(i));
        begin();
        co_await s.online(i);
        end("online");
      }
    }
  }
  ctx.report.phases.try_emplace("online");
  ctx.report.take_run_figures(s.report());
  links.fill_wire(ctx.report);
}

// Opens the party's links to the peers its role's links struct names.
template <class Party>
[[nodiscard]] asio::awaitable<void> connect(run_context& ctx, party_links& links, const net::local_identity& me) {
  ctx.at("connect");
  const auto t0 = std::chrono::steady_clock::now();
  co_await links.open(ctx.file, me, ctx.self, proto::peers_of<typename Party::links>());
  ctx.report.phases["connect"].seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Builds the role's channels from the party's links and its object, and drives it.
template <class Party, class... Args>
[[nodiscard]] asio::awaitable<void> run_party(run_context& ctx, party_links& links, proto::public_config cfg,
                                              std::function<void(Party&, role_steps&)> online, Args... args) {
  struct forget {  // the links die with the channels that own them
    party_links& l;
    ~forget() { l.release(); }
  } guard{links};
  typename Party::links lk;
  lk.each([&](auto& ch) { links.take(ch); });
  Party p(std::move(cfg), std::move(args)..., std::move(lk));
  role_steps s = common_steps(p);
  if (online) online(p, s);
  co_await drive(ctx, links, s);
  // Every party waits for the others to end: the cloud, done after the
  // offline phase, still learns of a party that fails online. The wait may
  // span the others' remaining phases: one receive deadline per image, plus one.
  ctx.at("finish");
  co_await links.finish(ctx.file.timeouts.receive * static_cast<long>(ctx.opt.images + 1));
}

// The steps of a party of the clusters: its online step is online(id).
inline constexpr auto cluster_online = [](auto& p, role_steps& s) { s.online = [&p](std::uint64_t id) { return p.online(id); }; };

}  // namespace pmdi::run
