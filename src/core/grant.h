// What an API key may do: its scopes, the owner's tags it presents and where it may be used
// from. Sessions (password sign-in) and keys made before scopes existed have their user's full
// power; every other key has exactly its grant (docs/api.md, "Scopes").
//
// Scopes come in two kinds. Keyward's own (kKeywardScopes) open Keyward's API to a key; any
// other scope ("minerva:query", "pulsar:produce") is a service scope: Keyward only stores it,
// and gateways require it (/auth?scope=). Value types and pure functions; thread safe.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace keyward {

namespace scope {
inline constexpr std::string_view kKeysRead = "keys:read";        // list own keys, masked
inline constexpr std::string_view kKeysWrite = "keys:write";      // create and delete own keys
inline constexpr std::string_view kKeysReveal = "keys:reveal";    // reveal own (narrower) keys
inline constexpr std::string_view kUsersRead = "users:read";      // list and read users (operator)
inline constexpr std::string_view kUsersWrite = "users:write";    // manage users (operator)
inline constexpr std::string_view kAuditRead = "audit:read";      // read the audit log
inline constexpr std::string_view kAuthorize = "authorize";       // POST /api/v1/authorize
inline constexpr std::string_view kTokensIssue = "tokens:issue";  // the token issuer
inline constexpr std::string_view kWebhooksRead = "webhooks:read";    // list webhooks (operator)
inline constexpr std::string_view kWebhooksWrite = "webhooks:write";  // manage webhooks (operator)
inline constexpr std::string_view kUsageRead = "usage:read";  // every key's usage (operator)
}  // namespace scope

// Keyward's own scopes, in the order documents list them.
inline constexpr std::array<std::string_view, 11> kKeywardScopes = {
    scope::kKeysRead,     scope::kKeysWrite,     scope::kKeysReveal, scope::kUsersRead,
    scope::kUsersWrite,   scope::kAuditRead,     scope::kAuthorize,  scope::kTokensIssue,
    scope::kWebhooksRead, scope::kWebhooksWrite, scope::kUsageRead};

bool IsKeywardScope(std::string_view scope);
// Scopes that act on other users and so need an owner with the operator tag.
bool NeedsOperator(std::string_view scope);

// A scope is 1-64 characters of [a-z0-9:._-]. Names in Keyward's own namespaces ("keys:",
// "users:", "audit:", "tokens:", "webhooks:", "usage:", "authorize") must be one of kKeywardScopes,
// so that a typo such as "keys:reed" is refused rather than stored as a service scope.
Status ValidateScope(std::string_view scope);

// Lists in a grant hold at most this many entries each.
inline constexpr std::size_t kMaxGrantEntries = 64;

struct Grant {
  // Created before scopes existed: every scope and tag the owner holds, from anywhere. The
  // lists below are then empty and ignored.
  bool full_access = false;
  std::vector<std::string> scopes;  // sorted, unique
  // The owner's tags the key presents, sorted and unique; nullopt: all of them, live (a tag
  // later added to or removed from the owner is added to or removed from the key).
  std::optional<std::vector<std::string>> tags;
  // Canonical CIDRs ("10.0.0.0/8", "2001:db8::/32"), sorted, unique; empty: from anywhere.
  std::vector<std::string> allowed_addresses;

  bool operator==(const Grant&) const = default;

  // True for full_access or when `scope` is among the scopes.
  bool HasScope(std::string_view scope) const;
};

// The grant of a session (and of work outside a request): full power.
Grant FullAccess();

// Validates every entry and returns the grant normalized: lists sorted and deduplicated,
// addresses canonical ("10.1.2.3" → "10.1.2.3/32"). InvalidArgument naming the first bad entry,
// a list over kMaxGrantEntries, or a CIDR with host bits set ("10.0.0.1/8").
Result<Grant> NormalizeGrant(Grant grant);

// The tags a key presents: the owner's current tags, limited to the grant's subset if any.
std::vector<std::string> EffectiveTags(const Grant& grant,
                                       const std::vector<std::string>& owner_tags);

// OK when `child` grants nothing `parent` lacks: every scope of `child` is one of `parent`'s,
// its tags are within `parent_tags` (the tags the parent presents; a child with tags = nullopt
// presents all of the owner's and is within only a parent that does too), and every address
// range of `child` lies inside one of `parent`'s (a parent limited by address needs a limited
// child). A full_access parent contains everything; a full_access child only a full_access
// parent. Otherwise PermissionDenied saying which part exceeds, e.g. "scope users:write is not
// in the creating key's grant". `whose` names the parent in that message ("the creating key").
Status CheckWithin(const Grant& child, const Grant& parent, std::string_view whose);

// The grant as short text for the audit log and logs: `scopes=a,b tags=t1,t2 from=10.0.0.0/8`,
// "tags=*" for live tags, "full-access" for a key made before scopes. Holds no secret.
std::string DescribeGrant(const Grant& grant);

// --- addresses ---

// An IPv4 or IPv6 network.
class Cidr {
 public:
  // "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). InvalidArgument for
  // anything else, a prefix beyond the family's width, or host bits set.
  static Result<Cidr> Parse(std::string_view text);

  // True when `address` (an IPv4 or IPv6 address in text, an IPv4-mapped IPv6 address counting
  // as its IPv4 address) lies in this network. False for text that is not an address.
  bool Contains(std::string_view address) const;
  // True when `inner` lies entirely inside this network.
  bool Covers(const Cidr& inner) const;
  // Canonical text: "10.0.0.0/8", "2001:db8::/32".
  std::string ToString() const;

 private:
  bool v4_ = true;
  std::array<unsigned char, 16> bytes_{};  // network bytes; the first 4 for IPv4
  int prefix_ = 0;
};

// True when `text` is one IPv4 address (dotted quad) or IPv6 address (an IPv4-mapped one
// included, "::ffff:10.1.2.3", as a dual-stack proxy forwards it), without prefix, port or
// scope id: what Cidr::Contains can place.
bool IsIpAddress(std::string_view text);

// True when `allowed` is empty or `address` lies in one of its networks.
bool AddressAllowed(const std::vector<Cidr>& allowed, std::string_view address);

// The networks of a grant's allowed_addresses; InvalidArgument if any entry does not parse.
Result<std::vector<Cidr>> ParseNetworks(const std::vector<std::string>& cidrs);

}  // namespace keyward
