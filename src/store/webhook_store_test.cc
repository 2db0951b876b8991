// The Store calls of webhooks (store.h: CreateWebhook … PruneEvents): the outbox, its fan-out
// to deliveries, their leases and their history, run against every backend like
// store_conformance_test.cc.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/webhook.h"
#include "store/store.h"
#include "store/store_conformance.h"
#include "store/store_test_util.h"

namespace keyward {
namespace {

using store_test::Backend;
using store_test::MakeEvent;
using store_test::MakeUser;

Webhook MakeWebhook(const std::string& id, std::vector<std::string> events = {},
                    std::vector<std::string> users = {}, UnixSeconds created_at = 1'700'000'000) {
  return {.id = id,
          .url = "https://hooks.example.com/" + id + "?q='x'",
          .events = std::move(events),
          .users = std::move(users),
          .sealed_secret = std::string("\x00sealed\xff", 8) + id,
          .created_by = "operator",
          .created_at = created_at};
}

DeliveryOutcome Outcome(DeliveryState state, UnixSeconds attempted_at = 0,
                        UnixSeconds next_attempt_at = 0, int status = 0, std::string error = "") {
  DeliveryOutcome outcome;
  outcome.state = state;
  outcome.attempted_at = attempted_at;
  outcome.next_attempt_at = next_attempt_at;
  outcome.status = status;
  outcome.error = std::move(error);
  return outcome;
}

class WebhookStoreTest : public store_test::BackendStoreTest {
 protected:
  // The event types delivered to `webhook`, oldest first.
  std::vector<std::string> Types(const std::string& webhook) {
    Result<std::vector<Delivery>> deliveries = store_->ListDeliveries(webhook, 1000);
    EXPECT_THAT(deliveries, IsOk());
    std::vector<std::string> types;
    if (!deliveries.ok()) return types;
    for (auto it = deliveries->rbegin(); it != deliveries->rend(); ++it) {
      types.push_back(it->event.type + "/" + it->event.user_id);
    }
    return types;
  }

