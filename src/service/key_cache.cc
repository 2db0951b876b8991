#include "service/key_cache.h"

#include <algorithm>

namespace keyward {

std::string ScopesHeader(const Grant& grant) {
  return grant.full_access ? std::string("*") : JoinTags(grant.scopes);
}

KeyCache::KeyCache(KeyCacheOptions options)
    : options_(options),
      per_shard_max_(std::max<std::size_t>(1, options.max_entries / kShards)),
      per_shard_max_negative_(std::max<std::size_t>(1, options.max_negative / kShards)) {}

bool KeyCache::ToHash(std::string_view bytes, Hash* out) {
  if (bytes.size() != out->size()) return false;
  std::memcpy(out->data(), bytes.data(), out->size());
  return true;
}

void KeyCache::MarkUsed(Shard& shard, const std::shared_ptr<const CacheEntry>& entry,
                        UnixSeconds now) const {
  if (entry->last_used.load(std::memory_order_relaxed) >= now) return;
  entry->last_used.store(now, std::memory_order_relaxed);
  if (entry->marked.exchange(true, std::memory_order_acq_rel)) return;
  MutexLock lock(shard.used_mu);
  shard.used.push_back(entry);
}

void KeyCache::SweepStale(Shard& shard, UnixSeconds now) const {
  if (now < shard.swept_at + std::max<std::int64_t>(options_.ttl, 1)) return;
  shard.swept_at = now;
  std::erase_if(shard.entries,
                [&](const auto& kv) { return kv.second->cached_at + options_.ttl <= now; });
  std::erase_if(shard.unknown,
                [&](const auto& kv) { return kv.second.cached_at + options_.ttl <= now; });
}

void KeyCache::Insert(const Principal& principal, UnixSeconds now, std::uint64_t generation,
                      bool by_token) {
  Hash h;
  if (!ToHash(principal.token_hash, &h)) return;
  auto entry = std::make_shared<CacheEntry>();
  entry->principal = principal;
  entry->tags_header = JoinTags(principal.user.tags);
  entry->scopes_header = ScopesHeader(principal.grant);
  entry->cached_at = now;
  entry->meters = MetersOf(principal);  // before the shard lock: it takes the meters' own
  Shard& shard = ShardOf(h);
  WriterLock lock(shard.mu);
  if (generation_.load(std::memory_order_acquire) != generation) return;
  SweepStale(shard, now);
  if (shard.entries.size() >= per_shard_max_ && !shard.entries.contains(h)) {
    shard.entries.erase(shard.entries.begin());
  }
  shard.unknown.erase(h);
  // The lookup that fills the cache is a use of the key too.
  if (IsApiKey(principal) && !(by_token && principal.old_secret)) MarkUsed(shard, entry, now);
  shard.entries.insert_or_assign(h, std::move(entry));
}

bool KeyCache::ClaimRefresh(const CacheEntry& entry, UnixSeconds now) const {
  const Principal& p = entry.principal;
  if (options_.ttl < 2 || p.old_secret || !p.parent_key_hash.empty()) return false;
  const std::int64_t window = std::max<std::int64_t>(1, options_.ttl / 5);
  if (now < entry.cached_at + options_.ttl - window) return false;
  if (entry.refresh_claimed.exchange(true, std::memory_order_relaxed)) return false;
  refreshes_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void KeyCache::AttachMeters(UsageRecorder* usage, RateLimiter* limits) {
  usage_ = usage;
  limits_ = limits;
}

KeyMeters KeyCache::MetersFor(const Principal& principal, UsageRecorder* usage,
                              RateLimiter* limits) {
  KeyMeters meters;
  if (principal.via == KeyType::kSession) return meters;
  if (usage != nullptr) {
    meters.usage = usage->SlotFor(principal.parent_key_hash.empty() ? principal.token_hash
                                                                    : principal.parent_key_hash);
  }
  if (limits != nullptr && principal.rate_limit.enabled()) {
    meters.bucket =
        limits->BucketFor(RateKeyId(principal.user.id, principal.key_name), principal.rate_limit);
  }
  return meters;
}

void KeyCache::InsertUnknown(std::string_view hash, UnixSeconds now, std::uint64_t generation,
                             std::shared_ptr<UsageSlot> usage, UsageOutcome reason,
                             std::shared_ptr<const CanaryKey> canary) {
  Hash h;
  if (!ToHash(hash, &h)) return;
  Shard& shard = ShardOf(h);
  WriterLock lock(shard.mu);
  if (generation_.load(std::memory_order_acquire) != generation) return;
  SweepStale(shard, now);
  if (shard.unknown.size() >= per_shard_max_negative_ && !shard.unknown.contains(h)) {
    shard.unknown.erase(shard.unknown.begin());
  }
  // A verified entry it replaces (an old secret past its time, now retired) goes.
  shard.entries.erase(h);
  shard.unknown.insert_or_assign(h, Unknown{now, std::move(usage), reason, std::move(canary)});
}

void KeyCache::Erase(std::string_view hash) {
  generation_.fetch_add(1, std::memory_order_acq_rel);
  Hash h;
  if (!ToHash(hash, &h)) return;
  Shard& shard = ShardOf(h);
  WriterLock lock(shard.mu);
  shard.entries.erase(h);
  shard.unknown.erase(h);
}

void KeyCache::EraseUser(std::string_view user_id) {
  generation_.fetch_add(1, std::memory_order_acq_rel);
  for (Shard& shard : shards_) {
    WriterLock lock(shard.mu);
    std::erase_if(shard.entries,
                  [&](const auto& kv) { return kv.second->principal.user.id == user_id; });
  }
}

void KeyCache::Clear() {
  generation_.fetch_add(1, std::memory_order_acq_rel);
  for (Shard& shard : shards_) {
    WriterLock lock(shard.mu);
    shard.entries.clear();
    shard.unknown.clear();
  }
}

std::vector<std::pair<std::string, UnixSeconds>> KeyCache::TakeUsed() {
  std::vector<std::pair<std::string, UnixSeconds>> out;
  for (Shard& shard : shards_) {
    std::vector<std::shared_ptr<const CacheEntry>> used;
    {
      MutexLock lock(shard.used_mu);
      used.swap(shard.used);
    }
    for (const auto& entry : used) {
      entry->marked.store(false, std::memory_order_release);
      out.emplace_back(entry->principal.token_hash,
                       entry->last_used.load(std::memory_order_relaxed));
    }
  }
  return out;
}

std::size_t KeyCache::negative_size() const {
  std::size_t n = 0;
  for (const Shard& shard : shards_) {
    ReaderLock lock(shard.mu);
    n += shard.unknown.size();
  }
  return n;
}

std::size_t KeyCache::size() const {
  std::size_t n = 0;
  for (const Shard& shard : shards_) {
    ReaderLock lock(shard.mu);
    n += shard.entries.size();
  }
  return n;
}

}  // namespace keyward
