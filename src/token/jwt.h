// JSON Web Tokens in JWS compact form (RFC 7519, 7515): make one, and check one's form and
// signature. Claims are the caller's (service/token_service.h checks iss, aud, exp, nbf …).
// Pure functions, thread safe.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "token/signing_key.h"

namespace keyward::token {

// The largest token Keyward reads (the limit): 8 KiB. Longer ones are refused unread.
inline constexpr std::size_t kMaxJwtBytes = 8192;

// "<b64url header>.<b64url claims>.<b64url signature>" with header {"alg", "kid", "typ"} in that
// order, then `claims` as given. Internal if signing fails.
Result<std::string> SignJwt(const SigningKey& key, std::string_view typ,
                            const boost::json::object& claims);

// True when `text` has the shape of a compact JWS: "eyJ" then exactly two '.', at most
// kMaxJwtBytes, only base64url characters and dots. Cheap; tells a JWT from an API key.
bool LooksLikeJwt(std::string_view text);

struct VerifiedJwt {
  std::string kid;
  std::string typ;  // the header's "typ", empty when absent
  boost::json::object claims;
};

// Finds the public key for a kid; null when there is none.
using KeyLookup = std::function<const PublicKey*(std::string_view kid)>;

// Checks `compact`: at most kMaxJwtBytes; three strict base64url parts; the header a JSON object
// with "alg" ES256 or RS256 (so "none", HS256 and every other value are refused), a string
// "kid" that `find_key` knows, an "alg" equal to that key's; the signature valid under that key;
// the claims a JSON object. No "crit" header is understood, so one is refused. Unauthenticated
// with a short reason ("unknown kid", "bad signature", "alg none is not accepted" …) otherwise;
// the reason never quotes the token.
Result<VerifiedJwt> VerifyJwt(std::string_view compact, const KeyLookup& find_key);

}  // namespace keyward::token
