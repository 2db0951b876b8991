// The one admission decision of a known, valid key (issue 16), shared by /auth, POST
// /api/v1/authorize and the token endpoint: the requirements (api/requirements.h), then the
// key's rate limit, and the outcome counted once on the key's usage counters.
//
// Order: address → scope → tag as Check says; only a request that meets them takes a token from
// the key's bucket (meters.bucket; none: no limit), so a refused request never uses up the
// limit. Whatever the answer, it is counted once on meters.usage (none: counting is off) under
// kAllowed, kAddress, kScope, kTag or kRateLimited, with the client's address and user agent.
//
// Cheap: when nothing is required, the key has no address limits and no rate limit, Admit
// allocates nothing (the usage counters are relaxed atomics); a limited key costs one
// compare-and-swap. Thread safe; pure but for the meters.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/requirements.h"
#include "common/clock.h"
#include "service/key_meters.h"
#include "service/principal.h"
#include "service/rate_limiter.h"

namespace keyward {

struct Admission {
  // nullopt: admitted. Otherwise why not: kAddress, kScope, kTag (a requirement) or
  // kRateLimited (then `rate` says when to retry).
  std::optional<Denial> denial;
  // The bucket's answer; allowed with limit 0 when the key has no limit or a requirement
  // refused the request first.
  RateDecision rate;

  bool admitted() const { return !denial.has_value(); }
  bool rate_limited() const { return denial && denial->reason == DenialReason::kRateLimited; }
};

// Decides for `principal` (a verified key or an access token issued from one) whose meters are
// `meters`, presented by `client_address` (nullopt: not known; a key with address limits then
// fails) with `user_agent`, against `required`, at `now` (for the hourly counts).
Admission Admit(const Principal& principal, const KeyMeters& meters,
                std::optional<std::string_view> client_address, std::string_view user_agent,
                const Requirements& required, UnixSeconds now);

// "the key's rate limit (10 per 1s) is used up; retry in 1s": safe to show the client.
std::string RateLimitedMessage(const RateDecision& rate, const RateLimit& limit);

// The headers of a rate-limited answer: Retry-After (whole seconds, at least 1), RateLimit-Limit,
// RateLimit-Remaining (0) and RateLimit-Reset, and X-Keyward-Reason: rate_limited.
std::vector<std::pair<std::string, std::string>> RateLimitedHeaders(const RateDecision& rate);

}  // namespace keyward
