// Use cases for API keys: create, list, reveal, delete.
//
// Every call takes the caller and the target user id as the path named it ("me" allowed) and
// applies core/policy.h: other users' keys are NotFound for a non-operator. Errors besides the
// store's: InvalidArgument (bad name or duration, or a duration over the server's maximum),
// PermissionDenied (reveal when the server keeps no copies), Unavailable (a reveal whose audit
// record could not be written). Create, Delete, Reveal and List with `reveal` are recorded in
// the audit log (service/audit_log.h), failures too; a plain List is not. Blocking: call from
// blocking threads. Thread safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
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

// ---- i13-http stand-in: the shape i13-service gives KeyService::Create (issue 13 contract).
// The http branch parses request bodies into it; the service branch replaces this struct and
// the Create overload below at merge. ----
struct NewKey {
  std::optional<std::string> name;
  std::optional<std::string> duration;
  std::vector<std::string> scopes;
  std::optional<std::vector<std::string>> tags;               // nullopt: the default
  std::optional<std::vector<std::string>> allowed_addresses;  // nullopt: the default
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

  // `name` defaults to "token_" + 19 random characters; `duration` (e.g. "24h") to the
  // server's default validity. The returned view holds the full key.
  Result<KeyView> Create(const Caller& caller, std::string_view user_id,
                         std::optional<std::string_view> name,
                         std::optional<std::string_view> duration) const;
  // i13-http stand-in (see NewKey): ignores the grant; replaced at merge by i13-service's.
  Result<KeyView> Create(const Caller& caller, std::string_view user_id, const NewKey& in) const {
    return Create(caller, user_id,
                  in.name ? std::optional<std::string_view>(*in.name) : std::nullopt,
                  in.duration ? std::optional<std::string_view>(*in.duration) : std::nullopt);
  }
  // Ordered by creation. With `reveal` and reveal on, tokens are in full, each reveal on record
  // before any key is returned (Unavailable, and no key, when a record cannot be written);
  // otherwise masked.
  Result<std::vector<KeyView>> List(const Caller& caller, std::string_view user_id,
                                    bool reveal) const;
  // The full key, once its reveal is on record (Unavailable, and no key, when the record cannot
  // be written). PermissionDenied when reveal is off.
  Result<std::string> Reveal(const Caller& caller, std::string_view user_id,
                             std::string_view name) const;
  Status Delete(const Caller& caller, std::string_view user_id, std::string_view name) const;

 private:
  Result<std::string> Open(const KeyRecord& record) const;
  KeyView ToView(const KeyRecord& record) const;
  Result<KeyView> CreateKey(const User& caller, const std::string& target,
                            const std::string& key_name,
                            std::optional<std::string_view> duration) const;
  Result<std::string> RevealKey(const User& caller, const std::string& target,
                                std::string_view name) const;
  Status DeleteKey(const User& caller, const std::string& target, std::string_view name) const;
  // Records a done (or failed) action; a failure to record is only logged.
  void Audited(AuditAction action, const Caller& caller, std::string_view target_user,
               std::string_view key_name, const Status& outcome) const;
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
