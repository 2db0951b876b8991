// The parts of `keyward user apikey` that need no server: the grant flags of `apikey create`
// and the body they make, and how keys are printed (the seed's four columns, `-o wide`, the
// note about keys made before scopes). Pure functions; thread safe.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/output.h"
#include "common/status.h"

namespace keyward {

// What `apikey create` sends besides the name and the duration. Each list holds what the flag
// was given, split at commas, in order; an empty list means the flag was not given.
struct GrantFlags {
  std::vector<std::string> scopes;        // -s,--scope
  std::vector<std::string> tags;          // --tag
  std::vector<std::string> allowed_from;  // --allow-from
};

// Adds -s/--scope, --tag and --allow-from (each repeatable and comma-separated) to `cmd`, and a
// help footer listing Keyward's scopes in plain words.
void AddGrantFlags(CLI::App* cmd, GrantFlags& flags);

// Plain words for one of Keyward's own scopes (core/grant.h kKeywardScopes); "" for any other.
std::string_view ScopeMeaning(std::string_view scope);

// The help footer of `apikey create`: what scopes are, Keyward's own, the default (none).
std::string ScopeHelp();

// What `apikey create` and `apikey update` may set about a key's life besides its grant; each
// is sent only when its flag was given (so `--description ""` clears a description).
struct KeyLifecycleFlags {
  std::optional<std::string> description;   // --description
  std::optional<std::string> idle_timeout;  // --idle-timeout: a duration, "0s" off
  std::optional<std::string> on_reuse;      // --on-reuse: keep | revoke
  std::optional<std::string> rate_limit;    // --rate-limit: N/DURATION, or off
};

// The JSON of a --rate-limit value: "N/DURATION" (N 1…1000000000; DURATION 1s…24h as
// core/duration.h reads it: 1s, 1m, 1h, 90s…) → {"requests": N, "per": "<shortest form>"};
// "off" → null (no limit). InvalidArgument naming --rate-limit and the accepted forms otherwise.
Result<boost::json::value> RateLimitBody(std::string_view text);

// The create body: {name?, duration?, scopes?, tags?, allowed_addresses?, description?,
// idle_timeout?, on_reuse?, rate_limit?}; rate_limit only when given and neither "off" (the
// default) nor invalid (check it with RateLimitBody first). Entries are trimmed of spaces and empty
// ones dropped; a list is sent only when its flag was given (no scopes is the server's default, and
// no tags or addresses means the owner's tags, live, from anywhere).
boost::json::object KeyCreateBody(const std::string& name, const std::string& duration,
                                  const GrantFlags& grant, const KeyLifecycleFlags& lifecycle = {});

// What `apikey update` changes: the key's name and expiration, and its life flags.
struct KeyEditFlags {
  std::optional<std::string> rename;   // --rename: the new name
  std::optional<std::string> expires;  // --expires: RFC 3339
  KeyLifecycleFlags lifecycle;
};

// The PATCH body {name?, expiration?, description?, idle_timeout?, on_reuse?, rate_limit?} of
// what was given (rate_limit null for "off"). InvalidArgument "nothing to change: …" naming the
// flags when none was, or RateLimitBody's error.
Result<boost::json::object> KeyUpdateBody(const KeyEditFlags& edit);

// Whether `text` is "0" followed by a unit or nothing ("0s", "00", "0d").
bool IsZeroDuration(std::string_view text);

// OK when `text`, the value of `flag`, is a duration (core/duration.h); with `zero_allowed`
// also "0" followed by a unit or nothing ("0s": off / none). InvalidArgument naming the flag.
Status CheckDurationFlag(std::string_view flag, const std::string& text, bool zero_allowed);

// " (disabled)", " (expired)", " (rotating until <the last accepted_until of its old
// secrets>)" after the name of a key that is not active; "" for an active key (or a server that
// sends no "status").
std::string KeyStatusSuffix(const boost::json::value& key);

// After `apikey rotate`, for stderr: an INFO line (with newline) "the old secret kw_…xyz is
// accepted until <RFC 3339>" about the old secret whose "rotated" is the key's (the one this
// rotation replaced), or saying it is no longer accepted (`zero_grace`: the rotation was asked
// for with grace 0; or no such secret listed).
std::string RotationNote(const boost::json::value& key, bool zero_grace = false);

// Keys (one API key object or an array of them) as `format` prints them on stdout: the table
// TOKEN | TYPE | EXPIRATION | NAME (the name followed by KeyStatusSuffix), the wide table adding
// SCOPES, TAGS, ALLOWED FROM, CREATED, LAST USED, RATE LIMIT ("10/1s", or "none"), or the objects
// unchanged as JSON or YAML.
std::string RenderKeys(const boost::json::value& keys, OutputFormat format);

// For a table: a WARN line (with newline) naming the keys made before scopes, which have their
// owner's full power, and advising to replace them with scoped keys; "" when there are none.
std::string FullAccessNote(const boost::json::value& keys);

}  // namespace keyward
