#include "core/key_record.h"

#include "core/user.h"

namespace keyward {

std::string_view KeyTypeName(KeyType type) {
  return type == KeyType::kSession ? "session" : "apikey";
}

Status ValidateKeyName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("key name must not be empty");
  if (name.size() > 128) return Status::InvalidArgument("key name is longer than 128 bytes");
  if (!IsPrintableUtf8(name) || name.find('/') != std::string_view::npos) {
    return Status::InvalidArgument("key name must be UTF-8 text without control characters or '/'");
  }
  if (name == "." || name == "..") return Status::InvalidArgument("key name must not be . or ..");
  return Status::Ok();
}

}  // namespace keyward
