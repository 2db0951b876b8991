// /auth: forward authentication for nginx auth_request, Traefik ForwardAuth and Envoy
// ext_authz (HTTP service). Any method, any path below /auth.
//
//   valid key   → 200, X-Keyward-User, X-Keyward-Tags (comma-separated), X-Keyward-Key-Name
//   otherwise   → 401, WWW-Authenticate: Bearer
//   our failure → 403: never 2xx, and never a status nginx would turn into a 500
//
// A key the cache knows is answered on the network thread, with no hop to another thread; a
// cache miss goes to the blocking pool for the store. Thread safe.
#pragma once

#include <chrono>

#include "api/metrics.h"
#include "common/blocking_pool.h"
#include "http/server.h"
#include "service/authenticator.h"

namespace keyward {

// True for "/auth", "/auth/…" and "/auth?…".
bool IsForwardAuthPath(std::string_view target);

class ForwardAuth {
 public:
  ForwardAuth(const Authenticator& authenticator, BlockingPool& blocking, Metrics& metrics,
              bool allow_query_key)
      : authenticator_(authenticator),
        blocking_(blocking),
        metrics_(metrics),
        allow_query_key_(allow_query_key) {}

  void Handle(http::Request&& request, http::Responder respond,
              std::chrono::steady_clock::time_point started);

 private:
  void Finish(http::Responder& respond, http::Response&& response, VerifyOutcome outcome,
              std::chrono::steady_clock::time_point started);

  const Authenticator& authenticator_;
  BlockingPool& blocking_;
  Metrics& metrics_;
  const bool allow_query_key_;
};

}  // namespace keyward
