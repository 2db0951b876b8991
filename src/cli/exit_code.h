// The one table from Status codes to the CLI's exit codes, documented in README.md.
#pragma once

#include "common/status.h"

namespace keyward {

// 0 ok · 1 internal error · 2 usage or invalid argument · 3 not signed in or key not valid ·
// 4 permission denied · 5 not found · 6 already exists · 7 server unavailable or unreachable ·
// 8 rate limited · 9 failed precondition (the server lacks what the call needs, such as the
// master key for webhooks) · 10 the server's disk is full (nothing was changed; retry once space
// is freed)
int ExitCodeFor(StatusCode code);

}  // namespace keyward
