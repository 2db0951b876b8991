#include "service/token_service.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <chrono>
#include <limits>
#include <utility>

#include "common/log.h"
#include "common/random.h"
#include "core/grant.h"

namespace keyward {
namespace {

// The bytes of the key hash a token's client_id names.
constexpr std::size_t kKeyIdBytes = 12;

OAuthError Refused(std::string error, std::string description, int status = 400) {
  return OAuthError{std::move(error), std::move(description), status};
}

OAuthError FromStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kUnauthenticated:
      return Refused("invalid_client", "the client credentials are unknown, expired or revoked",
                     401);
    case StatusCode::kUnavailable:
      return Refused("temporarily_unavailable", "the key store cannot be reached; try again", 503);
    case StatusCode::kInsufficientStorage:
      // OAuth has one error for "not now" and RFC 6749 pairs it with 503, so OAuth clients
      // retry it; the description says why.
      return Refused("temporarily_unavailable", "the server's disk is full; try again later", 503);
    default:
      return Refused("server_error", "the token could not be issued", 500);
  }
}

Status Invalid(std::string reason) { return Status::Unauthenticated(std::move(reason)); }

// 24 lowercase hex characters → 12 bytes; nullopt otherwise.
std::optional<std::string> DecodeKeyId(std::string_view text) {
  if (text.size() != 2 * kKeyIdBytes) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string bytes(kKeyIdBytes, '\0');
  for (std::size_t i = 0; i < kKeyIdBytes; ++i) {
    const int hi = nibble(text[2 * i]);
    const int lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes[i] = static_cast<char>(hi * 16 + lo);
  }
  return bytes;
}

const boost::json::string* StringClaim(const boost::json::object& claims, std::string_view name) {
  const boost::json::value* v = claims.if_contains(name);
  return v != nullptr ? v->if_string() : nullptr;
}

std::optional<std::int64_t> IntClaim(const boost::json::object& claims, std::string_view name) {
  const boost::json::value* v = claims.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= std::numeric_limits<std::int64_t>::max()) {
    return static_cast<std::int64_t>(v->get_uint64());
  }
  return std::nullopt;
}

// The strings of an optional claim that is a space-separated string ("scope") or an array of
// strings ("tags"); nullopt when it has another type.
std::optional<std::vector<std::string>> ListClaim(const boost::json::object& claims,
                                                  std::string_view name) {
  std::vector<std::string> out;
  const boost::json::value* v = claims.if_contains(name);
  if (v == nullptr) return out;
  if (const boost::json::string* text = v->if_string()) {
    std::string_view rest(*text);
    while (!rest.empty()) {
      const std::size_t space = rest.find(' ');
      if (space != 0) out.emplace_back(rest.substr(0, space));
      if (space == std::string_view::npos) break;
      rest.remove_prefix(space + 1);
    }
    return out;
  }
  const boost::json::array* items = v->if_array();
  if (items == nullptr) return std::nullopt;
  for (const boost::json::value& item : *items) {
    if (!item.is_string()) return std::nullopt;
    out.emplace_back(item.get_string());
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const std::string& s : scopes) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

// The scopes a token of a key with `grant` gets: the requested ones (sorted, unique), each a
// service scope the key holds (any, for full access); or every service scope of the key when
// none are requested. invalid_scope otherwise.
std::variant<std::vector<std::string>, OAuthError> GrantedScopes(
    const Grant& grant, const std::optional<std::vector<std::string>>& requested) {
  std::vector<std::string> scopes;
  if (!requested) {
    if (grant.full_access) return scopes;
    for (const std::string& s : grant.scopes) {
      if (!IsKeywardScope(s)) scopes.push_back(s);
    }
    return scopes;
  }
  for (const std::string& s : *requested) {
    if (!ValidateScope(s).ok()) return Refused("invalid_scope", "a scope is malformed");
    if (IsKeywardScope(s)) {
      return Refused("invalid_scope", "scope " + s + " is Keyward's own: no token carries it");
    }
    if (!grant.full_access && !Contains(grant.scopes, s)) {
      return Refused("invalid_scope", "this key lacks the scope " + s);
    }
    scopes.push_back(s);
  }
  std::sort(scopes.begin(), scopes.end());
  scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
  return scopes;
}

}  // namespace

std::string KeyId(std::string_view key_hash) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  const std::size_t n = std::min(key_hash.size(), kKeyIdBytes);
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto byte = static_cast<unsigned char>(key_hash[i]);
    out += kHex[byte >> 4];
    out += kHex[byte & 0xF];
  }
  return out;
}

TokenService::TokenService(const TokenOptions& options, const Authenticator& authenticator,
                           SigningKeyRing& ring, Store& store, KeyCache* cache, const Clock& clock)
    : options_(options),
      authenticator_(authenticator),
      ring_(ring),
      store_(store),
      cache_(cache),
      clock_(clock) {}

std::variant<IssuedToken, OAuthError> TokenService::Issue(const TokenRequest& request) const {
  if (!enabled()) return Refused("invalid_request", "the token issuer is off");
  auto key = authenticator_.Authenticate(request.api_key, ClientInfo{request.client_address, {}});
  if (!key.ok()) {
    // RFC 8693 §2.2.2: a refused subject_token is invalid_request, not a client failure.
    if (request.allow_session && key.status().code() == StatusCode::kUnauthenticated) {
      return Refused("invalid_request", "subject_token is invalid, expired or revoked");
    }
    return FromStatus(key.status());
  }
  if (key->via == KeyType::kSession && !request.allow_session) {
    return FromStatus(InvalidCredential());
  }
  if (request.client_id && *request.client_id != key->user.id) {
    return Refused("invalid_client", "client_id is not the user id of the key's owner", 401);
  }
  if (!key->grant.HasScope(scope::kTokensIssue)) {
    return Refused("unauthorized_client", "this key lacks the scope tokens:issue");
  }
  if (!AddressAllowed(key->networks, request.client_address)) {
    return Refused("unauthorized_client", "this key may not be used from this address");
  }
  const TokenAudience* audience = nullptr;
  for (const TokenAudience& a : options_.audiences) {
    if (request.audience.empty() || a.name == request.audience) {
      audience = &a;
      break;
    }
  }
  if (audience == nullptr) {
    return Refused("invalid_target", "the audience is not one this issuer serves");
  }
  auto scopes = GrantedScopes(key->grant, request.scopes);
  if (auto* error = std::get_if<OAuthError>(&scopes)) return *error;
  return Sign(*key, *audience, std::get<std::vector<std::string>>(scopes));
}

std::variant<IssuedToken, OAuthError> TokenService::Sign(
    const Principal& key, const TokenAudience& audience,
    const std::vector<std::string>& scopes) const {
  const UnixSeconds now = clock_.Now();
  std::shared_ptr<const RingSnapshot> ring = ring_.snapshot();
  const RingKey* signer = ring->SignerAt(now);
  if (signer == nullptr || !signer->private_key) {
    return Refused("temporarily_unavailable", "no signing key is ready yet; try again", 503);
  }
  const UnixSeconds exp = std::min(now + options_.ttl, key.expires_at);
  IssuedToken out;
  out.scope = JoinScopes(scopes);
  out.audience = audience.name;
  out.expires_in = exp - now;
  boost::json::object claims;
  claims["iss"] = options_.issuer;
  claims["sub"] = key.user.id;
  claims["aud"] = audience.name;
  claims["iat"] = now - options_.skew;
  claims["nbf"] = now - options_.skew;
  claims["exp"] = exp;
  claims["jti"] = token::Base64UrlEncode(RandomBytes(16));
  claims["client_id"] = KeyId(key.token_hash);
  if (!out.scope.empty()) claims["scope"] = out.scope;
  boost::json::array tags;
  for (const std::string& tag : key.user.tags) tags.emplace_back(tag);
  claims["tags"] = std::move(tags);

  const auto start = std::chrono::steady_clock::now();
  auto jwt = token::SignJwt(*signer->private_key, audience.typ, claims);
  out.signing_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!jwt.ok()) {
    log::Error("signing a token with key {} failed: {}", signer->record.kid,
               jwt.status().ToString());
    return Refused("server_error", "the token could not be signed", 500);
  }
  out.access_token = std::move(jwt).value();
  return out;
}

