// Where a webhook may send: the URL rules and the address check that keeps deliveries away
// from this host and its networks (server-side request forgery).
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "common/status.h"
#include "service/options.h"

namespace keyward {

// True for an address a delivery must not reach unless --webhook-allow-private: unspecified,
// loopback, private (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), link-local
// (169.254/16 — the cloud metadata address among them — fe80::/10), multicast, broadcast,
// documentation/benchmark ranges, IPv4-mapped and NAT64 forms of any of those; any family
// other than IPv4/IPv6.
bool IsForbiddenAddress(const sockaddr* address, socklen_t length);

// A webhook URL: absolute http:// or https:// (https only with options.require_https), a host,
// no user name or password (a secret would sit in a URL), no fragment, at most
// kMaxWebhookUrlBytes. Unless options.allow_private the host is resolved now and refused when
// any address it resolves to is forbidden, or when it does not resolve (InvalidArgument naming
// the reason, never echoing more than the host); Unavailable "cannot resolve … now; try again"
// when the resolver fails for the moment (EAI_AGAIN). Blocking: name resolution through
// getaddrinfo, which takes no timeout; it is bounded only by the system resolver's own
// (resolv.conf timeout × attempts, 5 s × 2 by default).
Status CheckWebhookUrl(std::string_view url, const WebhookOptions& options);

}  // namespace keyward
