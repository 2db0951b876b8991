// The verification cache: SHA-256 of a key → who it belongs to, for the hot path.
//
// Built for many concurrent readers: 64 shards, each a hash map under a shared_mutex, so
// lookups on different threads rarely meet. Bounded: at most `max_entries` verified keys and
// `max_negative` unknown ones (garbage cannot flood memory or the store); a full shard drops an
// arbitrary entry. Every entry also ages out after `ttl` seconds, a safety net should an
// invalidation ever be missed; a key's own expiry is checked on every hit. An entry in use is
// read again before it ages out (ClaimRefresh): in its last fifth of the ttl (at least its last
// second) the first hit asks its caller to reload it in the background, so that a key in steady
// use never turns into a miss its request must wait for. Entries past their ttl are dropped by the
// next insert into their shard (at most once a ttl per shard), so the cache holds about what was
// looked up in the last ttl, not everything ever looked up.
//
// Invalidation is immediate and race-free: Erase/EraseUser/Clear bump a generation counter
// before they drop entries, and Insert is skipped when the generation moved since the caller
// started its store read, so a lookup that raced a delete cannot put the deleted key back.
//
// Issued access tokens (service/token_service.h) are cached the same way under the JWT's hash,
// with Principal::parent_key_hash naming their key's entry.
//
// Last-used times: each hit on an API key marks it (at most once per second per key); TakeUsed
// hands the marked keys to the batch writer. Thread safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "service/client_info.h"
#include "service/key_meters.h"
#include "service/principal.h"

namespace keyward {

struct KeyCacheOptions {
  std::size_t max_entries = 1'000'000;  // verified keys and sessions kept
  std::size_t max_negative = 100'000;   // unknown keys remembered as unknown
  std::int64_t ttl = 5;                 // seconds an entry may be used before a store re-read
};

// What the cache keeps of one verified key. Immutable but for the last-used marks.
struct CacheEntry {
  Principal principal;
  std::string tags_header;    // JoinTags(principal.user.tags)
  std::string scopes_header;  // ScopesHeader(principal.grant), for /auth's X-Keyward-Scopes
  UnixSeconds cached_at = 0;
  // Issue 16: the key's usage slot and rate-limit bucket (service/key_meters.h), set by Insert
  // when meters are attached (AttachMeters); for an issued token, its key's. Callers of Find
  // count the outcome on meters.usage (and take from meters.bucket) — except an expired entry,
  // which Find counts itself as kExpired.
  KeyMeters meters;
  mutable std::atomic<UnixSeconds> last_used{0};
  mutable std::atomic<bool> marked{false};
  mutable std::atomic<bool> refresh_claimed{false};  // ClaimRefresh said yes once
};

// X-Keyward-Scopes of a grant: its scopes comma-joined, "*" for full access.
std::string ScopesHeader(const Grant& grant);

class KeyCache {
 public:
  enum class Outcome { kMiss, kValid, kInvalid };

  explicit KeyCache(KeyCacheOptions options = {});

  // Looks `hash` (32 bytes) up. On kValid, calls `on_valid(const CacheEntry&)` while the entry
  // is pinned (keep it short) and marks the key used at `now` — unless `by_token` (the entry is
  // looked at for a token issued from the key) and it is an old secret's: verifying a token is
  // not a presentation of that secret, and must not keep it from retiring when idle.
  // Issue 17: on kInvalid from a canary key's negative entry, `*canary` (when not null) is set to
  // that key, so that the caller reports the use; left as it is otherwise.
  template <typename F>
  Outcome Find(std::string_view hash, UnixSeconds now, F&& on_valid, bool by_token = false,
               std::shared_ptr<const CanaryKey>* canary = nullptr) const;

