// What a canary key (KeyRecord::canary; issue 17) may be given: only a name, a validity and a
// description. It grants nothing, so every grant or usage setting is refused rather than
// ignored, and it is never rotated, disabled or enabled (it works nowhere to begin with). Pure.
#pragma once

#include "common/status.h"
#include "service/key_service.h"

namespace keyward {

// InvalidArgument "a canary key grants nothing: <fields> not allowed" when `in` (canary set)
// gives scopes, tags, allowed_addresses, rate_limit, idle_timeout or on_reuse.
Status CheckNewCanary(const NewKey& in);
// The same for an edit of a canary key (scopes, tags, allowed_addresses, rate_limit,
// idle_timeout, on_reuse), and InvalidArgument "a canary key cannot be disabled or enabled" for
// `disabled`.
Status CheckCanaryEdit(const KeyEdit& edit);
// InvalidArgument "a canary key cannot be rotated".
Status CanaryNotRotatable();

}  // namespace keyward
