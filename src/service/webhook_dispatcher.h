// Delivers the outbox: claims due deliveries from the store (Store::ClaimDeliveries: on
// PostgreSQL each one by exactly one node), POSTs each event, signed the Standard Webhooks way,
// and records the outcome (Store::FinishDelivery).
//
// A request: POST, Content-Type application/json, body EventPayload (service/key_events.h),
// headers webhook-id ("msg_<event id>", the same on every retry), webhook-timestamp (Unix
// seconds of this attempt), webhook-signature "v1,<base64 HMAC-SHA256 of
// "<id>.<timestamp>.<body>" keyed with the secret's bytes after "whsec_">"; libcurl with no
// proxy, no redirects followed (a 3xx is a failed attempt), options.timeout_ms for the whole
// attempt, http and https only (https only with options.require_https), TLS verified, and — unless
// options.allow_private — every address connected to checked with IsForbiddenAddress after name
// resolution (a refused address is skipped; the attempt fails as refused when no address was
// connected to). 2xx: delivered. Anything else: retried after
// retry_min · 2^(n−1) seconds (±20 % jitter, at most 1 h), or failed once `retry_for` has passed
// since the event. A lease of 2 × timeout + 5 s covers an attempt; a node killed mid-attempt leaves
// the delivery to be claimed again when the lease ends (at least once). The last attempt is made at
// event time + retry_for at the latest. At most one delivery per webhook is in flight
// (Store::ClaimDeliveries), so a receiver that never answers holds one worker, not all. Leases
// compare the nodes' clocks: a node whose clock runs ahead of another's by more than the lease
// may claim a delivery still under way there (a duplicate; at least once still holds); and
// FinishDelivery does not check who holds the lease, so the slower node's outcome is recorded
// last and ends the newer lease early.
// Thread safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "core/master_key.h"
#include "core/webhook.h"
#include "service/options.h"
#include "service/periodic_thread.h"
#include "store/store.h"

namespace keyward {

// "v1,<base64 HMAC-SHA256>" of Standard Webhooks for `secret` ("whsec_" + base64 key bytes).
// InvalidArgument when the secret is not of that form.
Result<std::string> SignWebhook(std::string_view secret, std::string_view message_id,
                                std::int64_t timestamp, std::string_view body);

// A new secret: "whsec_" + base64 of 32 random bytes.
std::string NewWebhookSecret();

// What the dispatcher did since it started (for /metrics): attempts that delivered, that failed
// and will be retried, and deliveries given up (state failed).
struct WebhookCounters {
  std::uint64_t delivered = 0;
  std::uint64_t retried = 0;
  std::uint64_t failed = 0;
};

class WebhookDispatcher {
 public:
  // Starts options.workers threads that poll every second, or at once when nudged (0 workers:
  // none, RunOnce only; for tests). A null `master_key` delivers nothing (no webhook can exist
  // then).
  WebhookDispatcher(Store& store, const MasterKey* master_key, const WebhookOptions& options,
                    const Clock& clock);
  ~WebhookDispatcher();
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  // Something was enqueued: look now rather than at the next poll. Never blocks.
  void Nudge();
  // Attempts every delivery due now on the calling thread; returns how many it attempted.
  // For tests and tools; the threads keep running beside it.
  std::size_t RunOnce();
  // Finishes the attempts under way and joins the threads; idempotent.
  void Stop();
  WebhookCounters Counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyward
