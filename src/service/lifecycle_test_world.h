// A fixture for issue 15's key lifecycle: GrantTest's world (SQLite store, ManualClock, users
// "admin" and "alice", the key services) plus an Authenticator reporting reuse to the
// KeyService, and a webhook subscribed to everything, through whose deliveries the tests read
// the events the services wrote (Store::ClaimDeliveries, as the dispatcher does).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/webhook.h"
#include "service/grant_test_world.h"

namespace keyward {

class LifecycleTest : public GrantTest {
 protected:
  void SetUp() override {
    GrantTest::SetUp();
    if (HasFatalFailure()) return;
    auth_ = std::make_unique<Authenticator>(*store_, options_, clock_, &cache_);
    auth_->set_reuse_listener(keys_.get());
    Webhook hook;
    hook.id = "wh_everything";
    hook.url = "https://receiver.test/hook";
    hook.sealed_secret = "sealed";
    hook.created_by = "admin";
    hook.created_at = clock_.Now();
    KW_ASSERT_OK(store_->CreateWebhook(hook));
  }

  // The events written since the last call, oldest first. Each is claimed and recorded as
  // delivered (one at a time: a webhook has at most one delivery in flight), so that the next
  // call sees only newer ones.
  std::vector<WebhookEvent> NewEvents() {
    std::vector<WebhookEvent> events;
    for (;;) {
      auto claimed =
          store_->ClaimDeliveries(clock_.Now(), std::numeric_limits<UnixSeconds>::max() / 2, 1000);
      EXPECT_THAT(claimed, IsOk());
      if (!claimed.ok() || claimed->empty()) break;
      for (const Delivery& d : *claimed) {
        events.push_back(d.event);
        DeliveryOutcome delivered;
        delivered.state = DeliveryState::kDelivered;
        delivered.attempted_at = clock_.Now();
        EXPECT_THAT(store_->FinishDelivery(d.id, delivered), IsOk());
      }
    }
    std::sort(events.begin(), events.end(),
              [](const WebhookEvent& a, const WebhookEvent& b) { return a.id < b.id; });
    return events;
  }

  // The types of NewEvents().
  std::vector<std::string> NewEventTypes() {
    std::vector<std::string> types;
    for (const WebhookEvent& e : NewEvents()) types.push_back(e.type);
    return types;
  }

  static boost::json::object Data(const WebhookEvent& event) {
    return boost::json::parse(event.data).as_object();
  }

  // Alice's new key, in full.
  std::string AliceKey(const NewKey& in) {
    auto key = keys_->Create(admin_, "alice", in);
    EXPECT_THAT(key, IsOk());
    return key.ok() ? key->token : std::string();
  }

  // The audit events of `action`, oldest first.
  std::vector<AuditEvent> Audited(AuditAction action) {
    std::vector<AuditEvent> out;
    for (const AuditEvent& e : Events()) {
      if (e.action == action) out.push_back(e);
    }
    return out;
  }

  std::unique_ptr<Authenticator> auth_;
};

}  // namespace keyward
