#pragma once
// The one definition of pmdi's run-time errors.
//  - decode_error: bytes from a peer failed validation (length, type, range).
//  - timeout_error: a wait passed its deadline.
//  - protocol_error: what a party reports; names the party, the step and the peer.
#include <stdexcept>
#include <string>

namespace pmdi {

struct error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct decode_error : error {
  using error::error;
};

struct timeout_error : error {
  using error::error;
};

struct usage_error : error {
  using error::error;
};

struct protocol_error : error {
  std::string party, step, peer;
  protocol_error(std::string party_, std::string step_, std::string peer_, const std::string& what)
      : error(party_ + ": step '" + step_ + "'" + (peer_.empty() ? "" : " with " + peer_) + ": " + what),
        party(std::move(party_)), step(std::move(step_)), peer(std::move(peer_)) {}
};

}  // namespace pmdi