  // Issue 16: where Insert gets each entry's meters. Call once, before requests are served;
  // either may be null (no counting, no limits). Both must outlive the cache.
  void AttachMeters(UsageRecorder* usage, RateLimiter* limits);
  UsageRecorder* usage_recorder() const { return usage_; }
  RateLimiter* rate_limiter() const { return limits_; }
  // The meters of `principal` (its key's: parent_key_hash for an issued token; none for a
  // session). Takes shard locks: for slow paths and Insert.
  KeyMeters MetersOf(const Principal& principal) const {
    return MetersFor(principal, usage_, limits_);
  }
  // The same from the given recorder and limiter (either may be null): the usage slot of
  // principal.token_hash (parent_key_hash for an issued token) and, when principal.rate_limit is
  // on, the bucket of RateKeyId(user.id, key_name). Nothing for a session or a token issued
  // from one.
  static KeyMeters MetersFor(const Principal& principal, UsageRecorder* usage, RateLimiter* limits);

  // True once per entry, for the first hit in the last fifth of the ttl (at least its last
  // second; never with a ttl under 2 s): its caller should then read the key again off the
  // request path (Authenticator::Refresh), which replaces the entry before it ages out. Only an
  // API key's or a session's own entry (not an old secret's, whose reload can retire it, nor an
  // issued token's). Call it from Find's on_valid.
  bool ClaimRefresh(const CacheEntry& entry, UnixSeconds now) const;
  std::uint64_t refreshes() const { return refreshes_.load(std::memory_order_relaxed); }

  // The generation to pass to Insert: read it before reading the store.
  std::uint64_t Generation() const { return generation_.load(std::memory_order_acquire); }
  // Caches a verified key, unless an invalidation happened since `generation` was read.
  // Marks it used as Find does (`by_token` likewise).
  void Insert(const Principal& principal, UnixSeconds now, std::uint64_t generation,
              bool by_token = false);
  // Remembers that `hash` is not a key, under the same rule. Issue 16: when `hash` is a known
  // key's refused secret (expired, disabled, retired), `usage` is its slot and `reason` why:
  // every negative hit then counts `reason` on it. Issue 17: `canary` is set for a canary key's
  // secret (never counted): every negative hit then hands it to Find's caller to report.
  void InsertUnknown(std::string_view hash, UnixSeconds now, std::uint64_t generation,
                     std::shared_ptr<UsageSlot> usage = nullptr,
                     UsageOutcome reason = UsageOutcome::kExpired,
                     std::shared_ptr<const CanaryKey> canary = nullptr);

  // Drops one key or session, everything of one user, or everything.
  void Erase(std::string_view hash);
  void EraseUser(std::string_view user_id);
  void Clear();

  // API keys used since the last call, with their last-used time.
  std::vector<std::pair<std::string, UnixSeconds>> TakeUsed();

