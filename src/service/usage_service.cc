#include "service/usage_service.h"

#include <charconv>
#include <tuple>
#include <utility>

#include "core/duration.h"
#include "core/policy.h"

namespace keyward {
namespace {

constexpr std::int64_t kSecondsPerDay = 86400;
constexpr std::int64_t kDefaultSince = 86400;
constexpr int kDefaultTopLimit = 10;

UnixSeconds FloorTo(UnixSeconds t, std::int64_t size) { return t - (((t % size) + size) % size); }

Result<UsageGranularity> ParseGranularity(const std::optional<std::string>& text) {
  if (!text || *text == "hour") return UsageGranularity::kHour;
  if (*text == "day") return UsageGranularity::kDay;
  return Status::InvalidArgument("granularity must be \"hour\" or \"day\"");
}

// since and until of `query` at `now`, checked against the granularity's longest range.
Result<std::pair<UnixSeconds, UnixSeconds>> ParseRange(const UsageQuery& query,
                                                       UsageGranularity granularity,
                                                       UnixSeconds now) {
  UnixSeconds since = now - kDefaultSince;
  UnixSeconds until = now;
  if (query.since) {
    KW_ASSIGN_OR_RETURN(since, ParseTimeOrAgo("since", *query.since, now));
  }
  if (query.until) {
    KW_ASSIGN_OR_RETURN(until, ParseTimeOrAgo("until", *query.until, now));
  }
  if (since > until) return Status::InvalidArgument("since must not be later than until");
  if (granularity == UsageGranularity::kHour && until - since > kMaxHourRange) {
    return Status::InvalidArgument(
        "hour buckets cover at most 31 days: ask for granularity=day, or a shorter range");
  }
  if (granularity == UsageGranularity::kDay && until - since > kMaxDayRange) {
    return Status::InvalidArgument("day buckets cover at most 400 days: ask for a shorter range");
  }
  return std::make_pair(since, until);
}

// The stored hours spread over dense buckets of `size` seconds from `first` to `last` (starts).
std::vector<UsageBucket> DenseBuckets(const std::vector<UsageHour>& hours, UnixSeconds first,
                                      UnixSeconds last, std::int64_t size) {
  std::vector<UsageBucket> buckets;
  buckets.reserve(static_cast<std::size_t>((last - first) / size + 1));
  for (UnixSeconds start = first; start <= last; start += size) buckets.push_back({start, {}});
  for (const UsageHour& hour : hours) {
    const UnixSeconds start = FloorTo(hour.start, size);
    if (start < first || start > last) continue;  // the store keeps to the range; be safe
    UsageCounts& counts = buckets[static_cast<std::size_t>((start - first) / size)].counts;
    for (std::size_t i = 0; i < kUsageOutcomes; ++i) counts[i] += hour.counts[i];
  }
  return buckets;
}

Result<UsageRanking> ParseRanking(const std::optional<std::string>& text) {
  if (!text || *text == "requests") return UsageRanking::kRequests;
  if (*text == "denied") return UsageRanking::kDenied;
  return Status::InvalidArgument("by must be \"requests\" or \"denied\"");
}

Result<int> ParseLimit(const std::optional<std::string>& text) {
  if (!text) return kDefaultTopLimit;
  int limit = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, limit);
  if (text->empty() || ec != std::errc() || ptr != end || limit < 1 || limit > kMaxTopLimit) {
    return Status::InvalidArgument("limit must be a whole number from 1 to 100");
  }
  return limit;
}

}  // namespace

std::string_view UsageGranularityName(UsageGranularity granularity) {
  return granularity == UsageGranularity::kDay ? "day" : "hour";
}

Result<UnixSeconds> ParseTimeOrAgo(std::string_view field, std::string_view text, UnixSeconds now) {
  if (std::optional<UnixSeconds> at = ParseRfc3339(text)) return *at;
  auto ago = ParseDuration(text);
  if (!ago.ok()) {
    return Status::InvalidArgument(std::string(field) +
                                   " must be an RFC 3339 time or a duration back from now "
                                   "(\"24h\", \"7d\")");
  }
  return now - *ago;
}

Result<UsageReport> UsageService::Usage(const Caller& caller, std::string_view user_id,
                                        std::string_view name, const UsageQuery& query) const {
  // Who may: as listing the owner's keys (KeyService::List).
  const std::string target = ResolveUserId(caller.user, user_id);
  KW_RETURN_IF_ERROR(RequireScope(caller.grant, scope::kKeysRead));
  KW_RETURN_IF_ERROR(CheckKeyAccess(caller.user, target));
  if (target != caller.user.id) KW_RETURN_IF_ERROR(RequireScope(caller.grant, scope::kUsersRead));

  UsageReport report;
  KW_ASSIGN_OR_RETURN(report.granularity, ParseGranularity(query.granularity));
  KW_ASSIGN_OR_RETURN(auto range, ParseRange(query, report.granularity, clock_.Now()));
  std::tie(report.since, report.until) = range;
  const std::int64_t size =
      report.granularity == UsageGranularity::kDay ? kSecondsPerDay : kSecondsPerHour;
  const UnixSeconds first = FloorTo(report.since, size);
  const UnixSeconds last = FloorTo(report.until, size);

  auto usage = store_.GetUsage(target, name, first, last + size);
  if (!usage.ok()) {
    if (usage.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("no such user or key");
    }
    return usage.status();
  }
  report.buckets = DenseBuckets(usage->hours, first, last, size);
  for (const UsageBucket& bucket : report.buckets) {
    for (std::size_t i = 0; i < kUsageOutcomes; ++i) report.totals[i] += bucket.counts[i];
  }
  report.first_used_at = usage->first_used_at;
  report.last_used_at = usage->last_used_at;
  report.last_address = std::move(usage->last_address);
  report.last_user_agent = std::move(usage->last_user_agent);
  return report;
}

Result<TopReport> UsageService::Top(const Caller& caller, const TopQuery& query) const {
  KW_RETURN_IF_ERROR(RequireScope(caller.grant, scope::kUsageRead));
  KW_RETURN_IF_ERROR(CheckOperator(caller.user));
  TopReport report;
  KW_ASSIGN_OR_RETURN(report.by, ParseRanking(query.by));
  const UnixSeconds now = clock_.Now();
  report.since = now - kDefaultSince;
  if (query.since) {
    KW_ASSIGN_OR_RETURN(report.since, ParseTimeOrAgo("since", *query.since, now));
  }
  KW_ASSIGN_OR_RETURN(const int limit, ParseLimit(query.limit));
  KW_ASSIGN_OR_RETURN(report.keys,
                      store_.TopUsage(report.by, FloorTo(report.since, kSecondsPerHour), limit));
  return report;
}

}  // namespace keyward
