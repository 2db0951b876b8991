// Sign-in with a password, and sign-out.
//
// A wrong password, an unknown user and a user without a password all give the same
// Unauthenticated status and take the same time (Argon2id runs against a dummy hash). Repeated
// failures are throttled (LoginThrottle, counted in the store so that all nodes share the
// counts): ResourceExhausted, with the seconds to wait. When the store cannot count (it is
// unreachable), no password is checked: Unavailable, kThrottleUnavailable. Every
// sign-in, successful, failed or throttled, is recorded in the audit log (service/audit_log.h)
// once answered; sign-out is not.
// Blocking (Argon2id, store I/O): call from blocking threads. Thread safe.
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "core/master_key.h"
#include "service/audit_log.h"
#include "service/key_cache.h"
#include "service/login_throttle.h"
#include "service/options.h"
#include "service/principal.h"
#include "store/store.h"

namespace keyward {

struct SignIn {
  std::string token;  // a session key, usable as a Bearer key
  UnixSeconds expires_at = 0;
  std::string user_id;
};

// The message of the Unavailable a sign-in gets when its failures cannot be counted.
inline constexpr char kThrottleUnavailable[] =
    "sign-in is unavailable: failed sign-ins cannot be counted while the database cannot be "
    "reached; try again shortly";

class SignInService {
 public:
  // `cache` (may be null) forgets a session when it is signed out. `audit` (may be null only
  // where nothing needs recording: tests, benchmarks) records the sign-ins. `master_key` (may be
  // null) keys the digests of names and addresses the throttle stores (LoginThrottle says why);
  // every node must have the same one, as for reveal.
  SignInService(Store& store, const ServiceOptions& options, const Clock& clock, KeyCache* cache,
                const AuditLog* audit = nullptr, const MasterKey* master_key = nullptr)
      : store_(store),
        options_(options),
        clock_(clock),
        cache_(cache),
        audit_(audit),
        throttle_(store, options.login_free_failures, options.login_free_failures_per_address,
                  options.login_max_backoff,
                  master_key != nullptr ? master_key->DeriveKey("sign-in throttle") : "") {}

  // `retry_after` is set to the seconds to wait when the answer is ResourceExhausted.
  Result<SignIn> Login(std::string_view username, std::string_view password,
                       std::string_view client_address, std::int64_t* retry_after);
  // Revokes the session the caller presented. InvalidArgument when it was an API key.
  Status Logout(const Principal& caller);

 private:
  Result<SignIn> SignInOnce(std::string_view username, std::string_view password,
                            std::string_view client_address, std::int64_t* retry_after);

  Store& store_;
  const ServiceOptions& options_;
  const Clock& clock_;
  KeyCache* cache_;
  const AuditLog* audit_;
  LoginThrottle throttle_;
};

}  // namespace keyward
