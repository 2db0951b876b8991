#include "cli/webhook_output.h"

#include <boost/json.hpp>

#include "core/webhook.h"

namespace keyward {
namespace {

namespace json = boost::json;

// An array member's strings joined by ", "; "all" when empty or absent (no filter).
std::string Filter(const json::value& v, std::string_view key) {
  std::string out;
  const json::value* field = JsonMember(v, key);
  if (field != nullptr && field->is_array()) {
    for (const json::value& item : field->as_array()) {
      if (!item.is_string()) continue;
      if (!out.empty()) out += ", ";
      out += std::string(item.as_string());
    }
  }
  return out.empty() ? "all" : out;
}

// `list` as a list of objects: an array's items, or the one object; nothing else.
std::vector<const json::value*> Objects(const json::value& list) {
  std::vector<const json::value*> items;
  if (list.is_array()) {
    for (const json::value& item : list.as_array()) items.push_back(&item);
  } else if (list.is_object()) {
    items.push_back(&list);
  }
  return items;
}

json::array Strings(const std::vector<std::string>& given) {
  json::array out;
  for (const std::string& s : given) out.emplace_back(s);
  return out;
}

}  // namespace

Result<json::object> WebhookCreateBody(const std::string& url,
                                       const std::vector<std::string>& events,
                                       const std::vector<std::string>& users) {
  for (const std::string& type : events) KW_RETURN_IF_ERROR(ValidateEventType(type));
  json::object body;
  body["url"] = url;
  if (!events.empty()) body["events"] = Strings(events);
  if (!users.empty()) body["users"] = Strings(users);
  return body;
}

std::string RenderWebhooks(const json::value& webhooks, OutputFormat format) {
  if (format == OutputFormat::kJson) return RenderJson(webhooks);
  if (format == OutputFormat::kYaml) return RenderYaml(webhooks);
  std::vector<const json::value*> items = Objects(webhooks);
  bool with_secret = false;
  for (const json::value* w : items)
    with_secret = with_secret || JsonMember(*w, "secret") != nullptr;
  std::vector<std::string> headers = {"ID", "URL", "EVENTS", "USERS", "CREATED"};
  if (with_secret) headers.emplace_back("SECRET");
  std::vector<std::vector<std::string>> rows;
  for (const json::value* w : items) {
    std::vector<std::string> row = {JsonCell(*w, "id"), JsonCell(*w, "url"), Filter(*w, "events"),
                                    Filter(*w, "users"), JsonCell(*w, "created")};
    if (with_secret) row.push_back(JsonCell(*w, "secret"));
    rows.push_back(std::move(row));
  }
  return RenderTable(headers, rows);
}

std::string RenderDeliveries(const json::value& deliveries, OutputFormat format) {
  if (format == OutputFormat::kJson) return RenderJson(deliveries);
  if (format == OutputFormat::kYaml) return RenderYaml(deliveries);
  std::vector<std::vector<std::string>> rows;
  for (const json::value* d : Objects(deliveries)) {
    std::string error = JsonCell(*d, "last_error");
    rows.push_back({JsonCell(*d, "message_id"), JsonCell(*d, "event_type"),
                    JsonCell(*d, "event_time"), JsonCell(*d, "state"), JsonCell(*d, "attempts"),
                    JsonCell(*d, "last_status"), error.empty() ? "-" : error,
                    JsonCell(*d, "next_attempt")});
  }
  return RenderTable({"MESSAGE", "EVENT", "EVENT TIME", "STATE", "ATTEMPTS", "LAST STATUS",
                      "LAST ERROR", "NEXT ATTEMPT"},
                     rows);
}

std::string WebhookSecretWarning() {
  return WarnLine(
             "store the webhook's secret now: it is shown only this once. Receivers verify each "
             "delivery's webhook-signature with it (Standard Webhooks).") +
         "\n";
}

}  // namespace keyward
