// The housekeeper on a real SQLite store with a hand-moved clock: expiry warnings once per
// threshold (the smallest crossed only), key.expired once, idle revocation, pruning, and two
// housekeepers on one store announcing each thing once.
#include "service/housekeeper.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include "core/api_key.h"
#include "service/lifecycle_test_world.h"
#include "service/login_throttle.h"
#include "store/forwarding_store.h"

namespace keyward {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr std::int64_t kDay = 86400;

// A window on the store whose housekeeping lists run `after_list` once they have read some keys:
// another node's pass slipped in between this node's read and its writes.
class RacingStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<std::vector<KeyRecord>> ListKeysToWarn(UnixSeconds now, std::int64_t within,
                                                int limit) override {
    return Raced(ForwardingStore::ListKeysToWarn(now, within, limit));
  }
  Result<std::vector<KeyRecord>> ListKeysExpiredUnannounced(UnixSeconds now, int limit) override {
    return Raced(ForwardingStore::ListKeysExpiredUnannounced(now, limit));
  }
  Result<std::vector<KeyRecord>> ListIdleKeys(UnixSeconds now, int limit) override {
    return Raced(ForwardingStore::ListIdleKeys(now, limit));
  }
  std::function<void()> after_list;

 private:
  Result<std::vector<KeyRecord>> Raced(Result<std::vector<KeyRecord>> due) {
    if (after_list && due.ok() && !due->empty()) after_list();
    return due;
  }
};

class HousekeeperTest : public LifecycleTest {
 protected:
  void SetUp() override {
    LifecycleTest::SetUp();
    if (HasFatalFailure()) return;
    house_ = std::make_unique<Housekeeper>(
        *store_, options_, clock_, &cache_, audit_.get(), [this] { ++nudges_; },
        /*start_thread=*/false);
  }

  // One pass, and the events it wrote as "type key [within]".
  std::vector<std::string> Pass() {
    house_->RunOnce();
    std::vector<std::string> out;
    for (const WebhookEvent& e : NewEvents()) {
      auto data = Data(e);
      std::string line = e.type + " " + std::string(data.at("key").as_string());
      if (data.contains("within")) line += " " + std::to_string(data.at("within").as_int64());
      out.push_back(line);
    }
    return out;
  }

  std::unique_ptr<Housekeeper> house_;
  int nudges_ = 0;
};

TEST_F(HousekeeperTest, WarnsOncePerThresholdTheSmallestCrossedOnlyThenExpiredOnce) {
  const UnixSeconds t0 = clock_.Now();
  AliceKey({.name = "month", .duration = "240h"});
  AliceKey({.name = "soon", .duration = "12h"});
  NewEvents();
  // Made already inside a day: only the one-day warning.
  EXPECT_THAT(Pass(), ElementsAre("key.expiring soon 86400"));
  EXPECT_EQ(nudges_, 1);
  EXPECT_THAT(Pass(), IsEmpty());
  EXPECT_EQ(nudges_, 1);  // nothing enqueued, nobody nudged
  clock_.Advance(12 * 3600);
  EXPECT_THAT(Pass(), ElementsAre("key.expired soon"));
  EXPECT_THAT(Pass(), IsEmpty());
  clock_.Advance(t0 + 3 * kDay - clock_.Now());  // month expires in 7 days
  EXPECT_THAT(Pass(), ElementsAre("key.expiring month 604800"));
  EXPECT_THAT(Pass(), IsEmpty());
  clock_.Advance(6 * kDay);
  EXPECT_THAT(Pass(), ElementsAre("key.expiring month 86400"));
  EXPECT_THAT(Pass(), IsEmpty());
  // A new expiration is announced anew.
  KW_ASSERT_OK(
      keys_
          ->Update(admin_, "alice", "month", {.expiration = FormatRfc3339(clock_.Now() + 2 * kDay)})
          .status());
  EXPECT_THAT(Pass(), ElementsAre("key.expiring month 604800"));
  clock_.Advance(kDay);
  EXPECT_THAT(Pass(), ElementsAre("key.expiring month 86400"));
  clock_.Advance(kDay);
  EXPECT_THAT(Pass(), ElementsAre("key.expired month"));
  EXPECT_THAT(Pass(), IsEmpty());
}

