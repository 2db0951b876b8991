// Who may do what. Pure functions over the caller; thread safe.
//
//   - a user reaches their own keys; an operator (tag roles:id:operator) reaches everyone's;
//   - anyone else's keys do not exist for a non-operator: NotFound, the same answer as a key
//     that does not exist, so ids and names cannot be probed;
//   - user management is for operators: PermissionDenied otherwise.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "core/user.h"

namespace keyward {

// The id a path names: "me" stands for the caller.
std::string ResolveUserId(const User& caller, std::string_view id);

// OK, or NotFound when `caller` may not see `target_id`'s keys.
Status CheckKeyAccess(const User& caller, std::string_view target_id);

// OK, or PermissionDenied when `caller` is not an operator.
Status CheckOperator(const User& caller);

// True when `caller` may manage users (create them, tag them, reach their keys): exactly when
// CheckOperator(caller) is OK. Clients (the web UI) shape themselves by it, never by the tags.
bool CanManageUsers(const User& caller);

}  // namespace keyward
