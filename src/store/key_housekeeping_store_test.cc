// The Store calls of the housekeeper (store.h: ListKeysToWarn, ListKeysExpiredUnannounced,
// ListIdleKeys, AnnounceExpiry, RevokeIdleKey,
// PruneOldSecrets) and the events of CreateKey and DeleteKey, run against every backend like
// store_conformance_test.cc, with a race between two stores on one database.
#include <gtest/gtest.h>

#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/webhook.h"
#include "store/key_lifecycle_fixture.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace keyward {
namespace {

using store_test::Backend;
using store_test::Hash;
using store_test::kCreated;
using store_test::MakeEvent;
using store_test::MakeKey;
using store_test::MakeOld;
using store_test::MakeUser;
using store_test::Next;

class KeyHousekeepingStoreTest : public store_test::KeyLifecycleFixture {};

std::vector<std::string> Names(const std::vector<KeyRecord>& keys) {
  std::vector<std::string> names;
  names.reserve(keys.size());
  for (const KeyRecord& k : keys) names.push_back(k.name);
  return names;
}

TEST_P(KeyHousekeepingStoreTest, HousekeepingListsSelectOnlyKeysStillToActOnByExpiry) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("bob")));
  const UnixSeconds now = 1'800'000'000;
  const std::int64_t week = 7 * 86'400;
  auto key = [&](const char* user, const char* name, int n, UnixSeconds expires_at) {
    KeyRecord k = MakeKey(user, name, n, now - 30 * 86'400);
    k.expires_at = expires_at;
    return k;
  };
  std::vector<KeyRecord> keys = {
      key("alice", "warn", 1, now + 86'400),              // to warn: inside the window
      key("bob", "warn-edge", 2, now + week),             // to warn: at the edge
      key("alice", "later", 3, now + week + 1),           // not yet
      key("alice", "expired-recently", 4, now - 3600),    // key.expired to announce
      key("alice", "expired-long-ago", 5, now - 86'400),  // never announced (a day or more)
      key("bob", "announced", 6, now + 100),              // key.expired already announced
      key("alice", "idle", 7, now + 365 * 86'400),        // idle
      key("alice", "used", 8, now + 365 * 86'400),        // idle timeout, but used lately
      key("alice", "rotated", 9, now + 365 * 86'400),     // idle timeout, rotated lately
      key("alice", "warned-week", 10, now + 72'000),      // warned at 7d already
      key("bob", "warned-day", 11, now + 3600),           // warned at 1d already
      key("alice", "now", 12, now),                       // expires now: expired, not warned
  };
  keys[5].announced_within = 0;
  keys[6].idle_timeout = 3600;
  keys[6].last_used_at = now - 3600;  // exactly the timeout: due
  keys[7].idle_timeout = 3600;
  keys[7].last_used_at = now - 3599;
  keys[8].idle_timeout = 3600;
  keys[8].rotated_at = now - 10;
  keys[9].announced_within = week;
  keys[10].announced_within = 86'400;
  for (const KeyRecord& k : keys) KW_ASSERT_OK(store_->CreateKey(k));

  auto to_warn = [&](std::int64_t within, int limit) {
    Result<std::vector<KeyRecord>> listed = store_->ListKeysToWarn(now, within, limit);
    EXPECT_THAT(listed, IsOk());
    return listed.ok() ? Names(*listed) : std::vector<std::string>{};
  };
  EXPECT_EQ(to_warn(week, 100), (std::vector<std::string>{"warn", "warn-edge"}));
  // At one day: also the key warned at a week, not the one warned at a day.
  EXPECT_EQ(to_warn(86'400, 100), (std::vector<std::string>{"warned-week", "warn"}));
  EXPECT_EQ(to_warn(3600, 100), std::vector<std::string>{"warned-day"});
  EXPECT_EQ(to_warn(week, 1), std::vector<std::string>{"warn"});
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> first, store_->ListKeysToWarn(now, week, 1));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].hash, Hash(1));
  EXPECT_EQ(first[0].user_id, "alice");

  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> expired,
                          store_->ListKeysExpiredUnannounced(now, 100));
  EXPECT_EQ(Names(expired), (std::vector<std::string>{"expired-recently", "now"}));
  KW_ASSERT_OK_AND_ASSIGN(expired, store_->ListKeysExpiredUnannounced(now, 1));
  EXPECT_EQ(Names(expired), std::vector<std::string>{"expired-recently"});

  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> idle, store_->ListIdleKeys(now, 100));
  EXPECT_EQ(Names(idle), std::vector<std::string>{"idle"});
  KW_ASSERT_OK_AND_ASSIGN(idle, store_->ListIdleKeys(now + 1, 100));
  EXPECT_EQ(Names(idle), (std::vector<std::string>{"idle", "used"}));
  KW_ASSERT_OK_AND_ASSIGN(idle, store_->ListIdleKeys(now + 1, 1));
  EXPECT_EQ(Names(idle), std::vector<std::string>{"idle"});

  // Acting takes a key out of its list: the next keys come up however many there are.
  KW_ASSERT_OK_AND_ASSIGN(bool warned, store_->AnnounceExpiry(Hash(1), week, {}));
  ASSERT_TRUE(warned);
  EXPECT_EQ(to_warn(week, 1), std::vector<std::string>{"warn-edge"});
  EXPECT_EQ(to_warn(86'400, 100), (std::vector<std::string>{"warned-week", "warn"}));
  KW_ASSERT_OK_AND_ASSIGN(bool announced, store_->AnnounceExpiry(Hash(4), 0, {}));
  ASSERT_TRUE(announced);
  KW_ASSERT_OK_AND_ASSIGN(expired, store_->ListKeysExpiredUnannounced(now, 1));
  EXPECT_EQ(Names(expired), std::vector<std::string>{"now"});
  KW_ASSERT_OK_AND_ASSIGN(bool revoked, store_->RevokeIdleKey(Hash(7), now - 3599, {}));
  ASSERT_TRUE(revoked);
  KW_ASSERT_OK_AND_ASSIGN(idle, store_->ListIdleKeys(now + 1, 1));
  EXPECT_EQ(Names(idle), std::vector<std::string>{"used"});
}

TEST_P(KeyHousekeepingStoreTest, AnnounceExpiryOnlyNarrowsAndAppendsItsEventsOnlyWhenItDoes) {
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "ci", 1)));
  auto announce = [&](std::int64_t within) {
    Result<bool> done = store_->AnnounceExpiry(Hash(1), within, One(event::kKeyExpiring));
    EXPECT_THAT(done, IsOk());
    return done.ok() && *done;
  };
  EXPECT_TRUE(announce(604'800));
  EXPECT_FALSE(announce(604'800));  // done already
  EXPECT_FALSE(announce(1'000'000));
  EXPECT_TRUE(announce(86'400));
  EXPECT_TRUE(announce(0));  // key.expired
  EXPECT_FALSE(announce(0));
  EXPECT_EQ(Events(), 3);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord key, store_->GetKey("alice", "ci"));
  EXPECT_EQ(key.announced_within, 0);
  KW_ASSERT_OK_AND_ASSIGN(bool gone, store_->AnnounceExpiry(Hash(2), 0, One(event::kKeyExpired)));
  EXPECT_FALSE(gone);
  EXPECT_EQ(Events(), 3);
}

TEST_P(KeyHousekeepingStoreTest, AnnounceExpiryFromTwoStoresAtOnceSucceedsOnce) {
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "ci", 1)));
  KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> other, GetParam().open_again(dir_.path(), keep_));
  for (std::int64_t within : {604'800, 86'400}) {
    std::latch start(2);
    bool won[2] = {false, false};
    Store* stores[2] = {store_.get(), other.get()};
    std::vector<std::thread> threads;
    threads.reserve(2);
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        Result<bool> done = stores[i]->AnnounceExpiry(Hash(1), within, One(event::kKeyExpiring));
        EXPECT_THAT(done, IsOk());
        won[i] = done.ok() && *done;
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_NE(won[0], won[1]) << "within " << within;
  }
  EXPECT_EQ(Events(), 2);
}

TEST_P(KeyHousekeepingStoreTest, RevokeIdleKeyDeletesOnlyAKeyUnusedSinceThen) {
  const UnixSeconds since = kCreated + 1000;
  KeyRecord key = MakeKey("alice", "ci", 1);
  key.last_used_at = since;  // used at `since`: not idle
  KW_ASSERT_OK(store_->CreateKey(key));
  KW_ASSERT_OK(store_->RotateKey("alice", "ci", Hash(1), Next(key, 2, kCreated + 10),
                                 MakeOld(1, kCreated + 10, key.expires_at), {}));
  // The rotation reset last_used_at to 0 but set rotated_at.
  KW_ASSERT_OK_AND_ASSIGN(bool rotated_lately,
                          store_->RevokeIdleKey(Hash(2), kCreated + 10, One(event::kKeyDeleted)));
  EXPECT_FALSE(rotated_lately);
  KW_ASSERT_OK(store_->TouchKeys({{Hash(2), since}}));
  KW_ASSERT_OK_AND_ASSIGN(bool used_lately,
                          store_->RevokeIdleKey(Hash(2), since, One(event::kKeyDeleted)));
  EXPECT_FALSE(used_lately);
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "fresh", 3, since)));
  KW_ASSERT_OK_AND_ASSIGN(bool created_lately,
                          store_->RevokeIdleKey(Hash(3), since, One(event::kKeyDeleted)));
  EXPECT_FALSE(created_lately);
  KW_ASSERT_OK_AND_ASSIGN(bool old_secret, store_->RevokeIdleKey(Hash(1), since + 1, {}));
  EXPECT_FALSE(old_secret);  // only a current hash names a key here
  EXPECT_EQ(Events(), 0);

  KW_ASSERT_OK_AND_ASSIGN(bool revoked,
                          store_->RevokeIdleKey(Hash(2), since + 1, One(event::kKeyDeleted)));
  EXPECT_TRUE(revoked);
  EXPECT_EQ(Events(), 1);
  KW_EXPECT_CODE(store_->GetKey("alice", "ci"), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->FindKeyByHash(Hash(1)), StatusCode::kNotFound);  // with its old secret
  KW_ASSERT_OK_AND_ASSIGN(bool again,
                          store_->RevokeIdleKey(Hash(2), since + 1, One(event::kKeyDeleted)));
  EXPECT_FALSE(again);
  EXPECT_EQ(Events(), 1);
}

