#include "api/client_address.h"

#include <array>

#include "http/header_text.h"

namespace keyward {
namespace {

// The address of one forwarded entry without brackets or port, or kUnknownAddress when it is
// not an IP address.
std::string_view AddressOf(std::string_view entry) {
  entry = http::TrimOws(entry);
  if (entry.starts_with('[')) {  // "[2001:db8::1]" or "[2001:db8::1]:443"
    const auto close = entry.find(']');
    if (close == std::string_view::npos) return kUnknownAddress;
    entry = entry.substr(1, close - 1);
  } else if (const auto colon = entry.find(':');
             colon != std::string_view::npos &&
             entry.find(':', colon + 1) == std::string_view::npos) {
    entry = entry.substr(0, colon);  // "1.2.3.4:80"; IPv6 has more than one colon
  }
  return IsIpAddress(entry) ? entry : kUnknownAddress;
}

bool IsTrusted(const std::vector<Cidr>& trusted, std::string_view address) {
  for (const Cidr& net : trusted) {
    if (net.Contains(address)) return true;
  }
  return false;
}

}  // namespace

bool IsTrustedPeer(std::string_view peer, const std::vector<Cidr>& trusted) {
  return !trusted.empty() && IsTrusted(trusted, peer);
}

std::string_view ResolveClientAddress(std::string_view peer, const std::vector<Cidr>& trusted,
                                      std::span<const std::string_view> forwarded_for,
                                      std::string_view real_ip) {
  if (!IsTrustedPeer(peer, trusted)) return peer;
  std::string_view leftmost;
  for (auto field = forwarded_for.rbegin(); field != forwarded_for.rend(); ++field) {
    std::string_view rest = *field;
    while (!rest.empty()) {
      const auto comma = rest.rfind(',');
      const std::string_view raw = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
      if (http::TrimOws(raw).empty()) continue;
      const std::string_view address = AddressOf(raw);
      if (address == kUnknownAddress || !IsTrusted(trusted, address)) return address;
      leftmost = address;
    }
  }
  if (!leftmost.empty()) return leftmost;
  if (!http::TrimOws(real_ip).empty()) return AddressOf(real_ip);
  return peer;
}

std::string_view ClientAddress(const http::Request& request, std::string_view peer,
                               const std::vector<Cidr>& trusted) {
  if (trusted.empty()) return peer;
  std::array<std::string_view, 8> fields;
  std::size_t n = 0;
  auto range = request.equal_range("X-Forwarded-For");
  for (auto it = range.first; it != range.second; ++it) {
    // The last lines are the trusted proxies' own: with more than we keep, the client is not
    // known (and matches no address range), rather than read from lines a client wrote.
    if (n == fields.size()) return kUnknownAddress;
    fields[n++] = std::string_view(it->value());
  }
  std::string_view real_ip;
  if (auto it = request.find("X-Real-IP"); it != request.end()) real_ip = it->value();
  return ResolveClientAddress(peer, trusted, std::span(fields.data(), n), real_ip);
}

Result<std::vector<Cidr>> ParseTrustedProxies(std::string_view text) {
  return ParseCidrList(text, "--trusted-proxies");
}

Result<std::vector<Cidr>> ParseCidrList(std::string_view text, std::string_view flag) {
  std::vector<Cidr> out;
  while (!text.empty()) {
    const auto sep = text.find_first_of(", ");
    const std::string_view entry = text.substr(0, sep);
    text = sep == std::string_view::npos ? std::string_view() : text.substr(sep + 1);
    if (entry.empty()) continue;
    auto cidr = Cidr::Parse(entry);
    if (!cidr.ok()) {
      return Status::InvalidArgument(std::string(flag) + ": " + cidr.status().message());
    }
    out.push_back(*cidr);
  }
  return out;
}

std::string_view UserAgentOf(const http::Request& request) {
  auto it = request.find(http::beast_http::field::user_agent);
  if (it == request.end()) return {};
  return std::string_view(it->value()).substr(0, 256);
}

ClientInfo ClientOf(const http::Request& request, std::string_view address) {
  const auto method = request.method_string();
  const auto target = request.target();
  return ClientInfo{.address = address,
                    .user_agent = UserAgentOf(request),
                    .method = std::string_view(method.data(), method.size()),
                    .path = std::string_view(target.data(), target.size())};
}

}  // namespace keyward
