// What the store keeps about one token-signing key (service/signing_key_ring.h).
//
// Generations number the keys 1, 2, 3 …: a rotation adds the next one, and the store refuses a
// generation that is taken, so when two nodes rotate at the same moment exactly one key is
// added. A key is published (in the JWKS) from created_at; it signs from activates_at until a
// later generation activates or retired_at, whichever comes first; it stays published for the
// longest token lifetime plus skew after that.
#pragma once

#include <cstdint>
#include <string>

#include "common/clock.h"

namespace keyward {

struct SigningKeyRecord {
  std::int64_t generation = 0;   // ≥ 1; unique
  std::string kid;               // RFC 7638 thumbprint of the public key; unique
  std::string alg;               // "ES256" | "RS256"
  std::string public_jwk;        // the public JWK, JSON text
  std::string sealed_private;    // the private key's PKCS#8 PEM sealed with the master key
  UnixSeconds created_at = 0;    // published from then on
  UnixSeconds activates_at = 0;  // signs from then on (≥ created_at)
  UnixSeconds retired_at = 0;    // 0: not retired early; set by an emergency rotation
};

}  // namespace keyward
