#include "api/routes.h"

#include "api/admission.h"
#include "api/client_address.h"
#include "api/json_io.h"
#include "api/openapi_document.h"
#include "api/requirements.h"
#include "core/duration.h"
#include "core/grant.h"
#include "core/policy.h"
#include "http/error_response.h"
#include "token/jwt.h"

namespace keyward {
namespace {

using http::beast_http::verb;

Reply Json(int status, boost::json::value body) { return Reply{status, std::move(body), {}}; }
Reply NoContent() { return Reply{204, nullptr, {}}; }

// Secure over HTTPS only: a browser would not send a Secure cookie back over plain HTTP.
std::string SessionCookie(const Services& s, std::string_view token, std::int64_t max_age) {
  return "keyward_session=" + std::string(token) + "; Path=/; HttpOnly; SameSite=Strict" +
         (s.secure_cookie ? "; Secure" : "") + "; Max-Age=" + std::to_string(max_age);
}

Result<Reply> Login(Services& s, ApiCall& call) {
  KW_ASSIGN_OR_RETURN(boost::json::object body, call.JsonBody({"username", "password"}));
  KW_ASSIGN_OR_RETURN(std::string username, RequiredString(body, "username"));
  KW_ASSIGN_OR_RETURN(std::string password, RequiredString(body, "password"));
  std::int64_t retry_after = 0;
  auto signed_in = s.sign_in.Login(username, password, call.client_address, &retry_after);
  if (!signed_in.ok()) {
    if (retry_after > 0) {
      Reply reply = Json(429, http::ErrorBody("resource_exhausted", signed_in.status().message()));
      reply.headers.emplace_back("Retry-After", std::to_string(retry_after));
      return reply;
    }
    return signed_in.status();
  }
  Reply reply = Json(
      200, {{"token", signed_in->token}, {"expiration", FormatRfc3339(signed_in->expires_at)}});
  reply.headers.emplace_back("Set-Cookie",
                             SessionCookie(s, signed_in->token, s.options.session_validity));
  return reply;
}

Result<Reply> Logout(Services& s, ApiCall& call) {
  KW_RETURN_IF_ERROR(call.JsonBody({}).status());  // takes no fields: any is refused
  KW_RETURN_IF_ERROR(s.sign_in.Logout(call.caller()));
  Reply reply = NoContent();
  reply.headers.emplace_back("Set-Cookie", SessionCookie(s, "", 0));
  return reply;
}

// A list member of a request body, each entry checked by `validate` (400 naming the first bad).
Result<std::optional<std::vector<std::string>>> ValidatedList(
    const boost::json::object& body, std::string_view name, Status (*validate)(std::string_view)) {
  KW_ASSIGN_OR_RETURN(auto list, OptionalStringArray(body, name, kMaxGrantEntries));
  if (list) {
    for (const std::string& entry : *list) KW_RETURN_IF_ERROR(validate(entry));
  }
  return list;
}

// The answer for a valid key: the identity and what it may do.
boost::json::object AllowedResult(const Principal& principal) {
  return {{"id", principal.user.id},
          {"tags", StringArray(principal.user.tags)},
          {"scopes", StringArray(principal.grant.scopes)},
          {"full_access", principal.grant.full_access}};
}

// The DataOS authorize call: is this key valid, whose is it, and does it meet the caller's
// requirements (scopes, tags, the client address it is used from)?
Result<Reply> Authorize(Services& s, ApiCall& call) {
  KW_RETURN_IF_ERROR(RequireScope(call.caller().grant, scope::kAuthorize));
  KW_ASSIGN_OR_RETURN(boost::json::object body,
                      call.JsonBody({"token", "scopes", "tags", "address"}));
  KW_ASSIGN_OR_RETURN(std::string token, RequiredString(body, "token"));
  KW_ASSIGN_OR_RETURN(auto scopes, ValidatedList(body, "scopes", ValidateScope));
  KW_ASSIGN_OR_RETURN(auto tags, ValidatedList(body, "tags", ValidateTag));
  KW_ASSIGN_OR_RETURN(std::optional<std::string> address, OptionalString(body, "address"));
  if (address && !IsIpAddress(*address)) {
    return Status::InvalidArgument("\"address\" must be an IP address");
  }
  // An access token the issuer signed for a gateway audience counts as its key, narrowed.
  // A retired old secret is reported as used from where the gateway says, else the caller.
  const ClientInfo client =
      ClientOf(call.request, address ? std::string_view(*address) : call.client_address);
  auto principal = s.tokens != nullptr && token::LooksLikeJwt(token)
                       ? s.tokens->Verify(token, AudienceSet::kGateway)
                       : s.authenticator.Authenticate(token, client);
  if (!principal.ok()) {
    if (principal.status().code() != StatusCode::kUnauthenticated) {
      s.metrics.CountVerification(VerifyOutcome::kError);
      return principal.status();
    }
    s.metrics.CountVerification(VerifyOutcome::kInvalid);
    return Json(200, {{"allow", false}, {"valid", false}, {"result", nullptr}});
  }
  s.metrics.CountVerification(VerifyOutcome::kValid);
  Requirements required;
  if (scopes) required.scopes.assign(scopes->begin(), scopes->end());
  if (tags) required.tags.assign(tags->begin(), tags->end());
  const auto at = address ? std::optional<std::string_view>(*address) : std::nullopt;
  // The key being authorized is counted and limited (api/admission.h), not the caller's.
  const KeyMeters meters = s.authenticator.MetersOf(*principal);
  const Clock& clock = ClockOf(s);
  const Admission admission =
      Admit(*principal, meters, at, UserAgentOf(call.request), required, clock.Now());
  if (admission.rate_limited()) {
    s.metrics.CountDenial(DenialReason::kRateLimited);
    return Reply{
        429,
        http::ErrorBody(StatusCodeName(StatusCode::kResourceExhausted), admission.denial->message),
        RateLimitedHeaders(admission.rate)};
  }
  if (const auto& denial = admission.denial) {
    s.metrics.CountDenial(denial->reason);
    return Json(200, {{"allow", false},
                      {"valid", true},
                      {"reason", DenialReasonName(denial->reason)},
                      {"result", nullptr}});
  }
  return Json(200, {{"allow", true}, {"valid", true}, {"result", AllowedResult(*principal)}});
}

// This API's OpenAPI document, as built into the binary (src/api/openapi.json).
Result<Reply> GetOpenApi(Services&, ApiCall&) {
  const boost::json::value& doc = openapi::Document();
  if (doc.is_null()) return Status::Internal("the embedded OpenAPI document is not valid JSON");
  return Json(200, doc);
}

// What a client (the web UI) needs to know of this server's settings.
Result<Reply> GetSettings(Services& s, ApiCall&) {
  return Json(200, {{"default_validity_seconds", s.options.default_validity},
                    {"max_validity_seconds", s.options.max_validity},
                    {"reveal", s.options.reveal},
                    {"key_prefix", s.options.key_prefix}});
}

// The caller, and what the caller may do: the UI shows the Users page by `can_manage_users`.
Result<Reply> GetMe(Services&, ApiCall& call) {
  const User& me = call.caller().user;
  boost::json::object out = UserJson(me);
  out["can_manage_users"] = CanManageUsers(me);
  return Json(200, std::move(out));
}

Result<Reply> ListUsers(Services& s, ApiCall& call) {
  KW_ASSIGN_OR_RETURN(std::vector<User> users, s.users.List(call.caller()));
  boost::json::array out;
  for (const User& user : users) out.push_back(UserJson(user));
  return Json(200, std::move(out));
}

Result<Reply> CreateUser(Services& s, ApiCall& call) {
  KW_ASSIGN_OR_RETURN(boost::json::object body, call.JsonBody({"id", "name", "type", "password"}));
  NewUser in;
  KW_ASSIGN_OR_RETURN(in.id, RequiredString(body, "id"));
  KW_ASSIGN_OR_RETURN(in.name, RequiredString(body, "name"));
  KW_ASSIGN_OR_RETURN(std::optional<std::string> type, OptionalString(body, "type"));
  in.type = type.value_or("person");
  KW_ASSIGN_OR_RETURN(in.password, OptionalString(body, "password"));
  KW_ASSIGN_OR_RETURN(User user, s.users.Create(call.caller(), in));
  return Json(201, UserJson(user));
}

Result<Reply> GetUser(Services& s, ApiCall& call) {
  KW_ASSIGN_OR_RETURN(User user, s.users.Get(call.caller(), call.params[0]));
  return Json(200, UserJson(user));
}

Result<Reply> DeleteUser(Services& s, ApiCall& call) {
  KW_RETURN_IF_ERROR(s.users.Delete(call.caller(), call.params[0]));
  return NoContent();
}

Result<Reply> AddTag(Services& s, ApiCall& call) {
  KW_ASSIGN_OR_RETURN(boost::json::object body, call.JsonBody({"tag"}));
  KW_ASSIGN_OR_RETURN(std::string tag, RequiredString(body, "tag"));
  KW_ASSIGN_OR_RETURN(User user, s.users.AddTag(call.caller(), call.params[0], tag));
  return Json(200, UserJson(user));
}

Result<Reply> RemoveTag(Services& s, ApiCall& call) {
  KW_ASSIGN_OR_RETURN(User user, s.users.RemoveTag(call.caller(), call.params[0], call.params[1]));
  return Json(200, UserJson(user));
}

// A query parameter given at most once: nullopt when absent, InvalidArgument when repeated.
Result<std::optional<std::string>> QueryParam(const ApiCall& call, std::string_view name) {
  std::optional<std::string> value;
  for (const auto& [key, text] : call.query) {
    if (key != name) continue;
    if (value)
      return Status::InvalidArgument("query parameter " + std::string(name) + " is repeated");
    value = text;
  }
  return value;
}

// GET …/apikeys?reveal=true&expiring_within=7d
Result<Reply> ListKeys(Services& s, ApiCall& call) {
  KW_ASSIGN_OR_RETURN(std::optional<std::string> within_text, QueryParam(call, "expiring_within"));
  std::optional<std::int64_t> within;
  if (within_text) {
    auto seconds = ParseDuration(*within_text);
    if (!seconds.ok()) {
      return Status::InvalidArgument("expiring_within: " + std::string(seconds.status().message()));
    }
    within = *seconds;
  }
  KW_ASSIGN_OR_RETURN(std::vector<KeyView> keys,
                      s.keys.List(call.caller(), call.params[0], call.QueryFlag("reveal"), within));
  boost::json::array out;
  for (const KeyView& key : keys) out.push_back(KeyJson(key));
  return Json(200, std::move(out));
}

// The create body: {name?, duration?, scopes?, tags?, allowed_addresses?, description?,
// idle_timeout?, on_reuse?, rate_limit?, canary?}: the lists must be arrays of strings (400 naming
// the member); the service validates the entries (400) and decides whether the caller may give
// them (403).
Result<NewKey> ParseNewKey(const ApiCall& call) {
  KW_ASSIGN_OR_RETURN(
      boost::json::object body,
      call.JsonBody({"name", "duration", "scopes", "tags", "allowed_addresses", "description",
                     "idle_timeout", "on_reuse", "rate_limit", "canary"}));
  NewKey in;
  KW_ASSIGN_OR_RETURN(std::optional<bool> canary, OptionalBool(body, "canary"));
  in.canary = canary.value_or(false);
  KW_ASSIGN_OR_RETURN(in.description, OptionalString(body, "description"));
  KW_ASSIGN_OR_RETURN(in.idle_timeout, OptionalString(body, "idle_timeout"));
  KW_ASSIGN_OR_RETURN(in.on_reuse, OptionalString(body, "on_reuse"));
  KW_ASSIGN_OR_RETURN(in.rate_limit, OptionalRateLimit(body, "rate_limit"));
  if (in.rate_limit && in.rate_limit->requests == 0) in.rate_limit.reset();  // null: none
  KW_ASSIGN_OR_RETURN(in.name, OptionalString(body, "name"));
  KW_ASSIGN_OR_RETURN(in.duration, OptionalString(body, "duration"));
  KW_ASSIGN_OR_RETURN(auto scopes, OptionalStringArray(body, "scopes", kMaxGrantEntries));
  in.scopes = std::move(scopes).value_or(std::vector<std::string>());
  KW_ASSIGN_OR_RETURN(in.tags, OptionalStringArray(body, "tags", kMaxGrantEntries));
  KW_ASSIGN_OR_RETURN(in.allowed_addresses,
                      OptionalStringArray(body, "allowed_addresses", kMaxGrantEntries));
  return in;
}

Result<Reply> CreateKey(Services& s, ApiCall& call) {
  KW_ASSIGN_OR_RETURN(NewKey in, ParseNewKey(call));
  KW_ASSIGN_OR_RETURN(KeyView key, s.keys.Create(call.caller(), call.params[0], in));
  NudgeDispatcher(s);  // key.created is in the outbox
  return Json(201, KeyJson(key));
}

// The key with its token in full.
Result<Reply> RevealKey(Services& s, ApiCall& call) {
  KW_ASSIGN_OR_RETURN(KeyView key, s.keys.Reveal(call.caller(), call.params[0], call.params[1]));
  return Json(200, KeyJson(key));
}

Result<Reply> DeleteKey(Services& s, ApiCall& call) {
  KW_RETURN_IF_ERROR(s.keys.Delete(call.caller(), call.params[0], call.params[1]));
  NudgeDispatcher(s);  // key.deleted is in the outbox
  return NoContent();
}

// GET /audit?user=&since=&until=&limit=: the audit log, newest first.
Result<Reply> GetAudit(Services& s, ApiCall& call) {
  if (s.audit == nullptr) return Status::Unavailable("this server keeps no audit log");
  AuditQuery query;
  KW_ASSIGN_OR_RETURN(query.user, QueryParam(call, "user"));
  KW_ASSIGN_OR_RETURN(query.since, QueryParam(call, "since"));
  KW_ASSIGN_OR_RETURN(query.until, QueryParam(call, "until"));
  KW_ASSIGN_OR_RETURN(query.limit, QueryParam(call, "limit"));
  KW_ASSIGN_OR_RETURN(AuditFilter filter, ParseAuditQuery(query));
  KW_ASSIGN_OR_RETURN(std::vector<AuditEvent> events,
                      s.audit->List(call.caller(), std::move(filter)));
  boost::json::array out;
  for (const AuditEvent& event : events) out.push_back(AuditEventJson(event));
  return Json(200, {{"events", std::move(out)}});
}

// GET /readyz: 200 while the store answers with the current schema, else 503 (the probe of a
// load balancer or an orchestrator; /healthz says only that the process runs).
Result<Reply> GetReady(Services& s, ApiCall&) {
  if (s.health == nullptr) return Status::Unavailable("this server has no readiness check");
  KW_RETURN_IF_ERROR(s.health->Ready());
  return Json(200, {{"status", "ready"}});
}

}  // namespace

void AddApiRoutes(Router& router, Services& s) {
  const auto bind = RouteBinder(s);
  const Access open = Access::kPublic;
  const Access auth = Access::kSignedIn;
  router.Add(verb::post, "/api/v1/login", open, bind(Login));
  router.Add(verb::post, "/api/v1/logout", auth, bind(Logout));
  router.Add(verb::get, "/api/v1/settings", open, bind(GetSettings));
  router.Add(verb::get, "/api/v1/openapi.json", open, bind(GetOpenApi));
  router.Add(verb::get, "/readyz", open, bind(GetReady));
  router.Add(verb::post, "/api/v1/authorize", auth, bind(Authorize));
  router.Add(verb::get, "/api/v1/users/me", auth, bind(GetMe));
  router.Add(verb::get, "/api/v1/users", auth, bind(ListUsers));
  router.Add(verb::post, "/api/v1/users", auth, bind(CreateUser));
  router.Add(verb::get, "/api/v1/users/{id}", auth, bind(GetUser));
  router.Add(verb::delete_, "/api/v1/users/{id}", auth, bind(DeleteUser));
  router.Add(verb::post, "/api/v1/users/{id}/tags", auth, bind(AddTag));
  router.Add(verb::delete_, "/api/v1/users/{id}/tags/{tag}", auth, bind(RemoveTag));
  router.Add(verb::get, "/api/v1/users/{id}/apikeys", auth, bind(ListKeys));
  router.Add(verb::post, "/api/v1/users/{id}/apikeys", auth, bind(CreateKey));
  router.Add(verb::delete_, "/api/v1/users/{id}/apikeys/{name}", auth, bind(DeleteKey));
  router.Add(verb::get, "/api/v1/users/{id}/apikeys/{name}/token", auth, bind(RevealKey));
  router.Add(verb::get, "/api/v1/audit", auth, bind(GetAudit));
  AddKeyLifecycleRoutes(router, s);
  AddWebhookRoutes(router, s);
  AddUsageRoutes(router, s);
  AddLeakRoutes(router, s);
}

}  // namespace keyward