TEST_P(KeyHousekeepingStoreTest, PruneOldSecretsForgetsThoseAtOrPastTheirOwnExpiry) {
  KeyRecord key = MakeKey("alice", "ci", 1);
  KW_ASSERT_OK(store_->CreateKey(key));
  KW_ASSERT_OK(store_->RotateKey("alice", "ci", Hash(1), Next(key, 2, kCreated + 1),
                                 MakeOld(1, kCreated + 1, kCreated + 500), {}));
  KW_ASSERT_OK(store_->RotateKey("alice", "ci", Hash(2), Next(key, 3, kCreated + 2),
                                 MakeOld(2, kCreated + 2, kCreated + 900), {}));
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t none, store_->PruneOldSecrets(kCreated + 499));
  EXPECT_EQ(none, 0);
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t one, store_->PruneOldSecrets(kCreated + 500));
  EXPECT_EQ(one, 1);
  KW_EXPECT_CODE(store_->FindKeyByHash(Hash(1)), StatusCode::kNotFound);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord got, store_->GetKey("alice", "ci"));
  ASSERT_EQ(got.old_secrets.size(), 1u);
  EXPECT_EQ(got.old_secrets[0].hash, Hash(2));
  EXPECT_EQ(got.hash, Hash(3));  // the key itself stays
}

