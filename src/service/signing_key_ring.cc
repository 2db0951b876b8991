#include "service/signing_key_ring.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <limits>
#include <utility>

#include "common/log.h"
#include "common/random.h"
#include "core/policy.h"

namespace keyward {
namespace {

constexpr std::string_view kSystem = "system";

// The associated data that binds a sealed private key to its kid.
std::string SealContext(std::string_view kid) {
  return std::string("keyward-signing-key:").append(kid);
}

bool RetiredBy(const SigningKeyRecord& r, UnixSeconds now) {
  return r.retired_at != 0 && r.retired_at <= now;
}

// A key that ever signs: not retired before it activated.
bool EverSigns(const SigningKeyRecord& r) {
  return r.retired_at == 0 || r.retired_at > r.activates_at;
}

// The highest generation signing at `now`; null when none does.
const SigningKeyRecord* CurrentOf(const std::vector<SigningKeyRecord>& records, UnixSeconds now) {
  const SigningKeyRecord* current = nullptr;
  for (const SigningKeyRecord& r : records) {
    if (r.activates_at <= now && !RetiredBy(r, now)) current = &r;
  }
  return current;
}

const SigningKeyRecord* PendingOf(const std::vector<SigningKeyRecord>& records, UnixSeconds now) {
  for (const SigningKeyRecord& r : records) {
    if (r.activates_at > now && !RetiredBy(r, now)) return &r;
  }
  return nullptr;
}

// When record `i` stops signing: at its retired_at or when a later generation that signs at
// all activates, whichever is first; 0 while neither is known.
UnixSeconds SignsUntil(const std::vector<SigningKeyRecord>& records, std::size_t i) {
  UnixSeconds until = records[i].retired_at;
  for (std::size_t j = i + 1; j < records.size(); ++j) {
    if (!EverSigns(records[j])) continue;
    if (until == 0 || records[j].activates_at < until) until = records[j].activates_at;
  }
  return until;
}

// When Refresh must add a key that signs from the returned time; nullopt: nothing to add.
std::optional<UnixSeconds> ScheduledActivation(const std::vector<SigningKeyRecord>& records,
                                               const TokenOptions& options, UnixSeconds now) {
  const SigningKeyRecord* current = CurrentOf(records, now);
  if (current == nullptr) return now;  // none yet (or every key retired): sign at once
  if (PendingOf(records, now) != nullptr) return std::nullopt;
  if (current->alg != token::AlgName(options.alg)) return now + options.prepublish;
  if (now >= current->activates_at + options.rotation - options.prepublish) {
    return std::max(now + options.prepublish, current->activates_at + options.rotation);
  }
  return std::nullopt;
}

// The published keys' JWKS, newest first.
std::string Jwks(const std::vector<RingKey>& keys) {
  boost::json::array list;
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) {
    if (it->state != SigningKeyState::kUnpublished) list.push_back(it->public_key.Jwk());
  }
  boost::json::object jwks;
  jwks["keys"] = std::move(list);
  return boost::json::serialize(jwks);
}

Result<token::PublicKey> PublicKeyOf(const SigningKeyRecord& record) {
  boost::system::error_code ec;
  boost::json::value jwk = boost::json::parse(record.public_jwk, ec);
  if (ec || !jwk.is_object()) {
    return Status::Internal("signing key " + record.kid + ": the stored JWK is not an object");
  }
  auto key = token::PublicKey::FromJwk(jwk.as_object());
  if (!key.ok()) {
    return Status::Internal("signing key " + record.kid + ": " + key.status().message());
  }
  if (key->kid() != record.kid) {
    return Status::Internal("signing key " + record.kid + ": the stored JWK has another kid");
  }
  return key;
}

}  // namespace

std::string_view SigningKeyStateName(SigningKeyState state) {
  switch (state) {
    case SigningKeyState::kNext:
      return "next";
    case SigningKeyState::kCurrent:
      return "current";
    case SigningKeyState::kRetired:
      return "retired";
    case SigningKeyState::kUnpublished:
      return "unpublished";
  }
  return "unpublished";
}

const token::PublicKey* RingSnapshot::Find(std::string_view kid) const {
  const RingKey* key = FindKey(kid);
  return key != nullptr ? &key->public_key : nullptr;
}

const RingKey* RingSnapshot::FindKey(std::string_view kid) const {
  for (const RingKey& key : keys) {
    if (key.state != SigningKeyState::kUnpublished && key.record.kid == kid) return &key;
  }
  return nullptr;
}

const RingKey* RingSnapshot::SignerAt(UnixSeconds now) const {
  const RingKey* signer = nullptr;
  for (const RingKey& key : keys) {
    if (!key.private_key || key.record.activates_at > now) continue;
    if (key.signs_until != 0 && key.signs_until <= now) continue;
    signer = &key;
  }
  return signer;
}

