// The transport's own answers: the API's JSON error shape, sent with `Connection: close`.
//
// Thread safe (pure functions).
#pragma once

#include <string_view>

#include "common/status.h"
#include "http/server.h"

namespace keyward::http {

// `{"error":{"code":"<StatusCodeName(code)>","message":"<message>"}}` with Content-Type
// application/json, Content-Length and `Connection: close`. `message` is sent to the client:
// never put a secret in it.
Response MakeErrorResponse(beast_http::status status, StatusCode code, std::string_view message);

}  // namespace keyward::http
