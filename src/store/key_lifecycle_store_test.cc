// The Store calls of a key's lifecycle (store.h: RotateKey, UpdateKey, ListKeysDue,
// AnnounceExpiry, RevokeIdleKey, PruneOldSecrets; old secrets in FindKeyByHash, ListKeys, GetKey
// and TouchKeys; the events of CreateKey and DeleteKey), run against every backend like
// store_conformance_test.cc. The outbox itself is tested in webhook_store_test.cc; here a
// webhook that takes every event shows which changes appended one.
#include <gtest/gtest.h>

#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/webhook.h"
#include "store/store.h"
#include "store/store_conformance.h"
#include "store/store_test_util.h"

namespace keyward {
namespace {

using store_test::Backend;
using store_test::Hash;
using store_test::MakeKey;
using store_test::MakeUser;

constexpr UnixSeconds kCreated = 1'700'000'100;  // MakeKey's created_at; expires a day later

WebhookEvent MakeEvent(std::string_view type, const std::string& user, UnixSeconds time) {
  WebhookEvent event;
  event.type = type;
  event.time = time;
  event.user_id = user;
  event.data = R"({"key":"ci"})";
  return event;
}

// An update that sets one field.
template <typename T, typename V>
KeyUpdate With(std::optional<T> KeyUpdate::*field, V value) {
  KeyUpdate update;
  update.*field = T(std::move(value));
  return update;
}

OldSecret MakeOld(int n, UnixSeconds rotated_at, UnixSeconds expires_at) {
  return {.hash = Hash(n),
          .masked = "kw_Old" + std::to_string(n),
          .rotated_at = rotated_at,
          .grace_until = rotated_at + 3600,
          .retire_when_idle = 600,
          .last_used_at = rotated_at - 5,
          .expires_at = expires_at};
}

// The key a rotation of `key` gives, with secret `n`.
KeyRecord Next(const KeyRecord& key, int n, UnixSeconds rotated_at) {
  KeyRecord next = key;
  next.hash = Hash(n);
  next.sealed = "sealed-" + std::to_string(n);
  next.masked = "kw_New" + std::to_string(n);
  next.rotated_at = rotated_at;
  next.expires_at = rotated_at + 86'400;
  return next;
}

void ExpectSameOld(const OldSecret& got, const OldSecret& want) {
  EXPECT_EQ(got.hash, want.hash);
  EXPECT_EQ(got.masked, want.masked);
  EXPECT_EQ(got.rotated_at, want.rotated_at);
  EXPECT_EQ(got.grace_until, want.grace_until);
  EXPECT_EQ(got.retire_when_idle, want.retire_when_idle);
  EXPECT_EQ(got.last_used_at, want.last_used_at);
  EXPECT_EQ(got.expires_at, want.expires_at);
}

KeyUpdate NameAndDescription(std::string name, std::string description) {
  KeyUpdate update;
  update.name = std::move(name);
  update.description = std::move(description);
  return update;
}

class KeyLifecycleStoreTest : public store_test::BackendStoreTest {
 protected:
  void SetUp() override {
    BackendStoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
    Webhook all;
    all.id = "wh_all";
    all.url = "https://example.com/hook";
    all.sealed_secret = "s";
    all.created_by = "op";
    all.created_at = 1;
    KW_ASSERT_OK(store_->CreateWebhook(all));
  }

  // How many events the store appended so far (each reaches wh_all).
  int Events() {
    Result<std::vector<Delivery>> deliveries = store_->ListDeliveries("wh_all", 1000);
    EXPECT_THAT(deliveries, IsOk());
    return deliveries.ok() ? static_cast<int>(deliveries->size()) : -1;
  }

