#include "cli/webhook_output.h"

#include <boost/json.hpp>

#include "core/webhook.h"

namespace keyward {
namespace {

namespace json = boost::json;

const json::value* Member(const json::value& v, std::string_view key) {
  return v.is_object() ? v.as_object().if_contains(key) : nullptr;
}

// A member as a cell: a string as is, a number in decimal, null or absent as "-".
std::string Cell(const json::value& v, std::string_view key) {
  const json::value* field = Member(v, key);
  if (field == nullptr || field->is_null()) return "-";
  if (field->is_string()) return std::string(field->as_string());
  return json::serialize(*field);
}

// An array member's strings joined by ", "; "all" when empty or absent (no filter).
std::string Filter(const json::value& v, std::string_view key) {
  std::string out;
  const json::value* field = Member(v, key);
  if (field != nullptr && field->is_array()) {
    for (const json::value& item : field->as_array()) {
      if (!item.is_string()) continue;
      if (!out.empty()) out += ", ";
      out += std::string(item.as_string());
    }
  }
  return out.empty() ? "all" : out;
}

std::vector<const json::value*> Items(const json::value& list) {
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
  std::vector<const json::value*> items = Items(webhooks);
  bool with_secret = false;
  for (const json::value* w : items) with_secret = with_secret || Member(*w, "secret") != nullptr;
  std::vector<std::string> headers = {"ID", "URL", "EVENTS", "USERS", "CREATED"};
  if (with_secret) headers.push_back("SECRET");
  std::vector<std::vector<std::string>> rows;
  for (const json::value* w : items) {
    std::vector<std::string> row = {Cell(*w, "id"), Cell(*w, "url"), Filter(*w, "events"),
                                    Filter(*w, "users"), Cell(*w, "created")};
    if (with_secret) row.push_back(Cell(*w, "secret"));
    rows.push_back(std::move(row));
  }
  return RenderTable(headers, rows);
}

std::string RenderDeliveries(const json::value& deliveries, OutputFormat format) {
  if (format == OutputFormat::kJson) return RenderJson(deliveries);
  if (format == OutputFormat::kYaml) return RenderYaml(deliveries);
  std::vector<std::vector<std::string>> rows;
  for (const json::value* d : Items(deliveries)) {
    std::string error = Cell(*d, "last_error");
    rows.push_back({Cell(*d, "message_id"), Cell(*d, "event_type"), Cell(*d, "event_time"),
                    Cell(*d, "state"), Cell(*d, "attempts"), Cell(*d, "last_status"),
                    error.empty() ? "-" : error, Cell(*d, "next_attempt")});
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
