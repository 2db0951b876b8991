// The audit log's records: who did what to whom, from where, when, and how it ended.
//
// An event never holds a key, a password or a token, nor a hash of one: only names and ids.
// Value types and pure functions; thread safe.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace keyward {

// What was attempted. Nothing else is recorded (listing keys, say, is not an event; listing
// them with ?reveal=true is one key.reveal per key shown).
enum class AuditAction {
  kSignIn,             // "signin": a password sign-in, throttled refusals included
  kKeyCreate,          // "key.create"
  kKeyReveal,          // "key.reveal": a key shown in full after its creation
  kKeyDelete,          // "key.delete"
  kUserCreate,         // "user.create"
  kUserDelete,         // "user.delete"
  kTagAdd,             // "tag.add"
  kTagDelete,          // "tag.delete"
  kSigningKeyCreated,  // "signing_key.created": the token issuer's first key (actor "system")
  kSigningKeyRotated,  // "signing_key.rotated": a new signing key (actor "system" when scheduled)
  kKeyRotate,          // "key.rotate": a new secret; detail "grace=1h retire_when_idle=10m"
  kKeyUpdate,          // "key.update": an edit; detail names the fields changed (never values
                       // that could be secret: name, expiration, grant as DescribeGrant)
  kKeyDisable,         // "key.disable"
  kKeyEnable,          // "key.enable"
  kKeyReuse,           // "key.reuse": a retired old secret presented (actor "system"; detail
                       // "revoked" when on_reuse revoked the key); the address is the client's
  kKeyIdleRevoke,      // "key.idle_revoke": deleted after idle_timeout unused (actor "system")
  kWebhookCreate,      // "webhook.create": target the webhook id
  kWebhookDelete,      // "webhook.delete": target the webhook id
  kKeyLeaked,          // "key.leaked": a live key reported at POST /api/v1/leaks was revoked or
                       // disabled (actor "system"; address the reporter's; detail "revoked" or
                       // "disabled" and " url=…" with any key in it masked)
  kKeyCanaryUsed,      // "key.canary_used": a canary key was presented (actor "system"; address
                       // the client's; detail "method=… path=…")
};

std::string_view AuditActionName(AuditAction action);
std::optional<AuditAction> ParseAuditAction(std::string_view name);

// How an event ended, as stored, logged and sent: "success" or "failure".
std::string_view AuditOutcomeName(bool success);

struct AuditEvent {
  std::int64_t id = 0;  // assigned by the store, increasing; ignored when appending
  UnixSeconds time = 0;
  std::string actor;  // the caller's user id; at sign-in, the user name tried
  AuditAction action = AuditAction::kSignIn;
  std::string user;     // the user whose account, key or tags the action concerns
  std::string target;   // the key name or the tag; empty for other actions
  std::string address;  // the client's IP address
  bool success = false;
  std::string reason;  // a short reason on failure; empty on success
  // More about a success: for key.create, the grant (DescribeGrant, core/grant.h). No secret.
  std::string detail;
};

// Which events ListAudit returns: newest first (time, then id, descending).
struct AuditFilter {
  // Empty: everyone's. Otherwise the events whose actor or user is this id.
  std::string user;
  // Inclusive bounds on the event's time.
  UnixSeconds since = std::numeric_limits<UnixSeconds>::min();
  UnixSeconds until = std::numeric_limits<UnixSeconds>::max();
  // At most this many events (1-1000).
  int limit = 100;
};

}  // namespace keyward
