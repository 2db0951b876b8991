// Use cases for how keys are used (issue 16): one key's usage history in dense hour or day
// buckets, and the busiest keys of all users.
//
// Usage needs what listing the key's owner's keys needs (KeyService::List): scope keys:read, and
// for another user's key an operator with users:read; other users' keys are NotFound for a
// non-operator, as is a key that does not exist. Top is for operators only, and a key needs
// usage:read (PermissionDenied otherwise). Times are UTC; a bucket holds whole hours, so the
// bucket holding `since` counts from its start. Errors besides the store's: InvalidArgument for a
// malformed query or a range over the limit (hour buckets at most 31 days, day buckets at most
// 400 days). Neither call is recorded in the audit log. Blocking: call from blocking threads.
// Thread safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/usage.h"
#include "service/principal.h"
#include "store/store.h"

namespace keyward {

// A query as a request gives it: each member nullopt for its default.
struct UsageQuery {
  // RFC 3339, or a duration back from now ("24h", "7d"). Defaults: since now − 24h, until now.
  std::optional<std::string> since = {};
  std::optional<std::string> until = {};
  std::optional<std::string> granularity = {};  // "hour" (default) | "day"
};

enum class UsageGranularity { kHour, kDay };
std::string_view UsageGranularityName(UsageGranularity granularity);  // "hour" | "day"

struct UsageBucket {
  UnixSeconds start = 0;  // the first second of the hour or day (UTC)
  UsageCounts counts{};
};

// One key's usage over [since, until].
struct UsageReport {
  UsageGranularity granularity = UsageGranularity::kHour;
  UnixSeconds since = 0;
  UnixSeconds until = 0;
  // Every bucket from the one holding `since` to the one holding `until`, ascending, empty ones
  // included (all counts 0).
  std::vector<UsageBucket> buckets;
  UsageCounts totals{};           // the sums over the buckets
  UnixSeconds first_used_at = 0;  // 0: never (as counted since issue 16)
  UnixSeconds last_used_at = 0;   // 0: never
  std::string last_address;       // "" unknown
  std::string last_user_agent;    // "" unknown
};

struct TopQuery {
  std::optional<std::string> by = {};     // "requests" (allowed + denied; default) | "denied"
  std::optional<std::string> since = {};  // as UsageQuery::since; default 24h
  std::optional<std::string> limit = {};  // 1…100; default 10
};

struct TopReport {
  UsageRanking by = UsageRanking::kRequests;
  UnixSeconds since = 0;
  std::vector<KeyUsageTotal> keys;  // most first (Store::TopUsage)
};

inline constexpr std::int64_t kMaxHourRange = 31 * 86400;
inline constexpr std::int64_t kMaxDayRange = 400 * 86400;
inline constexpr int kMaxTopLimit = 100;

class UsageService {
 public:
  // `store` and `clock` must outlive the service.
  UsageService(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // The usage of the key `name` of `user_id` ("me" allowed).
  Result<UsageReport> Usage(const Caller& caller, std::string_view user_id, std::string_view name,
                            const UsageQuery& query) const;

  // The keys with the most requests (or denials) in the hours from the one holding `since`.
  Result<TopReport> Top(const Caller& caller, const TopQuery& query) const;

 private:
  Store& store_;
  const Clock& clock_;
};

// A time as a query gives it: RFC 3339, or a duration back from `now` ("24h" → now − 86400).
// InvalidArgument naming `field` otherwise.
Result<UnixSeconds> ParseTimeOrAgo(std::string_view field, std::string_view text, UnixSeconds now);

}  // namespace keyward