  EventList One(std::string_view type) { return {MakeEvent(type, "alice", kCreated)}; }
};

TEST_P(KeyLifecycleStoreTest, LifecycleFieldsRoundTripAndDefaultsReadBackAsBefore) {
  KeyRecord key = MakeKey("alice", "ci", 1);
  key.description = "deploys 🚀 it's \"prod\"";
  key.disabled = true;
  key.validity = 86'400;
  key.idle_timeout = 3600;
  key.revoke_on_reuse = true;
  key.rotated_at = kCreated + 5;
  key.announced_within = 604'800;
  KW_ASSERT_OK(store_->CreateKey(key, One(event::kKeyCreated)));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "plain", 2)));
  EXPECT_EQ(Events(), 1);

  KW_ASSERT_OK_AND_ASSIGN(KeyRecord got, store_->GetKey("alice", "ci"));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord found, store_->FindKeyByHash(Hash(1)));
  for (const KeyRecord& k : {got, found}) {
    EXPECT_EQ(k.description, key.description);
    EXPECT_TRUE(k.disabled);
    EXPECT_EQ(k.validity, 86'400);
    EXPECT_EQ(k.idle_timeout, 3600);
    EXPECT_TRUE(k.revoke_on_reuse);
    EXPECT_EQ(k.rotated_at, kCreated + 5);
    EXPECT_EQ(k.announced_within, 604'800);
    EXPECT_TRUE(k.old_secrets.empty());
    EXPECT_FALSE(k.by_old_secret);
  }
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> keys, store_->ListKeys("alice"));
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[1].name, "plain");
  EXPECT_EQ(keys[1].description, "");
  EXPECT_FALSE(keys[1].disabled);
  EXPECT_EQ(keys[1].validity, 0);
  EXPECT_EQ(keys[1].idle_timeout, 0);
  EXPECT_FALSE(keys[1].revoke_on_reuse);
  EXPECT_EQ(keys[1].rotated_at, 0);
  EXPECT_EQ(keys[1].announced_within, -1);
}

TEST_P(KeyLifecycleStoreTest, RotateKeyMovesTheOldSecretAndKeepsTheKeysIdentity) {
  KeyRecord key = MakeKey("alice", "ci", 1);
  key.grant.scopes = {"keys:read"};
  key.description = "d";
  key.validity = 86'400;
  key.last_used_at = kCreated + 50;
  key.announced_within = 3600;
  KW_ASSERT_OK(store_->CreateKey(key));
  const UnixSeconds at = kCreated + 100;
  KeyRecord next = Next(key, 2, at);
  OldSecret old = MakeOld(1, at, key.expires_at);
  KW_ASSERT_OK(store_->RotateKey("alice", "ci", Hash(1), next, old, One(event::kKeyRotated)));
  EXPECT_EQ(Events(), 1);

  KW_ASSERT_OK_AND_ASSIGN(KeyRecord got, store_->GetKey("alice", "ci"));
  EXPECT_EQ(got.hash, Hash(2));
  EXPECT_EQ(got.sealed, next.sealed);
  EXPECT_EQ(got.masked, next.masked);
  EXPECT_EQ(got.expires_at, next.expires_at);
  EXPECT_EQ(got.rotated_at, at);
  EXPECT_EQ(got.last_used_at, 0);
  EXPECT_EQ(got.announced_within, -1);
  EXPECT_EQ(got.created_at, kCreated);
  EXPECT_EQ(got.grant, key.grant);
  EXPECT_EQ(got.description, "d");
  EXPECT_EQ(got.validity, 86'400);
  ASSERT_EQ(got.old_secrets.size(), 1u);
  ExpectSameOld(got.old_secrets[0], old);

  KW_ASSERT_OK_AND_ASSIGN(KeyRecord current, store_->FindKeyByHash(Hash(2)));
  EXPECT_FALSE(current.by_old_secret);
  EXPECT_EQ(current.name, "ci");
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord by_old, store_->FindKeyByHash(Hash(1)));
  EXPECT_TRUE(by_old.by_old_secret);
  EXPECT_EQ(by_old.hash, Hash(2));  // the key's current secret
  EXPECT_EQ(by_old.name, "ci");
  EXPECT_EQ(by_old.grant, key.grant);
  ASSERT_EQ(by_old.old_secrets.size(), 1u);
  ExpectSameOld(by_old.old_secrets[0], old);
}

