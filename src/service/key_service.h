// Use cases for API keys: create, list, reveal, delete.
//
// Every call takes the caller and the target user id as the path named it ("me" allowed) and
// applies core/policy.h: other users' keys are NotFound for a non-operator. An API key caller
// also needs the scope of the call (PermissionDenied "this API key lacks the scope …"):
// keys:read to list (and keys:reveal with `reveal`), keys:write to create and delete,
// keys:reveal to reveal; on another user's keys (an operator's key) also users:read to list
// and users:write to create, delete or reveal. Sessions and full-access keys need no scope.
// Errors besides the store's: InvalidArgument (bad name, duration or grant, or a duration over
// the server's maximum), PermissionDenied (a scope lacking, a grant or expiry beyond what the
// caller may give or see, reveal when the server keeps no copies), Unavailable (a reveal whose
// audit record could not be written). Create, Delete, Reveal and List with `reveal` are recorded in
// the audit log (service/audit_log.h), failures too; a plain List is not. Blocking: call from
// blocking threads. Thread safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/key_record.h"
#include "core/master_key.h"
#include "core/user.h"
#include "service/audit_log.h"
#include "service/authenticator.h"
#include "service/key_cache.h"
#include "service/options.h"
#include "service/principal.h"
#include "store/store.h"

namespace keyward {

// One key as shown to its owner.
struct KeyView {
  std::string name;
  KeyType type = KeyType::kApiKey;
  UnixSeconds created_at = 0;
  UnixSeconds expires_at = 0;
  UnixSeconds last_used_at = 0;
  std::string token;  // the full key when created or revealed; otherwise masked
  Grant grant;        // what the key may do; full_access for keys made before scopes
  // Issue 15.
  std::string description;
  bool disabled = false;
  std::int64_t idle_timeout = 0;  // seconds; 0 off
  bool revoke_on_reuse = false;   // on_reuse: "revoke" (else "keep")
  UnixSeconds rotated_at = 0;     // 0: never rotated
  // The old secrets still accepted at the time of the call (OldSecret::AcceptedUntil(lag) > now,
  // lag: ServiceOptions::last_used_lag_seconds, as the Authenticator judges),
  // newest first: the key is "rotating" while there is one.
  struct OldSecretView {
    std::string masked;
    UnixSeconds rotated_at = 0;
    UnixSeconds accepted_until = 0;  // AcceptedUntil(lag) as of now (moves later with use)
    UnixSeconds last_used_at = 0;    // 0: not used since the rotation
  };
  std::vector<OldSecretView> old_secrets;
  // "disabled" (first), "expired", "rotating" or "active", as of the call.
  std::string status;
  // Issue 16.
  RateLimit rate_limit;      // off: requests 0
  std::string last_address;  // the client of the latest presentation counted; "" unknown
  bool canary = false;       // issue 17: KeyRecord::canary
};

// A rate limit as asked: `requests` per `per` (a duration, "1s", "1m"); requests 0 (edit
// only): remove the limit.
struct RateLimitSpec {
  std::int64_t requests = 0;
  std::string per;
};

// What a new key is asked to be; what is left out takes its default (KeyService::Create).
struct NewKey {
  std::optional<std::string> name = {};      // default "token_" + 19 random characters
  std::optional<std::string> duration = {};  // e.g. "24h"; default the server's default validity
  std::vector<std::string> scopes = {};      // default none
  // Default: all of the owner's tags, live (or a creating key's subset, see Create).
  std::optional<std::vector<std::string>> tags = {};
  // Default: from anywhere (or a creating key's ranges, see Create).
  std::optional<std::vector<std::string>> allowed_addresses = {};
  std::optional<std::string> description = {};   // ValidateKeyDescription
  std::optional<std::string> idle_timeout = {};  // "0s" off, else 1s…max_validity; default off
  std::optional<std::string> on_reuse = {};      // "keep" (default) | "revoke"
  std::optional<RateLimitSpec> rate_limit = {};  // issue 16; default none
  // Issue 17: a canary key (KeyRecord::canary): only name, duration and description may be
  // given (service/canary_rules.h); it grants nothing (no scope, no tag).
  bool canary = false;
};

// A rotation (KeyService::Rotate).
struct RotateRequest {
  // How long the old secret keeps working: a duration "0s" … "30d"; default "1h". Capped by
  // the old secret's own expiry.
  std::optional<std::string> grace = {};
  // Retire the old secret earlier, once unused this long after the rotation: ≥ "1s", ≤ grace.
  std::optional<std::string> retire_when_idle = {};
};

// An edit (KeyService::Update): what is set changes, the rest stays. At least one field.
struct KeyEdit {
  std::optional<std::string> name = {};
  std::optional<std::string> description = {};
  std::optional<std::string> expiration = {};  // RFC 3339; after now, within max_validity
  // A narrower grant: each list given replaces the key's, and must be within what it replaces
  // (core/grant.h CheckWithin: PermissionDenied "… is not in the key's current grant").
  std::optional<std::vector<std::string>> scopes = {};
  std::optional<std::vector<std::string>> tags = {};
  std::optional<std::vector<std::string>> allowed_addresses = {};
  std::optional<bool> disabled = {};
  std::optional<std::string> idle_timeout = {};  // "0s" turns it off
  std::optional<std::string> on_reuse = {};      // "keep" | "revoke"
  std::optional<RateLimitSpec> rate_limit = {};  // issue 16; requests 0 removes it
};

class KeyService final : public ReuseListener {
 public:
  // `master_key` may be null only when options.reveal is false. `cache` (may be null) is told
  // of every deleted key before Delete returns. `audit` (may be null only where nothing needs
  // recording: tests, benchmarks) records the calls.
  KeyService(Store& store, const MasterKey* master_key, const ServiceOptions& options,
             const Clock& clock, KeyCache* cache, const AuditLog* audit = nullptr)
      : store_(store),
        master_key_(master_key),
        options_(options),
        clock_(clock),
        cache_(cache),
        audit_(audit) {}

