// Who may do what. Pure functions over the caller; thread safe.
//
//   - a user reaches their own keys; an operator (tag roles:id:operator) reaches everyone's;
//   - anyone else's keys do not exist for a non-operator: NotFound, the same answer as a key
//     that does not exist, so ids and names cannot be probed;
//   - user management is for operators: PermissionDenied otherwise;
//   - an API key acts only within its grant (core/grant.h): each use case names the scope it
//     needs and checks it with RequireScope; sessions and keys made before scopes pass every
//     such check. A key's operator powers need both the scope and the operator tag among the
//     tags the key presents (Principal::user.tags are those).
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "core/grant.h"
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

// OK when `grant` holds `scope` (always for full access: sessions, keys made before scopes);
// otherwise PermissionDenied "this API key lacks the scope keys:write".
Status RequireScope(const Grant& grant, std::string_view scope);

// --- Never more than the creator (docs/api.md, "Scopes") ---

// The grant of a new key for `owner` when a caller with `creator` makes it and the request
// gave `requested` (normalized; `tags_given`/`addresses_given` say whether the request named
// tags and allowed addresses). A limited creator passes its limits on to what the request left
// out: no tags → the creator's tag subset, kept to the owner's current tags (nullopt, all of
// the owner's tags live, stays nullopt); no allowed addresses → the creator's. A full-access
// creator passes nothing on.
Grant InheritLimits(Grant requested, bool tags_given, bool addresses_given, const Grant& creator,
                    const User& owner);

// OK when `creator` may give `grant` to a key of `owner` (with the owner's current tags), else
// PermissionDenied saying which part exceeds:
//   - `grant` within `creator` (CheckWithin, "the creating key"; any grant for full access);
//   - every tag of `grant` one of the owner's: "tag team:z is not one of alice's tags";
//   - users:read and users:write only when the key presents the operator tag:
//     "scope users:write needs an operator owner".
Status CheckNewKeyGrant(const Grant& grant, const Grant& creator, const User& owner);

// OK when a caller with `grant`, whose credential expires at `expires_at`, may see key `name`
// (of grant `key_grant`, expiring at `key_expires_at`) in full: always for full access;
// otherwise only a key within `grant` that expires no later. Else PermissionDenied
// "key other-key has a broader grant than this key: <which part>".
Status CheckReveal(const Grant& grant, UnixSeconds expires_at, std::string_view name,
                   const Grant& key_grant, UnixSeconds key_expires_at);

}  // namespace keyward
