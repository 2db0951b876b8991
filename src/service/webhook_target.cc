#include "service/webhook_target.h"

#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <boost/url/parse.hpp>
#include <boost/url/scheme.hpp>
#include <boost/url/url_view.hpp>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>

#include "core/webhook.h"

namespace keyward {
namespace {

// An IPv4 range: `prefix` (host order) with its first `bits` bits significant.
struct V4Range {
  std::uint32_t prefix;
  int bits;
};

constexpr std::uint32_t V4(int a, int b, int c, int d) {
  return (static_cast<std::uint32_t>(a) << 24) | (static_cast<std::uint32_t>(b) << 16) |
         (static_cast<std::uint32_t>(c) << 8) | static_cast<std::uint32_t>(d);
}

// IANA's special-purpose IPv4 registry, less the globally reachable entries that matter not.
constexpr std::array<V4Range, 15> kForbiddenV4 = {{
    {V4(0, 0, 0, 0), 8},        // "this network", the unspecified address
    {V4(10, 0, 0, 0), 8},       // private
    {V4(100, 64, 0, 0), 10},    // carrier-grade NAT
    {V4(127, 0, 0, 0), 8},      // loopback
    {V4(169, 254, 0, 0), 16},   // link-local, the cloud metadata address 169.254.169.254
    {V4(172, 16, 0, 0), 12},    // private
    {V4(192, 0, 0, 0), 24},     // IETF protocol assignments
    {V4(192, 0, 2, 0), 24},     // documentation (TEST-NET-1)
    {V4(192, 88, 99, 0), 24},   // 6to4 relay anycast
    {V4(192, 168, 0, 0), 16},   // private
    {V4(198, 18, 0, 0), 15},    // benchmarking
    {V4(198, 51, 100, 0), 24},  // documentation (TEST-NET-2)
    {V4(203, 0, 113, 0), 24},   // documentation (TEST-NET-3)
    {V4(224, 0, 0, 0), 4},      // multicast
    {V4(240, 0, 0, 0), 4},      // reserved, and the broadcast address 255.255.255.255
}};

bool IsForbiddenV4(std::uint32_t address) {
  return std::any_of(kForbiddenV4.begin(), kForbiddenV4.end(), [address](const V4Range& r) {
    const std::uint32_t mask = ~std::uint32_t{0} << (32 - r.bits);
    return (address & mask) == r.prefix;
  });
}

std::uint32_t V4At(const std::uint8_t* bytes) { return V4(bytes[0], bytes[1], bytes[2], bytes[3]); }

// True when `a` starts with the bytes of `prefix`.
bool Starts(const std::uint8_t* a, std::initializer_list<std::uint8_t> prefix) {
  return std::equal(prefix.begin(), prefix.end(), a);
}

bool IsForbiddenV6(const std::uint8_t* a) {
  const bool first80_zero = std::all_of(a, a + 10, [](std::uint8_t b) { return b == 0; });
  // ::/96 (the unspecified address, loopback and the old IPv4-compatible form), ::ffff:0:0/96
  // (IPv4-mapped) and ::ffff:0:0:0/96 (IPv4-translated) carry an IPv4 address in their last 32
  // bits: judged by it. 0.0.0.0/8 is forbidden, so :: and ::1 are too.
  if (first80_zero && ((a[10] == 0 && a[11] == 0) || (a[10] == 0xff && a[11] == 0xff))) {
    return IsForbiddenV4(V4At(a + 12));
  }
  if (Starts(a, {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0})) return IsForbiddenV4(V4At(a + 12));
  // NAT64 64:ff9b::/96 (well-known prefix): the IPv4 address it translates to.
  if (Starts(a, {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) return IsForbiddenV4(V4At(a + 12));
  // 6to4 2002::/16 embeds an IPv4 address in bits 16-47.
  if (Starts(a, {0x20, 0x02})) return IsForbiddenV4(V4At(a + 2));
  // Outside global unicast 2000::/3: unique local fc00::/7 (the cloud metadata address
  // fd00:ec2::254 among them), link-local fe80::/10, site-local, multicast ff00::/8, the rest of
  // ::/8, local-use NAT64 64:ff9b:1::/48, discard-only 100::/64.
  if ((a[0] & 0xe0) != 0x20) return true;
  if (Starts(a, {0x20, 0x01, 0, 0})) return true;        // Teredo 2001::/32 (tunnels anywhere)
  if (Starts(a, {0x20, 0x01, 0x0d, 0xb8})) return true;  // documentation 2001:db8::/32
  return false;
}

// The host to resolve, or "" when the URL's host is not one a delivery can go to.
std::string HostOf(const boost::urls::url_view& url) {
  switch (url.host_type()) {
    case boost::urls::host_type::ipv4:
      return url.host_ipv4_address().to_string();
    case boost::urls::host_type::ipv6:
      return url.host_ipv6_address().to_string();
    case boost::urls::host_type::name: {
      // Letters, digits, '-', '.' and '_' only: no percent-encoding for parsers to disagree on.
      std::string name(url.encoded_host().data(), url.encoded_host().size());
      const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_';
      });
      return plain ? name : std::string();
    }
    default:
      return {};
  }
}

// Resolves `host` and refuses it when any of its addresses is forbidden.
Status CheckResolvedHost(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int error = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (error == EAI_AGAIN) {  // the resolver failed for now: no verdict on the host
    return Status::Unavailable("cannot resolve the webhook URL's host " + host + " now; try again");
  }
  if (error != 0 || found == nullptr) {
    return Status::InvalidArgument("the webhook URL's host " + host + " does not resolve");
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, &::freeaddrinfo);
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (IsForbiddenAddress(a->ai_addr, a->ai_addrlen)) {
      return Status::InvalidArgument(
          "the webhook URL's host " + host +
          " is or resolves to a loopback, private, link-local or other non-public address");
    }
  }
  return Status::Ok();
}

}  // namespace

