// /auth: forward authentication for nginx auth_request, Traefik ForwardAuth and Envoy
// ext_authz (HTTP service). Any method, any path below /auth.
//
// With the token issuer on, a credential shaped like a JWT is an access token the issuer signed
// for one of the gateway audiences (TokenService::Verify(kGateway)): it is answered exactly as
// its key would be (X-Keyward-Key-Name is the key's name), its grant being the token's, and it
// is counted and limited on its key.
//
//   valid key   → 200, X-Keyward-User, X-Keyward-Tags and X-Keyward-Scopes (comma-separated;
//                 scopes "*" for a full-access key), X-Keyward-Key-Name
//   a valid key that fails the request's requirements (api/requirements.h) or its own address
//   limits → 403, X-Keyward-Reason: address | scope | tag, and the error body saying which
//   a valid key over its rate limit (issue 16, api/admission.h) → 429, or 403 when the request
//   has `X-Keyward-Rate-Limit-Status: 403` (nginx's auth_request passes only 401 and 403; the
//   documented snippet turns it back into 429), with X-Keyward-Reason: rate_limited,
//   Retry-After, RateLimit-Limit, RateLimit-Remaining (0), RateLimit-Reset and the error body
//   (resource_exhausted)
//   otherwise   → 401, WWW-Authenticate: Bearer
//   our failure → 403: never 2xx, and never a status nginx would turn into a 500
//
// Every answer for a known key is counted once on its usage counters (Admit; the store's
// refusals — expired, disabled, revoked — by the Authenticator and the cache). The address
// checked and recorded is the client's (api/client_address.h). A key the cache knows is answered
// on the network thread, with no hop to another thread and, when nothing is required and the
// key has no address limits and no rate limit, no allocation beyond the response; a cache miss
// goes to the blocking pool for the store. Thread safe.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "api/metrics.h"
#include "api/request_log.h"
#include "api/requirements.h"
#include "common/blocking_pool.h"
#include "common/clock.h"
#include "core/grant.h"
#include "http/server.h"
#include "service/authenticator.h"
#include "service/key_refresher.h"
#include "service/token_service.h"

namespace keyward {

// True for "/auth", "/auth/…" and "/auth?…".
bool IsForwardAuthPath(std::string_view target);

class ForwardAuth {
 public:
  // `trusted_proxies` (api/client_address.h) must outlive this object; so must `tokens`, which
  // is null while the token issuer is off (a JWT is then an unknown key), and `clock` (the hour
  // usage is counted in). A miss gets its key's meters from the Authenticator (MetersOf).
  ForwardAuth(const Authenticator& authenticator, const TokenService* tokens, const Clock& clock,
              BlockingPool& blocking, Metrics& metrics, bool allow_query_key,
              const std::vector<Cidr>& trusted_proxies, KeyRefresher* refresher = nullptr)
      : authenticator_(authenticator),
        tokens_(tokens),
        clock_(clock),
        blocking_(blocking),
        metrics_(metrics),
        allow_query_key_(allow_query_key),
        trusted_proxies_(trusted_proxies),
        refresher_(refresher) {}

  // `peer` is the TCP peer; the client address is taken from it (and, for a trusted proxy,
  // from the request's forwarding headers).
  // `trace` gives the answer its X-Request-Id and, with the access log on, its access line.
  void Handle(http::Request&& request, const http::Peer& peer, http::Responder respond,
              const RequestTrace& trace);

 private:
  // A cache miss: verifies `token` (an issued JWT when `jwt`) on the blocking pool and answers
  // from there.
  // `limit_as_403`: the request asked for 403 in place of 429 (X-Keyward-Rate-Limit-Status).
  // Who presented the key (ClientInfo's fields, owned for the blocking thread).
  struct Presenter {
    std::string address;
    std::string user_agent;
    std::string method;
    std::string path;
  };
  void Decide(std::string token, bool jwt, Presenter who, Requirements required, unsigned version,
              bool keep_alive, bool limit_as_403, http::Responder respond,
              const RequestTrace& trace);
  // `user` and `key_name`, for the access line, are read from the response when it has them
  // (a key allowed), and given by the caller for a valid key refused.
  void Finish(http::Responder& respond, http::Response&& response, VerifyOutcome outcome,
              const RequestTrace& trace, std::string_view user = {},
              std::string_view key_name = {});

  const Authenticator& authenticator_;
  const TokenService* tokens_;
  const Clock& clock_;
  BlockingPool& blocking_;
  Metrics& metrics_;
  const bool allow_query_key_;
  const std::vector<Cidr>& trusted_proxies_;
  // Reloads cached keys before their entries age out (KeyCache::ClaimRefresh), so that a key in
  // steady use is never a miss a request waits for; null: none are.
  KeyRefresher* const refresher_;
};

}  // namespace keyward
