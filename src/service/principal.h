// Who is calling: the user behind a verified key or session, and from where.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "core/grant.h"
#include "core/key_record.h"
#include "core/user.h"

namespace keyward {

struct Principal {
  User user;  // with tags
  KeyType via = KeyType::kApiKey;
  std::string key_name;        // the API key's name; empty for a session
  std::string token_hash;      // SHA-256 of the presented key or session token
  UnixSeconds expires_at = 0;  // of that key or session
  std::string client_address;  // the client's IP address; set by the API handler
  // What the credential may do: the key's grant for an API key, FullAccess() for a session
  // (set by whoever makes the Principal: the default is no power at all, so that a Principal
  // made on some new path without a grant can do nothing, never everything). user.tags above
  // are already the tags the key presents (EffectiveTags).
  Grant grant;
  std::vector<Cidr> networks;  // grant.allowed_addresses, parsed; empty: from anywhere
  // For an access token the issuer signed (service/token_service.h): the hash of the key it was
  // issued from, whose revocation revokes it. Empty for a key or session.
  std::string parent_key_hash;
  // The presented secret is a key's old secret, in its grace period after a rotation:
  // expires_at is then when it stops being accepted (OldSecret::AcceptedUntil with the writer's
  // lag, counting this use). Once that passes, a cache hit is a miss (KeyCache::Find), so that the
  // store decides and the reuse is detected (Authenticator).
  bool old_secret = false;
  // The key's rate limit (core/usage.h); an issued token carries its key's. Off for sessions.
  RateLimit rate_limit;
};

// The caller of a use case: the user it acts for, what its credential may do and the client
// address the audit log records (service/audit_log.h). A view: it borrows the User (or
// Principal) it was made from and must not outlive it. Made implicitly from a Principal (a
// request: pass the Principal itself, never its .user, or the key's limits are lost) or from a
// User (work outside a request, such as start-up, tools and tests: full power, no address).
struct Caller {
  Caller(const Principal& principal)  // NOLINT(google-explicit-constructor): a view of it
      : user(principal.user),
        address(principal.client_address),
        grant(principal.grant),
        expires_at(principal.expires_at),
        credential_hash(principal.token_hash) {}
  Caller(const User& caller_user)  // NOLINT(google-explicit-constructor): a view of it
      : user(caller_user) {}

  const User& user;  // for a key, user.tags are the tags the key presents
  std::string_view address;
  // What the caller may do (core/grant.h): a key's grant, or full power for a session and for
  // work outside a request.
  const Grant& grant = FullPower();
  // When the caller's key or session expires; 0 for work outside a request. A key (without
  // full access) creates and reveals no key that outlives it.
  UnixSeconds expires_at = 0;
  // SHA-256 of the caller's key or session; empty outside a request. A key editing itself may
  // only shorten its expiration (KeyService::Update).
  std::string_view credential_hash;

 private:
  static const Grant& FullPower() {
    static const Grant full = FullAccess();
    return full;
  }
};

}  // namespace keyward