  std::vector<Delivery> Claim(UnixSeconds now, UnixSeconds lease_until, int limit = 100) {
    Result<std::vector<Delivery>> claimed = store_->ClaimDeliveries(now, lease_until, limit);
    EXPECT_THAT(claimed, IsOk());
    return claimed.ok() ? *claimed : std::vector<Delivery>{};
  }
};

TEST_P(WebhookStoreTest, CreateGetListAndDeleteWebhooks) {
  KW_ASSERT_OK_AND_ASSIGN(std::vector<Webhook> none, store_->ListWebhooks());
  EXPECT_TRUE(none.empty());
  Webhook b = MakeWebhook("wh_b", {"key.created", "key.deleted"}, {"a_b", "alice"});
  Webhook a = MakeWebhook("wh_a", {}, {}, 1'700'000'000);
  Webhook c = MakeWebhook("wh_c", {}, {}, 1'600'000'000);
  for (const Webhook& w : {b, a, c}) KW_ASSERT_OK(store_->CreateWebhook(w));
  KW_EXPECT_CODE(store_->CreateWebhook(MakeWebhook("wh_a")), StatusCode::kAlreadyExists);

  KW_ASSERT_OK_AND_ASSIGN(Webhook got, store_->GetWebhook("wh_b"));
  EXPECT_EQ(got.id, b.id);
  EXPECT_EQ(got.url, b.url);
  EXPECT_EQ(got.events, b.events);
  EXPECT_EQ(got.users, b.users);
  EXPECT_EQ(got.sealed_secret, b.sealed_secret);
  EXPECT_EQ(got.created_by, "operator");
  EXPECT_EQ(got.created_at, b.created_at);
  KW_ASSERT_OK_AND_ASSIGN(std::vector<Webhook> all, store_->ListWebhooks());
  ASSERT_EQ(all.size(), 3u);  // by created_at, then id
  EXPECT_EQ(all[0].id, "wh_c");
  EXPECT_EQ(all[1].id, "wh_a");
  EXPECT_TRUE(all[1].events.empty());
  EXPECT_TRUE(all[1].users.empty());
  EXPECT_EQ(all[2].id, "wh_b");

  KW_ASSERT_OK(store_->DeleteWebhook("wh_a"));
  KW_EXPECT_CODE(store_->DeleteWebhook("wh_a"), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->GetWebhook("wh_a"), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->GetWebhook("wh_a\xff"), StatusCode::kInvalidArgument);
  Webhook spaced = MakeWebhook("wh_d", {"key created"});
  KW_EXPECT_CODE(store_->CreateWebhook(spaced), StatusCode::kInvalidArgument);
}

TEST_P(WebhookStoreTest, EventsFanOutToTheWebhooksWhoseFiltersHoldThem) {
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_all")));
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_created", {"key.created"})));
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_two", {"key.created", "key.expiring"})));
  // '_' must not match any character (as LIKE would), nor a prefix or suffix match.
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_ab", {}, {"a_b"})));
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_axb", {}, {"axb", "zed"})));
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_both", {"key.deleted"}, {"axb"})));

  KW_ASSERT_OK_AND_ASSIGN(
      std::vector<std::int64_t> ids,
      store_->AppendEvents(
          {MakeEvent(event::kKeyCreated, "a_b", 10), MakeEvent(event::kKeyDeleted, "axb", 11),
           MakeEvent(event::kKeyExpiring, "a_", 12), MakeEvent(event::kKeyDeleted, "", 13)}));
  KW_ASSERT_OK_AND_ASSIGN(std::vector<std::int64_t> none, store_->AppendEvents({}));
  EXPECT_TRUE(none.empty());
  using V = std::vector<std::string>;
  EXPECT_EQ(Types("wh_all"),
            (V{"key.created/a_b", "key.deleted/axb", "key.expiring/a_", "key.deleted/"}));
  EXPECT_EQ(Types("wh_created"), (V{"key.created/a_b"}));
  EXPECT_EQ(Types("wh_two"), (V{"key.created/a_b", "key.expiring/a_"}));
  EXPECT_EQ(Types("wh_ab"), (V{"key.created/a_b"}));
  EXPECT_EQ(Types("wh_axb"), (V{"key.deleted/axb"}));
  EXPECT_EQ(Types("wh_both"), (V{"key.deleted/axb"}));

  KW_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> all, store_->ListDeliveries("wh_all", 10));
  ASSERT_EQ(all.size(), 4u);
  const Delivery& created = all[3];
  EXPECT_EQ(created.webhook_id, "wh_all");
  EXPECT_EQ(created.event.type, "key.created");
  EXPECT_EQ(created.event.time, 10);
  EXPECT_EQ(created.event.data, MakeEvent(event::kKeyCreated, "a_b", 10).data);
  EXPECT_EQ(created.event.only_webhook, "");
  EXPECT_EQ(created.state, DeliveryState::kPending);
  EXPECT_EQ(created.attempts, 0);
  EXPECT_EQ(created.next_attempt_at, 10);
  EXPECT_EQ(created.last_attempt_at, 0);
  EXPECT_EQ(created.last_status, 0);
  EXPECT_EQ(created.last_error, "");
  EXPECT_LT(all[3].event.id, all[2].event.id);  // later events get larger ids
  EXPECT_LT(all[2].event.id, all[1].event.id);
  // AppendEvents returned those ids, in the events' order.
  EXPECT_EQ(ids, (std::vector<std::int64_t>{all[3].event.id, all[2].event.id, all[1].event.id,
                                            all[0].event.id}));
}

TEST_P(WebhookStoreTest, AnEventForOneWebhookGoesThereAloneOrNowhereIfItIsGone) {
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_all")));
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_picky", {"key.created"}, {"nobody"})));
  WebhookEvent test = MakeEvent(event::kWebhookTest, "", 5);
  test.data = R"({"webhook":"wh_picky"})";
  test.only_webhook = "wh_picky";
  KW_ASSERT_OK(store_->AppendEvents({test}));
  EXPECT_EQ(Types("wh_picky"), std::vector<std::string>{"webhook.test/"});
  EXPECT_TRUE(Types("wh_all").empty());
  KW_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> got, store_->ListDeliveries("wh_picky", 10));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event.only_webhook, "wh_picky");

  // Nothing of a failed batch is appended.
  test.only_webhook = "wh_gone";
  KW_EXPECT_CODE(store_->AppendEvents({MakeEvent(event::kKeyCreated, "u", 6), test}),
                 StatusCode::kNotFound);
  EXPECT_TRUE(Types("wh_all").empty());
}

TEST_P(WebhookStoreTest, ClaimedDeliveriesAreLeasedUntilTheLeaseRunsOut) {
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_a")));
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_b")));
  KW_ASSERT_OK(store_->AppendEvents({MakeEvent(event::kKeyCreated, "u", 100)}));
  KW_ASSERT_OK(store_->AppendEvents({MakeEvent(event::kKeyDeleted, "u", 105)}));
  EXPECT_TRUE(Claim(99, 1000).empty());  // not due yet

  std::vector<Delivery> first = Claim(100, 200);
  ASSERT_EQ(first.size(), 2u);  // the first event, for each webhook: one per webhook
  EXPECT_EQ(first[0].webhook_id, "wh_a");
  EXPECT_EQ(first[1].webhook_id, "wh_b");
  EXPECT_EQ(first[0].event.type, "key.created");
  EXPECT_EQ(first[1].event.type, "key.created");
  EXPECT_EQ(first[0].url, MakeWebhook("wh_a").url);
  EXPECT_EQ(first[0].sealed_secret, MakeWebhook("wh_a").sealed_secret);
  EXPECT_EQ(first[1].sealed_secret, MakeWebhook("wh_b").sealed_secret);
  EXPECT_EQ(first[0].state, DeliveryState::kPending);
  EXPECT_TRUE(Claim(199, 300).empty());  // both webhooks have one in flight

  std::vector<Delivery> again = Claim(200, 400);  // the first lease ran out
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].id, first[0].id);
  EXPECT_EQ(again[1].id, first[1].id);
}

