// libcurl, opened on first use (common/shared_library.h says why): libcurl_loader.cc defines
// every curl_… function Keyward calls as a forwarder to libcurl.so.4's.
#pragma once

#include "common/status.h"

namespace keyward {

// Opens libcurl.so.4 once; Unavailable naming the Debian package (libcurl4) when it cannot.
// Called before the first use (the webhook dispatcher's start, the CLI's first request), so that
// a missing library is a clear error, not an abort in a forwarder.
Status LoadLibcurl();

}  // namespace keyward
