// Turns a presented key or session token into a Principal: the hot path of Keyward.
//
// Order: format and checksum (no I/O) → SHA-256 → the verification cache → on a miss, the API
// key by hash, else the session by hash, then the owner with tags, and the answer is cached
// (unknown keys too). Unknown, expired, revoked and malformed credentials all give the same
// Unauthenticated status, and so does a key whose stored allowed addresses do not parse (fail
// closed). Store failures give Unavailable and are never cached. Thread safe.
//
// The Principal of an API key carries the key's grant, its networks (grant.allowed_addresses,
// parsed) and as user.tags the tags the key presents (EffectiveTags of the owner's current
// tags), recomputed at every store read; a session's has FullAccess() and all its user's tags.
// Checking the client address against the networks is the caller's part (it knows the address).
//
// Issue 17: a canary key (KeyRecord::canary) is refused exactly as an unknown key (the same
// InvalidCredential, a negative cache entry) and never counted; every presentation of it, the
// cached ones too, is reported to the CanaryListener with the client.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "core/api_key.h"
#include "core/key_record.h"
#include "service/client_info.h"
#include "service/key_cache.h"
#include "service/options.h"
#include "service/principal.h"
#include "store/store.h"

namespace keyward {

// Told, on the blocking thread of the lookup, that a retired old secret of `key` was presented
// (KeyRecord::by_old_secret, old_secrets[0] the secret). KeyService implements it.
class ReuseListener {
 public:
  virtual ~ReuseListener() = default;
  virtual void ReuseDetected(const KeyRecord& key, const ClientInfo& client) const = 0;
};

class Authenticator {
 public:
  // `cache` may be null (every call then reads the store).
  Authenticator(Store& store, const ServiceOptions& options, const Clock& clock, KeyCache* cache)
      : store_(store), options_(options), clock_(clock), cache_(cache) {}

  // The full verification. Blocking on a cache miss: call from blocking threads.
  //
  // Issue 15: a disabled key is refused like a revoked one. A key's old secret (after a
  // rotation) is accepted until OldSecret::AcceptedUntil(options.last_used_lag_seconds)
  // (counting this use: at most now + retire_when_idle + that lag), as a Principal
  // with old_secret set and expires_at that time; after that it is refused and, when the
  // listener is set, reported as reuse (with `client`) — at most once per cache TTL per secret,
  // as the refusal is cached.
  Result<Principal> Authenticate(std::string_view token, const ClientInfo& client = {}) const;
  // Set once, before requests are served.
  void set_reuse_listener(const ReuseListener* listener) { reuse_ = listener; }
  // Issue 17: told of every use of a canary key. Set once, before requests are served.
  void set_canary_listener(const CanaryListener* listener) { canary_ = listener; }

  // Issue 16: Authenticate counts the store's refusals of a known key (the presented secret's
  // usage slot, with the client): kDisabled for a disabled key, kExpired for an expired key or
  // an old secret past its own expiry, kRevoked for a retired old secret; the negative cache
  // entry then counts them on every hit. Unknown keys and sessions are not counted, and neither
  // is anything allowed (the caller decides what else is asked of the key, then counts).
  // The meters are the cache's (KeyCache::AttachMeters) unless set here (set once, before
  // requests are served; either may be null).
  void set_meters(UsageRecorder* usage, RateLimiter* limits) {
    usage_ = usage;
    limits_ = limits;
  }
  // The meters of a Principal this class made (KeyCache::MetersFor with the meters above).
  // Takes locks: for slow paths (a cache hit has them in CacheEntry::meters).
  KeyMeters MetersOf(const Principal& principal) const {
    return KeyCache::MetersFor(principal, usage(), limits());
  }

