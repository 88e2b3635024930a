// pmdi-keygen: static key pairs and a deployment file for a local deployment.
//
//   pmdi-keygen --clusters P --compute T --dir DIR [--base-port N] [--host H] [--ring BITS/FRAC]
//               [--placement RANGES]
//
// Writes DIR/<role>.key (the party's X25519 secret key, mode 0600) for every
// party and DIR/deployment.json listing each party's host, port and public key,
// and the ring the binaries are built for (default ring<64, 13>).
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "pmdi/run/cli.hpp"
#include "pmdi/run/deployment.hpp"

namespace {

constexpr std::string_view usage_head =
    "usage: pmdi-keygen --clusters P --compute T --dir DIR [--base-port N] [--host H] [--ring BITS/FRAC]\n"
    "  writes DIR/deployment.json and one secret key file per party (mode 0600)\n";

struct ring_choice {
  std::uint32_t bits = 64, fraction_bits = 13;
};

// "BITS/FRAC": BITS 32 or 64, FRAC in [0, BITS-2].
ring_choice ring(std::string_view flag, const std::string& text) {
  const auto fail = [&]() -> pmdi::usage_error {
    return pmdi::usage_error(std::string(flag) + ": expected BITS/FRAC with BITS 32 or 64 and FRAC in [0, BITS-2], got '" +
                             text + "'");
  };
  const auto slash = text.find('/');
  if (slash == std::string::npos) throw fail();
  const auto digits = [](std::string_view s) {
    return !s.empty() && s.size() <= 2 && s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  const std::string bits = text.substr(0, slash), frac = text.substr(slash + 1);
  if (!digits(bits) || !digits(frac)) throw fail();
  ring_choice r{static_cast<std::uint32_t>(std::stoul(bits)), static_cast<std::uint32_t>(std::stoul(frac))};
  if ((r.bits != 32 && r.bits != 64) || r.fraction_bits > r.bits - 2) throw fail();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::optional<std::uint32_t> clusters, compute;
    std::optional<std::filesystem::path> dir;
    std::uint16_t base_port = 7000;
    std::string host = "127.0.0.1";
    std::string ring_text, placement;
    ring_choice ring_of_file;
    pmdi::run::command_line c;
    c.number("clusters", clusters, 1, 64, "P", "number of clusters (1..64)")
        .number("compute", compute, 1, 64, "T", "compute servers per cluster (1..64)")
        .value("dir", dir, "DIR", "output directory (created if missing)")
        .number("base-port", base_port, 1, 65535, "N", "first port; parties get N, N+1, ... (default 7000)")
        .value("host", host, "H", "host of every party (default 127.0.0.1)")
        .option("ring", "BITS/FRAC",
                "the ring of the binaries: BITS 32 or 64, FRAC fraction bits in [0, BITS-2] (default 64/13; the "
                "minionn-* binaries want 32/5)",
                [&](const std::string& text) { ring_of_file = ring("--ring", text); })
        .value("placement", placement, "RANGES",
               "the stages each cluster runs, [first, end) per cluster, as pmdi-plan prints it: '[[0, 3], [3, 4]]' "
               "(default: the even split)");
    c.parse(argc, argv);
    if (c.help_asked()) {
      std::cout << usage_head << c.help();
      return 0;
    }
    if (!clusters || !compute || !dir) throw pmdi::usage_error("--clusters, --compute and --dir are required");

    auto g = pmdi::run::generate_local_deployment(*clusters, *compute, base_port, host);
    g.file.ring_bits = ring_of_file.bits;
    g.file.fraction_bits = ring_of_file.fraction_bits;
    if (!placement.empty()) g.file.placement = pmdi::run::parse_placement(placement, *clusters);
    std::filesystem::create_directories(*dir);
    for (const auto& [role, sk] : g.secret_keys) pmdi::run::write_secret_key(*dir / pmdi::run::key_file_name(role), sk);
    const auto json_file = *dir / "deployment.json";
    {
      std::ofstream out(json_file);
      out << pmdi::run::to_json(g.file);
      if (!out) throw pmdi::error(json_file.string() + ": cannot write");
    }
    // Read it back: what we wrote must pass our own validation.
    (void)pmdi::run::load_deployment(json_file);
    std::cout << "wrote " << json_file.string() << " and " << g.secret_keys.size() << " key files ("
              << g.file.parties.size() << " parties, ports " << base_port << ".."
              << base_port + g.file.parties.size() - 1 << ", ring " << g.file.ring_bits << "/"
              << g.file.fraction_bits << ")\n";
    return 0;
  } catch (const pmdi::usage_error& e) {
    std::cerr << "pmdi-keygen: " << e.what() << "\n" << usage_head << "  (pmdi-keygen --help lists every option)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "pmdi-keygen: " << e.what() << "\n";
    return 1;
  }
}
