// libpq, opened on first use (common/shared_library.h says why): libpq_loader.cc defines every
// PQ… function the PostgreSQL backend calls as a forwarder to libpq.so.5's.
#pragma once

#include "common/status.h"

namespace keyward::pg {

// Opens libpq.so.5 once; Unavailable naming the Debian package (libpq5) when it cannot. Called
// before the backend's first connection, so that a missing library is a clear error, not an
// abort in a forwarder.
Status LoadLibpq();

}  // namespace keyward::pg
