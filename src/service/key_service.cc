#include "service/key_service.h"

#include <algorithm>

#include "common/random.h"
#include "core/api_key.h"
#include "core/duration.h"
#include "core/policy.h"
#include "service/canary_rules.h"
#include "service/key_events.h"
#include "service/key_service_internal.h"

namespace keyward {
namespace {

constexpr std::string_view kNameAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

// The description, idle_timeout, on_reuse and rate_limit of a new key into `record`;
// InvalidArgument.
Status TakeSettings(const NewKey& in, std::int64_t max_validity, KeyRecord* record) {
  if (in.description) {
    KW_RETURN_IF_ERROR(ValidateKeyDescription(*in.description));
    record->description = *in.description;
  }
  if (in.idle_timeout) {
    KW_ASSIGN_OR_RETURN(record->idle_timeout,
                        key_rules::ParseIdleTimeout(*in.idle_timeout, max_validity));
  }
  if (in.on_reuse) {
    KW_ASSIGN_OR_RETURN(record->revoke_on_reuse, key_rules::ParseOnReuse(*in.on_reuse));
  }
  if (in.rate_limit) {
    KW_ASSIGN_OR_RETURN(record->rate_limit,
                        key_rules::ParseRateLimit(*in.rate_limit, /*allow_off=*/false));
  }
  return Status::Ok();
}

}  // namespace

namespace key_rules {

Status KeyNotFound() { return Status::NotFound("no such user or key"); }

Status CheckKeyCall(const Caller& caller, const std::string& target, std::string_view scope,
                    std::string_view others_scope) {
  KW_RETURN_IF_ERROR(RequireScope(caller.grant, scope));
  KW_RETURN_IF_ERROR(CheckKeyAccess(caller.user, target));
  if (target != caller.user.id) KW_RETURN_IF_ERROR(RequireScope(caller.grant, others_scope));
  return Status::Ok();
}

Status CheckRevealOf(const Caller& caller, const KeyRecord& record) {
  return CheckReveal(caller.grant, caller.expires_at, record.name, record.grant, record.expires_at);
}

Result<std::int64_t> ParseDurationOrZero(std::string_view field, std::string_view text) {
  // Zero is digits 0 with a unit, in one or more groups ("0s", "0h0m").
  bool zero = !text.empty();
  for (std::size_t i = 0; zero && i < text.size();) {
    std::size_t digits = 0;
    while (i < text.size() && text[i] == '0') ++i, ++digits;
    zero = digits > 0 && i < text.size() &&
           std::string_view("smhd").find(text[i]) != std::string_view::npos;
    ++i;
  }
  if (zero) return std::int64_t{0};
  auto seconds = ParseDuration(text);
  if (!seconds.ok()) {
    return Status::InvalidArgument(std::string(field) + ": " + seconds.status().message());
  }
  return seconds;
}

Result<std::int64_t> ParseIdleTimeout(std::string_view text, std::int64_t max_validity) {
  KW_ASSIGN_OR_RETURN(std::int64_t seconds, ParseDurationOrZero("idle_timeout", text));
  if (seconds > max_validity) {
    return Status::InvalidArgument("idle_timeout is longer than this server's maximum of " +
                                   FormatDuration(max_validity));
  }
  return seconds;
}

Result<bool> ParseOnReuse(std::string_view text) {
  if (text == "keep") return false;
  if (text == "revoke") return true;
  return Status::InvalidArgument("on_reuse must be \"keep\" or \"revoke\"");
}

Result<RateLimit> ParseRateLimit(const RateLimitSpec& spec, bool allow_off) {
  if (spec.requests == 0 && allow_off) return RateLimit{};
  if (spec.requests < 1 || spec.requests > kMaxRateRequests) {
    return ValidateRateLimit(RateLimit{.requests = spec.requests, .per = 1});
  }
  auto per = ParseDuration(spec.per);
  if (!per.ok()) {
    return Status::InvalidArgument("rate_limit.per: " + std::string(per.status().message()));
  }
  RateLimit limit{.requests = spec.requests, .per = *per};
  KW_RETURN_IF_ERROR(ValidateRateLimit(limit));
  return limit;
}

std::string DescribeRateLimit(const RateLimit& limit) {
  if (!limit.enabled()) return "off";
  return std::to_string(limit.requests) + "/" + FormatDuration(limit.per);
}

}  // namespace key_rules

using key_rules::CheckKeyCall;
using key_rules::CheckRevealOf;
using key_rules::KeyNotFound;

KeyView KeyService::ToView(const KeyRecord& record, UnixSeconds now) const {
  KeyView view;
  view.name = record.name;
  view.created_at = record.created_at;
  view.expires_at = record.expires_at;
  view.last_used_at = record.last_used_at;
  view.token = record.masked;
  view.grant = record.grant;
  view.description = record.description;
  view.disabled = record.disabled;
  view.idle_timeout = record.idle_timeout;
  view.revoke_on_reuse = record.revoke_on_reuse;
  view.rotated_at = record.rotated_at;
  view.rate_limit = record.rate_limit;
  view.last_address = record.last_address;
  view.canary = record.canary;
  for (const OldSecret& old : record.old_secrets) {
    // Never past the key's own expiry: a shortened key takes its old secrets with it.
    const UnixSeconds until =
        std::min(old.AcceptedUntil(options_.last_used_lag_seconds), record.expires_at);
    if (until <= now) continue;
    view.old_secrets.push_back({.masked = old.masked,
                                .rotated_at = old.rotated_at,
                                .accepted_until = until,
                                .last_used_at = old.last_used_at});
  }
  if (record.disabled) {
    view.status = "disabled";
  } else if (record.expires_at <= now) {
    view.status = "expired";
  } else if (!view.old_secrets.empty()) {
    view.status = "rotating";
  } else {
    view.status = "active";
  }
  return view;
}

void KeyService::EraseSecrets(const KeyRecord& record) const {
  if (cache_ == nullptr) return;
  cache_->Erase(record.hash);
  for (const OldSecret& old : record.old_secrets) cache_->Erase(old.hash);
}

Result<std::string> KeyService::Open(const KeyRecord& record) const {
  if (!options_.reveal || master_key_ == nullptr || record.sealed.empty()) {
    return Status::PermissionDenied(
        "this server does not keep keys for reveal; a key is shown once, when it is created");
  }
  return master_key_->Open(record.sealed, record.hash);
}

void KeyService::Audited(AuditAction action, const Caller& caller, std::string_view target_user,
                         std::string_view key_name, const Status& outcome,
                         std::string_view detail) const {
  if (audit_ == nullptr) return;
  audit_->RecordAfter({.action = action,
                       .actor = caller.user.id,
                       .user = target_user,
                       .target = key_name,
                       .address = caller.address,
                       .detail = detail},
                      outcome);
}

Status KeyService::RecordReveal(const Caller& caller, std::string_view target_user,
                                std::string_view key_name) const {
  if (audit_ == nullptr) return Status::Ok();
  Status recorded = audit_->Record({.action = AuditAction::kKeyReveal,
                                    .actor = caller.user.id,
                                    .user = target_user,
                                    .target = key_name,
                                    .address = caller.address},
                                   Status::Ok());
  if (recorded.ok()) return recorded;
  // Fail closed: a key is never shown without a record of it. The store's error is detail,
  // for the log.
  if (recorded.code() == StatusCode::kInsufficientStorage) {
    return ExplainDiskFull(recorded,
                           "the key cannot be revealed, as its reveal cannot be recorded");
  }
  return Status::Unavailable(
      "the key cannot be revealed now: the audit log cannot record it; try again later",
      recorded.ToString());
}

Result<KeyView> KeyService::Create(const Caller& caller, std::string_view user_id,
                                   const NewKey& in) const {
  std::string target = ResolveUserId(caller.user, user_id);
  std::string key_name = in.name ? *in.name : "token_" + RandomString(19, kNameAlphabet);
  Result<KeyView> created = CreateKey(caller, target, key_name, in);
  Audited(AuditAction::kKeyCreate, caller, target, key_name, created.status(),
          created.ok() ? DescribeGrant(created->grant) : std::string());
  return created;
}

Result<std::pair<Grant, UnixSeconds>> KeyService::NewKeyLimits(const Caller& caller,
                                                               const User& owner, const NewKey& in,
                                                               UnixSeconds now) const {
  // What is malformed is refused first (InvalidArgument), whoever asks.
  std::int64_t validity = options_.default_validity;
  if (in.duration) {
    KW_ASSIGN_OR_RETURN(validity, ParseDuration(*in.duration));
  }
  if (validity > options_.max_validity) {
    return Status::InvalidArgument("duration is longer than this server's maximum of " +
                                   FormatDuration(options_.max_validity));
  }
  KW_ASSIGN_OR_RETURN(Grant requested,
                      NormalizeGrant(Grant{.scopes = in.scopes,
                                           .tags = in.tags,
                                           .allowed_addresses = in.allowed_addresses.value_or(
                                               std::vector<std::string>())}));
  // Then what exceeds the creator (PermissionDenied).
  Grant grant = InheritLimits(std::move(requested), in.tags.has_value(),
                              in.allowed_addresses.has_value(), caller.grant, owner);
  KW_RETURN_IF_ERROR(CheckNewKeyGrant(grant, caller.grant, owner));
  UnixSeconds expires_at = now + validity;
  if (!caller.grant.full_access && expires_at > caller.expires_at) {
    if (in.duration) {
      return Status::PermissionDenied("duration " + *in.duration +
                                      " outlives the creating key (expires " +
                                      FormatRfc3339(caller.expires_at) + ")");
    }
    expires_at = caller.expires_at;  // the default validity, cut to the creator's
  }
  return std::make_pair(std::move(grant), expires_at);
}

Result<KeyView> KeyService::CreateKey(const Caller& caller, const std::string& target,
                                      const std::string& key_name, const NewKey& in) const {
  KW_RETURN_IF_ERROR(CheckKeyCall(caller, target, scope::kKeysWrite, scope::kUsersWrite));
  KW_RETURN_IF_ERROR(ValidateKeyName(key_name));
  // The owner's current tags bound the grant.
  auto owner = store_.GetUser(target);
  if (!owner.ok()) {
    return owner.status().code() == StatusCode::kNotFound ? KeyNotFound() : owner.status();
  }
  const UnixSeconds now = clock_.Now();
  KeyRecord record;
  KW_RETURN_IF_ERROR(TakeSettings(in, options_.max_validity, &record));
  if (in.canary) KW_RETURN_IF_ERROR(CheckNewCanary(in));
  NewKey asked = in;
  if (in.canary) asked.tags.emplace();  // no tag: it grants nothing
  KW_ASSIGN_OR_RETURN(auto limits, NewKeyLimits(caller, *owner, asked, now));
  record.canary = in.canary;

  std::string token = GenerateKey(options_.key_prefix);
  record.user_id = target;
  record.name = key_name;
  record.hash = HashKey(token);
  if (options_.reveal && master_key_ != nullptr)
    record.sealed = master_key_->Seal(token, record.hash);
  record.masked = MaskKey(token);
  record.created_at = now;
  record.expires_at = limits.second;
  record.validity = limits.second - now;  // what a rotation renews
  record.grant = std::move(limits.first);

  Status stored = store_.CreateKey(record, {KeyEvent(event::kKeyCreated, record, now)});
  if (!stored.ok()) {
    SecureWipe(token);
    if (stored.code() == StatusCode::kAlreadyExists) {
      return Status::AlreadyExists("a key named \"" + key_name + "\" already exists for " + target);
    }
    if (stored.code() == StatusCode::kNotFound) return KeyNotFound();
    return ExplainDiskFull(stored, "the key was not created");
  }
  KeyView view = ToView(record, now);
  view.token = std::move(token);
  return view;
}

Result<std::vector<KeyView>> KeyService::List(const Caller& caller, std::string_view user_id,
                                              bool reveal) const {
  return List(caller, user_id, reveal, std::nullopt);
}

Result<std::vector<KeyView>> KeyService::List(const Caller& caller, std::string_view user_id,
                                              bool reveal,
                                              std::optional<std::int64_t> expiring_within) const {
  if (expiring_within && *expiring_within < 0) {
    return Status::InvalidArgument("expiring_within must not be negative");
  }
  std::string target = ResolveUserId(caller.user, user_id);
  const bool revealing = reveal && options_.reveal;
  // A refused reveal is on record; a plain listing is not an event.
  auto refused = [&](const Status& status, std::string_view key_name) {
    if (revealing) Audited(AuditAction::kKeyReveal, caller, target, key_name, status);
    return status;
  };
  Status access = CheckKeyCall(caller, target, scope::kKeysRead, scope::kUsersRead);
  // Showing keys in full is Reveal's rule for each: keys:reveal, and users:write for another
  // user's keys.
  if (access.ok() && reveal) {
    access = CheckKeyCall(caller, target, scope::kKeysReveal, scope::kUsersWrite);
  }
  if (!access.ok()) return refused(access, "");
  // A missing user and a user without keys must not look alike to an operator.
  auto user = store_.GetUser(target);
  if (!user.ok()) {
    return refused(user.status().code() == StatusCode::kNotFound ? KeyNotFound() : user.status(),
                   "");
  }
  auto records = store_.ListKeys(target);
  if (!records.ok()) return refused(records.status(), "");
  const UnixSeconds now = clock_.Now();
  if (expiring_within) {
    std::erase_if(*records, [&](const KeyRecord& r) {
      return r.expires_at <= now || r.expires_at > now + *expiring_within;
    });
  }
  std::vector<KeyView> views;
  views.reserve(records->size());
  std::vector<std::size_t> shown;  // the views in full
  auto wipe = [&views] {
    for (KeyView& view : views) SecureWipe(view.token);
  };
  for (const KeyRecord& record : *records) {
    KeyView view = ToView(record, now);
    // A key broader than the caller's stays masked, as in a plain listing.
    if (revealing && CheckRevealOf(caller, record).ok()) {
      auto token = Open(record);
      if (!token.ok()) {
        wipe();
        return refused(token.status(), record.name);
      }
      view.token = std::move(token).value();
      shown.push_back(views.size());
    }
    views.push_back(std::move(view));
  }
  // Every key shown is on record before any is returned. Should one record fail, those written
  // before it stay: the log may then name a reveal that returned nothing, never the reverse.
  for (std::size_t i : shown) {
    if (Status recorded = RecordReveal(caller, target, views[i].name); !recorded.ok()) {
      wipe();
      return recorded;
    }
  }
  return views;
}

Result<KeyView> KeyService::Reveal(const Caller& caller, std::string_view user_id,
                                   std::string_view name) const {
  std::string target = ResolveUserId(caller.user, user_id);
  Result<KeyView> key = RevealKey(caller, target, name);
  if (!key.ok()) {
    Audited(AuditAction::kKeyReveal, caller, target, name, key.status());
    return key;
  }
  if (Status recorded = RecordReveal(caller, target, name); !recorded.ok()) {
    SecureWipe(key->token);
    return recorded;
  }
  return key;
}

Result<KeyView> KeyService::RevealKey(const Caller& caller, const std::string& target,
                                      std::string_view name) const {
  KW_RETURN_IF_ERROR(CheckKeyCall(caller, target, scope::kKeysReveal, scope::kUsersWrite));
  auto record = store_.GetKey(target, name);
  if (!record.ok()) {
    return record.status().code() == StatusCode::kNotFound ? KeyNotFound() : record.status();
  }
  KW_RETURN_IF_ERROR(CheckRevealOf(caller, *record));
  KeyView view = ToView(*record, clock_.Now());
  KW_ASSIGN_OR_RETURN(view.token, Open(*record));
  return view;
}

Status KeyService::Delete(const Caller& caller, std::string_view user_id, std::string_view name,
                          std::string_view detail) const {
  std::string target = ResolveUserId(caller.user, user_id);
  Status deleted = DeleteKey(caller, target, name);
  Audited(AuditAction::kKeyDelete, caller, target, name, deleted, detail);
  return deleted;
}

// Any key the caller may reach, whatever its grant: deleting is never an escalation.
Status KeyService::DeleteKey(const Caller& caller, const std::string& target,
                             std::string_view name) const {
  KW_RETURN_IF_ERROR(CheckKeyCall(caller, target, scope::kKeysWrite, scope::kUsersWrite));
  auto record = store_.GetKey(target, name);
  if (!record.ok()) {
    return record.status().code() == StatusCode::kNotFound ? KeyNotFound() : record.status();
  }
  Status deleted =
      store_.DeleteKey(target, name, {KeyEvent(event::kKeyDeleted, *record, clock_.Now())});
  // Whatever the store says, the key must not stay valid in this node's cache.
  EraseSecrets(*record);
  if (deleted.code() == StatusCode::kNotFound) return KeyNotFound();
  return ExplainDiskFull(deleted, "the key was not deleted and stays valid");
}

}  // namespace keyward
