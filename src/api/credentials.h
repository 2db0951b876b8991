// Where a request may carry a key, in the documented order of precedence:
//   1. Authorization: Bearer <key>         (scheme case-insensitive)
//   2. Authorization: <key>                (a bare key, no scheme)
//   3. Authorization: Basic base64(user:key)  (SQL engine drivers send user:apikey)
//   4. apikey: <key>
//   5. ?apikey=<key>                       (only when the server allows it)
// The first carrier present decides: a malformed Authorization header is not rescued by a
// later carrier, and a repeated one (two Authorization or two apikey fields) holds nothing
// usable. Pure; thread safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/server.h"

namespace keyward {

// The presented key, or nullopt when the request carries none; an empty view when a carrier
// is present but holds nothing usable. The view points into `request` or into `scratch`.
std::optional<std::string_view> FindCredential(const http::Request& request, bool allow_query,
                                               std::string& scratch);

// The browser session: the value of the `keyward_session` cookie, or nullopt.
std::optional<std::string_view> FindSessionCookie(const http::Request& request);

// The CSRF defence for a request authenticated by the session cookie: a state-changing method
// (anything but GET, HEAD, OPTIONS) must carry the X-Keyward-CSRF header, which a cross-site
// form cannot send, and, when the browser sent an Origin, it must be this server's own.
bool PassesCsrfCheck(const http::Request& request);

// False when the request carries an Origin header naming another site than its Host.
bool IsSameOriginOrUnknown(const http::Request& request);

}  // namespace keyward
