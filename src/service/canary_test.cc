// Canary keys in the services (issue 17): what KeyService lets a canary be (service/
// canary_rules.h), the Authenticator refusing one exactly as an unknown key and reporting every
// presentation (the cached ones too) to CanaryAlerts, which writes key.canary_used events and
// audit records, at most 60 per canary per minute, counting every use.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "service/canary_alerts.h"
#include "service/lifecycle_test_world.h"
#include "store/forwarding_store.h"

namespace keyward {
namespace {

// Names the lookups an Authenticator makes, in order.
class LookupCountingStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<KeyRecord> FindKeyByHash(std::string_view hash) override {
    calls.emplace_back("FindKeyByHash");
    return ForwardingStore::FindKeyByHash(hash);
  }
  Result<SessionRecord> FindSessionByHash(std::string_view hash) override {
    calls.emplace_back("FindSessionByHash");
    return ForwardingStore::FindSessionByHash(hash);
  }
  Result<User> GetUser(std::string_view id) override {
    calls.emplace_back("GetUser");
    return ForwardingStore::GetUser(id);
  }
  std::vector<std::string> calls;
};

// Refuses AppendEvents while `fail` is set.
class AppendFailingStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<std::vector<std::int64_t>> AppendEvents(const EventList& events) override {
    if (fail.load()) return Status::Unavailable("the store is down");
    return ForwardingStore::AppendEvents(events);
  }
  std::atomic<bool> fail{false};
};

class CanaryTest : public LifecycleTest {
 protected:
  void SetUp() override {
    LifecycleTest::SetUp();
    if (HasFatalFailure()) return;
    alerts_ = std::make_unique<CanaryAlerts>(*store_, audit_.get(), [this] { ++nudges_; });
    auth_->set_canary_listener(alerts_.get());
  }
  void TearDown() override { alerts_.reset(); }

  NewKey Canary(const char* name) {
    NewKey in;
    in.name = name;
    in.canary = true;
    return in;
  }

  std::unique_ptr<CanaryAlerts> alerts_;
  std::atomic<int> nudges_{0};
};

