// Use cases for API keys: create, list, reveal, delete.
//
// Every call takes the caller and the target user id as the path named it ("me" allowed) and
// applies core/policy.h: other users' keys are NotFound for a non-operator. Errors besides the
// store's: InvalidArgument (bad name or duration, or a duration over the server's maximum),
// PermissionDenied (reveal when the server keeps no copies). Blocking: call from worker
// threads. Thread safe.
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
#include "service/key_cache.h"
#include "service/options.h"
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
};

class KeyService {
 public:
  // `master_key` may be null only when options.reveal is false. `cache` (may be null) is told
  // of every deleted key before Delete returns.
  KeyService(Store& store, const MasterKey* master_key, const ServiceOptions& options,
             const Clock& clock, KeyCache* cache)
      : store_(store), master_key_(master_key), options_(options), clock_(clock), cache_(cache) {}

  // `name` defaults to "token_" + 19 random characters; `duration` (e.g. "24h") to the
  // server's default validity. The returned view holds the full key.
  Result<KeyView> Create(const User& caller, std::string_view user_id,
                         std::optional<std::string_view> name,
                         std::optional<std::string_view> duration) const;
  // Ordered by creation. With `reveal` and reveal on, tokens are in full; otherwise masked.
  Result<std::vector<KeyView>> List(const User& caller, std::string_view user_id,
                                    bool reveal) const;
  // The full key. PermissionDenied when reveal is off.
  Result<std::string> Reveal(const User& caller, std::string_view user_id,
                             std::string_view name) const;
  Status Delete(const User& caller, std::string_view user_id, std::string_view name) const;

 private:
  Result<std::string> Open(const KeyRecord& record) const;
  KeyView ToView(const KeyRecord& record) const;

  Store& store_;
  const MasterKey* master_key_;
  const ServiceOptions& options_;
  const Clock& clock_;
  KeyCache* cache_;
};

}  // namespace keyward
