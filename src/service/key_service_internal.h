// Rules KeyService's files share (key_service.cc, key_lifecycle.cc). Not for other callers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "core/key_record.h"
#include "service/key_service.h"
#include "service/principal.h"

namespace keyward::key_rules {

// The NotFound of a user or key the caller may not know of.
Status KeyNotFound();

// May `caller` make this call on `target`'s keys? The call's scope; other users' keys are
// NotFound for a non-operator; and an operator's key needs `others_scope` for them too.
Status CheckKeyCall(const Caller& caller, const std::string& target, std::string_view scope,
                    std::string_view others_scope);

// May `caller` see `record` in full (core/policy.h: CheckReveal)?
Status CheckRevealOf(const Caller& caller, const KeyRecord& record);

// A duration that may be zero ("0s", "0m"…: 0), else ParseDuration. InvalidArgument naming
// `field` otherwise.
Result<std::int64_t> ParseDurationOrZero(std::string_view field, std::string_view text);

// idle_timeout: "0s" off, else 1s … `max_validity`.
Result<std::int64_t> ParseIdleTimeout(std::string_view text, std::int64_t max_validity);

// on_reuse: "keep" (false) | "revoke" (true).
Result<bool> ParseOnReuse(std::string_view text);

// A rate limit as asked (`per` a duration; ValidateRateLimit): InvalidArgument naming
// rate_limit.requests or rate_limit.per. requests 0 is the limit removed (RateLimit{}) when
// `allow_off`, else refused.
Result<RateLimit> ParseRateLimit(const RateLimitSpec& spec, bool allow_off);

// "10/1s", or "off" for no limit: the audit log's form.
std::string DescribeRateLimit(const RateLimit& limit);

}  // namespace keyward::key_rules
