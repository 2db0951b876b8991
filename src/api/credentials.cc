#include "api/credentials.h"

#include <boost/beast/core/string.hpp>

namespace keyward {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string_view> FindCredential(const http::Request& request) {
  auto auth = request.find(http::beast_http::field::authorization);
  if (auth != request.end()) {
    std::string_view value = Trim(auth->value());
    auto space = value.find(' ');
    if (space == std::string_view::npos) return value;  // a bare key (or garbage)
    std::string_view scheme = value.substr(0, space);
    if (boost::beast::iequals(scheme, "Bearer")) return Trim(value.substr(space + 1));
    return std::string_view();  // another scheme: presented, but not a key we accept
  }
  auto apikey = request.find("apikey");
  if (apikey != request.end()) return Trim(apikey->value());
  return std::nullopt;
}

}  // namespace keyward