TEST_F(CanaryTest, CreateTakesOnlyNameDurationAndDescriptionAndGrantsNothing) {
  struct Case {
    const char* field;
    void (*set)(NewKey&);
  };
  const Case cases[] = {
      {"scopes", [](NewKey& in) { in.scopes = {"keys:read"}; }},
      {"tags", [](NewKey& in) { in.tags = std::vector<std::string>{"team:x"}; }},
      {"allowed_addresses",
       [](NewKey& in) { in.allowed_addresses = std::vector<std::string>{"10.0.0.0/8"}; }},
      {"rate_limit",
       [](NewKey& in) {
         in.rate_limit = RateLimitSpec{10, "1m"};
       }},
      {"idle_timeout", [](NewKey& in) { in.idle_timeout = "1h"; }},
      {"on_reuse", [](NewKey& in) { in.on_reuse = "revoke"; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    NewKey in = Canary("decoy");
    c.set(in);
    EXPECT_THAT(keys_->Create(admin_, "alice", in),
                StatusIs(StatusCode::kInvalidArgument,
                         std::string("a canary key grants nothing: ") + c.field + " not allowed"));
  }
  NewKey two = Canary("decoy");
  two.scopes = {"keys:read"};
  two.on_reuse = "keep";
  EXPECT_THAT(keys_->Create(admin_, "alice", two),
              StatusIs(StatusCode::kInvalidArgument,
                       "a canary key grants nothing: scopes, on_reuse not allowed"));

  NewKey in = Canary("decoy");
  in.duration = "7d";
  in.description = "planted in the old wiki";
  KW_ASSERT_OK_AND_ASSIGN(KeyView made, keys_->Create(admin_, "alice", in));
  EXPECT_TRUE(made.canary);
  EXPECT_TRUE(IsWellFormedKey(made.token, "kw"));
  EXPECT_FALSE(made.grant.full_access);
  EXPECT_TRUE(made.grant.scopes.empty());
  ASSERT_TRUE(made.grant.tags.has_value());
  EXPECT_TRUE(made.grant.tags->empty());
  EXPECT_EQ(made.expires_at, clock_.Now() + 7 * 86'400);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord stored, store_->GetKey("alice", "decoy"));
  EXPECT_TRUE(stored.canary);
  // Listed and revealed as a canary (one plants it).
  KW_ASSERT_OK_AND_ASSIGN(KeyView revealed, keys_->Reveal(admin_, "alice", "decoy"));
  EXPECT_EQ(revealed.token, made.token);
  EXPECT_TRUE(revealed.canary);
  KW_ASSERT_OK(keys_->Create(admin_, "alice", NewKey{.name = "plain"}).status());
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyView> listed, keys_->List(admin_, "alice", false));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_TRUE(listed[0].canary);
  EXPECT_FALSE(listed[1].canary);
}

TEST_F(CanaryTest, ACanaryIsNeitherRotatedNorDisabledNorGivenAGrantButMayBeRenamed) {
  KW_ASSERT_OK(keys_->Create(admin_, "alice", Canary("decoy")).status());
  EXPECT_THAT(keys_->Rotate(admin_, "alice", "decoy", {}),
              StatusIs(StatusCode::kInvalidArgument, "a canary key cannot be rotated"));
  for (bool disabled : {true, false}) {
    EXPECT_THAT(
        keys_->Update(admin_, "alice", "decoy", KeyEdit{.disabled = disabled}),
        StatusIs(StatusCode::kInvalidArgument, "a canary key cannot be disabled or enabled"));
  }
  EXPECT_THAT(
      keys_->Update(admin_, "alice", "decoy", KeyEdit{.scopes = std::vector<std::string>{}}),
      StatusIs(StatusCode::kInvalidArgument, "a canary key grants nothing: scopes not allowed"));
  KW_ASSERT_OK_AND_ASSIGN(
      KeyView edited,
      keys_->Update(admin_, "alice", "decoy", KeyEdit{.name = "bait", .description = "new"}));
  EXPECT_TRUE(edited.canary);
  EXPECT_EQ(edited.description, "new");
}

TEST_F(CanaryTest, EveryPresentationIsRefusedAsUnknownAndReportedStoreAndCacheAlike) {
  KW_ASSERT_OK_AND_ASSIGN(KeyView made, keys_->Create(admin_, "alice", Canary("decoy")));
  const std::string unknown = GenerateKey("kw");
  (void)NewEvents();
  const ClientInfo client{.address = "203.0.113.9",
                          .user_agent = "curl/8.0",
                          .method = "GET",
                          .path = "/orders?apikey=kw_x"};
  for (int i = 0; i < 3; ++i) {  // the first reads the store, the others hit the cache
    auto refused = auth_->Authenticate(made.token, client);
    auto not_known = auth_->Authenticate(unknown, client);
    EXPECT_EQ(refused.status().code(), not_known.status().code());
    EXPECT_EQ(refused.status().message(), not_known.status().message());
    EXPECT_THAT(refused, StatusIs(StatusCode::kUnauthenticated));
  }
  // The network thread's path: answered from the cache alone, and reported too.
  int asked = 0;
  EXPECT_EQ(auth_->TryCached(
                made.token, [](const CacheEntry&) {},
                [&] {
                  ++asked;
                  return client;
                }),
            KeyCache::Outcome::kInvalid);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(auth_->TryCached(
                unknown, [](const CacheEntry&) {},
                [&] {
                  ++asked;
                  return client;
                }),
            KeyCache::Outcome::kInvalid);
  EXPECT_EQ(asked, 1);  // no client is built for anything but a canary

  alerts_->Flush();
  EXPECT_EQ(alerts_->uses(), 4u);
  EXPECT_GE(nudges_.load(), 1);
  const std::vector<WebhookEvent> events = NewEvents();
  ASSERT_EQ(events.size(), 4u);
  for (const WebhookEvent& e : events) {
    EXPECT_EQ(e.type, "key.canary_used");
    EXPECT_EQ(e.user_id, "alice");
    EXPECT_EQ(Data(e), (boost::json::object{{"user", "alice"},
                                            {"key", "decoy"},
                                            {"expiration", FormatRfc3339(made.expires_at)},
                                            {"name", "decoy"},
                                            {"address", "203.0.113.9"},
                                            {"user_agent", "curl/8.0"},
                                            {"method", "GET"},
                                            {"path", "/orders"}}));
  }
  const std::vector<AuditEvent> audited = Audited(AuditAction::kKeyCanaryUsed);
  ASSERT_EQ(audited.size(), 4u);
  for (const AuditEvent& e : audited) {
    EXPECT_EQ(e.actor, "system");
    EXPECT_EQ(e.user, "alice");
    EXPECT_EQ(e.target, "decoy");
    EXPECT_EQ(e.address, "203.0.113.9");
    EXPECT_EQ(e.detail, "method=GET path=/orders");
  }
  // Never counted as a use of a key, and never marked used.
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord stored, store_->GetKey("alice", "decoy"));
  EXPECT_EQ(stored.last_used_at, 0);
  EXPECT_TRUE(cache_.TakeUsed().empty());
}

TEST_F(CanaryTest, AnUncachedCanaryMakesTheStoreCallsOfAnUnknownKey) {
  KW_ASSERT_OK_AND_ASSIGN(KeyView made, keys_->Create(admin_, "alice", Canary("decoy")));
  LookupCountingStore counting(*store_);
  Authenticator uncached(counting, options_, clock_, nullptr);
  uncached.set_canary_listener(alerts_.get());
  EXPECT_THAT(uncached.Authenticate(made.token, {}), StatusIs(StatusCode::kUnauthenticated));
  const std::vector<std::string> of_canary = std::move(counting.calls);
  counting.calls.clear();
  EXPECT_THAT(uncached.Authenticate(GenerateKey("kw"), {}), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(of_canary, counting.calls);
  EXPECT_EQ(of_canary, (std::vector<std::string>{"FindKeyByHash", "FindSessionByHash"}));
  alerts_->Flush();
  EXPECT_EQ(alerts_->uses(), 1u);
}

TEST_F(CanaryTest, AtMostSixtyAlertsPerCanaryPerMinuteAndEveryUseCounted) {
  KW_ASSERT_OK_AND_ASSIGN(KeyView decoy, keys_->Create(admin_, "alice", Canary("decoy")));
  KW_ASSERT_OK_AND_ASSIGN(KeyView other, keys_->Create(admin_, "alice", Canary("other")));
  (void)NewEvents();
  for (int i = 0; i < 70; ++i) (void)auth_->Authenticate(decoy.token, {});
  (void)auth_->Authenticate(other.token, {});  // another canary has its own 60
  clock_.Advance(59);
  (void)auth_->Authenticate(decoy.token, {});  // still within the minute of the first 60
  alerts_->Flush();
  EXPECT_EQ(alerts_->uses(), 72u);
  EXPECT_EQ(alerts_->suppressed(), 11u);
  EXPECT_EQ(NewEvents().size(), 61u);
  clock_.Advance(1);  // the first 60 are a minute old now
  (void)auth_->Authenticate(decoy.token, {});
  alerts_->Flush();
  EXPECT_EQ(NewEvents().size(), 1u);
  EXPECT_EQ(Audited(AuditAction::kKeyCanaryUsed).size(), 62u);
}

TEST_F(CanaryTest, ControlCharactersNeverReachTheRecords) {
  KW_ASSERT_OK_AND_ASSIGN(KeyView made, keys_->Create(admin_, "alice", Canary("decoy")));
  (void)NewEvents();
  (void)auth_->Authenticate(made.token, {.address = "10.0.0.1",
                                         .user_agent = "evil\x1b[2Jagent\r\n",
                                         .method = "GE\nT",
                                         .path = "/a\tb\x7f"});
  alerts_->Flush();
  const std::vector<AuditEvent> audited = Audited(AuditAction::kKeyCanaryUsed);
  ASSERT_EQ(audited.size(), 1u);
  EXPECT_EQ(audited[0].detail, "method=GE?T path=/a?b?");
  const std::vector<WebhookEvent> events = NewEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(Data(events[0]).at("user_agent"), "evil?[2Jagent??");
}

TEST_F(CanaryTest, KeysInThePathAndUserAgentAreMasked) {
  KW_ASSERT_OK_AND_ASSIGN(KeyView made, keys_->Create(admin_, "alice", Canary("decoy")));
  (void)NewEvents();
  const std::string secret = made.token.substr(3);
  const std::string path = "/hooks/" + made.token + "/x%2Fkw%5F" + secret + "?apikey=" + secret;
  const std::string agent = "bot " + made.token;
  (void)auth_->Authenticate(
      made.token, {.address = "10.0.0.1", .user_agent = agent, .method = "POST", .path = path});
  alerts_->Flush();
  const std::string masked = MaskKey(made.token);
  const std::vector<WebhookEvent> events = NewEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(Data(events[0]).at("path").as_string(), "/hooks/" + masked + "/x%2F" + masked);
  EXPECT_EQ(Data(events[0]).at("user_agent").as_string(), "bot " + masked);
  EXPECT_EQ(events[0].data.find(secret.substr(0, 20)), std::string::npos) << events[0].data;
  const std::vector<AuditEvent> audited = Audited(AuditAction::kKeyCanaryUsed);
  ASSERT_EQ(audited.size(), 1u);
  EXPECT_EQ(audited[0].detail, "method=POST path=/hooks/" + masked + "/x%2F" + masked);
}

TEST_F(CanaryTest, StopWritesWhatIsQueued) {
  (void)NewEvents();
  CanaryAlerts alerts(*store_, audit_.get(), {});
  for (int i = 0; i < 3; ++i) alerts.CanaryUsed(CanaryKey{"alice", "decoy"}, {}, clock_.Now());
  alerts.Stop();
  EXPECT_EQ(NewEvents().size(), 3u);
  EXPECT_EQ(Audited(AuditAction::kKeyCanaryUsed).size(), 3u);
  alerts.CanaryUsed(CanaryKey{"alice", "decoy"}, {}, clock_.Now());  // after Stop: counted only
  EXPECT_EQ(alerts.uses(), 4u);
  EXPECT_EQ(alerts.suppressed(), 1u);
}

TEST_F(CanaryTest, NoAlertsPerMinuteCountsEveryUseAndRemembersNothing) {
  (void)NewEvents();
  CanaryAlerts none(*store_, nullptr, {}, {.per_minute = 0});
  // More canaries than are remembered: the stale entries are swept, and none may be empty.
  for (int i = 0; i < 10'002; ++i) {
    none.CanaryUsed(CanaryKey{"alice", "c" + std::to_string(i)}, {}, clock_.Now());
  }
  none.Flush();
  EXPECT_EQ(none.uses(), 10'002u);
  EXPECT_EQ(none.suppressed(), 10'002u);
  EXPECT_TRUE(NewEvents().empty());
}

TEST_F(CanaryTest, EventsTheStoreRefusesAreKeptAndWrittenOnceItWorks) {
  (void)NewEvents();
  AppendFailingStore failing(*store_);
  CanaryAlerts alerts(failing, audit_.get(), {}, {.max_queued = 3});
  failing.fail = true;
  const std::string paths[] = {"/0", "/1", "/2"};
  for (int i = 0; i < 2; ++i) {
    alerts.CanaryUsed(CanaryKey{"alice", "decoy"},
                      {.address = "", .user_agent = "", .path = paths[i]}, clock_.Now());
    alerts.Flush();
  }
  EXPECT_EQ(alerts.uses(), 2u);
  EXPECT_EQ(alerts.suppressed(), 0u);
  EXPECT_TRUE(Audited(AuditAction::kKeyCanaryUsed).empty());  // not before its event
  failing.fail = false;
  alerts.CanaryUsed(CanaryKey{"alice", "decoy"},
                    {.address = "", .user_agent = "", .path = paths[2]}, clock_.Now());
  alerts.Flush();
  const std::vector<WebhookEvent> events = NewEvents();
  ASSERT_EQ(events.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Data(events[i]).at("path").as_string(), paths[i]);
  EXPECT_EQ(Audited(AuditAction::kKeyCanaryUsed).size(), 3u);
  EXPECT_EQ(alerts.suppressed(), 0u);
}

TEST_F(CanaryTest, KeptAlertsFillTheQueueAndWhatIsFinallyDroppedIsCounted) {
  (void)NewEvents();
  AppendFailingStore failing(*store_);
  CanaryAlerts alerts(failing, nullptr, {}, {.max_queued = 3});
  failing.fail = true;
  for (int i = 0; i < 5; ++i) {
    alerts.CanaryUsed(CanaryKey{"alice", "decoy"}, {}, clock_.Now());
    alerts.Flush();
  }
  EXPECT_EQ(alerts.uses(), 5u);
  EXPECT_EQ(alerts.suppressed(), 2u);  // the queue held the 3 kept ones
  failing.fail = false;
  alerts.Stop();  // the last try writes the 3
  EXPECT_EQ(NewEvents().size(), 3u);
  EXPECT_EQ(alerts.suppressed(), 2u);

  CanaryAlerts down(failing, nullptr, {});
  failing.fail = true;
  for (int i = 0; i < 2; ++i) down.CanaryUsed(CanaryKey{"alice", "decoy"}, {}, clock_.Now());
  down.Stop();  // the last try fails: dropped, and counted
  EXPECT_EQ(down.suppressed(), 2u);
  EXPECT_TRUE(NewEvents().empty());
}

}  // namespace
}  // namespace keyward