// At most one delivery of a webhook is in flight: a second claim gets only the deliveries of
// the other webhooks, and a webhook's next one once its delivery in flight is finished.
TEST_P(WebhookStoreTest, AWebhookHasAtMostOneDeliveryInFlight) {
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_a")));
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_b")));
  KW_ASSERT_OK(store_->AppendEvents({MakeEvent(event::kKeyCreated, "u", 100)}));
  KW_ASSERT_OK(store_->AppendEvents({MakeEvent(event::kKeyDeleted, "u", 105)}));

  std::vector<Delivery> first = Claim(150, 300, 1);  // limit 1: wh_a's first
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].webhook_id, "wh_a");
  EXPECT_EQ(first[0].event.type, "key.created");
  std::vector<Delivery> second = Claim(150, 300);  // wh_a's key.deleted waits
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].webhook_id, "wh_b");
  EXPECT_EQ(second[0].event.type, "key.created");
  EXPECT_TRUE(Claim(151, 300).empty());

  // A failed attempt to retry later ends the lease: the webhook's next delivery may go.
  KW_ASSERT_OK(store_->FinishDelivery(
      first[0].id, Outcome(DeliveryState::kPending, 152, 1000, 503, "HTTP 503")));
  std::vector<Delivery> next = Claim(153, 400);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].webhook_id, "wh_a");
  EXPECT_EQ(next[0].event.type, "key.deleted");
  EXPECT_TRUE(Claim(153, 400).empty());
  KW_ASSERT_OK(store_->FinishDelivery(next[0].id, Outcome(DeliveryState::kDelivered, 154)));
  KW_ASSERT_OK(store_->FinishDelivery(second[0].id, Outcome(DeliveryState::kDelivered, 154)));
  std::vector<Delivery> last = Claim(155, 500);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].webhook_id, "wh_b");
  EXPECT_EQ(last[0].event.type, "key.deleted");
  KW_ASSERT_OK(store_->FinishDelivery(last[0].id, Outcome(DeliveryState::kDelivered, 156)));
  EXPECT_TRUE(Claim(999, 1100).empty());  // wh_a's retry is not due yet
  std::vector<Delivery> retry = Claim(1000, 1100);
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].id, first[0].id);
}

TEST_P(WebhookStoreTest, FinishDeliveryRecordsTheAttemptAndEndsTheLease) {
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_a")));
  KW_ASSERT_OK(store_->AppendEvents({MakeEvent(event::kKeyCreated, "u", 100)}));
  std::vector<Delivery> claimed = Claim(100, 1000);
  ASSERT_EQ(claimed.size(), 1u);
  const std::int64_t id = claimed[0].id;
  KW_ASSERT_OK(
      store_->FinishDelivery(id, Outcome(DeliveryState::kPending, 101, 106, 503, "HTTP 503")));
  KW_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> listed, store_->ListDeliveries("wh_a", 10));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].attempts, 1);
  EXPECT_EQ(listed[0].state, DeliveryState::kPending);
  EXPECT_EQ(listed[0].next_attempt_at, 106);
  EXPECT_EQ(listed[0].last_attempt_at, 101);
  EXPECT_EQ(listed[0].last_status, 503);
  EXPECT_EQ(listed[0].last_error, "HTTP 503");
  EXPECT_TRUE(Claim(105, 2000).empty());
  std::vector<Delivery> retry = Claim(106, 2000);  // due again, though the old lease ran to 1000
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].attempts, 1);

  KW_ASSERT_OK(store_->FinishDelivery(id, Outcome(DeliveryState::kDelivered, 107, 0, 204)));
  EXPECT_TRUE(Claim(5000, 6000).empty());  // delivered: never again
  KW_ASSERT_OK_AND_ASSIGN(listed, store_->ListDeliveries("wh_a", 10));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].state, DeliveryState::kDelivered);
  EXPECT_EQ(listed[0].attempts, 2);
  EXPECT_EQ(listed[0].last_status, 204);
  EXPECT_EQ(listed[0].last_error, "");
  KW_EXPECT_CODE(store_->FinishDelivery(id + 1000, Outcome(DeliveryState::kFailed)),
                 StatusCode::kNotFound);
}

