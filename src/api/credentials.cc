#include "api/credentials.h"

#include <sodium.h>

#include <boost/beast/core/string.hpp>

#include "http/header_text.h"

namespace keyward {
namespace {

// The password of "Basic base64(user:password)", decoded into `scratch`.
std::string_view BasicPassword(std::string_view encoded, std::string& scratch) {
  scratch.resize(encoded.size());
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(scratch.data()), scratch.size(),
                        encoded.data(), encoded.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return {};
  }
  std::string_view decoded(scratch.data(), len);
  auto colon = decoded.find(':');
  return colon == std::string_view::npos ? std::string_view() : decoded.substr(colon + 1);
}

std::optional<std::string_view> QueryKey(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (pair.starts_with("apikey=")) return pair.substr(7);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string_view> FindCredential(const http::Request& request, bool allow_query,
                                               std::string& scratch) {
  auto auth = request.find(http::beast_http::field::authorization);
  if (auth != request.end()) {
    // A singleton field (RFC 9110 §5.3): of two, neither is the credential.
    if (request.count(http::beast_http::field::authorization) > 1) return std::string_view();
    std::string_view value = http::TrimOws(std::string_view(auth->value()));
    auto space = value.find(' ');
    if (space == std::string_view::npos) return value;  // a bare key (or garbage)
    std::string_view scheme = value.substr(0, space);
    std::string_view rest = http::TrimOws(value.substr(space + 1));
    if (boost::beast::iequals(scheme, "Bearer")) return rest;
    if (boost::beast::iequals(scheme, "Basic")) return BasicPassword(rest, scratch);
    return std::string_view();  // another scheme: presented, but not a key we accept
  }
  auto apikey = request.find("apikey");
  if (apikey != request.end()) {
    if (request.count("apikey") > 1) return std::string_view();
    return http::TrimOws(std::string_view(apikey->value()));
  }
  if (allow_query) return QueryKey(std::string_view(request.target()));
  return std::nullopt;
}

std::optional<std::string_view> FindSessionCookie(const http::Request& request) {
  constexpr std::string_view kName = "keyward_session=";
  for (auto it = request.find(http::beast_http::field::cookie); it != request.end(); ++it) {
    if (it->name() != http::beast_http::field::cookie) break;
    std::string_view cookies(it->value());
    while (!cookies.empty()) {
      auto end = cookies.find(';');
      std::string_view pair = http::TrimOws(cookies.substr(0, end));
      if (pair.starts_with(kName)) return pair.substr(kName.size());
      if (end == std::string_view::npos) break;
      cookies.remove_prefix(end + 1);
    }
  }
  return std::nullopt;
}

bool IsSameOriginOrUnknown(const http::Request& request) {
  auto origin = request.find(http::beast_http::field::origin);
  if (origin == request.end()) return true;
  std::string_view value(origin->value());
  std::string_view host(request[http::beast_http::field::host]);
  for (std::string_view scheme : {"http://", "https://"}) {
    if (value.starts_with(scheme) && value.substr(scheme.size()) == host && !host.empty()) {
      return true;
    }
  }
  return false;
}

bool PassesCsrfCheck(const http::Request& request) {
  using http::beast_http::verb;
  const verb method = request.method();
  if (method == verb::get || method == verb::head || method == verb::options) return true;
  return request.find("X-Keyward-CSRF") != request.end() && IsSameOriginOrUnknown(request);
}

}  // namespace keyward
