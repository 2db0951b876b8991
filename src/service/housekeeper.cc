#include "service/housekeeper.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <chrono>
#include <string_view>
#include <utility>
#include <vector>

#include "common/log.h"
#include "service/key_events.h"

namespace keyward {
namespace {

constexpr std::int64_t kKeepEvents = 30 * 86400;

// The keys of a housekeeping list; none (logged) when the store failed.
std::vector<KeyRecord> Listed(Result<std::vector<KeyRecord>> keys, std::string_view what) {
  if (keys.ok()) return std::move(*keys);
  log::Warn("housekeeping: could not list the keys {}: {}", what, keys.status().ToString());
  return {};
}

}  // namespace

Housekeeper::Housekeeper(Store& store, const ServiceOptions& options, const Clock& clock,
                         KeyCache* cache, const AuditLog* audit, std::function<void()> on_events,
                         bool start_thread)
    : store_(store),
      options_(options),
      clock_(clock),
      cache_(cache),
      audit_(audit),
      on_events_(std::move(on_events)) {
  if (!start_thread) return;
  periodic_ = std::make_unique<PeriodicThread>(
      [this] { return std::chrono::milliseconds(options_.housekeeping_interval_ms); },
      [this] { RunOnce(); }, PeriodicThread::Options{.low_priority = true});
}

void Housekeeper::Stop() {
  if (periodic_ != nullptr) periodic_->Stop();
}

HousekeepingCounts Housekeeper::RunOnce() {
  HousekeepingCounts counts;
  const UnixSeconds now = clock_.Now();
  // Each list holds only keys still to act on, so acting takes them out and a later pass goes
  // on with the rest. Thresholds smallest first: a key gets its smallest crossed one.
  std::vector<std::int64_t> thresholds = options_.expiry_warnings;
  std::sort(thresholds.begin(), thresholds.end());
  for (std::int64_t t : thresholds) {
    for (const KeyRecord& key :
         Listed(store_.ListKeysToWarn(now, t, keys_per_pass_.load()), "to warn")) {
      Announce(key, now, &counts);
    }
  }
  for (const KeyRecord& key :
       Listed(store_.ListKeysExpiredUnannounced(now, keys_per_pass_.load()), "expired")) {
    Announce(key, now, &counts);
  }
  for (const KeyRecord& key : Listed(store_.ListIdleKeys(now, keys_per_pass_.load()), "idle")) {
    RevokeIfIdle(key, now, &counts);
  }
  if (auto pruned = store_.PruneOldSecrets(now); !pruned.ok()) {
    log::Warn("housekeeping: could not forget expired old secrets: {}", pruned.status().ToString());
  }
  if (auto pruned = store_.PruneEvents(now - kKeepEvents); !pruned.ok()) {
    log::Warn("housekeeping: could not prune webhook events: {}", pruned.status().ToString());
  }
  if (auto pruned = store_.PruneUsage(now - options_.usage_retention); !pruned.ok()) {
    log::Warn("housekeeping: could not prune key usage: {}", pruned.status().ToString());
  }
  if (auto pruned = store_.PruneSignInCounters(now); !pruned.ok()) {
    log::Warn("housekeeping: could not forget expired sign-in failures: {}",
              pruned.status().ToString());
  }
  if (RateLimiter* limiter = limiter_.load()) limiter->Prune(RateLimiter::SteadyNow());
  const bool enqueued = counts.expiring + counts.expired + counts.idle_revoked > 0;
  if (enqueued && on_events_) on_events_();
  return counts;
}

bool Housekeeper::Announce(const KeyRecord& key, UnixSeconds now,
                           HousekeepingCounts* counts) const {
  std::int64_t within = -1;
  WebhookEvent announcement;
  if (key.expires_at <= now) {
    if (key.announced_within == 0) return false;
    within = 0;
    announcement = KeyEvent(event::kKeyExpired, key, now);
  } else {
    // The smallest threshold crossed, if not yet announced: one warning per pass.
    for (std::int64_t t : options_.expiry_warnings) {
      if (key.expires_at <= now + t && (within < 0 || t < within)) within = t;
    }
    if (within < 0) return false;
    if (key.announced_within != -1 && key.announced_within <= within) return false;
    boost::json::object extra;
    extra["within"] = within;
    announcement = KeyEvent(event::kKeyExpiring, key, now, std::move(extra));
  }
  auto done = store_.AnnounceExpiry(key.hash, within, {std::move(announcement)});
  if (!done.ok()) {
    log::Warn("housekeeping: could not announce the expiry of key {} of user {}: {}", key.name,
              key.user_id, done.status().ToString());
    return false;
  }
  if (!*done) return false;  // another node did
  if (within == 0) {
    ++counts->expired;
    if (cache_ != nullptr) cache_->Erase(key.hash);
  } else {
    ++counts->expiring;
  }
  return true;
}

bool Housekeeper::RevokeIfIdle(const KeyRecord& key, UnixSeconds now,
                               HousekeepingCounts* counts) const {
  if (key.idle_timeout <= 0) return false;
  const UnixSeconds active = std::max({key.created_at, key.rotated_at, key.last_used_at});
  if (active + key.idle_timeout > now) return false;
  boost::json::object extra;
  extra["idle_timeout"] = key.idle_timeout;
  if (key.last_used_at > 0) {
    extra["last_used"] = FormatRfc3339(key.last_used_at);
  } else {
    extra["last_used"] = nullptr;
  }
  // Its old secrets, to erase from this node's cache too (the lists have none). A rotation after
  // this read moves rotated_at, so the revocation below then fails: none is missed.
  auto stored = store_.GetKey(key.user_id, key.name);
  if (!stored.ok() && stored.status().code() != StatusCode::kNotFound) {
    log::Warn("housekeeping: could not read idle key {} of user {}: {}", key.name, key.user_id,
              stored.status().ToString());
  }
  if (!stored.ok() || stored->hash != key.hash) return false;  // renamed, rotated or gone
  // Idle once max(created, rotated, last used) + idle_timeout ≤ now, that is none of those
  // times ≥ now − idle_timeout + 1 (RevokeIdleKey's bound excludes `unused_since`).
  auto done = store_.RevokeIdleKey(key.hash, now - key.idle_timeout + 1,
                                   {KeyEvent(event::kKeyIdleRevoked, key, now, std::move(extra)),
                                    KeyEvent(event::kKeyDeleted, key, now)});
  if (!done.ok()) {
    log::Warn("housekeeping: could not revoke idle key {} of user {}: {}", key.name, key.user_id,
              done.status().ToString());
    return false;
  }
  if (!*done) return false;  // used meanwhile, or another node did
  ++counts->idle_revoked;
  if (cache_ != nullptr) {
    cache_->Erase(key.hash);
    for (const OldSecret& old : stored->old_secrets) cache_->Erase(old.hash);
  }
  if (audit_ != nullptr) {
    audit_->RecordAfter({.action = AuditAction::kKeyIdleRevoke,
                         .actor = "system",
                         .user = key.user_id,
                         .target = key.name,
                         .address = "",
                         .detail = "idle_timeout=" + std::to_string(key.idle_timeout) + "s"},
                        Status::Ok());
  }
  return true;
}

}  // namespace keyward
