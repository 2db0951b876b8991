// Settings of the service layer, each with its default. Filled from `keyward serve` flags.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace keyward {

// Issue 17: what a leak report (POST /api/v1/leaks) does to a live key it names.
enum class LeakAction { kRevoke, kDisable };

struct ServiceOptions {
  // Keys look like "<key_prefix>_…". 1-16 characters of [a-z0-9].
  std::string key_prefix = "kw";
  // Validity of a key created without a duration, in seconds (24h).
  std::int64_t default_validity = 24 * 3600;
  // Longest validity a key may be given, in seconds (9999h, the figure DataOS users type).
  std::int64_t max_validity = 9999LL * 3600;
  // Validity of a sign-in session, in seconds (12h).
  std::int64_t session_validity = 12 * 3600;
  // Keep an encrypted copy of each key so its owner can reveal it later. Off: only the hash is
  // kept and a key is shown once, at creation.
  bool reveal = true;
  // Failed sign-ins for one user name before exponential backoff starts.
  int login_free_failures = 5;
  // Failed sign-ins from one client address before exponential backoff starts.
  int login_free_failures_per_address = 20;
  // Longest backoff, in seconds.
  std::int64_t login_max_backoff = 15 * 60;
  // Issue 15: key.expiring is announced this long before a key expires, once per threshold
  // (--expiry-warnings 7d,1d), largest first; empty: never.
  std::vector<std::int64_t> expiry_warnings = {7 * 86400, 86400};
  // How often the housekeeper (service/housekeeper.h) looks for keys to announce or revoke
  // (--housekeeping-interval), in milliseconds.
  std::int64_t housekeeping_interval_ms = 30'000;
  // How late the store may learn of a key's use, in whole seconds (at least 1): the app sets it
  // from --last-used-interval, rounded up. An old secret with retire_when_idle is retired this
  // much after it has gone unused that long, never before (OldSecret::AcceptedUntil).
  std::int64_t last_used_lag_seconds = 5;
  // Issue 16: hours of key usage older than this, in seconds (--usage-retention, 90d), are pruned
  // by the housekeeper.
  std::int64_t usage_retention = 90 * 86400;
  // Issue 17: a reported live key is deleted (kRevoke) or disabled (--leak-action).
  LeakAction leak_action = LeakAction::kRevoke;
  // Issue 17: leak reports one client address may send per minute, all at once at most
  // (--leak-reports-per-minute, 1 to 10000); the next is refused with 429 and Retry-After.
  std::int64_t leak_reports_per_minute = 10;
};

// Webhook deliveries (service/webhook_dispatcher.h), from `keyward serve --webhook-…`.
struct WebhookOptions {
  // Deliver to loopback, private, link-local and metadata addresses too (tests, labs).
  bool allow_private = false;
  // Refuse webhook URLs that are not https://.
  bool require_https = false;
  // One delivery attempt: connect and answer, in milliseconds.
  std::int64_t timeout_ms = 10'000;
  // Seconds before the first retry; each later one waits twice as long (±20 % jitter), at most
  // an hour, until `retry_for` after the event: then the delivery is marked failed.
  std::int64_t retry_min = 5;
  std::int64_t retry_for = 24 * 3600;
  // Deliveries attempted at once (threads).
  int workers = 4;
};

}  // namespace keyward