TEST_P(KeyHousekeepingStoreTest, DeletingAKeyOrItsUserForgetsItsOldSecrets) {
  KeyRecord key = MakeKey("alice", "ci", 1);
  KW_ASSERT_OK(store_->CreateKey(key));
  KW_ASSERT_OK(store_->RotateKey("alice", "ci", Hash(1), Next(key, 2, kCreated + 1),
                                 MakeOld(1, kCreated + 1, key.expires_at), {}));
  KW_EXPECT_CODE(store_->DeleteKey("alice", "nope", One(event::kKeyDeleted)),
                 StatusCode::kNotFound);
  EXPECT_EQ(Events(), 0);
  KW_ASSERT_OK(store_->DeleteKey("alice", "ci", One(event::kKeyDeleted)));
  EXPECT_EQ(Events(), 1);
  KW_EXPECT_CODE(store_->FindKeyByHash(Hash(1)), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->FindKeyByHash(Hash(2)), StatusCode::kNotFound);

  KW_ASSERT_OK(store_->CreateKey(key));
  KW_ASSERT_OK(store_->RotateKey("alice", "ci", Hash(1), Next(key, 2, kCreated + 1),
                                 MakeOld(1, kCreated + 1, key.expires_at), {}));
  KW_ASSERT_OK(store_->DeleteUser("alice"));
  KW_EXPECT_CODE(store_->FindKeyByHash(Hash(1)), StatusCode::kNotFound);
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t pruned, store_->PruneOldSecrets(4'000'000'000));
  EXPECT_EQ(pruned, 0);  // nothing was left behind
}

TEST_P(KeyHousekeepingStoreTest, CreateKeyAppendsItsEventsOnlyWhenTheKeyIsCreated) {
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "ci", 1), One(event::kKeyCreated)));
  KW_EXPECT_CODE(store_->CreateKey(MakeKey("alice", "ci", 2), One(event::kKeyCreated)),
                 StatusCode::kAlreadyExists);
  KW_EXPECT_CODE(store_->CreateKey(MakeKey("ghost", "ci", 3), One(event::kKeyCreated)),
                 StatusCode::kNotFound);
  EXPECT_EQ(Events(), 1);
  // An event the store cannot append (its only webhook is gone) undoes the change with it.
  WebhookEvent lost = MakeEvent(event::kWebhookTest, "alice", kCreated);
  lost.only_webhook = "wh_gone";
  KW_EXPECT_CODE(store_->CreateKey(MakeKey("alice", "other", 4), {lost}), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->GetKey("alice", "other"), StatusCode::kNotFound);
  EXPECT_EQ(Events(), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, KeyHousekeepingStoreTest,
                         ::testing::ValuesIn(store_test::Backends()),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace keyward
