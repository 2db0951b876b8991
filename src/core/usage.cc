#include "core/usage.h"

#include <fmt/format.h>

#include <numeric>

namespace keyward {
namespace {

constexpr std::array<std::string_view, kUsageOutcomes> kOutcomeNames = {
    "allowed", "expired", "revoked", "disabled", "scope", "tag", "address", "rate_limited"};

}  // namespace

std::string_view UsageOutcomeName(UsageOutcome outcome) {
  return kOutcomeNames[static_cast<std::size_t>(outcome)];
}

std::optional<UsageOutcome> ParseUsageOutcome(std::string_view name) {
  for (std::size_t i = 0; i < kOutcomeNames.size(); ++i) {
    if (kOutcomeNames[i] == name) return static_cast<UsageOutcome>(i);
  }
  return std::nullopt;
}

std::int64_t DeniedTotal(const UsageCounts& counts) {
  return std::accumulate(counts.begin() + 1, counts.end(), std::int64_t{0});
}

Status ValidateRateLimit(const RateLimit& limit) {
  if (limit.requests == 0 && limit.per == 0) return Status::Ok();
  if (limit.requests < 1 || limit.requests > kMaxRateRequests) {
    return Status::InvalidArgument(
        fmt::format("rate_limit.requests must be 1…{}", kMaxRateRequests));
  }
  if (limit.per < 1 || limit.per > kMaxRatePeriod) {
    return Status::InvalidArgument("rate_limit.per must be 1s…24h");
  }
  return Status::Ok();
}

}  // namespace keyward