TEST_F(HousekeeperTest, NoWarningsWhenNoneAreConfigured) {
  options_.expiry_warnings.clear();
  AliceKey({.name = "soon", .duration = "1h"});
  NewEvents();
  EXPECT_THAT(Pass(), IsEmpty());
  clock_.Advance(3600);
  EXPECT_THAT(Pass(), ElementsAre("key.expired soon"));
}

TEST_F(HousekeeperTest, RevokesKeysUnusedForTheirIdleTimeout) {
  const UnixSeconds t0 = clock_.Now();
  // Ten days: no expiry warning meanwhile.
  const std::string used = AliceKey({.name = "used", .duration = "240h", .idle_timeout = "1h"});
  AliceKey({.name = "unused", .duration = "240h", .idle_timeout = "1h"});
  AliceKey({.name = "forever", .duration = "240h"});
  NewEvents();
  clock_.Advance(1800);
  KW_ASSERT_OK(auth_->Authenticate(used).status());
  KW_ASSERT_OK(store_->TouchKeys(cache_.TakeUsed()));  // as LastUsedWriter does
  clock_.Advance(1800);
  auto events = (house_->RunOnce(), NewEvents());
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].type, "key.idle_revoked");
  auto data = Data(events[0]);
  EXPECT_EQ(data.at("key"), "unused");
  EXPECT_EQ(data.at("idle_timeout").as_int64(), 3600);
  EXPECT_TRUE(data.at("last_used").is_null());
  EXPECT_EQ(events[1].type, "key.deleted");
  EXPECT_EQ(Data(events[1]).at("key"), "unused");
  EXPECT_THAT(KeyNames("alice"), ::testing::UnorderedElementsAre("used", "forever"));

  clock_.Advance(1800);
  HousekeepingCounts counts = house_->RunOnce();
  EXPECT_EQ(counts.idle_revoked, 1u);
  events = NewEvents();
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(Data(events[0]).at("last_used").as_string(), FormatRfc3339(t0 + 1800));
  EXPECT_THAT(KeyNames("alice"), ElementsAre("forever"));
  EXPECT_THAT(auth_->Authenticate(used), StatusIs(StatusCode::kUnauthenticated));
  auto audited = Audited(AuditAction::kKeyIdleRevoke);
  ASSERT_THAT(audited, SizeIs(2));
  EXPECT_EQ(audited[0].actor, "system");
  EXPECT_EQ(audited[0].target, "unused");
}

