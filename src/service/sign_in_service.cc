#include "service/sign_in_service.h"

#include "core/api_key.h"
#include "core/password.h"

namespace keyward {
namespace {

Status WrongCredentials() { return Status::Unauthenticated("wrong username or password"); }

}  // namespace

Result<SignIn> SignInService::Login(std::string_view username, std::string_view password,
                                    std::string_view client_address, std::int64_t* retry_after) {
  Result<SignIn> signed_in = SignInOnce(username, password, client_address, retry_after);
  if (audit_ != nullptr) {
    // The name tried is both actor and user: on success it is the user's id. The same record,
    // at the same cost, whether the user exists or not.
    audit_->RecordAfter({.action = AuditAction::kSignIn,
                         .actor = username,
                         .user = username,
                         .target = "",
                         .address = client_address},
                        signed_in.status());
  }
  return signed_in;
}

Result<SignIn> SignInService::SignInOnce(std::string_view username, std::string_view password,
                                         std::string_view client_address,
                                         std::int64_t* retry_after) {
  const UnixSeconds now = clock_.Now();
  if (std::int64_t wait = throttle_.Admit(username, client_address, now); wait > 0) {
    if (retry_after != nullptr) *retry_after = wait;
    return Status::ResourceExhausted("too many failed sign-ins; try again in " +
                                     std::to_string(wait) + " s");
  }
  std::string hash;
  std::string user_id;
  if (ValidateUserId(username).ok()) {
    auto user = store_.GetUser(username);
    if (user.ok()) {
      hash = user->password_hash;
      user_id = user->id;
    } else if (user.status().code() != StatusCode::kNotFound) {
      throttle_.Release(username, client_address);
      return user.status();
    }
  }
  // Always runs Argon2id, against a dummy hash when there is no user or no password.
  // The attempt already counts as a failure (Admit); only a success takes it back.
  if (!VerifyPassword(password, hash) || user_id.empty()) return WrongCredentials();
  throttle_.RecordSuccess(username, client_address);

  SignIn out;
  out.token = GenerateKey(options_.key_prefix);
  out.expires_at = now + options_.session_validity;
  out.user_id = user_id;
  SessionRecord session;
  session.user_id = user_id;
  session.hash = HashKey(out.token);
  session.created_at = now;
  session.expires_at = out.expires_at;
  Status stored = store_.CreateSession(session);
  if (stored.code() == StatusCode::kNotFound) return WrongCredentials();  // deleted meanwhile
  KW_RETURN_IF_ERROR(ExplainDiskFull(stored, "you were not signed in"));
  return out;
}

Status SignInService::Logout(const Principal& caller) {
  if (caller.via != KeyType::kSession) {
    return Status::InvalidArgument("sign-out needs a session token; delete API keys instead");
  }
  Status deleted = store_.DeleteSession(caller.token_hash);
  if (cache_ != nullptr) cache_->Erase(caller.token_hash);
  if (deleted.code() == StatusCode::kNotFound) return Status::Ok();  // already gone
  return ExplainDiskFull(deleted, "the session was not ended and stays valid");
}

}  // namespace keyward