TEST_P(WebhookStoreTest, ListDeliveriesIsNewestFirstByEventTimeThenId) {
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_a")));
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_b")));
  KW_ASSERT_OK(store_->AppendEvents({MakeEvent(event::kKeyCreated, "t20", 20)}));
  KW_ASSERT_OK(store_->AppendEvents({MakeEvent(event::kKeyCreated, "t10", 10)}));
  KW_ASSERT_OK(store_->AppendEvents({MakeEvent(event::kKeyCreated, "t20b", 20)}));
  KW_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> listed, store_->ListDeliveries("wh_a", 10));
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].event.user_id, "t20b");
  EXPECT_EQ(listed[1].event.user_id, "t20");
  EXPECT_EQ(listed[2].event.user_id, "t10");
  for (const Delivery& d : listed) EXPECT_EQ(d.webhook_id, "wh_a");
  KW_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> two, store_->ListDeliveries("wh_a", 2));
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1].event.user_id, "t20");
  KW_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> none, store_->ListDeliveries("wh_none", 10));
  EXPECT_TRUE(none.empty());
}

TEST_P(WebhookStoreTest, DeletingAWebhookDeletesItsDeliveries) {
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_a")));
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_b")));
  KW_ASSERT_OK(store_->AppendEvents({MakeEvent(event::kKeyCreated, "u", 100)}));
  std::vector<Delivery> claimed = Claim(100, 1000);
  ASSERT_EQ(claimed.size(), 2u);
  KW_ASSERT_OK(store_->DeleteWebhook("wh_a"));
  KW_EXPECT_CODE(store_->FinishDelivery(claimed[0].id, Outcome(DeliveryState::kDelivered)),
                 StatusCode::kNotFound);
  KW_ASSERT_OK_AND_ASSIGN(std::vector<Delivery> gone, store_->ListDeliveries("wh_a", 10));
  EXPECT_TRUE(gone.empty());
  EXPECT_EQ(Claim(2000, 3000).size(), 1u);  // wh_b's stays
  // A webhook made again under the id starts with no history.
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_a")));
  EXPECT_TRUE(Types("wh_a").empty());
}

TEST_P(WebhookStoreTest, PruneEventsKeepsRecentEventsAndThoseStillPending) {
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_a")));
  KW_ASSERT_OK(store_->AppendEvents({MakeEvent(event::kKeyCreated, "delivered", 10),
                                     MakeEvent(event::kKeyCreated, "failed", 11),
                                     MakeEvent(event::kKeyCreated, "pending", 12),
                                     MakeEvent(event::kKeyCreated, "recent", 100)}));
  KW_ASSERT_OK(store_->DeleteWebhook("wh_a"));  // leaves events with no delivery
  KW_ASSERT_OK(store_->CreateWebhook(MakeWebhook("wh_b")));
  KW_ASSERT_OK(store_->AppendEvents({MakeEvent(event::kKeyCreated, "delivered", 20),
                                     MakeEvent(event::kKeyCreated, "failed", 21),
                                     MakeEvent(event::kKeyCreated, "pending", 22),
                                     MakeEvent(event::kKeyCreated, "recent", 100)}));
  std::vector<Delivery> claimed = Claim(22, 1000);  // one at a time: one in flight per webhook
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].event.user_id, "delivered");
  KW_ASSERT_OK(store_->FinishDelivery(claimed[0].id, Outcome(DeliveryState::kDelivered)));
  claimed = Claim(22, 1000);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].event.user_id, "failed");
  KW_ASSERT_OK(store_->FinishDelivery(claimed[0].id, Outcome(DeliveryState::kFailed)));

  KW_ASSERT_OK_AND_ASSIGN(std::int64_t pruned, store_->PruneEvents(100));
  EXPECT_EQ(pruned, 3 + 2);  // wh_a's four but the recent one; wh_b's delivered and failed
  EXPECT_EQ(Types("wh_b"), (std::vector<std::string>{"key.created/pending", "key.created/recent"}));
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t again, store_->PruneEvents(100));
  EXPECT_EQ(again, 0);
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t later, store_->PruneEvents(101));
  EXPECT_EQ(later, 1);  // wh_a's recent event; wh_b's recent one is pending
}

INSTANTIATE_TEST_SUITE_P(Backends, WebhookStoreTest, ::testing::ValuesIn(store_test::Backends()),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace keyward
