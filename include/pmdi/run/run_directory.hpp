#pragma once
// A deployment on 127.0.0.1 in a run directory: free loopback ports, the
// deployment file and one key file per party, each party's file names and
// arguments, and where the role binaries are.
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pmdi/core/error.hpp"
#include "pmdi/run/deployment.hpp"

namespace pmdi::run {

// `n` distinct TCP ports on 127.0.0.1 that were free a moment ago.
[[nodiscard]] inline std::vector<std::uint16_t> free_loopback_ports(std::size_t n) {
  std::vector<int> fds;
  std::vector<std::uint16_t> ports;
  for (std::size_t i = 0; i < n; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw error("cannot open a socket to find a free port");
    fds.push_back(fd);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      for (int f : fds) ::close(f);
      throw error("cannot bind a loopback socket to find a free port");
    }
    ports.push_back(ntohs(a.sin_port));
  }
  for (int f : fds) ::close(f);
  return ports;
}

// A deployment on 127.0.0.1 written to `dir`: deployment.json and one key file per party.
struct local_files {
  std::filesystem::path dir, deployment;
  deployment_file file;
  std::map<role_id, std::filesystem::path> keys;
};

[[nodiscard]] inline local_files write_local_deployment(const std::filesystem::path& dir, std::uint32_t clusters,
                                                        std::uint32_t compute, deployment_timeouts timeouts,
                                                        std::uint32_t ring_bits, std::uint32_t fraction_bits,
                                                        std::vector<proto::stage_range> placement = {}) {
  std::filesystem::create_directories(dir);
  auto g = generate_local_deployment(clusters, compute, 1);
  g.file.placement = std::move(placement);
  const auto ports = free_loopback_ports(g.file.parties.size());
  for (std::size_t i = 0; i < ports.size(); ++i) g.file.parties[i].port = ports[i];
  g.file.timeouts = timeouts;
  g.file.ring_bits = ring_bits;
  g.file.fraction_bits = fraction_bits;
  local_files out;
  out.dir = dir;
  out.deployment = dir / "deployment.json";
  {
    std::ofstream f(out.deployment);
    f << to_json(g.file);
    if (!f) throw error(out.deployment.string() + ": cannot write the deployment file");
  }
  out.file = load_deployment(out.deployment);  // validates what we wrote
  for (const auto& [r, sk] : g.secret_keys) {
    const auto k = dir / key_file_name(r);
    write_secret_key(k, sk);
    out.keys[r] = k;
  }
  return out;
}

// File names of one party in a run directory.
[[nodiscard]] inline std::string party_file(const role_id& r, std::string_view suffix) {
  std::string s = r.path();
  for (char& c : s)
    if (c == '/') c = '-';
  return s + std::string(suffix);
}

// The arguments every party gets in a local run.
[[nodiscard]] inline std::vector<std::string> party_args(const local_files& f, const role_id& r, std::uint64_t images) {
  return {"--deployment", f.deployment.string(),
          "--party",      r.path(),
          "--key",        f.keys.at(r).string(),
          "--images",     std::to_string(images),
          "--report",     (f.dir / party_file(r, ".report.json")).string(),
          "--status",     (f.dir / party_file(r, ".status")).string()};
}

// The binary of a role: <bin_dir>/<name>-<kind>.
[[nodiscard]] inline std::filesystem::path role_binary(const std::filesystem::path& bin_dir, std::string_view name,
                                                       proto::role_kind k) {
  return bin_dir / (std::string(name) + "-" + std::string(proto::kind_name(k)));
}

// The directory of this executable (role binaries sit next to the launcher).
[[nodiscard]] inline std::filesystem::path self_dir() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : p.parent_path();
}

}  // namespace pmdi::run
