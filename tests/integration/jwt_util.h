// What the token issuer's integration tests check in a JWT, with OpenSSL alone (not Keyward's
// own token library, so that a bug there cannot hide itself): base64 decoding, a JWT's parts,
// a JWS signature checked with a DER SubjectPublicKeyInfo (what Pulsar's static tokenPublicKey
// holds), that SPKI compared with a JWK, and a key's public id (client_id).
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace keyward::testing {

// Standard base64 (padded) and base64url (unpadded) decoded; "" when `text` is not valid.
std::string Base64Decode(std::string_view text);
std::string Base64UrlDecode(std::string_view text);

// The JSON of a JWT's header (part 0) or claims (part 1); null when the JWT is malformed.
boost::json::value JwtPart(const std::string& jwt, int part);

// True when `jwt`'s signature (ES256 as r || s, or RS256) verifies with the public key whose
// DER SubjectPublicKeyInfo is `spki_der`, under the algorithm its header names.
bool JwtVerifiesWith(const std::string& jwt, const std::string& spki_der);

// True when `spki_der` and `jwk` are the same public key: an EC P-256 key with the JWK's x and
// y, or an RSA key with its n and e.
bool SpkiMatchesJwk(const std::string& spki_der, const boost::json::value& jwk);

// A key's public id, as tokens carry it in client_id: lowercase hex of the first 12 bytes of
// the SHA-256 of the key.
std::string KeyIdOf(const std::string& key);

}  // namespace keyward::testing
