// The token issuer's use cases: trade an API key for a short-lived signed JWT (RFC 9068 access
// token), and turn such a JWT back into a Principal with its lineage checked.
//
// A token names its key by `client_id` = KeyId(key hash) (the first 12 bytes of the key's
// SHA-256, hex: public, never the key). Verifying a token re-reads that key (through the cache,
// like keys): a deleted or expired key's tokens are refused at once on every node; the token's
// power is the key's current grant narrowed to the token's scopes and tags.
//
// Thread safe. Issue and Verify block on the store on a cache miss: call them from blocking
// threads. TryCached never blocks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/api_key.h"
#include "service/authenticator.h"
#include "service/key_cache.h"
#include "service/principal.h"
#include "service/signing_key_ring.h"
#include "service/token_options.h"
#include "store/store.h"
#include "token/jwt.h"

namespace keyward {

// The public id of a key, from its 32-byte hash: 24 lowercase hex characters.
std::string KeyId(std::string_view key_hash);

// An RFC 6749 §5.2 / RFC 8693 §2.2.2 error. `error` is the code: invalid_request,
// invalid_client (status 401), unauthorized_client, invalid_scope, invalid_target,
// unsupported_grant_type; temporarily_unavailable (503) when the store cannot be reached.
// `description` never quotes a secret.
struct OAuthError {
  std::string error;
  std::string description;
  int status = 400;
};

struct TokenRequest {
  std::string_view api_key = {};  // client_secret, or the token exchange's subject_token
  std::optional<std::string> client_id = {};  // client_credentials: must be the key owner's user id
  std::string audience = {};                  // empty: the first configured audience
  std::optional<std::vector<std::string>> scopes = {};  // nullopt: every service scope of the key
  std::string_view client_address = {};  // checked against the key's allowed addresses
  // The token exchange (RFC 8693) also takes a CLI session token as api_key; client_credentials
  // takes API keys only (a session then is invalid_client). Set exactly for the exchange: an
  // unknown, expired or revoked api_key (its subject_token) is then invalid_request (400)
  // "subject_token is invalid, expired or revoked" (§2.2.2), not invalid_client.
  bool allow_session = false;
};

struct IssuedToken {
  std::string access_token;     // the JWT
  std::int64_t expires_in = 0;  // seconds, > 0
  std::string scope;            // the granted service scopes, space-separated (may be empty)
  std::string audience;
  double signing_seconds = 0;  // time spent signing, for the metrics
};

// Which audiences Verify accepts: the gateway ones (/auth, /api/v1/authorize) or any
// configured one (userinfo, introspection).
enum class AudienceSet { kGateway, kAny };

class TokenService {
 public:
  TokenService(const TokenOptions& options, const Authenticator& authenticator,
               SigningKeyRing& ring, Store& store, KeyCache* cache, const Clock& clock);

  bool enabled() const { return !options_.issuer.empty(); }
  const TokenOptions& options() const { return options_; }

  // Authenticates the key (invalid_client: unknown, expired, malformed, or client_id not its
  // owner), checks it may issue tokens (unauthorized_client: no tokens:issue scope, or the
  // address is outside its allowed ranges), the audience (invalid_target: not configured) and
  // the scopes (invalid_scope: a Keyward scope, or a service scope the key lacks; the token gets
  // exactly the requested ones, or all the key's service scopes when none are requested), then
  // signs: iss, sub (owner id), aud, iat and nbf (now − skew), exp = min(now + ttl, key expiry),
  // jti, client_id = KeyId, scope, tags (the key's effective tags).
  // A session-derived token (allow_session) has no scope unless requested, and may request any
  // service scope. temporarily_unavailable (503) when the store cannot be read or no key signs
  // yet; server_error (500) when signing fails.
  std::variant<IssuedToken, OAuthError> Issue(const TokenRequest& request) const;

