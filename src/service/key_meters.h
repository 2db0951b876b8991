// The meters of one verified key (issue 16): its usage counters and its rate-limit bucket.
#pragma once

#include <memory>

#include "service/rate_limiter.h"
#include "service/usage_recorder.h"

namespace keyward {

struct KeyMeters {
  std::shared_ptr<UsageSlot> usage;     // null: usage counting is off
  std::shared_ptr<TokenBucket> bucket;  // null: the key has no rate limit
};

}  // namespace keyward
