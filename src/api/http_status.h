// The one table from Status codes to HTTP statuses.
#pragma once

#include "common/status.h"

namespace keyward {

// kOk 200, kInvalidArgument 400, kUnauthenticated 401, kPermissionDenied 403, kNotFound 404,
// kAlreadyExists 409, kResourceExhausted 429, kInternal 500, kUnavailable 503.
int HttpStatusFor(StatusCode code);

}  // namespace keyward
