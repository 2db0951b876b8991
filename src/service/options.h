// Settings of the service layer, each with its default. Filled from `keyward serve` flags.
#pragma once

#include <cstdint>
#include <string>

namespace keyward {

struct ServiceOptions {
  // Keys look like "<key_prefix>_…". 1-16 characters of [a-z0-9].
  std::string key_prefix = "kw";
  // Validity of a key created without a duration, in seconds (24h).
  std::int64_t default_validity = 24 * 3600;
  // Longest validity a key may be given, in seconds (9999h, the figure DataOS users type).
  std::int64_t max_validity = 9999LL * 3600;
  // Validity of a sign-in session, in seconds (12h).
  std::int64_t session_validity = 12 * 3600;
  // Keep an encrypted copy of each key so its owner can reveal it later. Off: only the hash is
  // kept and a key is shown once, at creation.
  bool reveal = true;
  // Failed sign-ins for one user name before exponential backoff starts.
  int login_free_failures = 5;
  // Failed sign-ins from one client address before exponential backoff starts.
  int login_free_failures_per_address = 20;
  // Longest backoff, in seconds.
  std::int64_t login_max_backoff = 15 * 60;
};

}  // namespace keyward