bool IsForbiddenAddress(const sockaddr* address, socklen_t length) {
  if (address == nullptr) return true;
  if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in v4;
    std::memcpy(&v4, address, sizeof v4);
    return IsForbiddenV4(ntohl(v4.sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 v6;
    std::memcpy(&v6, address, sizeof v6);
    return IsForbiddenV6(v6.sin6_addr.s6_addr);
  }
  return true;
}

Status CheckWebhookUrl(std::string_view url, const WebhookOptions& options) {
  if (url.size() > kMaxWebhookUrlBytes) {
    return Status::InvalidArgument("the webhook URL is longer than " +
                                   std::to_string(kMaxWebhookUrlBytes) + " bytes");
  }
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return Status::InvalidArgument("the webhook URL is not an absolute URL");
  const boost::urls::url_view& view = *parsed;
  const auto scheme = view.scheme_id();
  if (scheme != boost::urls::scheme::https &&
      (options.require_https || scheme != boost::urls::scheme::http)) {
    return Status::InvalidArgument(options.require_https
                                       ? "the webhook URL must start with https://"
                                       : "the webhook URL must start with http:// or https://");
  }
  if (!view.has_authority() || view.encoded_host().empty()) {
    return Status::InvalidArgument("the webhook URL has no host");
  }
  if (view.has_userinfo()) {
    return Status::InvalidArgument("the webhook URL must not hold a user name or password");
  }
  if (view.has_fragment()) {
    return Status::InvalidArgument("the webhook URL must not hold a #fragment");
  }
  if (view.has_port() && view.port_number() == 0) {
    return Status::InvalidArgument("the webhook URL's port is not 1-65535");
  }
  const std::string host = HostOf(view);
  if (host.empty()) return Status::InvalidArgument("the webhook URL's host is not a valid host");
  if (options.allow_private) return Status::Ok();
  return CheckResolvedHost(host);
}

}  // namespace keyward
