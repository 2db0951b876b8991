#include "service/user_service.h"

#include <algorithm>

#include "common/random.h"
#include "core/password.h"
#include "core/policy.h"

namespace keyward {
namespace {

Status NoSuchUser() { return Status::NotFound("no such user"); }

Status MapNotFound(const Status& s) { return s.code() == StatusCode::kNotFound ? NoSuchUser() : s; }

// Reading (users:read) or changing (users:write) users: the scope, then the operator role.
Status CheckManage(const Caller& caller, std::string_view scope) {
  KW_RETURN_IF_ERROR(RequireScope(caller.grant, scope));
  return CheckOperator(caller.user);
}

}  // namespace

Result<User> UserService::Get(const Caller& caller, std::string_view id) const {
  KW_RETURN_IF_ERROR(RequireScope(caller.grant, scope::kUsersRead));
  std::string target = ResolveUserId(caller.user, id);
  if (target != caller.user.id) KW_RETURN_IF_ERROR(CheckOperator(caller.user));
  auto user = store_.GetUser(target);
  if (!user.ok()) return MapNotFound(user.status());
  return user;
}

Result<std::vector<User>> UserService::List(const Caller& caller) const {
  KW_RETURN_IF_ERROR(CheckManage(caller, scope::kUsersRead));
  return store_.ListUsers();
}

void UserService::Audited(AuditAction action, const Caller& caller, std::string_view target_user,
                          std::string_view target, const Status& outcome) const {
  if (audit_ == nullptr) return;
  audit_->RecordAfter({.action = action,
                       .actor = caller.user.id,
                       .user = target_user,
                       .target = target,
                       .address = caller.address},
                      outcome);
}

Result<User> UserService::Create(const Caller& caller, const NewUser& in) const {
  Result<User> created = CreateUser(caller, in);
  Audited(AuditAction::kUserCreate, caller, in.id, "", created.status());
  return created;
}

Result<User> UserService::CreateUser(const Caller& caller, const NewUser& in) const {
  KW_RETURN_IF_ERROR(CheckManage(caller, scope::kUsersWrite));
  KW_RETURN_IF_ERROR(ValidateUserId(in.id));
  KW_RETURN_IF_ERROR(ValidateUserName(in.name));
  auto type = ParseUserType(in.type);
  if (!type) return Status::InvalidArgument("user type must be \"person\" or \"application\"");
  User user;
  user.id = in.id;
  user.name = in.name;
  user.type = *type;
  user.created_at = clock_.Now();
  if (in.password) {
    if (*type == UserType::kApplication) {
      return Status::InvalidArgument("application users sign in with keys, not passwords");
    }
    KW_RETURN_IF_ERROR(ValidatePassword(*in.password));
    KW_ASSIGN_OR_RETURN(user.password_hash, HashPassword(*in.password));
  }
  Status created = store_.CreateUser(user);
  if (created.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("a user with id \"" + in.id + "\" already exists");
  }
  KW_RETURN_IF_ERROR(ExplainDiskFull(created, "the user was not created"));
  return user;
}

Status UserService::Delete(const Caller& caller, std::string_view id) const {
  std::string target = ResolveUserId(caller.user, id);
  Status deleted = DeleteUser(caller, target);
  Audited(AuditAction::kUserDelete, caller, target, "", deleted);
  return deleted;
}

Status UserService::DeleteUser(const Caller& caller, const std::string& target) const {
  KW_RETURN_IF_ERROR(CheckManage(caller, scope::kUsersWrite));
  if (target == caller.user.id) return Status::InvalidArgument("you cannot delete yourself");
  Status deleted = store_.DeleteUser(target);
  Forget(target);
  return ExplainDiskFull(MapNotFound(deleted), "the user was not deleted");
}

Result<User> UserService::AddTag(const Caller& caller, std::string_view id,
                                 std::string_view tag) const {
  std::string target = ResolveUserId(caller.user, id);
  Result<User> tagged = AddUserTag(caller, target, tag);
  Audited(AuditAction::kTagAdd, caller, target, tag, tagged.status());
  return tagged;
}

Result<User> UserService::AddUserTag(const Caller& caller, const std::string& target,
                                     std::string_view tag) const {
  KW_RETURN_IF_ERROR(CheckManage(caller, scope::kUsersWrite));
  KW_RETURN_IF_ERROR(ValidateTag(tag));
  Status added = store_.AddTag(target, tag);
  Forget(target);
  KW_RETURN_IF_ERROR(ExplainDiskFull(MapNotFound(added), "the tag was not added"));
  auto user = store_.GetUser(target);
  if (!user.ok()) return MapNotFound(user.status());
  return user;
}

Result<User> UserService::RemoveTag(const Caller& caller, std::string_view id,
                                    std::string_view tag) const {
  std::string target = ResolveUserId(caller.user, id);
  Result<User> untagged = RemoveUserTag(caller, target, tag);
  Audited(AuditAction::kTagDelete, caller, target, tag, untagged.status());
  return untagged;
}

Result<User> UserService::RemoveUserTag(const Caller& caller, const std::string& target,
                                        std::string_view tag) const {
  KW_RETURN_IF_ERROR(CheckManage(caller, scope::kUsersWrite));
  if (target == caller.user.id && tag == kOperatorTag) {
    return Status::InvalidArgument("you cannot remove your own operator role");
  }
  Status removed = store_.RemoveTag(target, tag);
  Forget(target);
  if (removed.code() == StatusCode::kNotFound) {
    return Status::NotFound("no such user, or the user has no tag \"" + std::string(tag) + "\"");
  }
  KW_RETURN_IF_ERROR(ExplainDiskFull(removed, "the tag was not removed"));
  auto user = store_.GetUser(target);
  if (!user.ok()) return MapNotFound(user.status());
  return user;
}

Result<std::optional<std::string>> UserService::Bootstrap(
    std::optional<std::string> admin_password) const {
  KW_ASSIGN_OR_RETURN(std::int64_t count, store_.CountUsers());
  if (count > 0) return std::optional<std::string>();
  std::string password;
  bool generated = !admin_password.has_value();
  if (generated) {
    password = RandomString(24, "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789");
  } else {
    password = std::move(*admin_password);
    KW_RETURN_IF_ERROR(ValidatePassword(password));
  }
  User admin;
  admin.id = "admin";
  admin.name = "Administrator";
  admin.type = UserType::kPerson;
  admin.tags = {std::string(kOperatorTag)};
  admin.created_at = clock_.Now();
  KW_ASSIGN_OR_RETURN(admin.password_hash, HashPassword(password));
  Status created = store_.CreateUser(admin);
  // Another node bootstrapped at the same moment: theirs stands.
  if (created.code() == StatusCode::kAlreadyExists) return std::optional<std::string>();
  KW_RETURN_IF_ERROR(created);
  if (!generated) SecureWipe(password);
  return std::optional<std::string>(std::move(password));
}

}  // namespace keyward
