#include "service/key_events.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <system_error>
#include <utility>

namespace keyward {

WebhookEvent KeyEvent(std::string_view type, const KeyRecord& key, UnixSeconds now,
                      boost::json::object extra) {
  boost::json::object data;
  data["user"] = key.user_id;
  data["key"] = key.name;
  data["expiration"] = FormatRfc3339(key.expires_at);
  for (auto& member : extra) data[member.key()] = std::move(member.value());
  WebhookEvent event;
  event.type = std::string(type);
  event.time = now;
  event.user_id = key.user_id;
  event.data = boost::json::serialize(data);
  return event;
}

std::string EventPayload(const WebhookEvent& event) {
  boost::json::object payload;
  payload["type"] = event.type;
  payload["timestamp"] = FormatRfc3339(event.time);
  // The data was written by KeyEvent (or the webhook service) as a JSON object; anything else
  // (a row edited by hand) is sent as an empty object rather than as broken JSON.
  std::error_code ec;
  boost::json::value data = boost::json::parse(event.data, ec);
  if (ec || !data.is_object()) data = boost::json::object();
  payload["data"] = std::move(data);
  return boost::json::serialize(payload);
}

}  // namespace keyward
