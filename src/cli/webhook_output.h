// What `keyward webhook add|get|test` print, from the objects of /api/v1/webhooks: webhooks
// {"id", "url", "events", "users", "created", "created_by"} (and "secret" from add), deliveries
// {"id", "message_id", "event_type", "event_time", "state", "attempts", "next_attempt",
// "last_attempt", "last_status", "last_error"}, and what the add flags send. Pure functions;
// thread safe.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "cli/output.h"
#include "common/status.h"

namespace keyward {

// The body of POST /api/v1/webhooks: {url, events?, users?}, each list sent only when its flag
// was given (none: every event type, every user's keys). InvalidArgument naming the event type
// when one is not known (core/webhook.h), before anything is sent.
Result<boost::json::object> WebhookCreateBody(const std::string& url,
                                              const std::vector<std::string>& events,
                                              const std::vector<std::string>& users);

// Webhooks (one object or an array) as `format` prints them: the table
// ID | URL | EVENTS | USERS | CREATED (an empty list as "all"), plus SECRET when an object has
// one (the answer of add), or the objects unchanged as JSON or YAML.
std::string RenderWebhooks(const boost::json::value& webhooks, OutputFormat format);

// Deliveries (an array) as the table MESSAGE | EVENT | EVENT TIME | STATE | ATTEMPTS |
// LAST STATUS | LAST ERROR | NEXT ATTEMPT (null as "-"), or unchanged as JSON or YAML.
std::string RenderDeliveries(const boost::json::value& deliveries, OutputFormat format);

// After add, for stderr: one WARN line (with newline) saying the secret is shown this once and
// what it is for. Names no secret.
std::string WebhookSecretWarning();

}  // namespace keyward
