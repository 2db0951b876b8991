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
};

class KeyService {
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
  // holds the full key; the audit record holds the grant (DescribeGrant).
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
  Status Delete(const Caller& caller, std::string_view user_id, std::string_view name) const;

 private:
  Result<std::string> Open(const KeyRecord& record) const;
  KeyView ToView(const KeyRecord& record) const;
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
