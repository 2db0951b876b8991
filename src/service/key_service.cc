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

Result<KeyView> KeyService::Create(const User& caller, std::string_view user_id,
                                   std::optional<std::string_view> name,
                                   std::optional<std::string_view> duration) const {
  std::string target = ResolveUserId(caller, user_id);
  KW_RETURN_IF_ERROR(CheckKeyAccess(caller, target));

  std::string key_name = name ? std::string(*name) : "token_" + RandomString(19, kNameAlphabet);
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

Result<std::vector<KeyView>> KeyService::List(const User& caller, std::string_view user_id,
                                              bool reveal) const {
  std::string target = ResolveUserId(caller, user_id);
  KW_RETURN_IF_ERROR(CheckKeyAccess(caller, target));
  // A missing user and a user without keys must not look alike to an operator.
  auto user = store_.GetUser(target);
  if (!user.ok())
    return user.status().code() == StatusCode::kNotFound ? KeyNotFound() : user.status();
  KW_ASSIGN_OR_RETURN(std::vector<KeyRecord> records, store_.ListKeys(target));
  std::vector<KeyView> views;
  views.reserve(records.size());
  for (const KeyRecord& record : records) {
    KeyView view = ToView(record);
    if (reveal && options_.reveal) {
      KW_ASSIGN_OR_RETURN(view.token, Open(record));
    }
    views.push_back(std::move(view));
  }
  return views;
}

Result<std::string> KeyService::Reveal(const User& caller, std::string_view user_id,
                                       std::string_view name) const {
  std::string target = ResolveUserId(caller, user_id);
  KW_RETURN_IF_ERROR(CheckKeyAccess(caller, target));
  auto record = store_.GetKey(target, name);
  if (!record.ok()) {
    return record.status().code() == StatusCode::kNotFound ? KeyNotFound() : record.status();
  }
  return Open(*record);
}

Status KeyService::Delete(const User& caller, std::string_view user_id,
                          std::string_view name) const {
  std::string target = ResolveUserId(caller, user_id);
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