  // Checks a JWT this issuer signed: signature by a published key, typ (at+jwt or JWT), iss,
  // aud in `which`, exp and nbf (with `skew` leeway), iat not in the future beyond skew, then its
  // key by client_id: it must still exist, be unexpired, belong to `sub`, and hold tokens:issue.
  // A token issued from a secret since rotated away (client_id names an old secret) verifies
  // while that old secret is accepted (Authenticator::PrincipalOfOldSecret: not a use of it, and
  // no reuse reported): old_secret set, expires_at never past its time.
  // The Principal: the owner with tags = token tags ∩ the key's effective tags, a grant without
  // full access whose scopes = token scopes ∩ the key's and tags = those tags, the key's
  // addresses and networks, via and key_name the key's (or session's), token_hash SHA-256 of
  // the JWT, parent_key_hash the key's hash, expires_at the token's exp (never past the key's),
  // rate_limit the key's (its cache entry's meters are the key's: KeyCache::MetersOf).
  // Unauthenticated (with a reason for logs, never the token) otherwise; Unavailable when the
  // store cannot be read. Caches the result under the JWT's hash like a key when its audience
  // is a gateway one, and the key's own entry beside it (TryCached checks both); a token
  // Verify(kGateway) refuses is cached as unknown, as an unknown key is, and refused again from
  // there by TryCached and Verify(kGateway). A kid the ring does not know makes it read the
  // signing keys again (at most once a second): another node may have rotated at once.
  // An unknown kid while the keys cannot be read is Unavailable, and neither it nor an unknown
  // kid refused without a fresh read (one a second) is cached as unknown.
  // The claims also tie a token to its signing key (a retired key may have leaked): its iat must
  // not be after the key stopped signing + skew (when the ring knows when), and exp − iat at most
  // ttl + 2·skew (no token this issuer signs lives longer).
  Result<Principal> Verify(std::string_view jwt, AudienceSet which) const;

  // Never blocks: a JWT verified before (under the gateway audiences) whose key is still in the
  // cache. kValid calls `on_valid(const CacheEntry&)` with the token's entry; kMiss: call Verify
  // on a blocking thread. kInvalid for anything that is not shaped like a JWT, a token or key
  // that expired meanwhile, and a token Verify(kGateway) refused within the cache's ttl.
  template <typename F>
  KeyCache::Outcome TryCached(std::string_view jwt, F&& on_valid) const;

 private:
  // Verify without the cache: signature, claims, lineage; `*gateway` as CheckClaims says.
  // `*final_refusal` is set false when an unknown kid was refused without reading the keys
  // (read within the second): that refusal must not be cached. Unavailable when the keys could
  // not be read to look for an unknown kid.
  Result<Principal> VerifyUncached(std::string_view jwt, std::string_view token_hash,
                                   AudienceSet which, UnixSeconds now, std::uint64_t generation,
                                   bool* gateway, bool* final_refusal) const;
  // Verify's work after the signature: claims, then the key the token names.
  // `*gateway` tells whether the token's audience is a gateway one. `signs_until`: when the
  // token's signing key stopped signing, 0 when not known yet.
  Status CheckClaims(const token::VerifiedJwt& jwt, AudienceSet which, UnixSeconds now,
                     UnixSeconds signs_until, bool* gateway) const;
  Result<Principal> Lineage(const boost::json::object& claims, UnixSeconds now,
                            std::uint64_t generation) const;
  // A token principal from the cache, its key's entry still there; nullopt otherwise, with
  // `*token_outcome` what the cache said of the token's own entry.
  std::optional<Principal> FromCache(std::string_view token_hash, UnixSeconds now,
                                     KeyCache::Outcome* token_outcome) const;
  std::variant<IssuedToken, OAuthError> Sign(const Principal& key, const TokenAudience& audience,
                                             const std::vector<std::string>& scopes) const;

  const TokenOptions& options_;
  const Authenticator& authenticator_;
  SigningKeyRing& ring_;
  Store& store_;
  KeyCache* cache_;
  const Clock& clock_;
};

template <typename F>
KeyCache::Outcome TokenService::TryCached(std::string_view jwt, F&& on_valid) const {
  if (!enabled() || !token::LooksLikeJwt(jwt)) return KeyCache::Outcome::kInvalid;
  if (cache_ == nullptr) return KeyCache::Outcome::kMiss;
  const KeyHash hash = HashKeyFast(jwt);
  const std::string_view token_hash(hash.data(), hash.size());
  const UnixSeconds now = clock_.Now();
  // Three lookups, never nested (the shard locks prefer writers: a reader waiting inside
  // another's read lock can deadlock), and no allocation: the token, then its key, which is
  // erased on every node when the key is deleted, then the token again to answer.
  KeyHash parent{};
  bool has_parent = false;
  KeyCache::Outcome outcome = cache_->Find(token_hash, now, [&](const CacheEntry& entry) {
    const std::string& p = entry.principal.parent_key_hash;
    if (p.size() != parent.size()) return;
    std::copy(p.begin(), p.end(), parent.begin());
    has_parent = true;
  });
  if (outcome != KeyCache::Outcome::kValid) return outcome;
  if (!has_parent) return KeyCache::Outcome::kMiss;
  outcome = cache_->Find(
      std::string_view(parent.data(), parent.size()), now, [](const CacheEntry&) {},
      /*by_token=*/true);
  if (outcome != KeyCache::Outcome::kValid) return outcome;
  return cache_->Find(token_hash, now, std::forward<F>(on_valid));
}

}  // namespace keyward
