// The alarm of canary keys (issue 17): every presentation of a canary key, reported by the
// Authenticator from any thread, becomes an audit record key.canary_used and a webhook event
// key.canary_used, written on this object's own thread.
//
// Reporting never blocks: CanaryUsed counts the use (keyward_canary_uses_total), applies the cap
// — at most `per_minute` alerts per canary key in any 60 seconds; the rest are only counted
// (suppressed) — and puts the alert on a bounded queue (full: counted as suppressed, dropped).
// The thread writes the queued events in one store call (AppendEvents), then one audit record
// per alert (AuditLog::RecordAfter, as KeyService::ReuseDetected records a reuse), then calls
// `on_recorded` (the service graph nudges the webhook dispatcher, so the delivery leaves at
// once rather than at its next poll). When the store refuses the events, the error is logged and
// the batch kept (its audit records not written yet): it is tried again with the next alert, or
// a second later, or at Stop(); kept and newly queued alerts together stay within max_queued
// (the oldest kept go first), and what is dropped, at the last try in Stop() too, is counted as
// suppressed.
//
// What is recorded: the owner, key name and expiration, the client's address, user agent, method
// and path (the path without its query string, which may hold a credential; in the path and the
// user agent every key of the server's prefix masked, as scan::MaskKeysIn does: "/hooks/kw_…"
// holds one), each as ClientText keeps text (valid UTF-8, cut to a bound, control characters made
// '?'). Audit: actor "system", the owner, the key name as target, the address, detail
// "method=<method> path=<path>". Event data: {"user", "key", "expiration", "name", "address",
// "user_agent", "method", "path"} ("key" and "name" both the key's name: "user", "key" and
// "expiration" as every key event has them). Never a key. Thread safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "scan/key_finder.h"
#include "service/audit_log.h"
#include "service/client_info.h"
#include "store/store.h"

namespace keyward {

struct CanaryAlertsOptions {
  std::size_t max_queued = 4096;  // alerts waiting to be written; more are dropped (counted)
  // Alerts per canary key in any 60 seconds; the rest counted only. 0 or less: none at all.
  std::int64_t per_minute = 60;
  // The server's key prefix (ServiceOptions::key_prefix, ValidateKeyPrefix-valid): keys of it are
  // masked in the recorded path and user agent.
  std::string key_prefix = "kw";
};

class CanaryAlerts final : public CanaryListener {
 public:
  // `audit` may be null (no audit records: tests). `on_recorded` (may be empty) is called on the
  // thread after each batch is written. Starts the thread. All must outlive this object.
  CanaryAlerts(Store& store, const AuditLog* audit, std::function<void()> on_recorded,
               CanaryAlertsOptions options = {});
  ~CanaryAlerts() override { Stop(); }
  CanaryAlerts(const CanaryAlerts&) = delete;
  CanaryAlerts& operator=(const CanaryAlerts&) = delete;

  // CanaryListener: never blocks (a short critical section, no I/O, one allocation per alert).
  void CanaryUsed(const CanaryKey& key, const ClientInfo& client, UnixSeconds at) const override;

  // Writes what is queued or kept (one last try), then joins the thread; reports after it are
  // counted only. Idempotent.
  void Stop();
  // Returns once every alert queued before the call was tried once: written, or kept to retry
  // (for tests and shutdown).
  void Flush() const;

  // keyward_canary_uses_total: every use reported; and the alerts not written (cap, queue full).
  std::uint64_t uses() const { return uses_.load(std::memory_order_relaxed); }
  std::uint64_t suppressed() const { return suppressed_.load(std::memory_order_relaxed); }

 private:
  struct Alert {
    CanaryKey key;
    std::string address;
    std::string user_agent;
    std::string method;
    std::string path;
    UnixSeconds at = 0;
  };
  // The times of a canary's recent alerts (at most per_minute, oldest first).
  using Recent = std::deque<UnixSeconds>;

  // Whether the cap lets one more alert of `id` out at `at` (and notes it if so).
  bool Admit(const std::string& id, UnixSeconds at) const REQUIRES(mu_);
  void Loop();
  // Writes the batch's events, then its audit records; false (logged, nothing written) when the
  // store refuses the events.
  bool Write(std::deque<Alert>& batch);

  Store& store_;
  const AuditLog* audit_;
  const std::function<void()> on_recorded_;
  const CanaryAlertsOptions options_;
  const scan::KeyFinder finder_;  // of options_.key_prefix
  mutable Mutex mu_;
  mutable CondVar wake_;
  mutable CondVar written_;
  mutable std::deque<Alert> queue_ GUARDED_BY(mu_);
  std::deque<Alert> retry_ GUARDED_BY(mu_);  // tried once, their events refused by the store
  mutable std::map<std::string, Recent> recent_ GUARDED_BY(mu_);
  mutable std::uint64_t queued_total_ GUARDED_BY(mu_) = 0;   // alerts ever queued
  mutable std::uint64_t written_total_ GUARDED_BY(mu_) = 0;  // of those, handled by the thread
  bool stopping_ GUARDED_BY(mu_) = false;
  mutable std::atomic<std::uint64_t> uses_{0};
  mutable std::atomic<std::uint64_t> suppressed_{0};
  std::thread thread_;
};

}  // namespace keyward
