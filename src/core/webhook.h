// Webhooks: what the store keeps about an endpoint, the events Keyward announces and their
// deliveries (service/webhook_service.h, service/webhook_dispatcher.h).
//
// Events are written to an outbox in the same transaction as the change they announce
// (Store::CreateKey … take them), and the store fans each one out to a delivery row per
// matching webhook in that transaction too: an acknowledged change never loses its event.
// An event never holds a key, a secret or a hash of one: user ids, key names, times, addresses.
// Value types and pure functions; thread safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace keyward {

namespace event {
inline constexpr std::string_view kKeyCreated = "key.created";
inline constexpr std::string_view kKeyDeleted = "key.deleted";
inline constexpr std::string_view kKeyRotated = "key.rotated";
inline constexpr std::string_view kKeyDisabled = "key.disabled";
inline constexpr std::string_view kKeyEnabled = "key.enabled";
inline constexpr std::string_view kKeyExpiring = "key.expiring";
inline constexpr std::string_view kKeyExpired = "key.expired";
inline constexpr std::string_view kKeyIdleRevoked = "key.idle_revoked";
inline constexpr std::string_view kKeyReuseDetected = "key.reuse_detected";
// Issue 17: a live key reported at POST /api/v1/leaks was revoked or disabled.
inline constexpr std::string_view kKeyLeaked = "key.leaked";
// Issue 17: a canary key was presented somewhere.
inline constexpr std::string_view kKeyCanaryUsed = "key.canary_used";
// Sent by `keyward webhook test` to one webhook only; never subscribed to.
inline constexpr std::string_view kWebhookTest = "webhook.test";
}  // namespace event

// The event types a webhook may subscribe to, in the order documents list them.
inline constexpr std::array<std::string_view, 11> kEventTypes = {
    event::kKeyCreated,       event::kKeyDeleted,  event::kKeyRotated,   event::kKeyDisabled,
    event::kKeyEnabled,       event::kKeyExpiring, event::kKeyExpired,   event::kKeyIdleRevoked,
    event::kKeyReuseDetected, event::kKeyLeaked,   event::kKeyCanaryUsed};

// InvalidArgument "unknown event type \"x\"; known: key.created, …" unless one of kEventTypes.
Status ValidateEventType(std::string_view type);

// One event in the outbox.
struct WebhookEvent {
  std::int64_t id = 0;  // assigned by the store (increasing); ignored when appending
  std::string type;     // one of event::k…
  UnixSeconds time = 0;
  std::string user_id;  // whose key: the webhooks' `users` filter matches it; "" for none
  std::string data;     // the payload's "data", a JSON object as text (service/key_events.h)
  // Set: delivered to this webhook only, whatever its filters (event::kWebhookTest).
  std::string only_webhook;
};
using EventList = std::vector<WebhookEvent>;

// An endpoint. The secret is the HMAC key of Standard Webhooks: "whsec_" + base64 of 32 random
// bytes, shown once at creation; the store keeps it sealed with the master key.
struct Webhook {
  std::string id;  // "wh_" + 20 random [a-z0-9]
  std::string url;
  std::vector<std::string> events;  // sorted, unique; empty: every type in kEventTypes
  std::vector<std::string> users;   // sorted, unique user ids; empty: every user's keys
  std::string sealed_secret;        // MasterKey::Seal(secret, id)
  std::string created_by;           // the operator's user id
  UnixSeconds created_at = 0;
};

// Limits on what a webhook may hold.
inline constexpr std::size_t kMaxWebhookUrlBytes = 2048;
inline constexpr std::size_t kMaxWebhookUsers = 64;

enum class DeliveryState { kPending, kDelivered, kFailed };
std::string_view DeliveryStateName(DeliveryState state);  // "pending" | "delivered" | "failed"

// One event for one webhook, and how its delivery went.
struct Delivery {
  std::int64_t id = 0;  // assigned by the store
  std::string webhook_id;
  WebhookEvent event;  // the whole event, payload included
  DeliveryState state = DeliveryState::kPending;
  int attempts = 0;                 // made so far
  UnixSeconds next_attempt_at = 0;  // while pending
  UnixSeconds last_attempt_at = 0;  // 0: none yet
  int last_status = 0;              // HTTP status of the last attempt; 0: no answer
  std::string last_error;           // why the last attempt failed ("" after a success); no secret
  // Filled by Store::ClaimDeliveries only (what the dispatcher needs to send it).
  std::string url;
  std::string sealed_secret;
};

// How an attempt ended (Store::FinishDelivery).
struct DeliveryOutcome {
  DeliveryState state = DeliveryState::kPending;  // pending: try again at next_attempt_at
  UnixSeconds attempted_at = 0;
  UnixSeconds next_attempt_at = 0;
  int status = 0;
  std::string error;
};

// Webhook ids: "wh_" followed by 1-64 of [a-z0-9]. InvalidArgument otherwise.
Status ValidateWebhookId(std::string_view id);

// The Standard Webhooks "webhook-id" of an event: "msg_" + its id. Retries keep it.
std::string MessageId(std::int64_t event_id);

}  // namespace keyward