// The old secrets of an idle-revoked key leave this node's cache too, though the store's list of
// idle keys holds none: a cached old secret must not outlive its key until the cache's TTL.
TEST_F(HousekeeperTest, RevokingAnIdleKeyErasesItsOldSecretsFromTheCache) {
  const std::string old_token = AliceKey({.name = "ci", .duration = "240h", .idle_timeout = "10s"});
  KW_ASSERT_OK(keys_->Rotate(admin_, "alice", "ci", {.grace = "1h"}).status());
  clock_.Advance(8);
  KW_ASSERT_OK(auth_->Authenticate(old_token).status());  // cached, within the cache's TTL
  clock_.Advance(3);
  EXPECT_EQ(house_->RunOnce().idle_revoked, 1u);
  EXPECT_THAT(auth_->Authenticate(old_token), StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(HousekeeperTest, ForgetsOldSecretsAtTheirOwnExpiry) {
  const std::string old_token = AliceKey({.name = "ci", .duration = "1h"});
  KW_ASSERT_OK(keys_->Rotate(admin_, "alice", "ci", {.grace = "1m"}).status());
  KW_ASSERT_OK(store_->FindKeyByHash(HashKey(old_token)).status());
  clock_.Advance(3600);
  house_->RunOnce();
  EXPECT_THAT(store_->FindKeyByHash(HashKey(old_token)), StatusIs(StatusCode::kNotFound));
}

// Issue 16: hours of usage older than --usage-retention go; younger ones stay.
TEST_F(HousekeeperTest, PrunesUsageOlderThanTheRetention) {
  const std::string token = AliceKey({.name = "ci", .duration = "2400h"});
  const UnixSeconds hour = HourStart(clock_.Now());
  UsageDelta old;
  old.hash = HashKey(token);
  old.hour_start = hour;
  old.counts[static_cast<std::size_t>(UsageOutcome::kAllowed)] = 3;
  UsageDelta young = old;
  young.hour_start = hour + 2 * 3600;
  KW_ASSERT_OK(store_->RecordUsage({old, young}));
  clock_.Advance(options_.usage_retention + 3600);  // the first hour is now past the retention
  house_->RunOnce();
  auto usage = store_->GetUsage("alice", "ci", 0, clock_.Now() + 3600);
  KW_ASSERT_OK(usage.status());
  ASSERT_THAT(usage->hours, SizeIs(1));
  EXPECT_EQ(usage->hours[0].start, young.hour_start);
}

// Issue 19: the counts of failed sign-ins are forgotten once expired, so the table stays bounded.
TEST_F(HousekeeperTest, ForgetsExpiredSignInFailures) {
  LoginThrottle throttle(*store_, 5, 20, 900);
  ASSERT_THAT(throttle.Admit("someone", "10.0.0.1", clock_.Now()), IsOk());
  clock_.Advance(600);
  ASSERT_THAT(throttle.Admit("someone-else", "10.0.0.2", clock_.Now()), IsOk());
  clock_.Advance(LoginThrottle::kForgetAfter - 600);  // the first attempt's counters expire now
  house_->RunOnce();
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t left, store_->PruneSignInCounters(clock_.Now() + 600));
  EXPECT_EQ(left, 2) << "the second attempt's name and address were kept until their expiry";
}

TEST_F(HousekeeperTest, TwoHousekeepersOnOneStoreAnnounceEachThingOnce) {
  RacingStore window(*store_);
  Housekeeper other(window, options_, clock_, &cache_, audit_.get(), nullptr,
                    /*start_thread=*/false);
  // This node's pass runs between the other's read and its writes.
  window.after_list = [this] { house_->RunOnce(); };
  AliceKey({.name = "soon", .duration = "12h"});
  AliceKey({.name = "idle", .duration = "240h", .idle_timeout = "1h"});
  NewEvents();
  HousekeepingCounts counts = other.RunOnce();
  EXPECT_EQ(counts.expiring, 0u);
  EXPECT_THAT(NewEventTypes(), ElementsAre("key.expiring"));
  // Each list raced on its own: the idle key first, then the expiry.
  clock_.Advance(3600);
  counts = other.RunOnce();
  EXPECT_EQ(counts.idle_revoked, 0u);
  EXPECT_THAT(NewEventTypes(), ElementsAre("key.idle_revoked", "key.deleted"));
  EXPECT_THAT(Audited(AuditAction::kKeyIdleRevoke), SizeIs(1));
  clock_.Advance(11 * 3600);
  counts = other.RunOnce();
  EXPECT_EQ(counts.expired, 0u);
  EXPECT_THAT(NewEventTypes(), ElementsAre("key.expired"));
}

TEST_F(HousekeeperTest, ItsThreadRunsPassesAtTheInterval) {
  options_.housekeeping_interval_ms = 1;
  AliceKey({.name = "soon", .duration = "12h"});
  NewEvents();
  std::promise<void> nudged;
  int nudges = 0;  // on the housekeeper's thread until it is joined
  {
    Housekeeper running(*store_, options_, clock_, &cache_, audit_.get(), [&] {
      if (++nudges == 1) nudged.set_value();
    });
    ASSERT_EQ(nudged.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
  }
  EXPECT_EQ(nudges, 1);  // later passes found nothing more to announce
  EXPECT_THAT(NewEventTypes(), ElementsAre("key.expiring"));
}

}  // namespace
}  // namespace keyward

namespace keyward {
namespace {

TEST_F(HousekeeperTest, ReviewIdleKeyIsRevokedEvenWithManyKeysNearExpiry) {
  // More short-lived keys (a CI's daily keys), all warned already, than a pass takes.
  house_->set_keys_per_pass(5);
  for (int i = 0; i < 12; ++i) {
    KeyRecord k;
    k.user_id = "alice";
    k.name = "daily-" + std::to_string(i);
    k.hash = HashKey(GenerateKey("kw"));
    k.masked = "kw_x…";
    k.created_at = clock_.Now();
    k.expires_at = clock_.Now() + 12 * 3600;
    k.grant.full_access = true;
    ASSERT_TRUE(store_->CreateKey(k).ok());
  }
  for (int pass = 0; pass < 3; ++pass) house_->RunOnce();  // 5 a pass: all 12 warned
  NewEvents();
  // A key with an idle timeout, far from expiry, unused.
  AliceKey({.name = "idle", .duration = "30d", .idle_timeout = "10s"});
  clock_.Advance(60);
  house_->RunOnce();
  auto gone = store_->GetKey("alice", "idle");
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound) << "idle key not revoked";
}

}  // namespace
}  // namespace keyward
