// The client's address: whom the audit log names, and what API key address limits
// (Grant::allowed_addresses) and /auth check.
//
// The TCP peer, unless the peer is one of the trusted proxies (`--trusted-proxies CIDR,…`):
// then X-Forwarded-For walked right to left, skipping trusted proxies (the first untrusted
// entry is the client; when every entry is trusted, the leftmost), else X-Real-IP, else the
// peer. A client may write anything in those headers, so an untrusted peer's are never read.
// An entry that is not an IP address gives "unknown", which no address range contains.
// Pure functions; the views point into the request, the peer or static text. Thread safe.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "core/grant.h"
#include "http/server.h"
#include "service/client_info.h"

namespace keyward {

// The address "unknown" stands for a client whose forwarded address is not an IP address.
inline constexpr std::string_view kUnknownAddress = "unknown";

// Whether a request from `peer` may name its client in forwarding headers: `peer` is one of the
// `trusted` proxies (none when `trusted` is empty). What the functions below decide by.
bool IsTrustedPeer(std::string_view peer, const std::vector<Cidr>& trusted);

// The resolution itself: `forwarded_for` holds the X-Forwarded-For field values in the order
// they came (each a comma-separated list), `real_ip` X-Real-IP's ("" when absent). Entries may
// carry a port ("1.2.3.4:80", "[2001:db8::1]:443"); the answer is the address alone.
std::string_view ResolveClientAddress(std::string_view peer, const std::vector<Cidr>& trusted,
                                      std::span<const std::string_view> forwarded_for,
                                      std::string_view real_ip);

// The same, read from `request`, allocation-free. More than 8 X-Forwarded-For fields (a trusted
// proxy adds one, a client may have sent any number): kUnknownAddress.
std::string_view ClientAddress(const http::Request& request, std::string_view peer,
                               const std::vector<Cidr>& trusted);

// The request's User-Agent for records of who presented a credential (key.reuse_detected): at
// most the first 256 bytes; empty when absent.
std::string_view UserAgentOf(const http::Request& request);

// Who sent `request` from `address`, for the Authenticator's records (ClientInfo): its user agent
// (UserAgentOf), method and target. Views into `request`.
ClientInfo ClientOf(const http::Request& request, std::string_view address);

// The CIDRs of a list ("10.0.0.0/8,2001:db8::/32", spaces allowed; empty: none) given to the
// command-line flag `flag`. InvalidArgument "<flag>: …" naming the first that does not parse.
Result<std::vector<Cidr>> ParseCidrList(std::string_view text, std::string_view flag);

// ParseCidrList(text, "--trusted-proxies").
Result<std::vector<Cidr>> ParseTrustedProxies(std::string_view text);

}  // namespace keyward
