// The token issuer's HTTP face (service/token_service.h): OpenID Connect / RFC 8414 discovery,
// the JWKS, the token endpoint (RFC 6749 client_credentials and RFC 8693 token exchange),
// introspection (RFC 7662), userinfo, and the operators' signing-key routes. Thin: forms and
// JSON in, service calls, RFC 6749 §5.1/§5.2 answers out. While the issuer is off every one of
// them answers 404 (RouteTraits::issuer).
//
//   GET  /.well-known/openid-configuration      public   discovery
//   GET  /.well-known/oauth-authorization-server public   the same document
//   GET  /.well-known/jwks.json                  public   Cache-Control: public, max-age=300
//   POST /oauth/token                            public   client authentication inside
//   POST /oauth/introspect                       signed in (a key needs scope authorize)
//   GET, POST /oauth/userinfo                    Bearer API key or issued JWT
//   GET  /api/v1/signing-keys                    signed in
//   POST /api/v1/signing-keys/rotate             operators
#pragma once

#include "api/router.h"
#include "api/services.h"

namespace keyward {

// Adds the routes above to `router`. `services` must outlive it.
void AddOAuthRoutes(Router& router, Services& services);

// The signing-key routes (api/signing_key_routes.cc); AddOAuthRoutes calls it.
void AddSigningKeyRoutes(Router& router, Services& services);

}  // namespace keyward
