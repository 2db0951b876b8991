// What `keyward signing-key list|rotate|export` print, from the objects of GET
// /api/v1/signing-keys ({"kid", "alg", "generation", "state", "created_at", "activates_at",
// "signs_until", "published_until", "public_key_spki", "jwk"}). Pure functions; thread safe.
#pragma once

#include <boost/json/value.hpp>
#include <string>

#include "cli/output.h"
#include "common/status.h"

namespace keyward {

// Signing keys (one object or an array of them) as `format` prints them: the table
// KID | ALG | STATE | SIGNS FROM | PUBLISHED UNTIL (null times as "-"), the wide table adding
// GENERATION, CREATED and SIGNS UNTIL, or the objects unchanged as JSON or YAML.
std::string RenderSigningKeys(const boost::json::value& keys, OutputFormat format);

// For Pulsar's static AuthenticationProviderToken: a comment line naming the current key, then
//   tokenPublicKey=data:;base64,<its public_key_spki>
//   tokenPublicAlg=<its alg>
// each ending in a newline. NotFound when `keys` (an array) holds no key in state "current";
// Internal when that key's alg or public_key_spki is missing or not of the expected form.
Result<std::string> PulsarStaticKey(const boost::json::value& keys);

// The caveat printed on stderr with PulsarStaticKey: a static key does not follow rotations.
// One WARN line with its newline, naming when the current key stops signing when known.
std::string PulsarRotationCaveat(const boost::json::value& keys);

}  // namespace keyward
