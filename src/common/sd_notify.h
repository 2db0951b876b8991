// Readiness for systemd (a `Type=notify` unit): the sd_notify protocol, without libsystemd.
// The service manager passes a socket in $NOTIFY_SOCKET (a path, or an abstract socket name
// written with a leading '@'); the service sends it datagrams of "NAME=value" lines, e.g.
// "READY=1" once it serves and "STOPPING=1" when it begins to shut down.
#pragma once

#include <string_view>

#include "common/status.h"

namespace keyward {

// Sends `state` to $NOTIFY_SOCKET in one datagram. Ok without sending when the variable is
// unset or empty (not started by systemd); an error when it is set but cannot be used.
Status NotifyServiceManager(std::string_view state);

}  // namespace keyward
