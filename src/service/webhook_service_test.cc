// WebhookService against a real SQLite store: who may manage webhooks, what Create checks and
// keeps, and the audit trail.
#include "service/webhook_service.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <utility>

#include "common/random.h"
#include "common/status_matchers.h"
#include "core/user.h"
#include "service/audit_log.h"
#include "service/webhook_dispatcher.h"
#include "service/webhook_test_world.h"
#include "store/forwarding_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_test_util.h"

namespace keyward {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::StartsWith;

class WebhookServiceTest : public WebhookWorld {
 protected:
  void SetUp() override {
    options_.allow_private = true;
    OpenWorld();
  }

  // An API key of `user` with exactly `scopes`.
  Principal KeyCaller(const User& user, std::vector<std::string> scopes) {
    Principal p;
    p.user = user;
    p.via = KeyType::kApiKey;
    p.key_name = "caller-key";
    p.expires_at = clock_.Now() + 3600;
    p.client_address = "10.1.2.3";
    p.grant.scopes = std::move(scopes);
    return p;
  }

  std::vector<AuditEvent> Audit() {
    auto events = store_->ListAudit(AuditFilter{});
    EXPECT_THAT(events, IsOk());
    return events.ok() ? *events : std::vector<AuditEvent>{};
  }
};

constexpr std::string_view kUrl = "http://127.0.0.1:9/hook?tenant=t1";

NewWebhook At(std::string_view url, std::optional<std::vector<std::string>> events = std::nullopt,
              std::optional<std::vector<std::string>> users = std::nullopt) {
  NewWebhook in;
  in.url = std::string(url);
  in.events = std::move(events);
  in.users = std::move(users);
  return in;
}

TEST_F(WebhookServiceTest, CreateKeepsTheSecretSealedAndShowsItOnce) {
  KW_ASSERT_OK_AND_ASSIGN(
      CreatedWebhook created,
      service_->Create(admin_, At(kUrl, {{"key.rotated", "key.created", "key.rotated"}},
                                  {{"bob", "alice", "bob"}})));
  const Webhook& hook = created.webhook;
  EXPECT_THAT(hook.id, StartsWith("wh_"));
  EXPECT_EQ(hook.id.size(), 23u);
  EXPECT_THAT(ValidateWebhookId(hook.id), IsOk());
  EXPECT_THAT(hook.events, ElementsAre("key.created", "key.rotated"));
  EXPECT_THAT(hook.users, ElementsAre("alice", "bob"));
  EXPECT_EQ(hook.created_by, "admin");
  EXPECT_EQ(hook.created_at, clock_.Now());
  EXPECT_THAT(created.secret, StartsWith("whsec_"));

  KW_ASSERT_OK_AND_ASSIGN(Webhook stored, service_->Get(admin_, hook.id));
  EXPECT_EQ(stored.url, kUrl);
  EXPECT_EQ(stored.events, hook.events);
  EXPECT_EQ(stored.users, hook.users);
  EXPECT_EQ(stored.sealed_secret.find(created.secret), std::string::npos);
  EXPECT_THAT(master_->Open(stored.sealed_secret, hook.id), IsOk());
  EXPECT_EQ(master_->Open(stored.sealed_secret, hook.id).value(), created.secret);
  // Bound to its webhook: the sealed secret opens under no other id.
  EXPECT_FALSE(master_->Open(stored.sealed_secret, "wh_other").ok());

  KW_ASSERT_OK_AND_ASSIGN(CreatedWebhook all, service_->Create(admin_, At(kUrl)));
  EXPECT_THAT(all.webhook.events, IsEmpty());  // every event type
  EXPECT_THAT(all.webhook.users, IsEmpty());   // every user's keys
  EXPECT_NE(all.webhook.id, hook.id);
  EXPECT_NE(all.secret, created.secret);
  KW_ASSERT_OK_AND_ASSIGN(auto listed, service_->List(admin_));
  EXPECT_EQ(listed.size(), 2u);
}

TEST_F(WebhookServiceTest, CreateChecksItsInput) {
  EXPECT_THAT(service_->Create(admin_, At("ftp://127.0.0.1/")),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(service_->Create(admin_, At(kUrl, {{"key.exploded"}})),
              StatusIs(StatusCode::kInvalidArgument));
  // webhook.test goes to one webhook when asked; nobody subscribes to it.
  EXPECT_THAT(service_->Create(admin_, At(kUrl, {{"webhook.test"}})),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(service_->Create(admin_, At(kUrl, std::nullopt, {{"Not An Id"}})),
              StatusIs(StatusCode::kInvalidArgument));
  std::vector<std::string> many;
  for (std::size_t i = 0; i <= kMaxWebhookUsers; ++i) many.push_back("u" + std::to_string(i));
  EXPECT_THAT(service_->Create(admin_, At(kUrl, std::nullopt, many)),
              StatusIs(StatusCode::kInvalidArgument));
  many.pop_back();
  EXPECT_THAT(service_->Create(admin_, At(kUrl, std::nullopt, many)), IsOk());
}

TEST_F(WebhookServiceTest, CreateNeedsTheMasterKey) {
  WebhookService keyless(*store_, nullptr, options_, clock_, nullptr, nullptr);
  EXPECT_THAT(keyless.Create(admin_, At(kUrl)),
              StatusIs(StatusCode::kFailedPrecondition,
                       "webhooks need the master key; this server runs without one (it runs "
                       "with --reveal=false: give it with --master-key-file)"));
  KW_ASSERT_OK_AND_ASSIGN(auto listed, keyless.List(admin_));
  EXPECT_THAT(listed, IsEmpty());
}

TEST_F(WebhookServiceTest, OnlyOperatorsWithTheScopesManageWebhooks) {
  KW_ASSERT_OK_AND_ASSIGN(CreatedWebhook hook, service_->Create(admin_, At(kUrl)));
  const std::string id = hook.webhook.id;

  // A non-operator (a session: full power of an ordinary user).
  EXPECT_THAT(service_->List(alice_), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(service_->Create(alice_, At(kUrl)), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(service_->Get(alice_, id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(service_->Deliveries(alice_, id, 10), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(service_->Test(alice_, id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(service_->Delete(alice_, id), StatusIs(StatusCode::kNotFound));

  // An operator's key without the webhooks scopes.
  const Principal bare = KeyCaller(admin_, {"keys:read", "users:write"});
  const auto lacks = [](std::string_view scope) {
    return StatusIs(StatusCode::kPermissionDenied,
                    "this API key lacks the scope " + std::string(scope));
  };
  EXPECT_THAT(service_->List(bare), lacks(scope::kWebhooksRead));
  EXPECT_THAT(service_->Get(bare, id), lacks(scope::kWebhooksRead));
  EXPECT_THAT(service_->Create(bare, At(kUrl)), lacks(scope::kWebhooksWrite));
  EXPECT_THAT(service_->Delete(bare, id), lacks(scope::kWebhooksWrite));

  // webhooks:read reads only.
  const Principal reader = KeyCaller(admin_, {"webhooks:read"});
  EXPECT_THAT(service_->List(reader), IsOk());
  EXPECT_THAT(service_->Get(reader, id), IsOk());
  EXPECT_THAT(service_->Deliveries(reader, id, 10), IsOk());
  EXPECT_THAT(service_->Test(reader, id), lacks(scope::kWebhooksWrite));
  EXPECT_THAT(service_->Delete(reader, id), lacks(scope::kWebhooksWrite));

  // A non-operator's key with the scopes is still no operator.
  const Principal alices = KeyCaller(alice_, {"webhooks:read", "webhooks:write"});
  EXPECT_THAT(service_->List(alices), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(service_->Get(alices, id), StatusIs(StatusCode::kNotFound));

  // An operator's key with both.
  const Principal writer = KeyCaller(admin_, {"webhooks:read", "webhooks:write"});
  KW_ASSERT_OK_AND_ASSIGN(CreatedWebhook second, service_->Create(writer, At(kUrl)));
  KW_ASSERT_OK_AND_ASSIGN(WebhookEvent test, service_->Test(writer, second.webhook.id));
  EXPECT_EQ(test.type, "webhook.test");
  EXPECT_EQ(test.only_webhook, second.webhook.id);
  KW_ASSERT_OK_AND_ASSIGN(auto deliveries, service_->Deliveries(writer, second.webhook.id, 10));
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0].event.id, test.id);
  EXPECT_EQ(deliveries[0].state, DeliveryState::kPending);
  // Only the webhook tested gets it.
  KW_ASSERT_OK_AND_ASSIGN(auto others, service_->Deliveries(writer, id, 10));
  EXPECT_THAT(others, IsEmpty());
  EXPECT_THAT(service_->Delete(writer, second.webhook.id), IsOk());
  EXPECT_THAT(service_->Get(writer, second.webhook.id), StatusIs(StatusCode::kNotFound));
}

TEST_F(WebhookServiceTest, UnknownAndMalformedIdsAreNotFound) {
  for (const char* id : {"wh_nosuchwebhook", "wh_", "nope", "wh_UPPER", "../etc"}) {
    EXPECT_THAT(service_->Get(admin_, id), StatusIs(StatusCode::kNotFound)) << id;
    EXPECT_THAT(service_->Delete(admin_, id), StatusIs(StatusCode::kNotFound)) << id;
    EXPECT_THAT(service_->Test(admin_, id), StatusIs(StatusCode::kNotFound)) << id;
    EXPECT_THAT(service_->Deliveries(admin_, id, 10), StatusIs(StatusCode::kNotFound)) << id;
  }
  KW_ASSERT_OK_AND_ASSIGN(CreatedWebhook hook, service_->Create(admin_, At(kUrl)));
  EXPECT_THAT(service_->Deliveries(admin_, hook.webhook.id, 0),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(service_->Deliveries(admin_, hook.webhook.id, 1001),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(WebhookServiceTest, CreateAndDeleteAreAudited) {
  const Principal writer = KeyCaller(admin_, {"webhooks:write"});
  KW_ASSERT_OK_AND_ASSIGN(CreatedWebhook hook, service_->Create(writer, At(kUrl)));
  EXPECT_THAT(service_->Create(alice_, At(kUrl)), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(service_->Delete(writer, hook.webhook.id), IsOk());
  EXPECT_THAT(service_->Delete(writer, hook.webhook.id), StatusIs(StatusCode::kNotFound));

  const std::vector<AuditEvent> events = Audit();  // newest first
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3].action, AuditAction::kWebhookCreate);
  EXPECT_EQ(events[3].actor, "admin");
  EXPECT_EQ(events[3].target, hook.webhook.id);
  EXPECT_EQ(events[3].address, "10.1.2.3");
  EXPECT_TRUE(events[3].success);
  EXPECT_EQ(events[2].action, AuditAction::kWebhookCreate);
  EXPECT_EQ(events[2].actor, "alice");
  EXPECT_FALSE(events[2].success);
  EXPECT_EQ(events[1].action, AuditAction::kWebhookDelete);
  EXPECT_EQ(events[1].target, hook.webhook.id);
  EXPECT_TRUE(events[1].success);
  EXPECT_EQ(events[0].action, AuditAction::kWebhookDelete);
  EXPECT_FALSE(events[0].success);
  for (const AuditEvent& e : events) {
    EXPECT_EQ(e.detail.find("whsec_"), std::string::npos);
    EXPECT_EQ(e.reason.find("tenant"), std::string::npos);
  }
}

// A store that runs `after_append` (once) right after an AppendEvents has committed.
class AppendWindow : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<std::vector<std::int64_t>> AppendEvents(const EventList& events) override {
    auto ids = ForwardingStore::AppendEvents(events);
    if (after_append) std::exchange(after_append, nullptr)();
    return ids;
  }
  std::function<void()> after_append;
};

// Two tests of one webhook in the same second, the second appended before the first returns:
// each reports the id of its own event (AppendEvents returns it), not the newest one.
TEST_F(WebhookServiceTest, TestReportsTheIdOfItsOwnEvent) {
  KW_ASSERT_OK_AND_ASSIGN(CreatedWebhook hook, service_->Create(admin_, At(kUrl)));
  AppendWindow window(*store_);
  WebhookService service(window, master_.get(), options_, clock_, nullptr, nullptr);
  std::optional<Result<WebhookEvent>> inner;
  window.after_append = [&] { inner = service.Test(admin_, hook.webhook.id); };
  KW_ASSERT_OK_AND_ASSIGN(WebhookEvent outer, service.Test(admin_, hook.webhook.id));
  ASSERT_TRUE(inner.has_value());
  KW_ASSERT_OK_AND_ASSIGN(WebhookEvent second, *inner);
  EXPECT_EQ(outer.time, second.time);
  EXPECT_LT(outer.id, second.id);
  KW_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> deliveries,
                          service_->Deliveries(admin_, hook.webhook.id, 10));
  ASSERT_EQ(deliveries.size(), 2u);  // newest first
  EXPECT_EQ(deliveries[0].event.id, second.id);
  EXPECT_EQ(deliveries[1].event.id, outer.id);
}

}  // namespace
}  // namespace keyward
