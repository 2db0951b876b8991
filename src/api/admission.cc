#include "api/admission.h"

#include <algorithm>

#include "core/duration.h"

namespace keyward {
namespace {

UsageOutcome OutcomeOf(const std::optional<Denial>& denial) {
  if (!denial) return UsageOutcome::kAllowed;
  switch (denial->reason) {
    case DenialReason::kAddress:
      return UsageOutcome::kAddress;
    case DenialReason::kScope:
      return UsageOutcome::kScope;
    case DenialReason::kTag:
      return UsageOutcome::kTag;
    case DenialReason::kRateLimited:
      break;
  }
  return UsageOutcome::kRateLimited;
}

}  // namespace

Admission Admit(const Principal& principal, const KeyMeters& meters,
                std::optional<std::string_view> client_address, std::string_view user_agent,
                const Requirements& required, UnixSeconds now) {
  Admission out;
  // Check only when there is something to check: it is then allocation-free.
  if (!required.empty() || !principal.networks.empty()) {
    out.denial = Check(principal, client_address, required);
  }
  if (!out.denial && meters.bucket != nullptr) {
    out.rate = meters.bucket->Take(RateLimiter::SteadyNow());
    if (!out.rate.allowed) {
      out.denial =
          Denial{DenialReason::kRateLimited, RateLimitedMessage(out.rate, meters.bucket->limit())};
    }
  }
  if (meters.usage != nullptr) {
    meters.usage->Record(OutcomeOf(out.denial), now, client_address.value_or(std::string_view()),
                         user_agent);
  }
  return out;
}

std::string RateLimitedMessage(const RateDecision& rate, const RateLimit& limit) {
  return "the key's rate limit (" + std::to_string(limit.requests) + " per " +
         FormatDuration(limit.per) + ") is used up; retry in " +
         FormatDuration(std::max<std::int64_t>(1, rate.retry_after));
}

std::vector<std::pair<std::string, std::string>> RateLimitedHeaders(const RateDecision& rate) {
  return {{"X-Keyward-Reason", "rate_limited"},
          {"Retry-After", std::to_string(std::max<std::int64_t>(1, rate.retry_after))},
          {"RateLimit-Limit", std::to_string(rate.limit)},
          {"RateLimit-Remaining", "0"},
          {"RateLimit-Reset", std::to_string(std::max<std::int64_t>(0, rate.reset))}};
}

}  // namespace keyward
