#include "service/key_service.h"

#include "common/random.h"
#include "core/api_key.h"
#include "core/duration.h"
#include "core/policy.h"

namespace keyward {
namespace {

constexpr std::string_view kNameAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

Status KeyNotFound() { return Status::NotFound("no such user or key"); }

}  // namespace

KeyView KeyService::ToView(const KeyRecord& record) const {
  KeyView view;
  view.name = record.name;
  view.created_at = record.created_at;
  view.expires_at = record.expires_at;
  view.last_used_at = record.last_used_at;
  view.token = record.masked;
  return view;
}

Result<std::string> KeyService::Open(const KeyRecord& record) const {
  if (!options_.reveal || master_key_ == nullptr || record.sealed.empty()) {
    return Status::PermissionDenied(
        "this server does not keep keys for reveal; a key is shown once, when it is created");
  }
  return master_key_->Open(record.sealed, record.hash);
}

void KeyService::Audited(AuditAction action, const Caller& caller, std::string_view target_user,
                         std::string_view key_name, const Status& outcome) const {
  if (audit_ == nullptr) return;
  audit_->RecordAfter({.action = action,
                       .actor = caller.user.id,
                       .user = target_user,
                       .target = key_name,
                       .address = caller.address},
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
  return Status::Unavailable(
      "the key cannot be revealed now: the audit log cannot record it; try again later",
      recorded.ToString());
}

Result<KeyView> KeyService::Create(const Caller& caller, std::string_view user_id,
                                   std::optional<std::string_view> name,
                                   std::optional<std::string_view> duration) const {
  std::string target = ResolveUserId(caller.user, user_id);
  std::string key_name = name ? std::string(*name) : "token_" + RandomString(19, kNameAlphabet);
  Result<KeyView> created = CreateKey(caller.user, target, key_name, duration);
  Audited(AuditAction::kKeyCreate, caller, target, key_name, created.status());
  return created;
}

Result<KeyView> KeyService::CreateKey(const User& caller, const std::string& target,
                                      const std::string& key_name,
                                      std::optional<std::string_view> duration) const {
  KW_RETURN_IF_ERROR(CheckKeyAccess(caller, target));
  KW_RETURN_IF_ERROR(ValidateKeyName(key_name));

  std::int64_t validity = options_.default_validity;
  if (duration) {
    KW_ASSIGN_OR_RETURN(validity, ParseDuration(*duration));
  }
  if (validity > options_.max_validity) {
    return Status::InvalidArgument("duration is longer than this server's maximum of " +
                                   FormatDuration(options_.max_validity));
  }

  std::string token = GenerateKey(options_.key_prefix);
  KeyRecord record;
  record.user_id = target;
  record.name = key_name;
  record.hash = HashKey(token);
  if (options_.reveal && master_key_ != nullptr)
    record.sealed = master_key_->Seal(token, record.hash);
  record.masked = MaskKey(token);
  record.created_at = clock_.Now();
  record.expires_at = record.created_at + validity;

  Status stored = store_.CreateKey(record);
  if (!stored.ok()) {
    SecureWipe(token);
    if (stored.code() == StatusCode::kAlreadyExists) {
      return Status::AlreadyExists("a key named \"" + key_name + "\" already exists for " + target);
    }
    if (stored.code() == StatusCode::kNotFound) return KeyNotFound();
    return stored;
  }
  KeyView view = ToView(record);
  view.token = std::move(token);
  return view;
}

Result<std::vector<KeyView>> KeyService::List(const Caller& caller, std::string_view user_id,
                                              bool reveal) const {
  std::string target = ResolveUserId(caller.user, user_id);
  const bool revealing = reveal && options_.reveal;
  // A refused reveal is on record; a plain listing is not an event.
  auto refused = [&](const Status& status, std::string_view key_name) {
    if (revealing) Audited(AuditAction::kKeyReveal, caller, target, key_name, status);
    return status;
  };
  if (Status access = CheckKeyAccess(caller.user, target); !access.ok()) return refused(access, "");
  // A missing user and a user without keys must not look alike to an operator.
  auto user = store_.GetUser(target);
  if (!user.ok()) {
    return refused(user.status().code() == StatusCode::kNotFound ? KeyNotFound() : user.status(),
                   "");
  }
  auto records = store_.ListKeys(target);
  if (!records.ok()) return refused(records.status(), "");
  std::vector<KeyView> views;
  views.reserve(records->size());
  auto wipe = [&views] {
    for (KeyView& view : views) SecureWipe(view.token);
  };
  for (const KeyRecord& record : *records) {
    KeyView view = ToView(record);
    if (revealing) {
      auto token = Open(record);
      if (!token.ok()) {
        wipe();
        return refused(token.status(), record.name);
      }
      view.token = std::move(token).value();
    }
    views.push_back(std::move(view));
  }
  // Every key shown is on record before any is returned. Should one record fail, those written
  // before it stay: the log may then name a reveal that returned nothing, never the reverse.
  if (revealing) {
    for (const KeyView& view : views) {
      if (Status recorded = RecordReveal(caller, target, view.name); !recorded.ok()) {
        wipe();
        return recorded;
      }
    }
  }
  return views;
}

Result<std::string> KeyService::Reveal(const Caller& caller, std::string_view user_id,
                                       std::string_view name) const {
  std::string target = ResolveUserId(caller.user, user_id);
  Result<std::string> token = RevealKey(caller.user, target, name);
  if (!token.ok()) {
    Audited(AuditAction::kKeyReveal, caller, target, name, token.status());
    return token;
  }
  if (Status recorded = RecordReveal(caller, target, name); !recorded.ok()) {
    SecureWipe(*token);
    return recorded;
  }
  return token;
}

Result<std::string> KeyService::RevealKey(const User& caller, const std::string& target,
                                          std::string_view name) const {
  KW_RETURN_IF_ERROR(CheckKeyAccess(caller, target));
  auto record = store_.GetKey(target, name);
  if (!record.ok()) {
    return record.status().code() == StatusCode::kNotFound ? KeyNotFound() : record.status();
  }
  return Open(*record);
}

Status KeyService::Delete(const Caller& caller, std::string_view user_id,
                          std::string_view name) const {
  std::string target = ResolveUserId(caller.user, user_id);
  Status deleted = DeleteKey(caller.user, target, name);
  Audited(AuditAction::kKeyDelete, caller, target, name, deleted);
  return deleted;
}

Status KeyService::DeleteKey(const User& caller, const std::string& target,
                             std::string_view name) const {
  KW_RETURN_IF_ERROR(CheckKeyAccess(caller, target));
  auto record = store_.GetKey(target, name);
  if (!record.ok()) {
    return record.status().code() == StatusCode::kNotFound ? KeyNotFound() : record.status();
  }
  Status deleted = store_.DeleteKey(target, name);
  // Whatever the store says, the key must not stay valid in this node's cache.
  if (cache_ != nullptr) cache_->Erase(record->hash);
  if (deleted.code() == StatusCode::kNotFound) return KeyNotFound();
  return deleted;
}

}  // namespace keyward