  // Never blocks: answers from the checksum and the cache alone. kValid calls
  // `on_valid(const CacheEntry&)`; kMiss means Authenticate() must decide, on a blocking thread.
  // A cached canary key's refusal is reported with `client_of()` (a ClientInfo, asked only
  // then: the hot path builds none).
  template <typename F, typename C>
  KeyCache::Outcome TryCached(std::string_view token, F&& on_valid, C&& client_of) const {
    // Only a well-formed key is ever cached, so a hit needs no checksum: it is checked (with
    // the characters) when the cache does not know the hash.
    if (!HasKeyShape(token, options_.key_prefix)) return KeyCache::Outcome::kInvalid;
    KeyCache::Outcome found = KeyCache::Outcome::kMiss;
    if (cache_ != nullptr) {
      const KeyHash hash = HashKeyFast(token);
      std::shared_ptr<const CanaryKey> canary;
      const UnixSeconds now = clock_.Now();
      found = cache_->Find(std::string_view(hash.data(), hash.size()), now,
                           std::forward<F>(on_valid), /*by_token=*/false, &canary);
      if (canary) ReportCanary(*canary, client_of(), now);
    }
    if (found == KeyCache::Outcome::kMiss && !IsWellFormedKey(token, options_.key_prefix)) {
      return KeyCache::Outcome::kInvalid;
    }
    return found;
  }
  // Reads the key or session of `hash` (a cache entry ClaimRefresh picked) from the store again
  // and caches it anew, as a miss does. Blocking: for a background thread, never a request's.
  // Counts and reports nothing; when the key no longer verifies (deleted, expired, disabled, its
  // owner gone) or the store fails, it leaves the entry to age out, so that the next request
  // takes the miss path, which decides, counts and reports as always.
  void Refresh(const std::string& hash) const;
  // KeyCache::ClaimRefresh, for a TryCached on_valid: true when its caller should Refresh.
  bool ClaimRefresh(const CacheEntry& entry, UnixSeconds now) const {
    return cache_ != nullptr && cache_->ClaimRefresh(entry, now);
  }
  // The same, a canary's use reported without its client (for tests and tools).
  template <typename F>
  KeyCache::Outcome TryCached(std::string_view token, F&& on_valid) const {
    return TryCached(token, std::forward<F>(on_valid), [] { return ClientInfo{}; });
  }

  // The Principal of a stored key or session found another way (the token service finds one by
  // a prefix of its hash), made exactly as Authenticate makes it: the owner read from the store,
  // the key's tags and networks. InvalidCredential() when it expired at `now`, is disabled, its
  // owner is gone, its stored addresses do not parse or it is a canary; the store's error
  // otherwise. Blocking;
  // not cached.
  Result<Principal> PrincipalOfKey(KeyRecord key, UnixSeconds now) const;
  // The same for a key found by its old secret (key.old_secrets[0], by_old_secret), while that
  // secret is accepted (AcceptedUntil with the writer's lag): old_secret set, token_hash the old
  // secret's, expires_at that time. Not a use of the secret, and a refusal is not a reuse (the
  // token service checks a token issued from it).
  Result<Principal> PrincipalOfOldSecret(KeyRecord key, UnixSeconds now) const;
  Result<Principal> PrincipalOfSession(const SessionRecord& session, UnixSeconds now) const;

 private:
  // On a refusal of a known key, sets `*refused` to the outcome to count (see set_meters); on a
  // canary key, `*canary` to it (refused, not counted).
  Result<Principal> Load(const std::string& hash, UnixSeconds now, const ClientInfo& client,
                         std::optional<UsageOutcome>* refused,
                         std::shared_ptr<const CanaryKey>* canary) const;
  void ReportCanary(const CanaryKey& key, const ClientInfo& client, UnixSeconds now) const {
    if (canary_ != nullptr) canary_->CanaryUsed(key, client, now);
  }
  // A key found by one of its old secrets (key.old_secrets[0]): accepted while in its grace,
  // else refused and reported to the ReuseListener.
  Result<Principal> OfOldSecret(KeyRecord key, UnixSeconds now, const ClientInfo& client,
                                std::optional<UsageOutcome>* refused) const;
  // Counts a refusal on the slot of `hash`, which it returns (null when not counting).
  std::shared_ptr<UsageSlot> CountRefusal(const std::string& hash, UsageOutcome outcome,
                                          UnixSeconds now, const ClientInfo& client) const;
  UsageRecorder* usage() const {
    return usage_ != nullptr || cache_ == nullptr ? usage_ : cache_->usage_recorder();
  }
  RateLimiter* limits() const {
    return limits_ != nullptr || cache_ == nullptr ? limits_ : cache_->rate_limiter();
  }
  // PrincipalOfKey as key.old_secrets[0], accepted until `until`.
  Result<Principal> AsOldSecret(KeyRecord key, UnixSeconds until, UnixSeconds now) const;
  // Reads the owner into `principal` (whose credential part is set) and applies the key's grant.
  Result<Principal> WithOwner(Principal principal, std::string_view user_id, UnixSeconds now) const;

  Store& store_;
  const ServiceOptions& options_;
  const Clock& clock_;
  KeyCache* cache_;
  const ReuseListener* reuse_ = nullptr;
  const CanaryListener* canary_ = nullptr;
  UsageRecorder* usage_ = nullptr;
  RateLimiter* limits_ = nullptr;
};

// The one Unauthenticated status every rejected credential gets.
Status InvalidCredential();

}  // namespace keyward
