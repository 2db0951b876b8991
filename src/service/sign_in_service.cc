#include "service/sign_in_service.h"

#include "common/log.h"
#include "core/api_key.h"
#include "core/password.h"

namespace keyward {
namespace {

Status WrongCredentials() { return Status::Unauthenticated("wrong username or password"); }

// A throttle that cannot count admits nothing: the store's Unavailable, said for sign-in (the
// store's own message and detail go to the log with the request); a full disk (InsufficientStorage,
// 507), said as the session's would be: counting is sign-in's first write.
Status CannotCount(const Status& status) {
  if (status.code() == StatusCode::kInsufficientStorage) {
    return ExplainDiskFull(status, "you were not signed in");
  }
  if (status.code() != StatusCode::kUnavailable) return status;
  return Status::Unavailable(kThrottleUnavailable, status.message() + ": " + status.detail());
}

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
  Result<std::int64_t> wait = throttle_.Admit(username, client_address, now);
  if (!wait.ok()) return CannotCount(wait.status());
  if (*wait > 0) {
    if (retry_after != nullptr) *retry_after = *wait;
    return Status::ResourceExhausted("too many failed sign-ins; try again in " +
                                     std::to_string(*wait) + " s");
  }
  std::string hash;
  std::string user_id;
  if (ValidateUserId(username).ok()) {
    auto user = store_.GetUser(username);
    if (user.ok()) {
      hash = user->password_hash;
      user_id = user->id;
    } else if (user.status().code() != StatusCode::kNotFound) {
      // Undecided: it counts for nothing. If the store fails this too, the attempt stays
      // counted as a failure, which errs on the safe side.
      if (Status released = throttle_.Release(username, client_address, now); !released.ok()) {
        log::Warn("sign-in: a failed store call's attempt stays counted: {}", released.ToString());
      }
      return user.status();
    }
  }
  // Always runs Argon2id, against a dummy hash when there is no user or no password.
  // The attempt already counts as a failure (Admit); only a success takes it back.
  if (!VerifyPassword(password, hash) || user_id.empty()) return WrongCredentials();
  // Not taken back, the success would still count as a failure: no session without it.
  KW_RETURN_IF_ERROR(CannotCount(throttle_.RecordSuccess(username, client_address, now)));

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
