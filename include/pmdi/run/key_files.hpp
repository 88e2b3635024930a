#pragma once
// Secret key files: one per party (key_file_name), 64 hex digits, mode 0600;
// never in the deployment file. load_identity() checks the key against the file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "pmdi/core/error.hpp"
#include "pmdi/core/secret.hpp"
#include "pmdi/net/keys.hpp"
#include "pmdi/net/secure.hpp"
#include "pmdi/run/deployment_file.hpp"

namespace pmdi::run {

// "client.key", "garbler-0.key", "compute-0-2.key"
[[nodiscard]] inline std::string key_file_name(const role_id& r) {
  std::string s = r.path();
  for (char& c : s)
    if (c == '/') c = '-';
  return s + ".key";
}

// Writes 64 hex digits and a newline, mode 0600 (the file is created or truncated).
inline void write_secret_key(const std::filesystem::path& file, const net::secret_key& sk) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw error(file.string() + ": cannot create the key file");
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } guard{fd};
  if (::fchmod(fd, 0600) != 0) throw error(file.string() + ": cannot set mode 0600");
  std::string text = net::to_hex(sk.bytes()) + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  secure_zero(text.data(), text.size());
  if (!ok) throw error(file.string() + ": cannot write the key file");
}

// Reads a secret key file; refuses one that others may read.
[[nodiscard]] inline net::secret_key read_secret_key(const std::filesystem::path& file) {
  struct ::stat st {};
  if (::stat(file.c_str(), &st) != 0) throw usage_error(file.string() + ": cannot open the secret key file");
  if ((st.st_mode & 077) != 0) {
    std::ostringstream mode;
    mode << std::oct << (st.st_mode & 0777);
    throw usage_error(file.string() + ": secret key file is accessible to other users (mode 0" + mode.str() +
                      "); run chmod 600 on it");
  }
  std::ifstream f(file);
  std::string text;
  std::getline(f, text);
  auto raw = net::from_hex<net::secret_key_bytes>(text);
  secure_zero(text.data(), text.size());
  if (!raw) throw usage_error(file.string() + ": expected 64 hex digits (an X25519 secret key)");
  net::secret_key sk(*raw);
  secure_zero(raw->data(), raw->size());
  return sk;
}

// This party's identity: its secret key, checked against the deployment file.
[[nodiscard]] inline net::local_identity load_identity(const deployment_file& d, const role_id& self,
                                                       const std::filesystem::path& key_file) {
  const party_entry& me = d.party(self);
  net::local_identity id{self.to_string(), {me.public_key, read_secret_key(key_file)}};
  if (net::public_key_of(id.keys.sk) != me.public_key)
    throw usage_error(key_file.string() + ": this is not the secret key of " + self.to_string() +
                      " listed in the deployment file");
  return id;
}

}  // namespace pmdi::run
