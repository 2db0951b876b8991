// Who is calling: the user behind a verified key or session.
#pragma once

#include <string>

#include "common/clock.h"
#include "core/key_record.h"
#include "core/user.h"

namespace keyward {

struct Principal {
  User user;  // with tags
  KeyType via = KeyType::kApiKey;
  std::string key_name;        // the API key's name; empty for a session
  std::string token_hash;      // SHA-256 of the presented key or session token
  UnixSeconds expires_at = 0;  // of that key or session
};

}  // namespace keyward
