// What the store keeps about one API key or session. Never the key itself.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/grant.h"
#include "core/usage.h"

namespace keyward {

enum class KeyType { kApiKey, kSession };

std::string_view KeyTypeName(KeyType type);  // "apikey" | "session"

// A key's earlier secret after a rotation (KeyService::Rotate). It is accepted until
// AcceptedUntil(lag); after that it is "retired": refused like a revoked key, and presenting it is
// reuse (key.reuse_detected). The store keeps it until the old secret's own expiry.
struct OldSecret {
  std::string hash;                   // SHA-256 of the old secret, 32 raw bytes; unique
  std::string masked;                 // "kw_AbCd…9xYz"
  UnixSeconds rotated_at = 0;         // when it was replaced
  UnixSeconds grace_until = 0;        // accepted before this (≤ expires_at); = rotated_at: none
  std::int64_t retire_when_idle = 0;  // seconds; 0: off
  UnixSeconds last_used_at = 0;       // 0: not used since the rotation
  UnixSeconds expires_at = 0;         // the old secret's own expiry; the store forgets it then

  // The first second it is refused: grace_until, or earlier with retire_when_idle once it has
  // gone unused that long after the rotation: max(rotated_at, last_used_at) + retire_when_idle
  // + `lag`, where `lag` (seconds) is how late the store may learn of a use (the last-used
  // writer's interval, ServiceOptions::last_used_lag_seconds): a secret in steady use is never
  // retired because its uses were not written yet. Never past its own expires_at.
  UnixSeconds AcceptedUntil(std::int64_t lag) const;
};

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

  // --- V005: lifecycle (issue 15) ---
  std::string description;  // free text, ≤ kMaxDescriptionBytes; "" none
  bool disabled = false;    // refused everywhere while set; reversible
  // Seconds of validity the key was given (a rotation gives the new secret as much again);
  // 0 for keys made before V005: then expires_at − created_at.
  std::int64_t validity = 0;
  std::int64_t idle_timeout = 0;  // seconds; 0 off: revoked once unused that long
  bool revoke_on_reuse = false;   // on_reuse "revoke": a retired old secret's use deletes the key
  UnixSeconds rotated_at = 0;     // the last rotation; 0 never
  // The smallest --expiry-warnings threshold (seconds) already announced as key.expiring; 0:
  // key.expired announced; -1: nothing announced. A new expiry (edit, rotation) resets it to -1.
  std::int64_t announced_within = -1;
  // Incremented by every edit and rotation (Store::UpdateKey's compare-and-swap); 0 at creation.
  std::int64_t revision = 0;
  // ListKeys/GetKey: the old secrets still accepted (AcceptedUntil(lag) > the store's idea of now
  // is not checked: every old secret the store still keeps), newest first. FindKeyByHash when
  // the hash was an old secret's: exactly that one, and `by_old_secret` is set.
  std::vector<OldSecret> old_secrets;
  bool by_old_secret = false;

  // --- V006: usage and rate limits (issue 16) ---
  RateLimit rate_limit;  // off unless set (requests 0)
  // The first presentation counted (Store::RecordUsage); 0 none yet. Kept by the store only:
  // CreateKey ignores it and the summary fields below.
  UnixSeconds first_used_at = 0;
  std::string last_address;     // the client of the latest presentation counted; "" unknown
  std::string last_user_agent;  // likewise

  // --- V007: canary keys (issue 17) ---
  // A decoy: never authorizes anything (refused exactly as an unknown key) and every
  // presentation raises key.canary_used. Set at creation only; it has no grant (Grant{}), is
  // never rotated, disabled or enabled, and its uses are not counted.
  bool canary = false;

  // The validity a rotation renews: `validity`, or expires_at − created_at for older keys.
  std::int64_t RenewedValidity() const;
};

// Descriptions are at most this many bytes of UTF-8 text (control characters refused).
inline constexpr std::size_t kMaxDescriptionBytes = 1024;
Status ValidateKeyDescription(std::string_view description);

// A change to a key (Store::UpdateKey): the fields set are changed, the others kept.
struct KeyUpdate {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<UnixSeconds> expires_at;  // also resets announced_within to -1
  std::optional<Grant> grant;
  std::optional<bool> disabled;
  std::optional<std::int64_t> idle_timeout;
  std::optional<bool> revoke_on_reuse;
  std::optional<RateLimit> rate_limit;  // requests 0: the limit is removed
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
