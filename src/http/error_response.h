// The error shape of every Keyward HTTP answer, and the transport's own error responses.
//
// Thread safe (pure functions).
#pragma once

#include <boost/json/value.hpp>
#include <string_view>

#include "common/status.h"
#include "http/server.h"

namespace keyward::http {

// {"error": {"code": "<code>", "message": "<message>"}}: the one builder of the error body, for
// the transport and the API alike. `message` is sent to the client: never put a secret in it.
boost::json::value ErrorBody(std::string_view code, std::string_view message);

// ErrorBody(StatusCodeName(code), message) with Content-Type application/json, Content-Length
// and `Connection: close`.
Response MakeErrorResponse(beast_http::status status, StatusCode code, std::string_view message);

}  // namespace keyward::http
