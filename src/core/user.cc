#include "core/user.h"

#include <algorithm>

namespace keyward {

std::string_view UserTypeName(UserType type) {
  return type == UserType::kApplication ? "application" : "person";
}

std::optional<UserType> ParseUserType(std::string_view text) {
  if (text == "person") return UserType::kPerson;
  if (text == "application") return UserType::kApplication;
  return std::nullopt;
}

bool User::IsOperator() const {
  return std::find(tags.begin(), tags.end(), kOperatorTag) != tags.end();
}

Status ValidateUserId(std::string_view id) {
  auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  };
  if (id.empty() || id.size() > 64 || !std::all_of(id.begin(), id.end(), ok_char) ||
      id.front() == '.' || id.front() == '_' || id.front() == '-') {
    return Status::InvalidArgument(
        "user id must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter "
        "or digit");
  }
  if (id == "me") return Status::InvalidArgument("user id 'me' is reserved");
  return Status::Ok();
}

Status ValidateUserName(std::string_view name) {
  if (name.empty() || name.size() > 128 || !IsPrintableUtf8(name)) {
    return Status::InvalidArgument(
        "user name must be 1-128 bytes of UTF-8 text without control characters");
  }
  return Status::Ok();
}

Status ValidateTag(std::string_view tag) {
  auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
           c == '.' || c == '_' || c == '-';
  };
  if (tag.empty() || tag.size() > 128 || !std::all_of(tag.begin(), tag.end(), ok_char) ||
      tag == "." || tag == "..") {
    return Status::InvalidArgument(
        "tag must be 1-128 characters of A-Z, a-z, 0-9, ':', '.', '_' or '-', and not . or ..");
  }
  return Status::Ok();
}

std::string JoinTags(const std::vector<std::string>& tags) {
  std::string out;
  for (const auto& tag : tags) {
    if (!out.empty()) out += ',';
    out += tag;
  }
  return out;
}

namespace {

// Valid UTF-8 (no overlongs, no surrogates); with `printable`, without C0/C1 control characters
// too, and otherwise without NUL only.
bool IsUtf8(std::string_view s, bool printable) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = 0;
    std::size_t len = 0;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F;
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F;
      len = 3;
    } else if ((c & 0xF8) == 0xF0) {
      cp = c & 0x07;
      len = 4;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (cp == 0 || (printable && (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)))) return false;
    i += len;
  }
  return true;
}

}  // namespace

bool IsPrintableUtf8(std::string_view text) { return IsUtf8(text, true); }

bool IsUtf8Text(std::string_view text) { return IsUtf8(text, false); }

}  // namespace keyward
