#include "service/authenticator.h"

#include <algorithm>
#include <memory>

#include "common/log.h"

namespace keyward {

Status InvalidCredential() {
  return Status::Unauthenticated("missing, invalid, expired or revoked key");
}

Result<Principal> Authenticator::Authenticate(std::string_view token,
                                              const ClientInfo& client) const {
  if (!IsWellFormedKey(token, options_.key_prefix)) return InvalidCredential();
  std::string hash = HashKey(token);
  const UnixSeconds now = clock_.Now();
  std::optional<UsageOutcome> refused;
  std::shared_ptr<const CanaryKey> canary;
  if (cache_ == nullptr) {
    auto loaded = Load(hash, now, client, &refused, &canary);
    if (refused) CountRefusal(hash, *refused, now, client);
    if (canary) ReportCanary(*canary, client, now);
    return loaded;
  }

  Principal cached;
  switch (cache_->Find(
      hash, now, [&](const CacheEntry& e) { cached = e.principal; }, /*by_token=*/false, &canary)) {
    case KeyCache::Outcome::kValid:
      return cached;
    case KeyCache::Outcome::kInvalid:
      if (canary) ReportCanary(*canary, client, now);
      return InvalidCredential();
    case KeyCache::Outcome::kMiss:
      break;
  }
  const std::uint64_t generation = cache_->Generation();
  auto loaded = Load(hash, now, client, &refused, &canary);
  if (loaded.ok()) {
    cache_->Insert(*loaded, now, generation);
  } else if (loaded.status().code() == StatusCode::kUnauthenticated) {
    std::shared_ptr<UsageSlot> slot;
    if (refused) slot = CountRefusal(hash, *refused, now, client);
    if (canary) ReportCanary(*canary, client, now);
    cache_->InsertUnknown(hash, now, generation, std::move(slot),
                          refused.value_or(UsageOutcome::kExpired), canary);
  }
  return loaded;
}

void Authenticator::Refresh(const std::string& hash) const {
  if (cache_ == nullptr) return;
  const UnixSeconds now = clock_.Now();
  const std::uint64_t generation = cache_->Generation();
  // Not through Load: a hash that has become an old secret meanwhile (the key was rotated) must
  // not be judged there, where a retired one is reported as reused, and can revoke the key, when
  // no client presented it. Such an entry, like a canary's, is left to age out.
  Result<Principal> loaded = InvalidCredential();
  if (auto key = store_.FindKeyByHash(hash); key.ok()) {
    if (key->by_old_secret || key->canary) return;
    loaded = PrincipalOfKey(std::move(key).value(), now);
  } else if (key.status().code() == StatusCode::kNotFound) {
    auto session = store_.FindSessionByHash(hash);
    if (!session.ok()) return;
    loaded = PrincipalOfSession(*session, now);
  }
  if (loaded.ok()) cache_->Insert(*loaded, now, generation);
}

std::shared_ptr<UsageSlot> Authenticator::CountRefusal(const std::string& hash,
                                                       UsageOutcome outcome, UnixSeconds now,
                                                       const ClientInfo& client) const {
  UsageRecorder* recorder = usage();
  if (recorder == nullptr) return nullptr;
  auto slot = recorder->SlotFor(hash);
  if (slot) slot->Record(outcome, now, client.address, client.user_agent);
  return slot;
}

Result<Principal> Authenticator::Load(const std::string& hash, UnixSeconds now,
                                      const ClientInfo& client,
                                      std::optional<UsageOutcome>* refused,
                                      std::shared_ptr<const CanaryKey>* canary) const {
  auto key = store_.FindKeyByHash(hash);
  if (key.ok() && key->canary) {
    // Answered as an unknown key, and never counted: only reported. It makes the store calls an
    // unknown key makes (the session lookup too, its answer unused), so it takes as long.
    static_cast<void>(store_.FindSessionByHash(hash));
    *canary =
        std::make_shared<const CanaryKey>(CanaryKey{key->user_id, key->name, key->expires_at});
    return InvalidCredential();
  }
  if (key.ok() && key->by_old_secret) {
    return OfOldSecret(std::move(key).value(), now, client, refused);
  }
  if (key.ok()) {
    if (key->disabled) {
      *refused = UsageOutcome::kDisabled;
    } else if (key->expires_at <= now) {
      *refused = UsageOutcome::kExpired;
    }
    return PrincipalOfKey(std::move(key).value(), now);
  }
  if (key.status().code() != StatusCode::kNotFound) return key.status();
  auto session = store_.FindSessionByHash(hash);
  if (session.ok()) return PrincipalOfSession(*session, now);
  if (session.status().code() == StatusCode::kNotFound) return InvalidCredential();
  return session.status();
}

Result<Principal> Authenticator::OfOldSecret(KeyRecord key, UnixSeconds now,
                                             const ClientInfo& client,
                                             std::optional<UsageOutcome>* refused) const {
  if (key.old_secrets.empty()) return InvalidCredential();
  const OldSecret old = key.old_secrets.front();
  // Uses reach the store up to one last-used writer interval late: idle time counts from the
  // last use written, plus that lag, so that steady use never looks idle.
  const std::int64_t lag = options_.last_used_lag_seconds;
  if (key.disabled) {
    *refused = UsageOutcome::kDisabled;
  } else if (key.expires_at <= now || old.expires_at <= now) {
    *refused = UsageOutcome::kExpired;
  }
  if (now >= old.AcceptedUntil(lag)) {
    // Retired: refused like a revoked key, and reported (the listener may revoke the key).
    if (!*refused) *refused = UsageOutcome::kRevoked;
    if (reuse_ != nullptr) reuse_->ReuseDetected(key, client);
    return InvalidCredential();
  }
  // Accepted until the grace ends, or — counting this use — until it goes unused too long.
  UnixSeconds until = std::min(old.grace_until, old.expires_at);
  if (old.retire_when_idle > 0) until = std::min(until, now + old.retire_when_idle + lag);
  return AsOldSecret(std::move(key), until, now);
}

Result<Principal> Authenticator::PrincipalOfOldSecret(KeyRecord key, UnixSeconds now) const {
  if (key.old_secrets.empty()) return InvalidCredential();
  const UnixSeconds until = key.old_secrets.front().AcceptedUntil(options_.last_used_lag_seconds);
  if (now >= until) return InvalidCredential();
  return AsOldSecret(std::move(key), until, now);
}

Result<Principal> Authenticator::AsOldSecret(KeyRecord key, UnixSeconds until,
                                             UnixSeconds now) const {
  key.hash = key.old_secrets.front().hash;  // the cache entry and last-used mark are the old's
  // Never past the key's current expiry: an expiration edited earlier ends its old secrets too.
  key.expires_at = std::min(until, key.expires_at);
  auto principal = PrincipalOfKey(std::move(key), now);
  if (principal.ok()) principal->old_secret = true;
  return principal;
}

Result<Principal> Authenticator::PrincipalOfKey(KeyRecord key, UnixSeconds now) const {
  if (key.disabled || key.canary) return InvalidCredential();
  Principal principal;
  principal.token_hash = std::move(key.hash);
  principal.via = KeyType::kApiKey;
  principal.key_name = std::move(key.name);
  principal.expires_at = key.expires_at;
  principal.grant = std::move(key.grant);
  principal.rate_limit = key.rate_limit;
  return WithOwner(std::move(principal), key.user_id, now);
}

Result<Principal> Authenticator::PrincipalOfSession(const SessionRecord& session,
                                                    UnixSeconds now) const {
  Principal principal;
  principal.token_hash = session.hash;
  principal.via = KeyType::kSession;
  principal.grant = FullAccess();  // a signed-in person has their full power
  principal.expires_at = session.expires_at;
  return WithOwner(std::move(principal), session.user_id, now);
}

Result<Principal> Authenticator::WithOwner(Principal principal, std::string_view user_id,
                                           UnixSeconds now) const {
  if (principal.expires_at <= now) return InvalidCredential();
  auto user = store_.GetUser(user_id);
  if (!user.ok()) {
    if (user.status().code() == StatusCode::kNotFound) return InvalidCredential();
    return user.status();
  }
  principal.user = std::move(user).value();
  if (principal.via == KeyType::kApiKey) {
    // The key presents only its tags, and is used only from its networks. Stored ranges that
    // do not parse fail closed: the key is refused, never taken as usable from anywhere.
    principal.user.tags = EffectiveTags(principal.grant, principal.user.tags);
    auto networks = ParseNetworks(principal.grant.allowed_addresses);
    if (!networks.ok()) {
      log::Warn("key {} of user {} is refused: its stored allowed addresses do not parse: {}",
                principal.key_name, principal.user.id, networks.status().message());
      return InvalidCredential();
    }
    principal.networks = std::move(networks).value();
  }
  return principal;
}

}  // namespace keyward