  // The requested grant is validated (NormalizeGrant: InvalidArgument). Never more than the
  // creator (core/policy.h, PermissionDenied saying which part exceeds, and nothing stored):
  // the grant must be one the owner may hold (tags among the owner's; users:* scopes only for
  // an operator owner) and, from a key without full access, within the creating key's grant
  // and not outliving it. Such a key passes its limits on to what `in` leaves out (its tag
  // subset, its address ranges; the default validity is cut to its expiry). The returned view
  // holds the full key; the audit record holds the grant (DescribeGrant). Issue 17: a canary
  // (in.canary) is refused InvalidArgument for any grant or usage setting (CheckNewCanary) and
  // gets no scope and no tag.
  Result<KeyView> Create(const Caller& caller, std::string_view user_id, const NewKey& in) const;
  // Ordered by creation. With `reveal` and reveal on, tokens are in full, each reveal on record
  // before any key is returned (Unavailable, and no key, when a record cannot be written);
  // otherwise masked. A key without full access sees in full only the keys it could reveal
  // (Reveal); the others stay masked and are not recorded as revealed.
  Result<std::vector<KeyView>> List(const Caller& caller, std::string_view user_id,
                                    bool reveal) const;
  // The key with its token in full, once its reveal is on record (Unavailable, and no key,
  // when the record cannot be written). PermissionDenied when reveal is off, and for a caller
  // key without full access when the key's grant is not within the caller's or the key
  // outlives it ("key other-key has a broader grant than this key: …").
  Result<KeyView> Reveal(const Caller& caller, std::string_view user_id,
                         std::string_view name) const;
  // `detail` goes into the audit record (issue 17: "leak scan" for a delete by a check).
  Status Delete(const Caller& caller, std::string_view user_id, std::string_view name,
                std::string_view detail = {}) const;

  // Issue 15. Every change below writes its webhook events (service/key_events.h) in the same
  // store transaction, erases the key's secrets from this node's cache before returning (the
  // store tells the other nodes), and is recorded in the audit log, failures too.
  //
  // With `expiring_within` (seconds ≥ 0): only keys not yet expired that expire within it.
  Result<std::vector<KeyView>> List(const Caller& caller, std::string_view user_id, bool reveal,
                                    std::optional<std::int64_t> expiring_within) const;
  // A new secret for the key: same name, grant and settings; expiry now + the key's validity
  // (KeyRecord::RenewedValidity, capped by max_validity, and for a caller key without full
  // access by its own expiry). The old secret stays accepted as `request` says. Needs keys:write
  // (users:write on another's key) and, as the new secret is returned in full, what Reveal
  // needs of a caller key (CheckReveal) — but not the server's reveal setting. Event
  // key.rotated; audit key.rotate. FailedPrecondition when another rotation won the race.
  Result<KeyView> Rotate(const Caller& caller, std::string_view user_id, std::string_view name,
                         const RotateRequest& request) const;
  // An edit. keys:write (users:write on another's key). InvalidArgument for a malformed field
  // or nothing to change; PermissionDenied when a caller key without full access would set an
  // expiration later than its own, or widen (a later expiration, enabling, an idle_timeout off
  // or longer, on_reuse revoke → keep) a key it could not reveal (CheckReveal, the key as
  // edited); when a key would widen itself at all (it may only shorten, disable, tighten); or
  // when the grant is not narrower;
  // AlreadyExists for a taken name. Events key.disabled / key.enabled when `disabled` changes;
  // audit key.update (and key.disable / key.enable). Returns the key as it is now.
  // Decided on the key as read and applied only to that revision (Store::UpdateKey), re-read
  // and decided again when it changed meanwhile; FailedPrecondition when it kept changing.
  Result<KeyView> Update(const Caller& caller, std::string_view user_id, std::string_view name,
                         const KeyEdit& edit) const;

  // ReuseListener (Authenticator): a retired old secret of `key` was presented. Without
  // on_reuse "revoke": event key.reuse_detected (revoked false); with it, the key is deleted
  // with key.reuse_detected (revoked true) and key.deleted, and its secrets leave the cache.
  // Audit key.reuse (actor "system", the client's address). Store errors are logged.
  void ReuseDetected(const KeyRecord& key, const ClientInfo& client) const override;

 private:
  Result<std::string> Open(const KeyRecord& record) const;
  // The key as its owner sees it at `now` (old secrets still accepted, status).
  KeyView ToView(const KeyRecord& record, UnixSeconds now) const;
  // Drops the key's current and old secrets from this node's cache.
  void EraseSecrets(const KeyRecord& record) const;
  Result<KeyView> RotateKey(const Caller& caller, const std::string& target, std::string_view name,
                            const RotateRequest& request, std::string* detail) const;
  Result<KeyView> UpdateKey(const Caller& caller, const std::string& target, std::string_view name,
                            const KeyEdit& edit, std::string* detail) const;
  Result<KeyView> CreateKey(const Caller& caller, const std::string& target,
                            const std::string& key_name, const NewKey& in) const;
  // The grant and expiry time of a new key for `owner`, by the rules of Create.
  Result<std::pair<Grant, UnixSeconds>> NewKeyLimits(const Caller& caller, const User& owner,
                                                     const NewKey& in, UnixSeconds now) const;
  Result<KeyView> RevealKey(const Caller& caller, const std::string& target,
                            std::string_view name) const;
  Status DeleteKey(const Caller& caller, const std::string& target, std::string_view name) const;
  // Records a done (or failed) action; a failure to record is only logged.
  void Audited(AuditAction action, const Caller& caller, std::string_view target_user,
               std::string_view key_name, const Status& outcome,
               std::string_view detail = {}) const;
  // Records a successful reveal before the key leaves: Unavailable when it cannot.
  Status RecordReveal(const Caller& caller, std::string_view target_user,
                      std::string_view key_name) const;

  Store& store_;
  const MasterKey* master_key_;
  const ServiceOptions& options_;
  const Clock& clock_;
  KeyCache* cache_;
  const AuditLog* audit_;
};

}  // namespace keyward
