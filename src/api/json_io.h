// JSON in and out of the API: request bodies, users, keys and audit events (the error shape is
// http::ErrorBody).
#pragma once

#include <boost/json.hpp>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/audit_event.h"
#include "core/user.h"
#include "service/key_service.h"

namespace keyward {

// True for "application/json", in any case, with or without parameters ("; charset=utf-8").
bool IsJsonMediaType(std::string_view content_type);

// The body as a JSON object. InvalidArgument for a wrong Content-Type, invalid JSON, nesting
// deeper than 32 levels, duplicate keys, or anything but an object. An empty body is {}.
Result<boost::json::object> ParseObject(std::string_view content_type, std::string_view body);

// OK when every member of `obj` is one of `known`; else InvalidArgument naming the first other
// one (when it is a plain name of at most 32 characters: never a key) and the members the request
// takes. A body with a field the server does not know is refused, never half understood.
Status CheckKnownMembers(const boost::json::object& obj,
                         std::initializer_list<std::string_view> known);

// The string member `name`: nullopt when absent or null; InvalidArgument when not a string.
Result<std::optional<std::string>> OptionalString(const boost::json::object& obj,
                                                  std::string_view name);
// Like OptionalString, but InvalidArgument when absent.
Result<std::string> RequiredString(const boost::json::object& obj, std::string_view name);
// The boolean member `name`: nullopt when absent or null; InvalidArgument when not a boolean.
Result<std::optional<bool>> OptionalBool(const boost::json::object& body, std::string_view name);
// The array-of-strings member `name`: nullopt when absent or null; InvalidArgument naming it
// when not an array, when an element is not a string, or when it holds more than `max`
// elements (refused before any is copied).
Result<std::optional<std::vector<std::string>>> OptionalStringArray(const boost::json::object& obj,
                                                                    std::string_view name,
                                                                    std::size_t max);

// The member `name` as a rate limit (issue 16): nullopt when absent; RateLimitSpec{} (requests
// 0: none) when null; else an object of exactly "requests" (a whole number ≥ 1) and "per" (a
// string; the service parses it). InvalidArgument naming the member that is wrong.
Result<std::optional<RateLimitSpec>> OptionalRateLimit(const boost::json::object& obj,
                                                       std::string_view name);

// RFC 3339 (common/clock.h FormatRfc3339), or null for 0 (never).
boost::json::value TimeOrNull(UnixSeconds t);
// {id, name, type, tags, created}
boost::json::object UserJson(const User& user);
// A list of strings as a JSON array.
boost::json::array StringArray(const std::vector<std::string>& list);
// {name, type, expiration, created, last_used, token, scopes, tags, allowed_addresses,
// full_access, description, disabled, idle_timeout, on_reuse, rotated, status, old_secrets,
// rate_limit, last_address}; tags null when the key presents all of its owner's tags, live;
// idle_timeout (a duration) and rotated null when none; old_secrets [{token (masked), rotated,
// accepted_until, last_used}]; rate_limit (RateLimitJson) and last_address null when none.
boost::json::object KeyJson(const KeyView& key);
// {"requests": N, "per": "1s"} (per as core/duration.h formats it), or null when off.
boost::json::value RateLimitJson(const RateLimit& limit);
// {id, time, actor, action, user, target, address, outcome, reason, detail}
boost::json::object AuditEventJson(const AuditEvent& event);

}  // namespace keyward
