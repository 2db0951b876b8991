// GET /api/v1/signing-keys and POST /api/v1/signing-keys/rotate (api/oauth_routes.h).
#include <sodium.h>

#include "api/json_io.h"
#include "api/oauth_routes.h"

namespace keyward {
namespace {

using http::beast_http::verb;

// Standard base64 with padding, as PEM and Pulsar's data: URL carry an SPKI.
std::string Base64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

// {kid, alg, generation, state, created_at, activates_at, signs_until, published_until,
// public_key_spki, jwk}
boost::json::object SigningKeyJson(const RingKey& key) {
  return {{"kid", key.record.kid},
          {"alg", key.record.alg},
          {"generation", key.record.generation},
          {"state", SigningKeyStateName(key.state)},
          {"created_at", FormatRfc3339(key.record.created_at)},
          {"activates_at", FormatRfc3339(key.record.activates_at)},
          {"signs_until", TimeOrNull(key.signs_until)},
          {"published_until", TimeOrNull(key.published_until)},
          {"public_key_spki", Base64(key.public_key.SpkiDer())},
          {"jwk", key.public_key.Jwk()}};
}

// Every key the ring knows, newest first.
Result<Reply> ListSigningKeys(Services& s, ApiCall&) {
  auto snapshot = s.signing_keys->snapshot();
  boost::json::array keys;
  for (auto it = snapshot->keys.rbegin(); it != snapshot->keys.rend(); ++it) {
    keys.push_back(SigningKeyJson(*it));
  }
  return Reply{200, {{"keys", std::move(keys)}}, {}};
}

// {"now": bool} (optional): an operator's rotation. A next key already pending is a conflict
// (AlreadyExists: 409) unless now.
Result<Reply> RotateSigningKey(Services& s, ApiCall& call) {
  KW_ASSIGN_OR_RETURN(boost::json::object body, call.JsonBody({"now"}));
  bool now = false;
  if (const boost::json::value* value = body.if_contains("now"); value && !value->is_null()) {
    if (!value->is_bool()) return Status::InvalidArgument("\"now\" must be true or false");
    now = value->get_bool();
  }
  KW_ASSIGN_OR_RETURN(RingKey key, s.signing_keys->Rotate(call.caller(), now));
  s.metrics.CountSigningKeyRotation();
  return Reply{201, SigningKeyJson(key), {}};
}

}  // namespace

void AddSigningKeyRoutes(Router& router, Services& s) {
  const RouteTraits issuer{.form_body = false, .issuer = true};
  router.Add(
      verb::get, "/api/v1/signing-keys", Access::kSignedIn,
      [&s](ApiCall& call) { return ListSigningKeys(s, call); }, issuer);
  router.Add(
      verb::post, "/api/v1/signing-keys/rotate", Access::kSignedIn,
      [&s](ApiCall& call) { return RotateSigningKey(s, call); }, issuer);
}

}  // namespace keyward
