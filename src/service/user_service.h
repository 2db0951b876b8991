// Use cases for users and tags, and the first-start bootstrap of the admin.
//
// Managing users is for operators (PermissionDenied otherwise); anyone may read themselves.
// An API key also needs a scope (core/policy.h: RequireScope, PermissionDenied without it):
// users:read to read users (Get, List; itself too: GET /users/me is the way without a scope),
// users:write to change them (Create, Delete, AddTag, RemoveTag). The operator role is checked
// on the tags the key presents. Errors besides the store's: InvalidArgument for a bad id, name,
// type, tag or password.
// Create, Delete, AddTag and RemoveTag are recorded in the audit log (service/audit_log.h) once
// done, failures too; Bootstrap is not (no one calls it). Blocking (store I/O, Argon2id): call
// from blocking threads. Thread safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/user.h"
#include "service/audit_log.h"
#include "service/key_cache.h"
#include "service/principal.h"
#include "store/store.h"

namespace keyward {

struct NewUser {
  std::string id;
  std::string name;
  std::string type;                     // "person" | "application"
  std::optional<std::string> password;  // lets a person sign in; applications use keys only
};

class UserService {
 public:
  // `cache` (may be null) forgets a user's keys when the user is deleted or their tags change.
  // `audit` (may be null only where nothing needs recording: tests, benchmarks) records the
  // changes.
  UserService(Store& store, const Clock& clock, KeyCache* cache, const AuditLog* audit = nullptr)
      : store_(store), clock_(clock), cache_(cache), audit_(audit) {}

  // Any user may read themselves; reading others needs the operator role.
  Result<User> Get(const Caller& caller, std::string_view id) const;
  Result<std::vector<User>> List(const Caller& caller) const;
  Result<User> Create(const Caller& caller, const NewUser& in) const;
  // Operators may not delete themselves (so the last one cannot lock everyone out).
  Status Delete(const Caller& caller, std::string_view id) const;
  // Both return the user as it is afterwards.
  Result<User> AddTag(const Caller& caller, std::string_view id, std::string_view tag) const;
  Result<User> RemoveTag(const Caller& caller, std::string_view id, std::string_view tag) const;

  // On an empty store, creates user "admin" with the operator tag. The password is
  // `admin_password` when given, or a fresh random one. Returns the password when one was
  // generated (to be shown once), an empty string when the given one was used, and nullopt
  // when the store already had users.
  Result<std::optional<std::string>> Bootstrap(std::optional<std::string> admin_password) const;

 private:
  void Forget(std::string_view user_id) const {
    if (cache_ != nullptr) cache_->EraseUser(user_id);
  }
  Result<User> CreateUser(const Caller& caller, const NewUser& in) const;
  Status DeleteUser(const Caller& caller, const std::string& target) const;
  Result<User> AddUserTag(const Caller& caller, const std::string& target,
                          std::string_view tag) const;
  Result<User> RemoveUserTag(const Caller& caller, const std::string& target,
                             std::string_view tag) const;
  // Records a done (or failed) change; a failure to record is only logged.
  void Audited(AuditAction action, const Caller& caller, std::string_view target_user,
               std::string_view target, const Status& outcome) const;

  Store& store_;
  const Clock& clock_;
  KeyCache* cache_;
  const AuditLog* audit_;
};

}  // namespace keyward
