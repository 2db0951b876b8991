#include "service/rate_limiter.h"

// Placeholder bodies (issue 16): the hot-path helper replaces them.
namespace keyward {

std::string RateKeyId(std::string_view user_id, std::string_view key_name) {
  std::string id(user_id);
  id.push_back('\0');
  id.append(key_name);
  return id;
}

TokenBucket::TokenBucket(const RateLimit& limit, int nodes)
    : limit_(limit), interval_(0), burst_(0) {
  (void)nodes;
}
RateDecision TokenBucket::Take(Nanos /*now*/) noexcept { return {}; }

std::shared_ptr<TokenBucket> RateLimiter::BucketFor(std::string_view /*key_id*/,
                                                    const RateLimit& /*limit*/) {
  return nullptr;
}
void RateLimiter::Prune(TokenBucket::Nanos /*now*/) {}

}  // namespace keyward