TEST_P(KeyLifecycleStoreTest, RotateKeyIsACompareAndSwapOnTheCurrentHash) {
  KeyRecord key = MakeKey("alice", "ci", 1);
  KW_ASSERT_OK(store_->CreateKey(key));
  const UnixSeconds at = kCreated + 100;
  KW_EXPECT_CODE(store_->RotateKey("alice", "ci", Hash(9), Next(key, 2, at), MakeOld(1, at, 1),
                                   One(event::kKeyRotated)),
                 StatusCode::kFailedPrecondition);
  KW_EXPECT_CODE(store_->RotateKey("alice", "nope", Hash(1), Next(key, 2, at), MakeOld(1, at, 1),
                                   One(event::kKeyRotated)),
                 StatusCode::kNotFound);
  EXPECT_EQ(Events(), 0);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord unchanged, store_->GetKey("alice", "ci"));
  EXPECT_EQ(unchanged.hash, Hash(1));
  EXPECT_TRUE(unchanged.old_secrets.empty());

  // Two rotations that both read secret 1: the second fails and changes nothing.
  KW_ASSERT_OK(store_->RotateKey("alice", "ci", Hash(1), Next(key, 2, at),
                                 MakeOld(1, at, key.expires_at), {}));
  KW_EXPECT_CODE(store_->RotateKey("alice", "ci", Hash(1), Next(key, 3, at),
                                   MakeOld(1, at, key.expires_at), One(event::kKeyRotated)),
                 StatusCode::kFailedPrecondition);
  EXPECT_EQ(Events(), 0);
  KW_EXPECT_CODE(store_->FindKeyByHash(Hash(3)), StatusCode::kNotFound);

  // A second rotation keeps the first old secret, with its own grace: newest first.
  KW_ASSERT_OK(store_->RotateKey("alice", "ci", Hash(2), Next(key, 3, at + 10),
                                 MakeOld(2, at + 10, at + 86'400), {}));
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> keys, store_->ListKeys("alice"));
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].hash, Hash(3));
  ASSERT_EQ(keys[0].old_secrets.size(), 2u);
  ExpectSameOld(keys[0].old_secrets[0], MakeOld(2, at + 10, at + 86'400));
  ExpectSameOld(keys[0].old_secrets[1], MakeOld(1, at, key.expires_at));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord by_first, store_->FindKeyByHash(Hash(1)));
  ASSERT_EQ(by_first.old_secrets.size(), 1u);
  EXPECT_EQ(by_first.old_secrets[0].hash, Hash(1));
}

TEST_P(KeyLifecycleStoreTest, ListKeysGivesEachKeyItsOwnOldSecrets) {
  KeyRecord a = MakeKey("alice", "a", 1);
  KeyRecord b = MakeKey("alice", "b", 2, kCreated + 1);
  KeyRecord c = MakeKey("alice", "c", 3, kCreated + 2);
  for (const KeyRecord& key : {a, b, c}) KW_ASSERT_OK(store_->CreateKey(key));
  KW_ASSERT_OK(store_->RotateKey("alice", "a", Hash(1), Next(a, 11, kCreated + 5),
                                 MakeOld(1, kCreated + 5, a.expires_at), {}));
  KW_ASSERT_OK(store_->RotateKey("alice", "c", Hash(3), Next(c, 13, kCreated + 5),
                                 MakeOld(3, kCreated + 5, c.expires_at), {}));
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> keys, store_->ListKeys("alice"));
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].name, "a");
  ASSERT_EQ(keys[0].old_secrets.size(), 1u);
  EXPECT_EQ(keys[0].old_secrets[0].hash, Hash(1));
  EXPECT_EQ(keys[1].name, "b");
  EXPECT_TRUE(keys[1].old_secrets.empty());
  EXPECT_EQ(keys[2].name, "c");
  ASSERT_EQ(keys[2].old_secrets.size(), 1u);
  EXPECT_EQ(keys[2].old_secrets[0].hash, Hash(3));
}

TEST_P(KeyLifecycleStoreTest, TouchKeysMarksAnOldSecretApartFromTheKey) {
  KeyRecord key = MakeKey("alice", "ci", 1);
  KW_ASSERT_OK(store_->CreateKey(key));
  const UnixSeconds at = kCreated + 100;
  KW_ASSERT_OK(store_->RotateKey("alice", "ci", Hash(1), Next(key, 2, at),
                                 MakeOld(1, at, key.expires_at), {}));
  KW_ASSERT_OK(store_->TouchKeys({{Hash(1), at + 7}, {Hash(99), at + 8}}));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord got, store_->GetKey("alice", "ci"));
  EXPECT_EQ(got.last_used_at, 0);  // the current secret was not used
  ASSERT_EQ(got.old_secrets.size(), 1u);
  EXPECT_EQ(got.old_secrets[0].last_used_at, at + 7);
  KW_ASSERT_OK(store_->TouchKeys({{Hash(2), at + 9}, {Hash(1), at + 1}}));  // earlier: ignored
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord again, store_->FindKeyByHash(Hash(1)));
  EXPECT_EQ(again.last_used_at, at + 9);
  ASSERT_EQ(again.old_secrets.size(), 1u);
  EXPECT_EQ(again.old_secrets[0].last_used_at, at + 7);
}

