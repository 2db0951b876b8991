#include "core/policy.h"

#include <algorithm>

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

Status RequireScope(const Grant& grant, std::string_view scope) {
  if (grant.HasScope(scope)) return Status::Ok();
  return Status::PermissionDenied("this API key lacks the scope " + std::string(scope));
}

Grant InheritLimits(Grant requested, bool tags_given, bool addresses_given, const Grant& creator,
                    const User& owner) {
  if (creator.full_access || requested.full_access) return requested;
  // The creator's subset as the owner holds it now: the tags the creating key presents.
  if (!tags_given && creator.tags) requested.tags = EffectiveTags(creator, owner.tags);
  if (!addresses_given) requested.allowed_addresses = creator.allowed_addresses;
  return requested;
}

Status CheckNewKeyGrant(const Grant& grant, const Grant& creator, const User& owner) {
  KW_RETURN_IF_ERROR(CheckWithin(grant, creator, "the creating key"));
  if (grant.tags) {
    for (const auto& tag : *grant.tags) {
      if (std::find(owner.tags.begin(), owner.tags.end(), tag) == owner.tags.end()) {
        return Status::PermissionDenied("tag " + tag + " is not one of " + owner.id + "'s tags");
      }
    }
  }
  const std::vector<std::string> presented = EffectiveTags(grant, owner.tags);
  const bool operator_key =
      std::find(presented.begin(), presented.end(), kOperatorTag) != presented.end();
  for (const auto& scope : grant.scopes) {
    if (NeedsOperator(scope) && !operator_key) {
      if (!owner.IsOperator()) {
        return Status::PermissionDenied("scope " + scope + " needs an operator owner");
      }
      return Status::PermissionDenied("scope " + scope + " needs the tag " +
                                      std::string(kOperatorTag) + " among the key's tags");
    }
  }
  return Status::Ok();
}

Status CheckReveal(const Grant& grant, UnixSeconds expires_at, std::string_view name,
                   const Grant& key_grant, UnixSeconds key_expires_at) {
  if (grant.full_access) return Status::Ok();
  auto broader = [&](const std::string& why) {
    return Status::PermissionDenied("key " + std::string(name) +
                                    " has a broader grant than this key: " + why);
  };
  if (Status within = CheckWithin(key_grant, grant, "this key"); !within.ok()) {
    return broader(within.message());
  }
  if (key_expires_at > expires_at) return broader("it expires after this key");
  return Status::Ok();
}

}  // namespace keyward
