#include "service/rate_limiter.h"

#include <algorithm>
#include <functional>

// GCRA (the generic cell rate algorithm): instead of a token count refilled by a timer, the
// bucket keeps one time, tat_, the "theoretical arrival time" at which the bucket is full again
// if no more requests come. A request at `now` is allowed when max(tat_, now) + interval_ − now ≤
// burst_ (that many requests fit), and then moves tat_ on by one interval_. One atomic, one CAS.
namespace keyward {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

std::int64_t CeilSeconds(std::int64_t nanos) {
  return nanos <= 0 ? 0 : (nanos + kNanosPerSecond - 1) / kNanosPerSecond;
}

TokenBucket::Nanos IntervalOf(const RateLimit& limit, int nodes) {
  if (!limit.enabled()) return 0;
  // per ≤ 86400 s and nodes ≤ a few thousand: far from overflowing.
  const std::int64_t span = limit.per * kNanosPerSecond * std::max(1, nodes);
  // Rounded up: a truncated interval would let a very high limit through faster than it says.
  return std::max<std::int64_t>(1, (span + limit.requests - 1) / limit.requests);
}

std::int64_t BurstOf(const RateLimit& limit, int nodes) {
  const std::int64_t n = std::max(1, nodes);
  return std::max<std::int64_t>(1, (limit.requests + n - 1) / n);
}

}  // namespace

std::string RateKeyId(std::string_view user_id, std::string_view key_name) {
  std::string id(user_id);
  id.push_back('\0');
  id.append(key_name);
  return id;
}

TokenBucket::TokenBucket(const RateLimit& limit, int nodes)
    : limit_(limit),
      interval_(IntervalOf(limit, nodes)),
      burst_(BurstOf(limit, nodes) * interval_) {}

RateDecision TokenBucket::Take(Nanos now) noexcept {
  RateDecision d;
  d.limit = limit_.requests;
  if (interval_ == 0) return d;  // no limit
  Nanos tat = tat_.load(std::memory_order_relaxed);
  for (;;) {
    const Nanos next = std::max(tat, now) + interval_;
    if (next - now > burst_) {
      // Refused: the first token comes when next − burst_ reaches now.
      d.allowed = false;
      d.remaining = 0;
      d.reset = CeilSeconds(std::max(tat, now) - now);
      d.retry_after = std::max<std::int64_t>(1, CeilSeconds(next - burst_ - now));
      return d;
    }
    if (tat_.compare_exchange_weak(tat, next, std::memory_order_relaxed,
                                   std::memory_order_relaxed)) {
      d.remaining = (burst_ - (next - now)) / interval_;
      d.reset = CeilSeconds(next - now);
      return d;
    }
  }
}

RateDecision TokenBucket::Peek(Nanos now) const noexcept {
  RateDecision d;
  d.limit = limit_.requests;
  if (interval_ == 0) return d;
  const Nanos tat = tat_.load(std::memory_order_relaxed);
  const Nanos next = std::max(tat, now) + interval_;
  if (next - now > burst_) {
    d.allowed = false;
    d.reset = CeilSeconds(std::max(tat, now) - now);
    d.retry_after = std::max<std::int64_t>(1, CeilSeconds(next - burst_ - now));
    return d;
  }
  d.remaining = (burst_ - (next - now)) / interval_;
  d.reset = CeilSeconds(next - now);
  return d;
}

bool TokenBucket::FullAt(Nanos now) const noexcept {
  return tat_.load(std::memory_order_relaxed) <= now;
}

std::shared_ptr<TokenBucket> RateLimiter::BucketFor(std::string_view key_id,
                                                    const RateLimit& limit) {
  if (!limit.enabled()) return nullptr;
  Shard& shard = shards_[std::hash<std::string_view>{}(key_id) % kShards];
  MutexLock lock(shard.mu);
  auto [it, inserted] = shard.buckets.try_emplace(std::string(key_id));
  if (inserted || it->second->limit() != limit) {
    it->second = std::make_shared<TokenBucket>(limit, nodes_);  // a changed limit starts afresh
  }
  return it->second;
}

void RateLimiter::Prune(TokenBucket::Nanos now) {
  for (Shard& shard : shards_) {
    MutexLock lock(shard.mu);
    std::erase_if(shard.buckets, [now](const auto& kv) {
      return kv.second.use_count() == 1 && kv.second->FullAt(now);
    });
  }
}

}  // namespace keyward
