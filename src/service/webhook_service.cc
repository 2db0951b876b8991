#include "service/webhook_service.h"

#include <algorithm>
#include <boost/json/serialize.hpp>

#include "common/random.h"
#include "core/policy.h"
#include "core/user.h"
#include "service/webhook_dispatcher.h"
#include "service/webhook_target.h"

namespace keyward {
namespace {

constexpr std::string_view kWebhookIdAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::size_t kWebhookIdRandomChars = 20;

Status NoSuchWebhook() { return Status::NotFound("no such webhook"); }

// The scope, then the operator role: for the collection (PermissionDenied).
Status CheckWebhooksAccess(const Caller& caller, std::string_view scope) {
  KW_RETURN_IF_ERROR(RequireScope(caller.grant, scope));
  return CheckOperator(caller.user);
}

// The same for one webhook: a non-operator, or a malformed id, finds none (NotFound).
Status CheckWebhookAccess(const Caller& caller, std::string_view scope, std::string_view id) {
  KW_RETURN_IF_ERROR(RequireScope(caller.grant, scope));
  if (!CanManageUsers(caller.user) || !ValidateWebhookId(id).ok()) return NoSuchWebhook();
  return Status::Ok();
}

Status MapWebhookNotFound(const Status& s) {
  return s.code() == StatusCode::kNotFound ? NoSuchWebhook() : s;
}

void SortUnique(std::vector<std::string>& list) {
  std::sort(list.begin(), list.end());
  list.erase(std::unique(list.begin(), list.end()), list.end());
}

// The event types and users of a new webhook, checked, sorted and deduplicated.
Status NormalizeFilters(const NewWebhook& in, Webhook& webhook) {
  if (in.events) {
    for (const std::string& type : *in.events) KW_RETURN_IF_ERROR(ValidateEventType(type));
    webhook.events = *in.events;
    SortUnique(webhook.events);
  }
  if (in.users) {
    for (const std::string& user : *in.users) KW_RETURN_IF_ERROR(ValidateUserId(user));
    webhook.users = *in.users;
    SortUnique(webhook.users);
    if (webhook.users.size() > kMaxWebhookUsers) {
      return Status::InvalidArgument("a webhook names at most " + std::to_string(kMaxWebhookUsers) +
                                     " users");
    }
  }
  return Status::Ok();
}

}  // namespace

WebhookService::WebhookService(Store& store, const MasterKey* master_key,
                               const WebhookOptions& options, const Clock& clock,
                               const AuditLog* audit, WebhookDispatcher* dispatcher)
    : store_(store),
      master_key_(master_key),
      options_(options),
      clock_(clock),
      audit_(audit),
      dispatcher_(dispatcher) {}

Result<CreatedWebhook> WebhookService::Create(const Caller& caller, const NewWebhook& in) const {
  CreatedWebhook created;
  Status status = [&]() -> Status {
    KW_RETURN_IF_ERROR(CheckWebhooksAccess(caller, scope::kWebhooksWrite));
    if (master_key_ == nullptr) {
      return Status::FailedPrecondition(
          "webhooks need the master key; this server runs without one (it runs with "
          "--reveal=false: give it with --master-key-file)");
    }
    KW_RETURN_IF_ERROR(NormalizeFilters(in, created.webhook));
    KW_RETURN_IF_ERROR(CheckWebhookUrl(in.url, options_));
    Webhook& webhook = created.webhook;
    webhook.id = "wh_" + RandomString(kWebhookIdRandomChars, kWebhookIdAlphabet);
    webhook.url = in.url;
    webhook.created_by = caller.user.id;
    webhook.created_at = clock_.Now();
    created.secret = NewWebhookSecret();
    webhook.sealed_secret = master_key_->Seal(created.secret, webhook.id);
    return ExplainDiskFull(store_.CreateWebhook(webhook), "the webhook was not created");
  }();
  if (audit_ != nullptr) {
    audit_->RecordAfter({.action = AuditAction::kWebhookCreate,
                         .actor = caller.user.id,
                         .user = "",
                         .target = created.webhook.id,
                         .address = caller.address},
                        status);
  }
  if (!status.ok()) {
    SecureWipe(created.secret);
    return status;
  }
  return created;
}

Result<std::vector<Webhook>> WebhookService::List(const Caller& caller) const {
  KW_RETURN_IF_ERROR(CheckWebhooksAccess(caller, scope::kWebhooksRead));
  return store_.ListWebhooks();
}

Result<Webhook> WebhookService::Get(const Caller& caller, std::string_view id) const {
  KW_RETURN_IF_ERROR(CheckWebhookAccess(caller, scope::kWebhooksRead, id));
  auto webhook = store_.GetWebhook(id);
  if (!webhook.ok()) return MapWebhookNotFound(webhook.status());
  return webhook;
}

Status WebhookService::Delete(const Caller& caller, std::string_view id) const {
  Status status = CheckWebhookAccess(caller, scope::kWebhooksWrite, id);
  if (status.ok()) {
    status = ExplainDiskFull(MapWebhookNotFound(store_.DeleteWebhook(id)),
                             "the webhook was not deleted");
  }
  if (audit_ != nullptr) {
    // A malformed id is not recorded as given: the audit log keeps only what was valid.
    audit_->RecordAfter({.action = AuditAction::kWebhookDelete,
                         .actor = caller.user.id,
                         .user = "",
                         .target = ValidateWebhookId(id).ok() ? id : std::string_view(),
                         .address = caller.address},
                        status);
  }
  return status;
}

Result<std::vector<Delivery>> WebhookService::Deliveries(const Caller& caller, std::string_view id,
                                                         int limit) const {
  KW_RETURN_IF_ERROR(CheckWebhookAccess(caller, scope::kWebhooksRead, id));
  if (limit < 1 || limit > 1000) return Status::InvalidArgument("limit must be 1-1000");
  auto webhook = store_.GetWebhook(id);
  if (!webhook.ok()) return MapWebhookNotFound(webhook.status());
  return store_.ListDeliveries(id, limit);
}

Result<WebhookEvent> WebhookService::Test(const Caller& caller, std::string_view id) const {
  KW_RETURN_IF_ERROR(CheckWebhookAccess(caller, scope::kWebhooksWrite, id));
  WebhookEvent event;
  event.type = std::string(event::kWebhookTest);
  event.time = clock_.Now();
  event.data = boost::json::serialize(boost::json::object{{"webhook", id}});
  event.only_webhook = std::string(id);
  auto ids = store_.AppendEvents({event});
  if (!ids.ok()) return MapWebhookNotFound(ids.status());
  if (ids->size() != 1) return Status::Internal("the store gave no id to the test event");
  event.id = ids->front();
  if (dispatcher_ != nullptr) dispatcher_->Nudge();
  return event;
}

}  // namespace keyward