SigningKeyRing::SigningKeyRing(Store& store, const MasterKey& master_key,
                               const TokenOptions& options, const Clock& clock,
                               const AuditLog& audit)
    : store_(store),
      master_key_(master_key),
      options_(options),
      clock_(clock),
      audit_(audit),
      snapshot_(std::make_shared<const RingSnapshot>()) {}

std::shared_ptr<const RingSnapshot> SigningKeyRing::snapshot() const {
  MutexLock lock(mu_);
  return snapshot_;
}

std::chrono::milliseconds SigningKeyRing::TickInterval() const {
  const std::int64_t ms = options_.prepublish * 1000 / 4;
  return std::chrono::milliseconds(std::clamp<std::int64_t>(ms, 1000, 60'000));
}

Status SigningKeyRing::Refresh() {
  MutexLock lock(refresh_mu_);
  return RefreshLocked();
}

Status SigningKeyRing::RefreshLocked() {
  const UnixSeconds now = clock_.Now();
  Result<std::vector<SigningKeyRecord>> records = store_.ListSigningKeys();
  last_read_ok_.store(records.ok());
  if (!records.ok()) return records.status();
  KW_ASSIGN_OR_RETURN(bool added, Schedule(*records, now));
  if (added) {
    KW_ASSIGN_OR_RETURN(*records, store_.ListSigningKeys());
  }
  return Publish(*records, now);
}

Result<bool> SigningKeyRing::RefreshIfOlderThan(std::int64_t seconds) {
  auto skipped = [this]() -> Result<bool> {
    if (last_read_ok_.load()) return false;
    return Status::Unavailable("the signing keys could not be read lately");
  };
  const UnixSeconds now = clock_.Now();
  if (now - snapshot()->taken_at < seconds) return skipped();
  // One caller per `seconds` claims the read; the rest return at once instead of queueing on
  // refresh_mu_ for a store read each (a flood of made-up kids, or an outage).
  UnixSeconds last = last_attempt_.load();
  if (now - last < seconds || !last_attempt_.compare_exchange_strong(last, now)) {
    return skipped();
  }
  MutexLock lock(refresh_mu_);
  // The ticker (or a Rotate) may have read the keys while this caller waited.
  if (clock_.Now() - snapshot()->taken_at < seconds) return skipped();
  KW_RETURN_IF_ERROR(RefreshLocked());
  return true;
}

Result<bool> SigningKeyRing::Schedule(const std::vector<SigningKeyRecord>& records,
                                      UnixSeconds now) {
  std::optional<UnixSeconds> activates_at = ScheduledActivation(records, options_, now);
  if (!activates_at) return false;
  auto added = AddKey(records, *activates_at, /*retire_others=*/false, now);
  if (added.status().code() == StatusCode::kAlreadyExists) {
    log::Info("signing keys: another node added the next generation first; using its key");
    return true;
  }
  if (!added.ok()) return added.status();
  log::Info("signing key {} ({}, generation {}) added; it signs from {}", added->kid, added->alg,
            added->generation, FormatRfc3339(added->activates_at));
  audit_.RecordAfter({.action = records.empty() ? AuditAction::kSigningKeyCreated
                                                : AuditAction::kSigningKeyRotated,
                      .actor = kSystem,
                      .user = "",
                      .target = added->kid,
                      .address = ""},
                     Status::Ok());
  return true;
}

Result<SigningKeyRecord> SigningKeyRing::AddKey(const std::vector<SigningKeyRecord>& records,
                                                UnixSeconds activates_at, bool retire_others,
                                                UnixSeconds now) {
  KW_ASSIGN_OR_RETURN(token::SigningKey key, token::SigningKey::Generate(options_.alg));
  SigningKeyRecord record;
  record.generation = records.empty() ? 1 : records.back().generation + 1;
  record.kid = key.kid();
  record.alg = std::string(token::AlgName(key.alg()));
  record.public_jwk = boost::json::serialize(key.public_key().Jwk());
  std::string pem = key.PrivatePem();
  record.sealed_private = master_key_.Seal(pem, SealContext(record.kid));
  SecureWipe(pem);
  record.created_at = now;
  record.activates_at = activates_at;
  KW_RETURN_IF_ERROR(store_.AddSigningKey(record, retire_others ? now : 0));
  record.sealed_private.clear();
  return record;
}

Status SigningKeyRing::Publish(const std::vector<SigningKeyRecord>& records, UnixSeconds now) {
  std::shared_ptr<const RingSnapshot> old = snapshot();
  auto snap = std::make_shared<RingSnapshot>();
  snap->taken_at = now;
  snap->keys.reserve(records.size());
  const std::int64_t linger = options_.ttl + options_.skew + 60;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const SigningKeyRecord& record = records[i];
    KW_ASSIGN_OR_RETURN(token::PublicKey public_key, PublicKeyOf(record));
    RingKey key{.record = record,
                .public_key = std::move(public_key),
                .private_key = std::nullopt,
                .state = SigningKeyState::kUnpublished,
                .signs_until = 0,
                .published_until = 0};
    key.record.sealed_private.clear();
    key.signs_until = SignsUntil(records, i);
    key.published_until = key.signs_until == 0 ? 0 : key.signs_until + linger;
    if (record.activates_at > now && !RetiredBy(record, now)) {
      key.state = SigningKeyState::kNext;
    } else if (record.activates_at <= now && (key.signs_until == 0 || key.signs_until > now)) {
      key.state = SigningKeyState::kCurrent;
    } else {
      key.state =
          now < key.published_until ? SigningKeyState::kRetired : SigningKeyState::kUnpublished;
    }
    if (key.state == SigningKeyState::kNext || key.state == SigningKeyState::kCurrent) {
      KW_ASSIGN_OR_RETURN(key.private_key, Unseal(*old, record));
    }
    snap->keys.push_back(std::move(key));
  }
  for (const RingKey& key : snap->keys) {
    if (key.state == SigningKeyState::kCurrent) snap->current = &key;
  }
  snap->jwks = Jwks(snap->keys);
  MutexLock lock(mu_);
  snapshot_ = std::move(snap);
  return Status::Ok();
}

Result<token::SigningKey> SigningKeyRing::Unseal(const RingSnapshot& old,
                                                 const SigningKeyRecord& record) const {
  for (const RingKey& known : old.keys) {
    if (known.record.kid == record.kid && known.private_key) return *known.private_key;
  }
  auto pem = master_key_.Open(record.sealed_private, SealContext(record.kid));
  if (!pem.ok()) {
    return Status::Internal("signing key " + record.kid +
                            " cannot be unsealed: is this node's master key another one?");
  }
  auto key = token::SigningKey::FromPrivatePem(*pem);
  SecureWipe(*pem);
  if (!key.ok() || key->kid() != record.kid) {
    return Status::Internal("signing key " + record.kid + ": the sealed private key is not it");
  }
  return key;
}

Result<RingKey> SigningKeyRing::Rotate(const Caller& caller, bool now) {
  Result<SigningKeyRecord> added = AddRotation(caller, now);
  audit_.RecordAfter({.action = AuditAction::kSigningKeyRotated,
                      .actor = caller.user.id,
                      .user = "",
                      .target = added.ok() ? std::string_view(added->kid) : std::string_view(),
                      .address = caller.address,
                      .detail = added.ok() && now ? "now" : ""},
                     added.status());
  if (!added.ok()) return added.status();
  log::Info("signing key {} ({}, generation {}) added by {}; it signs from {}", added->kid,
            added->alg, added->generation, caller.user.id, FormatRfc3339(added->activates_at));
  // Held while it is read: in a range-for over snapshot()->keys the shared_ptr was a temporary
  // gone before the loop, and a refresh on another thread could free the keys under it
  // (ThreadSanitizer saw it: TokenIssuerClusterTest, an emergency rotation).
  const std::shared_ptr<const RingSnapshot> snap = snapshot();
  for (const RingKey& key : snap->keys) {
    if (key.record.kid == added->kid) return key;
  }
  return Status::Internal("the new signing key is not in the ring");
}

Result<SigningKeyRecord> SigningKeyRing::AddRotation(const Caller& caller, bool now) {
  KW_RETURN_IF_ERROR(RequireScope(caller.grant, scope::kUsersWrite));
  KW_RETURN_IF_ERROR(CheckOperator(caller.user));
  MutexLock lock(refresh_mu_);
  const UnixSeconds t = clock_.Now();
  // An emergency rotation that loses a race for its generation tries the next one.
  for (int attempt = 0;; ++attempt) {
    KW_ASSIGN_OR_RETURN(std::vector<SigningKeyRecord> records, store_.ListSigningKeys());
    const SigningKeyRecord* pending = PendingOf(records, t);
    if (!now && pending != nullptr) {
      return Status::AlreadyExists("a next signing key is already published; it signs at " +
                                   FormatRfc3339(pending->activates_at));
    }
    const bool at_once = now || CurrentOf(records, t) == nullptr;
    auto added = AddKey(records, at_once ? t : t + options_.prepublish, now, t);
    if (added.status().code() != StatusCode::kAlreadyExists || attempt == 2) {
      if (!added.ok()) return added.status();
      KW_ASSIGN_OR_RETURN(records, store_.ListSigningKeys());
      KW_RETURN_IF_ERROR(Publish(records, t));
      return added;
    }
  }
}

SigningKeyTicker::SigningKeyTicker(SigningKeyRing& ring)
    : periodic_([&ring] { return ring.TickInterval(); },
                [&ring] {
                  if (Status s = ring.Refresh(); !s.ok()) {
                    log::Warn("signing keys: refresh failed, the old keys stay in use: {}",
                              s.ToString());
                  }
                },
                {}) {}

void SigningKeyTicker::Stop() { periodic_.Stop(); }

}  // namespace keyward
