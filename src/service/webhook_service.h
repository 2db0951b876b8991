// Use cases for webhooks: operators register endpoints that receive signed key events.
//
// Every call needs an operator (core/policy.h CanManageUsers) and, from an API key, the scope
// webhooks:write (create, delete, test) or webhooks:read (list, get, deliveries); others get
// NotFound for a webhook id and PermissionDenied for the collection. Without a master key
// (the server keeps none with --no-reveal and no issuer) Create is FailedPrecondition: the
// secrets are kept sealed with it. Create and Delete are audited (webhook.create,
// webhook.delete), failures too. Blocking; thread safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "core/master_key.h"
#include "core/webhook.h"
#include "service/audit_log.h"
#include "service/options.h"
#include "service/principal.h"
#include "store/store.h"

namespace keyward {

class WebhookDispatcher;

struct NewWebhook {
  std::string url;
  std::optional<std::vector<std::string>> events;  // default: all of kEventTypes
  std::optional<std::vector<std::string>> users;   // default: every user's keys
};

struct CreatedWebhook {
  Webhook webhook;
  std::string secret;  // "whsec_…": shown once, here
};

class WebhookService {
 public:
  // `master_key` may be null (then Create fails as above); `dispatcher` (may be null) is
  // nudged when Test enqueues a delivery; `audit` may be null in tests.
  WebhookService(Store& store, const MasterKey* master_key, const WebhookOptions& options,
                 const Clock& clock, const AuditLog* audit, WebhookDispatcher* dispatcher);

  // Validates the URL (service/webhook_target.h CheckWebhookUrl), each event type
  // (ValidateEventType) and user id (ValidateUserId; users need not exist yet), at most
  // kMaxWebhookUsers; lists sorted and deduplicated.
  Result<CreatedWebhook> Create(const Caller& caller, const NewWebhook& in) const;
  Result<std::vector<Webhook>> List(const Caller& caller) const;
  Result<Webhook> Get(const Caller& caller, std::string_view id) const;
  Status Delete(const Caller& caller, std::string_view id) const;
  // Newest first, at most `limit` (1-1000).
  Result<std::vector<Delivery>> Deliveries(const Caller& caller, std::string_view id,
                                           int limit) const;
  // Enqueues a webhook.test event for this webhook only and nudges the dispatcher; returns the
  // event (its id gives the webhook-id "msg_<id>" the receiver will see).
  Result<WebhookEvent> Test(const Caller& caller, std::string_view id) const;

 private:
  Store& store_;
  const MasterKey* master_key_;
  const WebhookOptions& options_;
  const Clock& clock_;
  const AuditLog* audit_;
  WebhookDispatcher* dispatcher_;
};

}  // namespace keyward
