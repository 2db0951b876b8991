#include "core/webhook.h"

#include <algorithm>

namespace keyward {

Status ValidateEventType(std::string_view type) {
  if (std::find(kEventTypes.begin(), kEventTypes.end(), type) != kEventTypes.end()) {
    return Status::Ok();
  }
  std::string known;
  for (std::string_view t : kEventTypes) {
    if (!known.empty()) known += ", ";
    known += t;
  }
  // Quoted only when short printable ASCII: an error never echoes a long or odd value.
  const bool quotable = type.size() <= 64 && std::all_of(type.begin(), type.end(), [](char c) {
                          return c > 0x20 && c < 0x7f && c != '"' && c != '\\';
                        });
  std::string message = "unknown event type";
  if (quotable) {
    message += " \"";
    message += type;
    message += "\"";
  }
  return Status::InvalidArgument(message + "; known: " + known);
}

std::string_view DeliveryStateName(DeliveryState state) {
  switch (state) {
    case DeliveryState::kPending:
      return "pending";
    case DeliveryState::kDelivered:
      return "delivered";
    case DeliveryState::kFailed:
      return "failed";
  }
  return "pending";
}

Status ValidateWebhookId(std::string_view id) {
  constexpr std::string_view kPrefix = "wh_";
  const bool ok = id.size() > kPrefix.size() && id.size() <= kPrefix.size() + 64 &&
                  id.substr(0, kPrefix.size()) == kPrefix &&
                  std::all_of(id.begin() + kPrefix.size(), id.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
                  });
  return ok ? Status::Ok() : Status::InvalidArgument("not a webhook id (wh_…)");
}

std::string MessageId(std::int64_t event_id) { return "msg_" + std::to_string(event_id); }

}  // namespace keyward
