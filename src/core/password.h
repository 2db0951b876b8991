// Password hashing with Argon2id (libsodium's crypto_pwhash_str). Slow by design: call from
// blocking threads only. Thread safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace keyward {

// Passwords are 8-1024 bytes. InvalidArgument otherwise.
Status ValidatePassword(std::string_view password);

// An encoded Argon2id hash ("$argon2id$v=19$..."). Internal if libsodium runs out of memory.
Result<std::string> HashPassword(std::string_view password);

// True when `password` matches `hash`. Runs a full Argon2id computation even when `hash` is
// empty or malformed (against a fixed dummy hash), so that the time taken does not tell a
// known user from an unknown one.
bool VerifyPassword(std::string_view password, std::string_view hash);

}  // namespace keyward
