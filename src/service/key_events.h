// The webhook events of changes to keys (core/webhook.h): what `data` holds for each type.
//
// data: {"user": owner id, "key": key name, "expiration": RFC 3339, …the `extra` members}:
// key.rotated adds "grace_until" (and "retire_when_idle" in seconds when set);
// key.expiring adds "within" (the threshold, seconds); key.reuse_detected adds "address",
// "user_agent" and "revoked" (bool); key.idle_revoked adds "idle_timeout" (seconds) and
// "last_used" (RFC 3339 or null); key.leaked (issue 17) adds "name" (the key's name again, as
// the leak contract names it), "action" ("revoked" | "disabled"), "url" (keys in it masked; only
// when reported) and "reporter_address". Never a key, a secret or a hash. Pure functions.
#pragma once

#include <boost/json/object.hpp>
#include <string_view>

#include "common/clock.h"
#include "core/key_record.h"
#include "core/webhook.h"

namespace keyward {

// The event `type` about `key` at `now`, for the outbox (Store methods' `events`).
WebhookEvent KeyEvent(std::string_view type, const KeyRecord& key, UnixSeconds now,
                      boost::json::object extra = {});

// The body a webhook receives: {"type", "timestamp" (RFC 3339), "data"}, compact JSON.
std::string EventPayload(const WebhookEvent& event);

}  // namespace keyward
