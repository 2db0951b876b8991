// Where a request may carry a key, in the documented order of precedence:
//   1. Authorization: Bearer <key>   (scheme case-insensitive, one or more spaces)
//   2. Authorization: <key>          (a bare key, no scheme)
//   3. apikey: <key>
// The first carrier present decides: a malformed Authorization header is not rescued by a
// later carrier. Pure; thread safe.
#pragma once

#include <optional>
#include <string_view>

#include "http/server.h"

namespace keyward {

// The presented key, or nullopt when the request carries none. The view points into `request`.
std::optional<std::string_view> FindCredential(const http::Request& request);

}  // namespace keyward