TEST_P(KeyLifecycleStoreTest, UpdateKeyChangesOnlyTheFieldsItSets) {
  KeyRecord key = MakeKey("alice", "ci", 1);
  key.grant.scopes = {"keys:read", "keys:write"};
  key.announced_within = 86'400;
  KW_ASSERT_OK(store_->CreateKey(key));
  KW_ASSERT_OK(store_->RotateKey("alice", "ci", Hash(1), Next(key, 2, kCreated + 1),
                                 MakeOld(1, kCreated + 1, key.expires_at), {}));
  KeyRecord want;
  KW_ASSERT_OK_AND_ASSIGN(want, store_->GetKey("alice", "ci"));
  want.announced_within = 86'400;  // a rotation resets it; set again below through AnnounceExpiry
  KW_ASSERT_OK_AND_ASSIGN(bool announced, store_->AnnounceExpiry(Hash(2), 86'400, {}));
  ASSERT_TRUE(announced);

  auto check = [&](const KeyUpdate& update, const std::string& name) {
    KW_ASSERT_OK(store_->UpdateKey("alice", want.name, update, One(event::kKeyDisabled)));
    want.name = name;
    KW_ASSERT_OK_AND_ASSIGN(KeyRecord got, store_->GetKey("alice", name));
    EXPECT_EQ(got.hash, Hash(2));
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.description, want.description);
    EXPECT_EQ(got.expires_at, want.expires_at);
    EXPECT_EQ(got.announced_within, want.announced_within);
    EXPECT_EQ(got.grant, want.grant);
    EXPECT_EQ(got.disabled, want.disabled);
    EXPECT_EQ(got.idle_timeout, want.idle_timeout);
    EXPECT_EQ(got.revoke_on_reuse, want.revoke_on_reuse);
    EXPECT_EQ(got.created_at, want.created_at);
    EXPECT_EQ(got.old_secrets.size(), 1u);  // the key keeps its old secrets
  };
  want.description = "new text";
  check(With(&KeyUpdate::description, want.description), "ci");
  want.disabled = true;
  check(With(&KeyUpdate::disabled, true), "ci");
  want.idle_timeout = 600;
  check(With(&KeyUpdate::idle_timeout, 600), "ci");
  want.revoke_on_reuse = true;
  check(With(&KeyUpdate::revoke_on_reuse, true), "ci");
  want.grant.scopes = {"keys:read"};
  want.grant.tags = std::vector<std::string>{};
  want.grant.allowed_addresses = {"10.0.0.0/8"};
  check(With(&KeyUpdate::grant, want.grant), "ci");
  want.expires_at -= 100;
  want.announced_within = -1;  // a new expiry is announced again
  check(With(&KeyUpdate::expires_at, want.expires_at), "ci");
  check(With(&KeyUpdate::name, std::string("renamed")), "renamed");
  KW_EXPECT_CODE(store_->GetKey("alice", "ci"), StatusCode::kNotFound);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord by_old, store_->FindKeyByHash(Hash(1)));
  EXPECT_EQ(by_old.name, "renamed");
  want.disabled = false;
  check(With(&KeyUpdate::disabled, false), "renamed");
  EXPECT_EQ(Events(), 8);
}

