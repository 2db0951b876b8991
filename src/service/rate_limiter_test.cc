// The per-key token bucket (GCRA) and the limiter that hands the buckets out (issue 16).
#include "service/rate_limiter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace keyward {
namespace {

constexpr TokenBucket::Nanos kSecond = 1'000'000'000;
constexpr TokenBucket::Nanos kStart = 1'000 * kSecond;  // a steady clock's reading

TEST(TokenBucketTest, ABurstOfRequestsThenOneEveryIntervalRefusalsTakeNothing) {
  TokenBucket bucket({.requests = 10, .per = 1}, 1);
  for (int i = 0; i < 10; ++i) {
    RateDecision d = bucket.Take(kStart);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.limit, 10);
    EXPECT_EQ(d.remaining, 9 - i);
    EXPECT_EQ(d.retry_after, 0);
    EXPECT_EQ(d.reset, 1) << "full again within the second";
  }
  RateDecision refused = bucket.Take(kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limit, 10);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after, 1);
  EXPECT_EQ(refused.reset, 1);
  // Refusals take nothing: a tenth of a second later there is exactly one token again.
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(bucket.Take(kStart + kSecond / 20).allowed);
  EXPECT_TRUE(bucket.Take(kStart + kSecond / 10).allowed);
  EXPECT_FALSE(bucket.Take(kStart + kSecond / 10).allowed);
  // A full second idle refills the whole burst, never more.
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(bucket.Take(kStart + 10 * kSecond).allowed) << i;
  EXPECT_FALSE(bucket.Take(kStart + 10 * kSecond).allowed);
}

TEST(TokenBucketTest, SlowLimitsGiveRetryAfterAndResetInWholeSeconds) {
  TokenBucket bucket({.requests = 2, .per = 60}, 1);  // one every 30 s, burst 2
  RateDecision first = bucket.Take(kStart);
  EXPECT_TRUE(first.allowed);
  EXPECT_EQ(first.remaining, 1);
  EXPECT_EQ(first.reset, 30);
  RateDecision second = bucket.Take(kStart);
  EXPECT_TRUE(second.allowed);
  EXPECT_EQ(second.remaining, 0);
  EXPECT_EQ(second.reset, 60);
  RateDecision refused = bucket.Take(kStart + kSecond / 2);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 30) << "29.5 s, rounded up";
  EXPECT_EQ(refused.reset, 60);
  EXPECT_FALSE(bucket.Take(kStart + 30 * kSecond - 1).allowed);
  RateDecision later = bucket.Take(kStart + 30 * kSecond);
  EXPECT_TRUE(later.allowed);
  EXPECT_EQ(later.remaining, 0);
}

TEST(TokenBucketTest, AFastLimitNeverRefusesWithRetryAfterZero) {
  TokenBucket bucket({.requests = 1'000, .per = 1}, 1);
  for (int i = 0; i < 1'000; ++i) ASSERT_TRUE(bucket.Take(kStart).allowed);
  RateDecision refused = bucket.Take(kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 1) << "a millisecond away, but Retry-After is ≥ 1";
}

TEST(TokenBucketTest, EachOfNNodesHasItsShare) {
  // 10 per second over 3 nodes: each a burst of ceil(10/3) = 4 and a token every 0.3 s.
  TokenBucket bucket({.requests = 10, .per = 1}, 3);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(bucket.Take(kStart).allowed) << i;
  RateDecision refused = bucket.Take(kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limit, 10) << "RateLimit-Limit is the key's limit";
  EXPECT_FALSE(bucket.Take(kStart + 3 * kSecond / 10 - 1).allowed);
  EXPECT_TRUE(bucket.Take(kStart + 3 * kSecond / 10).allowed);
}

// Two threads racing on one bucket never get more than the burst plus the rate over the
// elapsed time (one CAS per token: none is handed out twice), and always the whole burst.
TEST(TokenBucketTest, ConcurrentTakersNeverExceedBurstPlusRate) {
  TokenBucket bucket({.requests = 1'000, .per = 1}, 1);  // a token every millisecond
  const TokenBucket::Nanos start = RateLimiter::SteadyNow();
  std::atomic<std::int64_t> allowed{0};
  std::atomic<TokenBucket::Nanos> last{start};
  auto take = [&] {
    std::int64_t mine = 0;
    TokenBucket::Nanos now = start;
    for (int i = 0; i < 20'000; ++i) {
      now = RateLimiter::SteadyNow();
      if (bucket.Take(now).allowed) ++mine;
    }
    allowed.fetch_add(mine);
    TokenBucket::Nanos seen = last.load();
    while (seen < now && !last.compare_exchange_weak(seen, now)) {
    }
  };
  std::thread a(take), b(take);
  a.join();
  b.join();
  const std::int64_t elapsed_ms = (last.load() - start) / 1'000'000;
  EXPECT_LE(allowed.load(), 1'000 + elapsed_ms + 1) << elapsed_ms << " ms";
  EXPECT_GE(allowed.load(), 1'000) << "the burst at least";
}

TEST(RateLimiterTest, OneBucketPerKeyANewOneWhenTheLimitChanges) {
  RateLimiter limiter(2);
  EXPECT_EQ(limiter.nodes(), 2);
  EXPECT_EQ(limiter.BucketFor(RateKeyId("alice", "ci"), {}), nullptr) << "no limit";
  const RateLimit ten{.requests = 10, .per = 1};
  auto bucket = limiter.BucketFor(RateKeyId("alice", "ci"), ten);
  ASSERT_NE(bucket, nullptr);
  EXPECT_EQ(limiter.BucketFor(RateKeyId("alice", "ci"), ten), bucket);
  EXPECT_NE(limiter.BucketFor(RateKeyId("alice", "other"), ten), bucket);
  EXPECT_NE(limiter.BucketFor(RateKeyId("bob", "ci"), ten), bucket);
  // The node's share: ceil(10 / 2) = 5.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(bucket->Take(kStart).allowed);
  EXPECT_FALSE(bucket->Take(kStart).allowed);
  auto changed = limiter.BucketFor(RateKeyId("alice", "ci"), {.requests = 20, .per = 1});
  ASSERT_NE(changed, bucket);
  EXPECT_EQ(changed->limit().requests, 20);
  EXPECT_TRUE(changed->Take(kStart).allowed) << "a fresh bucket";
  EXPECT_EQ(RateKeyId("a", "b"), std::string("a\0b", 3));
}

TEST(RateLimiterTest, PruneForgetsOnlyUnheldFullBuckets) {
  RateLimiter limiter;
  const RateLimit one{.requests = 1, .per = 10};
  auto held = limiter.BucketFor("held", one);
  auto used = limiter.BucketFor("used", one);
  EXPECT_TRUE(used->Take(kStart).allowed);
  used.reset();
  EXPECT_TRUE(held->Take(kStart).allowed);
  limiter.Prune(kStart + kSecond);
  // Not full yet: kept, with its state.
  EXPECT_FALSE(limiter.BucketFor("used", one)->Take(kStart + kSecond).allowed);
  limiter.Prune(kStart + 10 * kSecond);
  auto fresh = limiter.BucketFor("used", one);
  EXPECT_TRUE(fresh->Take(kStart).allowed) << "forgotten, so a new bucket (full)";
  EXPECT_EQ(limiter.BucketFor("held", one), held) << "a held bucket stays";
}

}  // namespace
}  // namespace keyward
