// Issue 15's webhook routes under /api/v1/webhooks (api/routes.h): operators register endpoints
// that receive signed key events. Thin: JSON into WebhookService calls and back; the service
// decides who may (403 for the collection, 404 for an id, to non-operators).
#include <charconv>

#include "api/json_io.h"
#include "api/routes.h"

namespace keyward {
namespace {

using http::beast_http::verb;

// {id, url, events, users, created, created_by}: the lists as stored, [] = all.
boost::json::object WebhookJson(const Webhook& webhook) {
  return {{"id", webhook.id},
          {"url", webhook.url},
          {"events", StringArray(webhook.events)},
          {"users", StringArray(webhook.users)},
          {"created", FormatRfc3339(webhook.created_at)},
          {"created_by", webhook.created_by}};
}

// {id, message_id, event_type, event_time, state, attempts, next_attempt, last_attempt,
// last_status, last_error}
boost::json::object DeliveryJson(const Delivery& delivery) {
  const bool pending = delivery.state == DeliveryState::kPending;
  return {{"id", delivery.id},
          {"message_id", MessageId(delivery.event.id)},
          {"event_type", delivery.event.type},
          {"event_time", FormatRfc3339(delivery.event.time)},
          {"state", DeliveryStateName(delivery.state)},
          {"attempts", delivery.attempts},
          {"next_attempt", pending ? TimeOrNull(delivery.next_attempt_at) : nullptr},
          {"last_attempt", TimeOrNull(delivery.last_attempt_at)},
          {"last_status", delivery.last_status == 0 ? boost::json::value(nullptr)
                                                    : boost::json::value(delivery.last_status)},
          {"last_error", delivery.last_error}};
}

// The webhook id of the path; one that cannot be an id is no webhook (404).
Result<std::string> WebhookId(const ApiCall& call) {
  if (!ValidateWebhookId(call.params[0]).ok()) return Status::NotFound("no such webhook");
  return call.params[0];
}

Result<WebhookService*> Webhooks(const Services& s) {
  if (s.webhooks == nullptr) return Status::Unavailable("this server has no webhooks");
  return s.webhooks;
}

// {url, events?, users?} → 201 with the secret, shown this once.
Result<Reply> CreateWebhook(Services& s, ApiCall& call) {
  KW_ASSIGN_OR_RETURN(WebhookService * webhooks, Webhooks(s));
  KW_ASSIGN_OR_RETURN(boost::json::object body, call.JsonBody({"url", "events", "users"}));
  NewWebhook in;
  KW_ASSIGN_OR_RETURN(in.url, RequiredString(body, "url"));
  KW_ASSIGN_OR_RETURN(in.events, OptionalStringArray(body, "events", kEventTypes.size()));
  KW_ASSIGN_OR_RETURN(in.users, OptionalStringArray(body, "users", kMaxWebhookUsers));
  KW_ASSIGN_OR_RETURN(CreatedWebhook created, webhooks->Create(call.caller(), in));
  boost::json::object out = WebhookJson(created.webhook);
  out["secret"] = created.secret;
  return Reply{201, std::move(out), {}};
}

Result<Reply> ListWebhooks(Services& s, ApiCall& call) {
  KW_ASSIGN_OR_RETURN(WebhookService * webhooks, Webhooks(s));
  KW_ASSIGN_OR_RETURN(std::vector<Webhook> list, webhooks->List(call.caller()));
  boost::json::array out;
  for (const Webhook& webhook : list) out.push_back(WebhookJson(webhook));
  return Reply{200, std::move(out), {}};
}

Result<Reply> GetWebhook(Services& s, ApiCall& call) {
  KW_ASSIGN_OR_RETURN(WebhookService * webhooks, Webhooks(s));
  KW_ASSIGN_OR_RETURN(std::string id, WebhookId(call));
  KW_ASSIGN_OR_RETURN(Webhook webhook, webhooks->Get(call.caller(), id));
  return Reply{200, WebhookJson(webhook), {}};
}

Result<Reply> DeleteWebhook(Services& s, ApiCall& call) {
  KW_ASSIGN_OR_RETURN(WebhookService * webhooks, Webhooks(s));
  KW_ASSIGN_OR_RETURN(std::string id, WebhookId(call));
  KW_RETURN_IF_ERROR(webhooks->Delete(call.caller(), id));
  return Reply{204, nullptr, {}};
}

// ?limit=N, 1 to 1000, once; default 100.
Result<int> DeliveryLimit(const ApiCall& call) {
  int limit = 100;
  bool seen = false;
  for (const auto& [name, text] : call.query) {
    if (name != "limit") continue;
    if (seen) return Status::InvalidArgument("query parameter limit is repeated");
    seen = true;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (ec != std::errc() || end != text.data() + text.size() || limit < 1 || limit > 1000) {
      return Status::InvalidArgument("limit must be a whole number from 1 to 1000");
    }
  }
  return limit;
}

// The webhook's deliveries, newest first.
Result<Reply> ListDeliveries(Services& s, ApiCall& call) {
  KW_ASSIGN_OR_RETURN(WebhookService * webhooks, Webhooks(s));
  KW_ASSIGN_OR_RETURN(std::string id, WebhookId(call));
  KW_ASSIGN_OR_RETURN(int limit, DeliveryLimit(call));
  KW_ASSIGN_OR_RETURN(std::vector<Delivery> list, webhooks->Deliveries(call.caller(), id, limit));
  boost::json::array out;
  for (const Delivery& delivery : list) out.push_back(DeliveryJson(delivery));
  return Reply{200, std::move(out), {}};
}

// A webhook.test event for this webhook alone (no body, or {}) → 202.
Result<Reply> TestWebhook(Services& s, ApiCall& call) {
  KW_ASSIGN_OR_RETURN(WebhookService * webhooks, Webhooks(s));
  KW_ASSIGN_OR_RETURN(std::string id, WebhookId(call));
  KW_RETURN_IF_ERROR(call.JsonBody({}).status());
  KW_ASSIGN_OR_RETURN(WebhookEvent event, webhooks->Test(call.caller(), id));
  return Reply{202, {{"message_id", MessageId(event.id)}, {"event_type", event.type}}, {}};
}

}  // namespace

void AddWebhookRoutes(Router& router, Services& s) {
  const auto bind = RouteBinder(s);
  const Access auth = Access::kSignedIn;
  router.Add(verb::post, "/api/v1/webhooks", auth, bind(CreateWebhook));
  router.Add(verb::get, "/api/v1/webhooks", auth, bind(ListWebhooks));
  router.Add(verb::get, "/api/v1/webhooks/{id}", auth, bind(GetWebhook));
  router.Add(verb::delete_, "/api/v1/webhooks/{id}", auth, bind(DeleteWebhook));
  router.Add(verb::get, "/api/v1/webhooks/{id}/deliveries", auth, bind(ListDeliveries));
  router.Add(verb::post, "/api/v1/webhooks/{id}/test", auth, bind(TestWebhook));
}

}  // namespace keyward
