// Issue 16's usage routes: GET /api/v1/users/{id}/apikeys/{name}/usage and GET
// /api/v1/usage/top (api/routes.h). Thin: the query into UsageService calls, the report into
// JSON; the service decides who may.
#include "api/json_io.h"
#include "api/routes.h"
#include "core/usage.h"

namespace keyward {
namespace {

using http::beast_http::verb;

// A query parameter given at most once: nullopt when absent, InvalidArgument when repeated.
Result<std::optional<std::string>> Param(const ApiCall& call, std::string_view name) {
  std::optional<std::string> value;
  for (const auto& [key, text] : call.query) {
    if (key != name) continue;
    if (value) {
      return Status::InvalidArgument("query parameter " + std::string(name) + " is repeated");
    }
    value = text;
  }
  return value;
}

// {"expired": n, "revoked": n, …}: every outcome but allowed, always all seven.
boost::json::object DeniedJson(const UsageCounts& counts) {
  boost::json::object denied;
  for (std::size_t i = 1; i < kUsageOutcomes; ++i) {
    denied[UsageOutcomeName(static_cast<UsageOutcome>(i))] = counts[i];
  }
  return denied;
}

boost::json::value StringOrNull(const std::string& text) {
  return text.empty() ? boost::json::value(nullptr) : boost::json::value(text);
}

boost::json::object UsageJson(const UsageReport& report) {
  boost::json::array buckets;
  buckets.reserve(report.buckets.size());
  for (const UsageBucket& bucket : report.buckets) {
    buckets.push_back({{"start", FormatRfc3339(bucket.start)},
                       {"allowed", bucket.counts[0]},
                       {"denied", DeniedJson(bucket.counts)}});
  }
  return {{"granularity", UsageGranularityName(report.granularity)},
          {"since", FormatRfc3339(report.since)},
          {"until", FormatRfc3339(report.until)},
          {"buckets", std::move(buckets)},
          {"totals", {{"allowed", report.totals[0]}, {"denied", DeniedJson(report.totals)}}},
          {"first_used", TimeOrNull(report.first_used_at)},
          {"last_used", TimeOrNull(report.last_used_at)},
          {"last_address", StringOrNull(report.last_address)},
          {"last_user_agent", StringOrNull(report.last_user_agent)}};
}

// GET …/apikeys/{name}/usage?since=&until=&granularity=
Result<Reply> GetKeyUsage(Services& s, ApiCall& call) {
  const UsageService* usage = s.usage;
  if (usage == nullptr) return Status::Unavailable("this server keeps no usage");
  UsageQuery query;
  KW_ASSIGN_OR_RETURN(query.since, Param(call, "since"));
  KW_ASSIGN_OR_RETURN(query.until, Param(call, "until"));
  KW_ASSIGN_OR_RETURN(query.granularity, Param(call, "granularity"));
  KW_ASSIGN_OR_RETURN(UsageReport report,
                      usage->Usage(call.caller(), call.params[0], call.params[1], query));
  return Reply{200, UsageJson(report), {}};
}

// GET /api/v1/usage/top?by=&since=&limit=
Result<Reply> GetTopUsage(Services& s, ApiCall& call) {
  const UsageService* usage = s.usage;
  if (usage == nullptr) return Status::Unavailable("this server keeps no usage");
  TopQuery query;
  KW_ASSIGN_OR_RETURN(query.by, Param(call, "by"));
  KW_ASSIGN_OR_RETURN(query.since, Param(call, "since"));
  KW_ASSIGN_OR_RETURN(query.limit, Param(call, "limit"));
  KW_ASSIGN_OR_RETURN(TopReport report, usage->Top(call.caller(), query));
  boost::json::array keys;
  keys.reserve(report.keys.size());
  for (const KeyUsageTotal& key : report.keys) {
    keys.push_back({{"user_id", key.user_id},
                    {"name", key.name},
                    {"allowed", key.allowed},
                    {"denied", key.denied},
                    {"requests", key.allowed + key.denied},
                    {"last_used", TimeOrNull(key.last_used_at)}});
  }
  return Reply{200,
               {{"by", report.by == UsageRanking::kDenied ? "denied" : "requests"},
                {"since", FormatRfc3339(report.since)},
                {"keys", std::move(keys)}},
               {}};
}

}  // namespace

void AddUsageRoutes(Router& router, Services& s) {
  const auto bind = RouteBinder(s);
  router.Add(verb::get, "/api/v1/users/{id}/apikeys/{name}/usage", Access::kSignedIn,
             bind(GetKeyUsage));
  router.Add(verb::get, "/api/v1/usage/top", Access::kSignedIn, bind(GetTopUsage));
}

}  // namespace keyward