Result<Principal> TokenService::Verify(std::string_view jwt, AudienceSet which) const {
  if (!enabled()) return Invalid("the token issuer is off");
  if (!token::LooksLikeJwt(jwt)) return Invalid("not a JWT");
  const UnixSeconds now = clock_.Now();
  const std::string token_hash = HashKey(jwt);
  KeyCache::Outcome cached_as = KeyCache::Outcome::kMiss;
  if (auto cached = FromCache(token_hash, now, &cached_as)) return *std::move(cached);
  // Refused (or expired) at a gateway within the cache's ttl. Other audiences look again.
  if (cached_as == KeyCache::Outcome::kInvalid && which == AudienceSet::kGateway) {
    return Invalid("refused recently");
  }

  // Read before the store, so that a deletion meanwhile keeps this answer out of the cache.
  const std::uint64_t generation = cache_ != nullptr ? cache_->Generation() : 0;
  bool gateway = false;
  bool final_refusal = true;
  Result<Principal> principal =
      VerifyUncached(jwt, token_hash, which, now, generation, &gateway, &final_refusal);
  if (cache_ == nullptr) return principal;
  if (principal.ok() && gateway) {
    cache_->Insert(*principal, now, generation);
  } else if (principal.status().code() == StatusCode::kUnauthenticated &&
             which == AudienceSet::kGateway && final_refusal) {
    // As for an unknown key: a flood of one refused token at /auth then costs a cache lookup,
    // not a signature check and store reads. A token whose key is gone drops its entry first.
    if (cached_as == KeyCache::Outcome::kValid) cache_->Erase(token_hash);
    cache_->InsertUnknown(token_hash, now, cache_->Generation());
  }
  return principal;
}

Result<Principal> TokenService::VerifyUncached(std::string_view jwt, std::string_view token_hash,
                                               AudienceSet which, UnixSeconds now,
                                               std::uint64_t generation, bool* gateway,
                                               bool* final_refusal) const {
  std::shared_ptr<const RingSnapshot> ring = ring_.snapshot();
  bool unknown_kid = false;
  auto find = [&ring, &unknown_kid](std::string_view kid) {
    const token::PublicKey* key = ring->Find(kid);
    unknown_kid = key == nullptr;
    return key;
  };
  auto verified = token::VerifyJwt(jwt, find);
  if (!verified.ok() && unknown_kid) {
    // Another node may have rotated at once (an emergency): its key is in the store already.
    // When the keys cannot be read, say so (Unavailable) rather than refuse a token that may be
    // valid; when another caller read them within the second, refuse without caching, so that
    // the next try after the next read can pass.
    Result<bool> read = ring_.RefreshIfOlderThan(1);
    if (!read.ok()) return read.status();
    ring = ring_.snapshot();
    verified = token::VerifyJwt(jwt, find);
    if (!verified.ok() && unknown_kid && !*read) *final_refusal = false;
  }
  if (!verified.ok()) return verified.status();
  const RingKey* signer = ring->FindKey(verified->kid);
  const UnixSeconds signs_until = signer != nullptr ? signer->signs_until : 0;
  KW_RETURN_IF_ERROR(CheckClaims(*verified, which, now, signs_until, gateway));
  KW_ASSIGN_OR_RETURN(Principal principal, Lineage(verified->claims, now, generation));
  principal.token_hash = std::string(token_hash);
  return principal;
}

std::optional<Principal> TokenService::FromCache(std::string_view token_hash, UnixSeconds now,
                                                 KeyCache::Outcome* token_outcome) const {
  std::optional<Principal> found;
  if (cache_ == nullptr) return found;
  *token_outcome =
      cache_->Find(token_hash, now, [&](const CacheEntry& entry) { found = entry.principal; });
  if (*token_outcome != KeyCache::Outcome::kValid || found->parent_key_hash.empty()) {
    return std::nullopt;
  }
  if (cache_->Find(
          found->parent_key_hash, now, [](const CacheEntry&) {}, /*by_token=*/true) !=
      KeyCache::Outcome::kValid) {
    return std::nullopt;
  }
  return found;
}

