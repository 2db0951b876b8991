#include "core/key_record.h"

#include <algorithm>
#include <string>

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

UnixSeconds OldSecret::AcceptedUntil(std::int64_t lag) const {
  UnixSeconds until = grace_until;
  if (retire_when_idle > 0) {
    until = std::min(until, std::max(rotated_at, last_used_at) + retire_when_idle + lag);
  }
  return std::min(until, expires_at);
}

std::int64_t KeyRecord::RenewedValidity() const {
  return validity > 0 ? validity : std::max<std::int64_t>(1, expires_at - created_at);
}

Status ValidateKeyDescription(std::string_view description) {
  if (description.size() > kMaxDescriptionBytes) {
    return Status::InvalidArgument("description is longer than " +
                                   std::to_string(kMaxDescriptionBytes) + " bytes");
  }
  if (!IsPrintableUtf8(description)) {
    return Status::InvalidArgument("description must be UTF-8 text without control characters");
  }
  return Status::Ok();
}

}  // namespace keyward
