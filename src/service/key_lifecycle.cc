// KeyService's changes to a key after its creation: Rotate, Update and what a retired old
// secret's reuse does (ReuseDetected). The rules are in key_service.h.
#include <algorithm>
#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/random.h"
#include "core/api_key.h"
#include "core/duration.h"
#include "core/policy.h"
#include "service/canary_rules.h"
#include "service/key_events.h"
#include "service/key_service.h"
#include "service/key_service_internal.h"

namespace keyward {
namespace {

using key_rules::CheckKeyCall;
using key_rules::CheckRevealOf;
using key_rules::KeyNotFound;

constexpr std::int64_t kDefaultGrace = 3600;
constexpr std::int64_t kMaxGrace = 30 * 86400;
// Tries of an edit whose key changed between its read and its write (KeyService::UpdateKey).
constexpr int kEditAttempts = 3;

std::string DurationText(std::int64_t seconds) {
  return seconds == 0 ? std::string("0s") : FormatDuration(seconds);
}

Status MapKeyError(const Status& status) {
  return status.code() == StatusCode::kNotFound ? KeyNotFound() : status;
}

// The grace and retire_when_idle (seconds) `request` asks for; InvalidArgument.
Result<std::pair<std::int64_t, std::int64_t>> RotationPeriods(const RotateRequest& request) {
  std::int64_t grace = kDefaultGrace;
  if (request.grace) {
    KW_ASSIGN_OR_RETURN(grace, key_rules::ParseDurationOrZero("grace", *request.grace));
  }
  if (grace > kMaxGrace) return Status::InvalidArgument("grace is longer than 30d");
  std::int64_t idle = 0;
  if (request.retire_when_idle) {
    auto parsed = ParseDuration(*request.retire_when_idle);
    if (!parsed.ok()) {
      return Status::InvalidArgument("retire_when_idle: " + parsed.status().message());
    }
    idle = *parsed;
    if (idle > grace) {
      return Status::InvalidArgument("retire_when_idle must not be longer than the grace (" +
                                     DurationText(grace) + ")");
    }
  }
  return std::make_pair(grace, idle);
}

// A caller key without full access (a request's key) makes no key outlive it.
bool LimitedByCaller(const Caller& caller) {
  return !caller.grant.full_access && caller.expires_at != 0;
}

bool NothingToChange(const KeyEdit& edit) {
  return !edit.name && !edit.description && !edit.expiration && !edit.scopes && !edit.tags &&
         !edit.allowed_addresses && !edit.disabled && !edit.idle_timeout && !edit.on_reuse &&
         !edit.rate_limit;
}

// The grant after `edit` replaces the lists it gives: normalized, and within `current`.
Result<Grant> EditedGrant(const KeyEdit& edit, const Grant& current) {
  Grant grant = current.full_access ? Grant{} : current;  // narrower than full from nothing
  if (edit.scopes) grant.scopes = *edit.scopes;
  if (edit.tags) grant.tags = *edit.tags;
  if (edit.allowed_addresses) grant.allowed_addresses = *edit.allowed_addresses;
  KW_ASSIGN_OR_RETURN(grant, NormalizeGrant(std::move(grant)));
  KW_RETURN_IF_ERROR(CheckWithin(grant, current, "the key's current grant"));
  return grant;
}

// The well-formed fields of `edit` as a store update (InvalidArgument), before any rule about
// who may do it.
Result<KeyUpdate> ParseEdit(const KeyEdit& edit, const KeyRecord& key, UnixSeconds now,
                            std::int64_t max_validity) {
  if (NothingToChange(edit)) return Status::InvalidArgument("nothing to change");
  KeyUpdate update;
  if (edit.name) {
    KW_RETURN_IF_ERROR(ValidateKeyName(*edit.name));
    if (*edit.name != key.name) update.name = *edit.name;
  }
  if (edit.description) {
    KW_RETURN_IF_ERROR(ValidateKeyDescription(*edit.description));
    update.description = *edit.description;
  }
  if (edit.expiration) {
    std::optional<UnixSeconds> at = ParseRfc3339(*edit.expiration);
    if (!at) return Status::InvalidArgument("expiration must be an RFC 3339 time");
    if (*at <= now) return Status::InvalidArgument("expiration must be in the future");
    if (*at > now + max_validity) {
      return Status::InvalidArgument("expiration is beyond this server's maximum validity of " +
                                     FormatDuration(max_validity));
    }
    update.expires_at = *at;
  }
  if (edit.scopes || edit.tags || edit.allowed_addresses) {
    KW_ASSIGN_OR_RETURN(update.grant, EditedGrant(edit, key.grant));
  }
  update.disabled = edit.disabled;
  if (edit.idle_timeout) {
    KW_ASSIGN_OR_RETURN(update.idle_timeout,
                        key_rules::ParseIdleTimeout(*edit.idle_timeout, max_validity));
  }
  if (edit.on_reuse) {
    KW_ASSIGN_OR_RETURN(update.revoke_on_reuse, key_rules::ParseOnReuse(*edit.on_reuse));
  }
  if (edit.rate_limit) {
    KW_ASSIGN_OR_RETURN(update.rate_limit,
                        key_rules::ParseRateLimit(*edit.rate_limit, /*allow_off=*/true));
  }
  return update;
}

// True when `after` lets more through than `before`: no limit where there was one, more
// requests per second, or a larger burst (`requests`). Setting a limit or lowering one is not.
bool WidensRateLimit(const RateLimit& before, const RateLimit& after) {
  if (!before.enabled()) return false;
  if (!after.enabled()) return true;
  // requests ≤ 1e9 and per ≤ 86400: the products fit in 64 bits.
  return after.requests > before.requests ||
         after.requests * before.per > before.requests * after.per;
}

// What in `update` would widen `key` ("" nothing): a later expiration, enabling it, an
// idle_timeout turned off or made longer, on_reuse back from "revoke" to "keep", a rate limit
// removed or raised. (A grant is only ever narrowed: EditedGrant.)
std::string Widening(const KeyRecord& key, const KeyUpdate& update) {
  if (update.expires_at && *update.expires_at > key.expires_at) return "a later expiration";
  if (update.disabled && !*update.disabled && key.disabled) return "enabling it";
  if (update.idle_timeout && key.idle_timeout > 0 &&
      (*update.idle_timeout == 0 || *update.idle_timeout > key.idle_timeout)) {
    return "a longer idle_timeout, or none";
  }
  if (update.revoke_on_reuse && !*update.revoke_on_reuse && key.revoke_on_reuse) {
    return "on_reuse keep instead of revoke";
  }
  if (update.rate_limit && WidensRateLimit(key.rate_limit, *update.rate_limit)) {
    return "a higher rate limit, or none";
  }
  return "";
}

// Who may make `update` to `key`. A key editing itself may only make its expiration earlier,
// disable itself or tighten itself: nothing Widening names. A caller key without full access
// sets no expiration past its own, and widens only a key it could reveal (within its grant, not
// outliving it, as the key will be after the update).
Status CheckEditAllowed(const Caller& caller, const KeyRecord& key, const KeyUpdate& update) {
  bool self = !caller.credential_hash.empty() && caller.credential_hash == key.hash;
  for (const OldSecret& old : key.old_secrets) self = self || caller.credential_hash == old.hash;
  const std::string widening = Widening(key, update);
  if (self && !widening.empty()) {
    return Status::PermissionDenied(
        "a key may only make its own expiration earlier, disable or tighten itself, not " +
        widening);
  }
  if (!LimitedByCaller(caller)) return Status::Ok();
  if (update.expires_at && *update.expires_at > caller.expires_at) {
    return Status::PermissionDenied("the expiration is later than this key's own");
  }
  if (!widening.empty()) {
    return CheckReveal(caller.grant, caller.expires_at, key.name,
                       update.grant ? *update.grant : key.grant,
                       update.expires_at ? *update.expires_at : key.expires_at);
  }
  return Status::Ok();
}

// The audit detail of `update`: the fields changed, values only where they hold no secret.
// The events of `update` to `key`: key.disabled / key.enabled when it changes `disabled`.
EventList EditEvents(const KeyRecord& key, const KeyUpdate& update, UnixSeconds now) {
  EventList events;
  if (!update.disabled || *update.disabled == key.disabled) return events;
  KeyRecord after = key;
  if (update.name) after.name = *update.name;
  if (update.expires_at) after.expires_at = *update.expires_at;
  events.push_back(
      KeyEvent(*update.disabled ? event::kKeyDisabled : event::kKeyEnabled, after, now));
  return events;
}

std::string DescribeUpdate(const KeyUpdate& update) {
  std::vector<std::string> parts;
  if (update.name) parts.push_back("name=" + *update.name);
  if (update.description) parts.emplace_back("description");
  if (update.expires_at) parts.push_back("expiration=" + FormatRfc3339(*update.expires_at));
  if (update.grant) parts.push_back("grant=" + DescribeGrant(*update.grant));
  if (update.disabled) parts.emplace_back(*update.disabled ? "disabled=true" : "disabled=false");
  if (update.idle_timeout) parts.push_back("idle_timeout=" + DurationText(*update.idle_timeout));
  if (update.revoke_on_reuse) {
    parts.emplace_back(*update.revoke_on_reuse ? "on_reuse=revoke" : "on_reuse=keep");
  }
  if (update.rate_limit) {
    parts.push_back("rate_limit=" + key_rules::DescribeRateLimit(*update.rate_limit));
  }
  std::string out;
  for (const std::string& part : parts) out += (out.empty() ? "" : " ") + part;
  return out;
}

}  // namespace

Result<KeyView> KeyService::Rotate(const Caller& caller, std::string_view user_id,
                                   std::string_view name, const RotateRequest& request) const {
  std::string target = ResolveUserId(caller.user, user_id);
  std::string detail;
  Result<KeyView> rotated = RotateKey(caller, target, name, request, &detail);
  Audited(AuditAction::kKeyRotate, caller, target, name, rotated.status(), detail);
  return rotated;
}

Result<KeyView> KeyService::RotateKey(const Caller& caller, const std::string& target,
                                      std::string_view name, const RotateRequest& request,
                                      std::string* detail) const {
  KW_RETURN_IF_ERROR(CheckKeyCall(caller, target, scope::kKeysWrite, scope::kUsersWrite));
  KW_ASSIGN_OR_RETURN(auto periods, RotationPeriods(request));
  auto [grace, idle] = periods;
  auto record = store_.GetKey(target, name);
  if (!record.ok()) return MapKeyError(record.status());
  if (record->canary) return CanaryNotRotatable();
  // The new secret is returned in full: what a reveal would need of a caller key.
  KW_RETURN_IF_ERROR(CheckRevealOf(caller, *record));

  const UnixSeconds now = clock_.Now();
  std::string token = GenerateKey(options_.key_prefix);
  KeyRecord next = *record;
  next.hash = HashKey(token);
  next.sealed.clear();
  if (options_.reveal && master_key_ != nullptr) next.sealed = master_key_->Seal(token, next.hash);
  next.masked = MaskKey(token);
  next.expires_at = now + std::min(record->RenewedValidity(), options_.max_validity);
  if (LimitedByCaller(caller)) next.expires_at = std::min(next.expires_at, caller.expires_at);
  next.rotated_at = now;
  next.last_used_at = 0;
  next.announced_within = -1;

  OldSecret old;
  old.hash = record->hash;
  old.masked = record->masked;
  old.rotated_at = now;
  old.grace_until = std::min(now + grace, record->expires_at);
  old.retire_when_idle = idle;
  old.expires_at = record->expires_at;

  boost::json::object extra;
  extra["grace_until"] = FormatRfc3339(old.grace_until);
  if (idle > 0) extra["retire_when_idle"] = idle;
  Status stored = store_.RotateKey(target, name, record->hash, next, old,
                                   {KeyEvent(event::kKeyRotated, next, now, std::move(extra))});
  EraseSecrets(*record);
  if (!stored.ok()) {
    SecureWipe(token);
    return ExplainDiskFull(MapKeyError(stored), "the key was not rotated");
  }
  *detail = "grace=" + DurationText(grace);
  if (idle > 0) *detail += " retire_when_idle=" + DurationText(idle);
  next.old_secrets.insert(next.old_secrets.begin(), old);
  KeyView view = ToView(next, now);
  view.token = std::move(token);
  return view;
}

Result<KeyView> KeyService::Update(const Caller& caller, std::string_view user_id,
                                   std::string_view name, const KeyEdit& edit) const {
  std::string target = ResolveUserId(caller.user, user_id);
  std::string detail;
  Result<KeyView> updated = UpdateKey(caller, target, name, edit, &detail);
  const bool only_disabled = edit.disabled && !edit.name && !edit.description && !edit.expiration &&
                             !edit.scopes && !edit.tags && !edit.allowed_addresses &&
                             !edit.idle_timeout && !edit.on_reuse && !edit.rate_limit;
  if (!only_disabled)
    Audited(AuditAction::kKeyUpdate, caller, target, name, updated.status(), detail);
  if (edit.disabled) {
    Audited(*edit.disabled ? AuditAction::kKeyDisable : AuditAction::kKeyEnable, caller, target,
            name, updated.status());
  }
  return updated;
}

Result<KeyView> KeyService::UpdateKey(const Caller& caller, const std::string& target,
                                      std::string_view name, const KeyEdit& edit,
                                      std::string* detail) const {
  KW_RETURN_IF_ERROR(CheckKeyCall(caller, target, scope::kKeysWrite, scope::kUsersWrite));
  // The store applies the edit only to the revision it was decided on (a compare-and-swap): a
  // change landing meanwhile (a narrower grant, a disable, a rotation) is never overwritten; the
  // edit is decided again on a fresh read, a few times, then FailedPrecondition.
  Status stored;
  for (int attempt = 0; attempt < kEditAttempts; ++attempt) {
    auto record = store_.GetKey(target, name);
    if (!record.ok()) return MapKeyError(record.status());
    const UnixSeconds now = clock_.Now();
    if (record->canary) KW_RETURN_IF_ERROR(CheckCanaryEdit(edit));
    KW_ASSIGN_OR_RETURN(KeyUpdate update, ParseEdit(edit, *record, now, options_.max_validity));
    KW_RETURN_IF_ERROR(CheckEditAllowed(caller, *record, update));
    const std::string new_name = update.name.value_or(record->name);
    *detail = DescribeUpdate(update);
    stored =
        store_.UpdateKey(target, name, record->revision, update, EditEvents(*record, update, now));
    EraseSecrets(*record);
    if (stored.code() == StatusCode::kFailedPrecondition) continue;
    if (stored.code() == StatusCode::kAlreadyExists) {
      std::string message = "a key named \"";
      message += new_name;
      message += "\" already exists for ";
      message += target;
      return Status::AlreadyExists(std::move(message));
    }
    if (!stored.ok()) return ExplainDiskFull(MapKeyError(stored), "the key was not changed");
    auto changed = store_.GetKey(target, new_name);
    if (!changed.ok()) return MapKeyError(changed.status());
    return ToView(*changed, now);
  }
  return stored;
}

void KeyService::ReuseDetected(const KeyRecord& key, const ClientInfo& client) const {
  const UnixSeconds now = clock_.Now();
  const bool revoke = key.revoke_on_reuse;
  boost::json::object extra;
  extra["address"] = client.address;
  extra["user_agent"] = client.user_agent;
  extra["revoked"] = revoke;
  WebhookEvent reuse = KeyEvent(event::kKeyReuseDetected, key, now, std::move(extra));
  Status done;
  if (!revoke) {
    done = store_.AppendEvents({std::move(reuse)}).status();
  } else {
    // Every secret of the key leaves the cache, the ones this lookup did not see too.
    KeyRecord all = key;
    if (auto stored = store_.GetKey(key.user_id, key.name); stored.ok()) all = *stored;
    all.old_secrets.insert(all.old_secrets.end(), key.old_secrets.begin(), key.old_secrets.end());
    done = store_.DeleteKey(key.user_id, key.name,
                            {std::move(reuse), KeyEvent(event::kKeyDeleted, key, now)});
    EraseSecrets(all);
  }
  if (!done.ok()) {
    log::Warn("reuse of an old secret of key {} of user {}: could not record it: {}", key.name,
              key.user_id, done.ToString());
  }
  if (audit_ != nullptr) {
    audit_->RecordAfter({.action = AuditAction::kKeyReuse,
                         .actor = "system",
                         .user = key.user_id,
                         .target = key.name,
                         .address = client.address,
                         .detail = revoke && done.ok() ? "revoked" : ""},
                        Status::Ok());
  }
}

}  // namespace keyward