Status TokenService::CheckClaims(const token::VerifiedJwt& jwt, AudienceSet which, UnixSeconds now,
                                 UnixSeconds signs_until, bool* gateway) const {
  if (jwt.typ != "at+jwt" && jwt.typ != "JWT") return Invalid("typ is not at+jwt or JWT");
  const boost::json::object& claims = jwt.claims;
  const boost::json::string* iss = StringClaim(claims, "iss");
  if (iss == nullptr || *iss != options_.issuer) return Invalid("another issuer");
  std::string_view aud;
  if (const boost::json::value* v = claims.if_contains("aud")) {
    if (v->is_string()) {
      aud = v->get_string();
    } else if (v->is_array() && v->get_array().size() == 1 && v->get_array()[0].is_string()) {
      aud = v->get_array()[0].get_string();
    }
  }
  *gateway = Contains(options_.gateway_audiences, aud);
  const bool configured = std::any_of(options_.audiences.begin(), options_.audiences.end(),
                                      [&](const TokenAudience& a) { return a.name == aud; });
  if (aud.empty() || !configured || (which == AudienceSet::kGateway && !*gateway)) {
    return Invalid("an audience not accepted here");
  }
  const auto exp = IntClaim(claims, "exp");
  const auto nbf = IntClaim(claims, "nbf");
  const auto iat = IntClaim(claims, "iat");
  if (!exp || !nbf || !iat) return Invalid("exp, nbf or iat missing or not a number");
  if (*exp <= now - options_.skew) return Invalid("expired");
  if (*nbf > now + options_.skew) return Invalid("not valid yet");
  if (*iat > now + options_.skew) return Invalid("issued in the future");
  // A retired key may have leaked (that is why it was retired at once): what it signs now claims
  // to be issued after it stopped, or to live longer than any token this issuer signs.
  if (signs_until != 0 && *iat > signs_until + options_.skew) {
    return Invalid("issued after its signing key stopped signing");
  }
  if (*exp - *iat > options_.ttl + 2 * options_.skew) return Invalid("lives longer than a token");
  const boost::json::string* sub = StringClaim(claims, "sub");
  const boost::json::string* jti = StringClaim(claims, "jti");
  if (sub == nullptr || sub->empty() || jti == nullptr || jti->empty()) {
    return Invalid("sub or jti missing");
  }
  if (StringClaim(claims, "client_id") == nullptr) return Invalid("client_id missing");
  if (claims.contains("scope") && StringClaim(claims, "scope") == nullptr) {
    return Invalid("scope is not a string");
  }
  if (claims.contains("tags") && !claims.at("tags").is_array()) {
    return Invalid("tags is not an array");
  }
  return Status::Ok();
}

Result<Principal> TokenService::Lineage(const boost::json::object& claims, UnixSeconds now,
                                        std::uint64_t generation) const {
  std::optional<std::string> prefix = DecodeKeyId(*StringClaim(claims, "client_id"));
  if (!prefix) return Invalid("client_id is not a key id");
  Result<Principal> key = InvalidCredential();
  if (auto record = store_.FindKeyByHashPrefix(*prefix); record.ok()) {
    // Issued from a secret since rotated away: valid while that old secret is accepted.
    key = record->by_old_secret
              ? authenticator_.PrincipalOfOldSecret(std::move(record).value(), now)
              : authenticator_.PrincipalOfKey(std::move(record).value(), now);
  } else if (record.status().code() != StatusCode::kNotFound) {
    return record.status();
  } else if (auto session = store_.FindSessionByHashPrefix(*prefix); session.ok()) {
    key = authenticator_.PrincipalOfSession(*session, now);
  } else if (session.status().code() != StatusCode::kNotFound) {
    return session.status();
  }
  if (!key.ok()) {
    if (key.status().code() == StatusCode::kUnauthenticated) return Invalid("its key is gone");
    return key.status();
  }
  if (key->user.id != *StringClaim(claims, "sub")) return Invalid("sub is not its key's owner");
  if (!key->grant.HasScope(scope::kTokensIssue)) return Invalid("its key lacks tokens:issue");
  // The key's own entry, which TryCached checks before it answers from the token's.
  if (cache_ != nullptr) cache_->Insert(*key, now, generation, /*by_token=*/true);

  const auto scopes = ListClaim(claims, "scope");
  const auto tags = ListClaim(claims, "tags");
  if (!scopes || !tags) return Invalid("scope or tags malformed");
  Principal token;
  token.user = key->user;
  token.user.tags.clear();
  for (const std::string& tag : key->user.tags) {
    if (Contains(*tags, tag)) token.user.tags.push_back(tag);
  }
  token.via = key->via;
  token.key_name = key->key_name;
  token.expires_at = std::min(*IntClaim(claims, "exp"), key->expires_at);
  for (const std::string& s : *scopes) {
    if (IsKeywardScope(s) || Contains(token.grant.scopes, s)) continue;
    if (key->grant.full_access || Contains(key->grant.scopes, s)) token.grant.scopes.push_back(s);
  }
  std::sort(token.grant.scopes.begin(), token.grant.scopes.end());
  token.grant.tags = token.user.tags;
  token.grant.allowed_addresses = key->grant.allowed_addresses;
  token.networks = key->networks;
  token.parent_key_hash = key->token_hash;
  token.rate_limit = key->rate_limit;  // the key's limit and bucket (KeyCache::MetersOf)
  // An old secret's time may move later (its uses): past it, the store decides again.
  token.old_secret = key->old_secret;
  return token;
}

}  // namespace keyward
