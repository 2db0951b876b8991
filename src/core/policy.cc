#include "core/policy.h"

namespace keyward {

std::string ResolveUserId(const User& caller, std::string_view id) {
  return id == "me" ? caller.id : std::string(id);
}

Status CheckKeyAccess(const User& caller, std::string_view target_id) {
  if (caller.id == target_id || caller.IsOperator()) return Status::Ok();
  return Status::NotFound("no such user or key");
}

Status CheckOperator(const User& caller) {
  if (CanManageUsers(caller)) return Status::Ok();
  return Status::PermissionDenied("this needs the operator role (tag roles:id:operator)");
}

bool CanManageUsers(const User& caller) { return caller.IsOperator(); }

}  // namespace keyward
