// The key events nobody's request causes: expiry warnings (key.expiring at each
// ServiceOptions::expiry_warnings threshold, once), key.expired, idle revocation
// (key.idle_revoked, the key deleted) — and pruning of old secrets past their own expiry and of
// delivered or failed webhook events over 30 days old, and (issue 16) of usage hours older than
// ServiceOptions::usage_retention and of idle rate-limit buckets (set_rate_limiter), and (issue
// 19) of expired sign-in failure counters (service/login_throttle.h). Each
// announcement is a conditional store write (Store::AnnounceExpiry, RevokeIdleKey) with its event
// in the same transaction, so with several nodes each is made once. A pass acts on the store's
// lists of keys still due (Store::ListKeysToWarn per threshold, smallest first;
// ListKeysExpiredUnannounced; ListIdleKeys), at most 1000 of each (set_keys_per_pass); a later pass
// goes on with the rest. Idle revocations (the key with every old secret) and key.expired erase the
// key from this node's cache (the store tells the others) and are audited (key.idle_revoke, actor
// "system"). Owns one thread; thread safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>

#include "common/clock.h"
#include "service/audit_log.h"
#include "service/key_cache.h"
#include "service/options.h"
#include "service/periodic_thread.h"
#include "service/rate_limiter.h"
#include "store/store.h"

namespace keyward {

struct HousekeepingCounts {
  std::size_t expiring = 0;      // key.expiring announced
  std::size_t expired = 0;       // key.expired announced
  std::size_t idle_revoked = 0;  // keys deleted
};

class Housekeeper {
 public:
  // `cache` and `audit` may be null; `on_events` (may be empty) is called after a pass that
  // enqueued events — the server nudges its WebhookDispatcher with it. With `start_thread`
  // false nothing runs until RunOnce (tests drive it with a ManualClock); otherwise a pass runs
  // every options.housekeeping_interval_ms.
  Housekeeper(Store& store, const ServiceOptions& options, const Clock& clock, KeyCache* cache,
              const AuditLog* audit, std::function<void()> on_events, bool start_thread = true);
  ~Housekeeper() { Stop(); }
  Housekeeper(const Housekeeper&) = delete;
  Housekeeper& operator=(const Housekeeper&) = delete;

  // One pass at the clock's now. Store errors are logged and the pass goes on.
  HousekeepingCounts RunOnce();
  // Keys taken from each list per pass (1000); tests lower it to show a pass never starves.
  void set_keys_per_pass(int n) { keys_per_pass_ = n; }
  // Issue 16: the limiter whose full, unheld buckets each pass forgets (RateLimiter::Prune);
  // null: none. It must outlive the housekeeper (or be unset first).
  void set_rate_limiter(RateLimiter* limiter) { limiter_ = limiter; }
  void Stop();

 private:
  // Announces key.expiring / key.expired for `key` if due; true when it did.
  bool Announce(const KeyRecord& key, UnixSeconds now, HousekeepingCounts* counts) const;
  // Deletes `key` if it went unused for its idle_timeout; true when it did.
  bool RevokeIfIdle(const KeyRecord& key, UnixSeconds now, HousekeepingCounts* counts) const;

  Store& store_;
  const ServiceOptions& options_;
  const Clock& clock_;
  KeyCache* cache_;
  const AuditLog* audit_;
  const std::function<void()> on_events_;
  std::atomic<int> keys_per_pass_{1000};
  std::atomic<RateLimiter*> limiter_{nullptr};
  std::unique_ptr<PeriodicThread> periodic_;  // last
};

}  // namespace keyward
