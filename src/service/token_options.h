// The token issuer's settings (`keyward serve --issuer …`, app/serve_flags.cc), each default in
// one place. The issuer is off while `issuer` is empty: its routes then answer 404.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "token/signing_key.h"

namespace keyward {

// An audience tokens may be issued for (`--token-audience NAME[;typ=JWT]`).
struct TokenAudience {
  std::string name;
  std::string typ = "at+jwt";  // the JWT header's typ: "at+jwt" (RFC 9068) or "JWT"
};

struct TokenOptions {
  // The exact issuer URL ("iss", and discovery's "issuer"): https://…, no trailing slash.
  std::string issuer;
  // Allow an http:// issuer (tests and local trials only).
  bool issuer_allow_http = false;
  // The audiences a token may name; the first is the default. Empty while the issuer is on:
  // refused at start.
  std::vector<TokenAudience> audiences;
  // Audiences whose tokens /auth and /api/v1/authorize accept in place of a key.
  std::vector<std::string> gateway_audiences;
  // Token lifetime, seconds: 60 to 3600 (10 minutes). Never past the key's own expiry.
  std::int64_t ttl = 600;
  // The signature algorithm of new signing keys.
  token::Alg alg = token::Alg::kES256;
  // A signing key signs for this long (30 days) …
  std::int64_t rotation = 30LL * 86400;
  // … and its successor is in the JWKS at least this long (1 hour) before it signs.
  std::int64_t prepublish = 3600;
  // iat and nbf are set this many seconds back, for clocks slightly behind ours (Pulsar's OIDC
  // provider allows 0 s leeway by default); a retired key stays published for ttl + this + 60 s.
  std::int64_t skew = 5;
};

}  // namespace keyward