  std::size_t size() const;
  std::size_t negative_size() const;  // unknown keys remembered
  std::uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  std::uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }
  std::uint64_t negative_hits() const { return negative_hits_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::size_t kShards = 64;
  using Hash = std::array<unsigned char, 32>;
  struct HashHasher {
    std::size_t operator()(const Hash& h) const {
      std::size_t v;
      std::memcpy(&v, h.data(), sizeof v);  // SHA-256 bytes are uniform already
      return v;
    }
  };
  // A negative entry: when it was cached and, for a known key's refused secret, its usage slot
  // and why it is refused (counted on every hit); for a canary key's secret, that key.
  struct Unknown {
    UnixSeconds cached_at = 0;
    std::shared_ptr<UsageSlot> usage;
    UsageOutcome reason = UsageOutcome::kExpired;
    std::shared_ptr<const CanaryKey> canary;
  };
  struct Shard {
    mutable SharedMutex mu;
    std::unordered_map<Hash, std::shared_ptr<const CacheEntry>, HashHasher> entries GUARDED_BY(mu);
    std::unordered_map<Hash, Unknown, HashHasher> unknown GUARDED_BY(mu);
    // When stale entries were last dropped (SweepStale).
    UnixSeconds swept_at GUARDED_BY(mu) = 0;
    mutable Mutex used_mu;
    mutable std::vector<std::shared_ptr<const CacheEntry>> used GUARDED_BY(used_mu);
  };

  static bool ToHash(std::string_view bytes, Hash* out);
  // An API key's own entry: only those have last-used times (an issued token's entry does not).
  static bool IsApiKey(const Principal& p) {
    return p.via == KeyType::kApiKey && p.parent_key_hash.empty();
  }
  Shard& ShardOf(const Hash& h) const { return shards_[h[8] % kShards]; }
  void MarkUsed(Shard& shard, const std::shared_ptr<const CacheEntry>& entry,
                UnixSeconds now) const;
  // Drops the shard's entries older than the ttl (Find answers kMiss for them anyway), at most
  // once a ttl per shard. Without it an entry nobody asks for again — an issued token used once,
  // a session signed out elsewhere — stayed until its shard was full: `max_entries` of them
  // (about 500 MB) before the first was dropped. The soak test found it (tests/integration/
  // soak_test.cc: 2.6 MB a minute under mixed load).
  void SweepStale(Shard& shard, UnixSeconds now) const REQUIRES(shard.mu);

  const KeyCacheOptions options_;
  const std::size_t per_shard_max_;
  const std::size_t per_shard_max_negative_;
  mutable std::array<Shard, kShards> shards_;
  UsageRecorder* usage_ = nullptr;  // set once by AttachMeters, before requests are served
  RateLimiter* limits_ = nullptr;
  std::atomic<std::uint64_t> generation_{0};
  mutable std::atomic<std::uint64_t> hits_{0};
  mutable std::atomic<std::uint64_t> misses_{0};
  mutable std::atomic<std::uint64_t> negative_hits_{0};
  mutable std::atomic<std::uint64_t> refreshes_{0};
};

template <typename F>
KeyCache::Outcome KeyCache::Find(std::string_view hash, UnixSeconds now, F&& on_valid,
                                 bool by_token, std::shared_ptr<const CanaryKey>* canary) const {
  Hash h;
  if (!ToHash(hash, &h)) return Outcome::kInvalid;
  Shard& shard = ShardOf(h);
  ReaderLock lock(shard.mu);
  if (auto it = shard.entries.find(h); it != shard.entries.end()) {
    const CacheEntry& entry = *it->second;
    if (entry.cached_at + options_.ttl > now) {
      if (entry.principal.expires_at > now) {
        hits_.fetch_add(1, std::memory_order_relaxed);
        if (IsApiKey(entry.principal) && !(by_token && entry.principal.old_secret)) {
          MarkUsed(shard, it->second, now);
        }
        on_valid(entry);
        return Outcome::kValid;
      }
      // An old secret past its time goes to the store, which tells a later grace (another use
      // counted) from a reuse (Authenticator) and counts the refusal; any other expired
      // credential stays refused, and a key is counted here. An expired issued token is not
      // counted on its key: the token service refuses it uncounted once it leaves the cache,
      // and a count must not depend on what the cache holds.
      if (!entry.principal.old_secret) {
        hits_.fetch_add(1, std::memory_order_relaxed);
        if (entry.meters.usage && entry.principal.parent_key_hash.empty()) {
          entry.meters.usage->Count(UsageOutcome::kExpired, now);
        }
        return Outcome::kInvalid;
      }
    }
  } else if (auto un = shard.unknown.find(h); un != shard.unknown.end()) {
    if (un->second.cached_at + options_.ttl > now) {
      negative_hits_.fetch_add(1, std::memory_order_relaxed);
      if (un->second.usage) un->second.usage->Count(un->second.reason, now);
      if (un->second.canary && canary != nullptr) *canary = un->second.canary;
      return Outcome::kInvalid;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  return Outcome::kMiss;
}

}  // namespace keyward
