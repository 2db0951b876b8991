#include "api/router.h"

#include "api/path_template.h"

namespace keyward {
namespace {

bool Matches(const Route& route, const std::vector<std::string>& segments,
             std::vector<std::string>* params) {
  if (route.segments.size() != segments.size()) return false;
  params->clear();
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (IsPathParameter(route.segments[i])) {
      if (segments[i].empty()) return false;
      params->push_back(segments[i]);
    } else if (route.segments[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool ApiCall::QueryFlag(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value == "true" || value == "1";
  }
  return false;
}

void Router::Add(http::beast_http::verb method, std::string pattern, Access access, RouteFn fn) {
  Route route{method, pattern, access, std::move(fn), SplitPathTemplate(pattern)};
  routes_.push_back(std::move(route));
}

Router::Match Router::Find(http::beast_http::verb method,
                           const std::vector<std::string>& segments) const {
  Match match;
  std::vector<std::string> params;
  for (const Route& route : routes_) {
    if (!Matches(route, segments, &params)) continue;
    // HEAD is GET without the body (RFC 9110 §9.3.2); the transport drops the body.
    if (route.method == method ||
        (method == http::beast_http::verb::head && route.method == http::beast_http::verb::get)) {
      match.route = &route;
      match.params = std::move(params);
      return match;
    }
    match.path_known = true;
    if (!match.allow.empty()) match.allow += ", ";
    match.allow += std::string(http::beast_http::to_string(route.method));
    if (route.method == http::beast_http::verb::get) match.allow += ", HEAD";
  }
  return match;
}

}  // namespace keyward
