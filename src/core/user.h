// Users: people who sign in with a password, and applications that only hold keys.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace keyward {

enum class UserType { kPerson, kApplication };

std::string_view UserTypeName(UserType type);  // "person" | "application"
std::optional<UserType> ParseUserType(std::string_view text);

// The tag that makes a user an operator.
inline constexpr std::string_view kOperatorTag = "roles:id:operator";

struct User {
  std::string id;    // unique, see ValidateUserId
  std::string name;  // display name
  UserType type = UserType::kPerson;
  std::string password_hash;      // Argon2id string; empty: cannot sign in with a password
  std::vector<std::string> tags;  // sorted, unique
  UnixSeconds created_at = 0;

  bool IsOperator() const;
};

// Ids: 1-64 characters of [a-z0-9._-], starting with a letter or digit. "me" is reserved.
Status ValidateUserId(std::string_view id);
// Display names: 1-128 bytes of valid UTF-8 without control characters.
Status ValidateUserName(std::string_view name);
// Tags: 1-128 characters of [A-Za-z0-9:._-], not "." or ".." (a tag is a URL path segment).
Status ValidateTag(std::string_view tag);

// The tags joined by ",", in their order: the X-Keyward-Tags header value of /auth.
std::string JoinTags(const std::vector<std::string>& tags);

// True if `text` is valid UTF-8 (no overlongs, no surrogates) without C0/C1 control characters.
bool IsPrintableUtf8(std::string_view text);
// True if `text` is valid UTF-8 (as above) without NUL: what a store's text column can hold.
bool IsUtf8Text(std::string_view text);

}  // namespace keyward
