// Per-key rate limits (issue 16): a token bucket per key, as GCRA over one atomic, so that a
// limited key costs the hot path one compare-and-swap and no lock.
//
// A key limited to `requests` per `per` seconds may make `requests` requests at once (the
// burst) and then one every per/requests seconds. With `nodes` > 1 (--rate-limit-nodes: how
// many nodes share the limit), each node enforces its share: rate/nodes, with a burst of
// ceil(requests/nodes). Over any window of t seconds, the nodes together then allow at most
// nodes × ceil(requests/nodes) + requests × t / per (docs/usage-and-limits.md proves it).
// Thread safe.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/thread_annotations.h"
#include "core/usage.h"

namespace keyward {

// The answer for one request, with what the RateLimit headers say (IETF
// draft-ietf-httpapi-ratelimit-headers) and Retry-After.
struct RateDecision {
  bool allowed = true;
  std::int64_t limit = 0;        // RateLimit-Limit: the key's `requests`
  std::int64_t remaining = 0;    // RateLimit-Remaining: requests this node allows right now
  std::int64_t reset = 0;        // RateLimit-Reset: seconds until the bucket is full again
  std::int64_t retry_after = 0;  // Retry-After when refused: whole seconds ≥ 1; 0 when allowed
};

class TokenBucket {
 public:
  using Nanos = std::int64_t;  // a steady clock's nanoseconds
  TokenBucket(const RateLimit& limit, int nodes);
  const RateLimit& limit() const { return limit_; }
  // Takes one token at `now` if there is one. Lock-free. A refused request takes nothing.
  RateDecision Take(Nanos now) noexcept;
  // What Take would answer at `now`, taking nothing: for a request that is refused when over the
  // limit but takes its token only once it succeeds (the token endpoint signs nothing over it).
  RateDecision Peek(Nanos now) const noexcept;
  // True when the bucket is full at `now` (it would allow a whole burst): for Prune.
  bool FullAt(Nanos now) const noexcept;

 private:
  const RateLimit limit_;
  const Nanos interval_;       // per node: per × nodes / requests
  const Nanos burst_;          // per node: ceil(requests / nodes) × interval_
  std::atomic<Nanos> tat_{0};  // the theoretical arrival time of the next request (GCRA)
};

// user_id + '\0' + key name.
std::string RateKeyId(std::string_view user_id, std::string_view key_name);

class RateLimiter {
 public:
  explicit RateLimiter(int nodes = 1) : nodes_(nodes < 1 ? 1 : nodes) {}
  int nodes() const { return nodes_; }

  // The bucket of one key, named by `key_id` (RateKeyId: its owner and name, so that its old
  // secrets and the tokens issued from it share it), for `limit`; null when the limit is off.
  // The same bucket while the limit is unchanged (a changed limit starts a fresh one). Takes a
  // shard lock: call when a cache entry is made, never per cached request.
  std::shared_ptr<TokenBucket> BucketFor(std::string_view key_id, const RateLimit& limit);

  // Forgets buckets nobody holds that are full again at `now`.
  void Prune(TokenBucket::Nanos now);

  static TokenBucket::Nanos SteadyNow() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

 private:
  static constexpr std::size_t kShards = 16;
  struct Shard {
    mutable Mutex mu;
    std::unordered_map<std::string, std::shared_ptr<TokenBucket>> buckets GUARDED_BY(mu);
  };
  const int nodes_;
  std::array<Shard, kShards> shards_;
};

}  // namespace keyward