TEST_P(KeyLifecycleStoreTest, UpdateKeyRefusesATakenNameAMissingKeyAndAnUnreadableGrant) {
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "a", 1)));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "b", 2)));
  KW_EXPECT_CODE(
      store_->UpdateKey("alice", "a", NameAndDescription("b", "x"), One(event::kKeyDisabled)),
      StatusCode::kAlreadyExists);
  KW_EXPECT_CODE(store_->UpdateKey("alice", "ghost", With(&KeyUpdate::disabled, true),
                                   One(event::kKeyDisabled)),
                 StatusCode::kNotFound);
  KW_EXPECT_CODE(
      store_->UpdateKey("bob", "a", With(&KeyUpdate::disabled, true), One(event::kKeyDisabled)),
      StatusCode::kNotFound);
  Grant bad;
  bad.scopes = {"keys read"};
  KW_EXPECT_CODE(
      store_->UpdateKey("alice", "a", With(&KeyUpdate::grant, bad), One(event::kKeyDisabled)),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(Events(), 0);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord a, store_->GetKey("alice", "a"));
  EXPECT_EQ(a.description, "");  // the failed rename changed nothing
  EXPECT_EQ(a.hash, Hash(1));
}

// ListKeysDue(now, warn_until, limit) over keys of several users.
TEST_P(KeyLifecycleStoreTest, ListKeysDueSelectsKeysToWarnExpireOrRevokeByExpiry) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("bob")));
  const UnixSeconds now = 1'800'000'000;
  const UnixSeconds warn_until = now + 7 * 86'400;
  auto key = [&](const char* user, const char* name, int n, UnixSeconds expires_at) {
    KeyRecord k = MakeKey(user, name, n, now - 30 * 86'400);
    k.expires_at = expires_at;
    return k;
  };
  std::vector<KeyRecord> keys = {
      key("alice", "warn", 1, now + 86'400),              // due: inside the window
      key("bob", "warn-edge", 2, warn_until),             // due: at the edge
      key("alice", "later", 3, warn_until + 1),           // not yet
      key("alice", "expired-recently", 4, now - 3600),    // due: key.expired to announce
      key("alice", "expired-long-ago", 5, now - 86'400),  // never announced (a day or more)
      key("bob", "announced", 6, now + 100),              // key.expired already announced
      key("alice", "idle", 7, now + 365 * 86'400),        // due: idle
      key("alice", "used", 8, now + 365 * 86'400),        // idle timeout, but used lately
      key("alice", "rotated", 9, now + 365 * 86'400),     // idle timeout, rotated lately
  };
  keys[5].announced_within = 0;
  keys[6].idle_timeout = 3600;
  keys[6].last_used_at = now - 3600;  // exactly the timeout: due
  keys[7].idle_timeout = 3600;
  keys[7].last_used_at = now - 3599;
  keys[8].idle_timeout = 3600;
  keys[8].rotated_at = now - 10;
  for (const KeyRecord& k : keys) KW_ASSERT_OK(store_->CreateKey(k));

  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> due, store_->ListKeysDue(now, warn_until, 100));
  std::vector<std::string> names;
  for (const KeyRecord& k : due) names.push_back(k.name);
  EXPECT_EQ(names, (std::vector<std::string>{"expired-recently", "warn", "warn-edge", "idle"}));
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> first, store_->ListKeysDue(now, warn_until, 2));
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[1].name, "warn");
  EXPECT_EQ(first[1].hash, Hash(1));
}

TEST_P(KeyLifecycleStoreTest, AnnounceExpiryOnlyNarrowsAndAppendsItsEventsOnlyWhenItDoes) {
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

TEST_P(KeyLifecycleStoreTest, AnnounceExpiryFromTwoStoresAtOnceSucceedsOnce) {
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "ci", 1)));
  KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> other, GetParam().open_again(dir_.path(), keep_));
  for (std::int64_t within : {604'800, 86'400}) {
    std::latch start(2);
    bool won[2] = {false, false};
    Store* stores[2] = {store_.get(), other.get()};
    std::vector<std::thread> threads;
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

TEST_P(KeyLifecycleStoreTest, RevokeIdleKeyDeletesOnlyAKeyUnusedSinceThen) {
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

TEST_P(KeyLifecycleStoreTest, PruneOldSecretsForgetsThoseAtOrPastTheirOwnExpiry) {
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

TEST_P(KeyLifecycleStoreTest, DeletingAKeyOrItsUserForgetsItsOldSecrets) {
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

TEST_P(KeyLifecycleStoreTest, CreateKeyAppendsItsEventsOnlyWhenTheKeyIsCreated) {
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

INSTANTIATE_TEST_SUITE_P(Backends, KeyLifecycleStoreTest,
                         ::testing::ValuesIn(store_test::Backends()),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace keyward
