// How keys are used (issue 16): the outcomes a presentation of a key is counted under, the hourly
// counts the store keeps per key, and the per-key rate limit.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace keyward {

// What became of one presentation of a known key (its current or an old secret, or a token
// issued from it). Unknown keys are not counted: there is no key to count them against.
//   allowed       it was accepted (and met what was required of it)
//   expired       the key (or the old secret's grace) had expired
//   revoked       a retired old secret (key.reuse_detected)
//   disabled      the key is disabled
//   scope | tag | address   a valid key refused by a requirement (api/requirements.h)
//   rate_limited  over the key's rate limit
enum class UsageOutcome : std::uint8_t {
  kAllowed,
  kExpired,
  kRevoked,
  kDisabled,
  kScope,
  kTag,
  kAddress,
  kRateLimited,
};
inline constexpr std::size_t kUsageOutcomes = 8;
// "allowed", "expired", "revoked", "disabled", "scope", "tag", "address", "rate_limited": the
// names in the usage API (`denied` object keys) and the metrics labels.
std::string_view UsageOutcomeName(UsageOutcome outcome);
std::optional<UsageOutcome> ParseUsageOutcome(std::string_view name);

// Counts indexed by UsageOutcome.
using UsageCounts = std::array<std::int64_t, kUsageOutcomes>;
std::int64_t DeniedTotal(const UsageCounts& counts);  // every count but kAllowed

inline constexpr std::int64_t kSecondsPerHour = 3600;
inline UnixSeconds HourStart(UnixSeconds t) { return t - (((t % 3600) + 3600) % 3600); }

// What one node counted for one presented secret in one hour since its last flush
// (service/usage_recorder.h). Store::RecordUsage adds it to what is stored.
struct UsageDelta {
  std::string hash;            // SHA-256 of the presented secret: a key's current or old secret
  UnixSeconds hour_start = 0;  // a multiple of 3600
  UsageCounts counts{};
  // The client of the latest presentation this node saw (any outcome); seen_at 0: none in this
  // delta (then the address and user agent are not written).
  UnixSeconds seen_at = 0;
  std::string last_address;
  std::string last_user_agent;
};

// One stored hour of one key.
struct UsageHour {
  UnixSeconds start = 0;
  UsageCounts counts{};
};

// What the store knows of a key's use.
struct KeyUsage {
  std::vector<UsageHour> hours;   // the stored hours in the asked range, ascending; no empty hours
  UnixSeconds first_used_at = 0;  // 0: never presented (as counted since V006)
  UnixSeconds last_used_at = 0;   // as KeyRecord::last_used_at
  std::string last_address;       // "" unknown
  std::string last_user_agent;
};

// GET /api/v1/usage/top: the busiest keys.
enum class UsageRanking { kRequests, kDenied };  // by allowed + denied, or by denied
struct KeyUsageTotal {
  std::string user_id;
  std::string name;
  std::int64_t allowed = 0;
  std::int64_t denied = 0;
  UnixSeconds last_used_at = 0;
};

// A key's rate limit: at most `requests` per `per` seconds, in bursts of up to `requests`
// (a token bucket). requests 0: no limit.
struct RateLimit {
  std::int64_t requests = 0;  // 1 … kMaxRateRequests, or 0 (off)
  std::int64_t per = 0;       // seconds, 1 … kMaxRatePeriod (0 when off)
  bool enabled() const { return requests > 0; }
  friend bool operator==(const RateLimit&, const RateLimit&) = default;
};
inline constexpr std::int64_t kMaxRateRequests = 1'000'000'000;
inline constexpr std::int64_t kMaxRatePeriod = 86'400;
// InvalidArgument naming what is wrong ("rate_limit.requests must be 1…1000000000", "rate_limit.per
// must be 1s…24h") unless `limit` is off (requests 0 and per 0) or valid.
Status ValidateRateLimit(const RateLimit& limit);

}  // namespace keyward
