// What the store keeps about one API key or session. Never the key itself.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "core/grant.h"

namespace keyward {

enum class KeyType { kApiKey, kSession };

std::string_view KeyTypeName(KeyType type);  // "apikey" | "session"

// An API key as stored. Sessions are kept apart (see SessionRecord).
struct KeyRecord {
  std::string user_id;
  std::string name;    // unique per user, see ValidateKeyName
  std::string hash;    // SHA-256 of the full key, 32 raw bytes; unique
  std::string sealed;  // AEAD-encrypted key (nonce || ciphertext); empty when reveal is off
  std::string masked;  // "kw_AbCd…9xYz", safe to show
  UnixSeconds created_at = 0;
  UnixSeconds expires_at = 0;
  UnixSeconds last_used_at = 0;  // 0: never used
  Grant grant;  // what the key may do (core/grant.h); full_access for keys made before scopes
};

// A sign-in session: a key of type "session" with no name.
struct SessionRecord {
  std::string user_id;
  std::string hash;  // SHA-256 of the session token, 32 raw bytes
  UnixSeconds created_at = 0;
  UnixSeconds expires_at = 0;
};

// Key names: 1-128 bytes of valid UTF-8 without control characters and without '/', and not
// "." or "..": a name must be reachable as a URL path segment, which clients and proxies
// resolve those two away (RFC 3986 §5.2.4).
Status ValidateKeyName(std::string_view name);

}  // namespace keyward
