// Issue 17's leaked-key routes: POST /api/v1/apikeys/check and POST /api/v1/leaks (api/routes.h).
// Thin: JSON into LeakService calls and back; the service decides who may and what is live.
#include <fmt/format.h>

#include "api/json_io.h"
#include "api/routes.h"
#include "http/error_response.h"

namespace keyward {
namespace {

using http::beast_http::verb;

// {"hashes": [hex SHA-256…], "revoke": bool?} → 200 {"results": [{hash, live, revoked, user?,
// name?}]} in the request's order.
Result<Reply> CheckKeys(Services& s, ApiCall& call) {
  if (s.leaks == nullptr) return Status::Unavailable("this server does not check keys");
  KW_ASSIGN_OR_RETURN(boost::json::object body, call.JsonBody({"hashes", "revoke"}));
  KW_ASSIGN_OR_RETURN(auto hashes, OptionalStringArray(body, "hashes", kMaxCheckHashes));
  if (!hashes) return Status::InvalidArgument("\"hashes\" is required");
  bool revoke = false;
  if (const boost::json::value* value = body.if_contains("revoke");
      value != nullptr && !value->is_null()) {
    if (!value->is_bool()) return Status::InvalidArgument("\"revoke\" must be true or false");
    revoke = value->get_bool();
  }
  KW_ASSIGN_OR_RETURN(std::vector<HashCheck> checks,
                      s.leaks->Check(call.caller(), *hashes, revoke));
  boost::json::array results;
  results.reserve(checks.size());
  bool revoked = false;
  for (const HashCheck& check : checks) {
    boost::json::object result{
        {"hash", check.hash}, {"live", check.live}, {"revoked", check.revoked}};
    if (!check.user.empty()) {
      result["user"] = check.user;
      result["name"] = check.name;
    }
    revoked = revoked || check.revoked;
    results.push_back(std::move(result));
  }
  if (revoked) NudgeDispatcher(s);
  return Reply{200, {{"results", std::move(results)}}, {}};
}

// The "tokens" member of a leak report: objects {token, url?} (how many: LeakService::Report).
Result<std::vector<ReportedToken>> ParseTokens(const boost::json::object& body) {
  const boost::json::value* list = body.if_contains("tokens");
  if (list == nullptr || !list->is_array()) {
    return Status::InvalidArgument("\"tokens\" must be an array of {\"token\", \"url\"?}");
  }
  const boost::json::array& entries = list->get_array();
  std::vector<ReportedToken> tokens;
  tokens.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].is_object()) {
      return Status::InvalidArgument(fmt::format("tokens[{}] must be an object", i));
    }
    const boost::json::object& entry = entries[i].get_object();
    KW_RETURN_IF_ERROR(CheckKnownMembers(entry, {"token", "url"}));
    ReportedToken token;
    KW_ASSIGN_OR_RETURN(token.token, RequiredString(entry, "token"));
    KW_ASSIGN_OR_RETURN(token.url, OptionalString(entry, "url"));
    tokens.push_back(std::move(token));
  }
  return tokens;
}

// Public. {"tokens": [{token, url?}]} → 200 {"received": n, "live": m}; 429 with Retry-After once
// the client address has sent its share (checked before the body is read, so garbage counts).
Result<Reply> ReportLeaks(Services& s, ApiCall& call) {
  if (s.leaks == nullptr) return Status::Unavailable("this server takes no leak reports");
  if (const std::int64_t retry_after = s.leaks->Admit(call.client_address); retry_after > 0) {
    Reply reply{
        429,
        http::ErrorBody("resource_exhausted", "too many leak reports from this address; retry in " +
                                                  std::to_string(retry_after) + "s"),
        {}};
    reply.headers.emplace_back("Retry-After", std::to_string(retry_after));
    return reply;
  }
  KW_ASSIGN_OR_RETURN(boost::json::object body, call.JsonBody({"tokens"}));
  KW_ASSIGN_OR_RETURN(std::vector<ReportedToken> tokens, ParseTokens(body));
  KW_ASSIGN_OR_RETURN(LeakReportOutcome outcome, s.leaks->Report(tokens, call.client_address));
  if (outcome.live > 0) NudgeDispatcher(s);
  return Reply{200, {{"received", outcome.received}, {"live", outcome.live}}, {}};
}

}  // namespace

void AddLeakRoutes(Router& router, Services& s) {
  const auto bind = RouteBinder(s);
  router.Add(verb::post, "/api/v1/apikeys/check", Access::kSignedIn, bind(CheckKeys));
  router.Add(verb::post, "/api/v1/leaks", Access::kPublic, bind(ReportLeaks));
}

}  // namespace keyward
