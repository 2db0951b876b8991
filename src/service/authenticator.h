// Turns a presented key or session token into a Principal.
//
// Order: format and checksum (no I/O) → SHA-256 → API key by hash → session by hash → the
// owner with tags. Unknown, expired, revoked and malformed credentials all give the same
// Unauthenticated status, so the answer tells nothing about which it was. Store failures give
// Unavailable. Blocking (store I/O): call from worker threads. Thread safe.
#pragma once

#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "service/options.h"
#include "service/principal.h"
#include "store/store.h"

namespace keyward {

class Authenticator {
 public:
  Authenticator(Store& store, const ServiceOptions& options, const Clock& clock)
      : store_(store), options_(options), clock_(clock) {}

  Result<Principal> Authenticate(std::string_view token) const;

 private:
  Store& store_;
  const ServiceOptions& options_;
  const Clock& clock_;
};

// The one Unauthenticated status every rejected credential gets.
Status InvalidCredential();

}  // namespace keyward
