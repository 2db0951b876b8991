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

// Adds `method` (GET with HEAD) to the ", "-separated list `allow`, unless it is there: a path
// may match several patterns ("/users/me" and "/users/{id}") that share a method.
void AddAllowed(std::string& allow, http::beast_http::verb method) {
  std::string name(http::beast_http::to_string(method));
  if (method == http::beast_http::verb::get) name += ", HEAD";
  if ((", " + allow + ", ").find(", " + name + ", ") != std::string::npos) return;
  if (!allow.empty()) allow += ", ";
  allow += name;
}

}  // namespace

bool ApiCall::QueryFlag(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value == "true" || value == "1";
  }
  return false;
}

void Router::Add(http::beast_http::verb method, const std::string& pattern, Access access,
                 RouteFn fn, RouteTraits traits) {
  Route route{method, pattern, access, std::move(fn), SplitPathTemplate(pattern), traits};
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
    AddAllowed(match.allow, route.method);
  }
  return match;
}

}  // namespace keyward
