// Routes: a method and a path pattern ("/api/v1/users/{id}/apikeys/{name}") to a handler.
// Path segments are percent-decoded before matching, so names may hold any character.
// Built once at start, then read-only: thread safe for concurrent Match().
#pragma once

#include <boost/json/value.hpp>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "http/server.h"
#include "service/principal.h"

namespace keyward {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// What a handler sees of one request.
struct ApiCall {
  const http::Request& request;
  const http::Peer& peer;
  std::vector<std::string> params;     // decoded {placeholders}, in order
  QueryParams query;                   // decoded query parameters
  std::optional<Principal> principal;  // set for routes that need a signed-in caller
  std::string client_address;          // the peer, or whom a trusted proxy names (client_address.h)

  const Principal& caller() const { return *principal; }
  bool QueryFlag(std::string_view name) const;  // "?name=true" or "?name=1"
};

// What a handler answers. A null body sends no body (204).
struct Reply {
  int status = 200;
  boost::json::value body;
  std::vector<std::pair<std::string, std::string>> headers;
};

enum class Access { kPublic, kSignedIn };

// What a route takes beyond its access. form_body: the route reads its own body
// (application/x-www-form-urlencoded, or none), so the handler does not refuse a body that is not
// JSON. issuer: the route belongs to the token issuer and answers 404 while it is off (a signed-in
// one after authentication: 401 first).
struct RouteTraits {
  bool form_body = false;
  bool issuer = false;
};

using RouteFn = std::function<Result<Reply>(ApiCall&)>;

struct Route {
  http::beast_http::verb method;
  std::string pattern;
  Access access;
  RouteFn fn;
  std::vector<std::string> segments;  // the pattern split at '/'
  RouteTraits traits;
};

class Router {
 public:
  void Add(http::beast_http::verb method, const std::string& pattern, Access access, RouteFn fn,
           RouteTraits traits = {});

  struct Match {
    const Route* route = nullptr;  // null: see path_known
    bool path_known = false;       // some route has this path, with another method
    std::string allow;             // methods of that path, for 405's Allow header
    std::vector<std::string> params;
  };
  // `segments` are the decoded path segments of the request. HEAD finds the GET route.
  Match Find(http::beast_http::verb method, const std::vector<std::string>& segments) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace keyward
