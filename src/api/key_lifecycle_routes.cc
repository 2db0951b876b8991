// Issue 15's key routes: POST …/apikeys/{name}/rotate and PATCH …/apikeys/{name}
// (api/routes.h). Thin: JSON into KeyService calls and back; the service decides who may.
#include <fmt/format.h>

#include "api/json_io.h"
#include "api/routes.h"
#include "core/grant.h"

namespace keyward {
namespace {

using http::beast_http::verb;

// {grace?, retire_when_idle?} → 201 with the key, its new secret in full.
Result<Reply> RotateKey(Services& s, ApiCall& call) {
  KW_ASSIGN_OR_RETURN(boost::json::object body, call.JsonBody({"grace", "retire_when_idle"}));
  RotateRequest request;
  KW_ASSIGN_OR_RETURN(request.grace, OptionalString(body, "grace"));
  KW_ASSIGN_OR_RETURN(request.retire_when_idle, OptionalString(body, "retire_when_idle"));
  KW_ASSIGN_OR_RETURN(KeyView key,
                      s.keys.Rotate(call.caller(), call.params[0], call.params[1], request));
  NudgeDispatcher(s);
  return Reply{201, KeyJson(key), {}};
}

// The PATCH body: each member given changes that field (KeyEdit); at least one.
Result<KeyEdit> ParseKeyEdit(const ApiCall& call) {
  KW_ASSIGN_OR_RETURN(
      boost::json::object body,
      call.JsonBody({"name", "description", "expiration", "scopes", "tags", "allowed_addresses",
                     "disabled", "idle_timeout", "on_reuse", "rate_limit"}));
  KeyEdit edit;
  KW_ASSIGN_OR_RETURN(edit.name, OptionalString(body, "name"));
  KW_ASSIGN_OR_RETURN(edit.description, OptionalString(body, "description"));
  KW_ASSIGN_OR_RETURN(edit.expiration, OptionalString(body, "expiration"));
  KW_ASSIGN_OR_RETURN(edit.scopes, OptionalStringArray(body, "scopes", kMaxGrantEntries));
  KW_ASSIGN_OR_RETURN(edit.tags, OptionalStringArray(body, "tags", kMaxGrantEntries));
  KW_ASSIGN_OR_RETURN(edit.allowed_addresses,
                      OptionalStringArray(body, "allowed_addresses", kMaxGrantEntries));
  KW_ASSIGN_OR_RETURN(edit.disabled, OptionalBool(body, "disabled"));
  KW_ASSIGN_OR_RETURN(edit.idle_timeout, OptionalString(body, "idle_timeout"));
  KW_ASSIGN_OR_RETURN(edit.on_reuse, OptionalString(body, "on_reuse"));
  KW_ASSIGN_OR_RETURN(edit.rate_limit, OptionalRateLimit(body, "rate_limit"));  // null: remove
  return edit;
}

// → 200 with the key as it is now, masked.
Result<Reply> UpdateKey(Services& s, ApiCall& call) {
  KW_ASSIGN_OR_RETURN(KeyEdit edit, ParseKeyEdit(call));
  KW_ASSIGN_OR_RETURN(KeyView key,
                      s.keys.Update(call.caller(), call.params[0], call.params[1], edit));
  NudgeDispatcher(s);
  return Reply{200, KeyJson(key), {}};
}

}  // namespace

void AddKeyLifecycleRoutes(Router& router, Services& s) {
  router.Add(verb::post, "/api/v1/users/{id}/apikeys/{name}/rotate", Access::kSignedIn,
             [&s](ApiCall& call) { return RotateKey(s, call); });
  router.Add(verb::patch, "/api/v1/users/{id}/apikeys/{name}", Access::kSignedIn,
             [&s](ApiCall& call) { return UpdateKey(s, call); });
}

}  // namespace keyward
