// The Store calls of a key's rotation and edits (store.h: RotateKey, UpdateKey; old secrets in
// FindKeyByHash, ListKeys, GetKey and TouchKeys; the V005 fields of CreateKey), run against every
// backend like store_conformance_test.cc. The outbox itself is tested in webhook_store_test.cc;
// here a webhook that takes every event shows which changes appended one.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/webhook.h"
#include "store/key_lifecycle_fixture.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace keyward {
namespace {

using store_test::Backend;
using store_test::ExpectSameOld;
using store_test::Hash;
using store_test::kCreated;
using store_test::MakeKey;
using store_test::MakeOld;
using store_test::MakeUser;
using store_test::NameAndDescription;
using store_test::Next;
using store_test::With;

class KeyLifecycleStoreTest : public store_test::KeyLifecycleFixture {};

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

// An issued token names its key by a hash prefix (FindKeyByHashPrefix): an old secret's is
// found too, as FindKeyByHash gives it; a prefix two secrets share, current or old, finds none.
TEST_P(KeyLifecycleStoreTest, FindKeyByHashPrefixFindsOldSecretsToo) {
  auto prefix = [](std::initializer_list<int> bytes) {
    std::string out;
    for (int b : bytes) out.push_back(static_cast<char>(b));
    return out;
  };
  // Hash(n) is 00, n & 0xff, n >> 8, …: Hash(1) 00 01 00, Hash(257) 00 01 01, Hash(513) 00 01 02.
  KeyRecord ci = MakeKey("alice", "ci", 1);
  KW_ASSERT_OK(store_->CreateKey(ci));
  const UnixSeconds at = kCreated + 100;
  const OldSecret old = MakeOld(1, at, ci.expires_at);
  KW_ASSERT_OK(store_->RotateKey("alice", "ci", Hash(1), Next(ci, 2, at), old, {}));

  KW_ASSERT_OK_AND_ASSIGN(KeyRecord by_old, store_->FindKeyByHashPrefix(Hash(1).substr(0, 16)));
  EXPECT_TRUE(by_old.by_old_secret);
  EXPECT_EQ(by_old.name, "ci");
  EXPECT_EQ(by_old.hash, Hash(2));  // the key's current secret
  ASSERT_EQ(by_old.old_secrets.size(), 1u);
  ExpectSameOld(by_old.old_secrets[0], old);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord current, store_->FindKeyByHashPrefix(Hash(2).substr(0, 16)));
  EXPECT_FALSE(current.by_old_secret);
  EXPECT_EQ(current.hash, Hash(2));
  EXPECT_TRUE(current.old_secrets.empty());
  KW_EXPECT_CODE(store_->FindKeyByHashPrefix(prefix({0})), StatusCode::kNotFound);

  // An old secret and another key's current one share 00 01.
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "ef", 513)));
  KW_EXPECT_CODE(store_->FindKeyByHashPrefix(prefix({0, 1})), StatusCode::kNotFound);
  KW_ASSERT_OK_AND_ASSIGN(by_old, store_->FindKeyByHashPrefix(prefix({0, 1, 0})));
  EXPECT_EQ(by_old.name, "ci");
  EXPECT_TRUE(by_old.by_old_secret);
  KW_ASSERT_OK_AND_ASSIGN(current, store_->FindKeyByHashPrefix(prefix({0, 1, 2})));
  EXPECT_EQ(current.name, "ef");
  EXPECT_FALSE(current.by_old_secret);

  // Two old secrets share 00 01.
  KeyRecord cd = MakeKey("alice", "cd", 257);
  KW_ASSERT_OK(store_->CreateKey(cd));
  KW_ASSERT_OK(store_->RotateKey("alice", "cd", Hash(257), Next(cd, 258, at),
                                 MakeOld(257, at, cd.expires_at), {}));
  KW_ASSERT_OK(store_->DeleteKey("alice", "ef"));
  KW_EXPECT_CODE(store_->FindKeyByHashPrefix(prefix({0, 1})), StatusCode::kNotFound);
  KW_ASSERT_OK_AND_ASSIGN(by_old, store_->FindKeyByHashPrefix(prefix({0, 1, 1})));
  EXPECT_EQ(by_old.name, "cd");
  EXPECT_EQ(by_old.old_secrets.at(0).hash, Hash(257));
  // Deleting the key forgets its old secrets.
  KW_ASSERT_OK(store_->DeleteKey("alice", "ci"));
  KW_EXPECT_CODE(store_->FindKeyByHashPrefix(prefix({0, 1, 0})), StatusCode::kNotFound);
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
    KW_ASSERT_OK_AND_ASSIGN(KeyRecord before, store_->GetKey("alice", want.name));
    KW_ASSERT_OK(
        store_->UpdateKey("alice", want.name, before.revision, update, One(event::kKeyDisabled)));
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
    EXPECT_EQ(got.revision, before.revision + 1);
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
      store_->UpdateKey("alice", "a", 0, NameAndDescription("b", "x"), One(event::kKeyDisabled)),
      StatusCode::kAlreadyExists);
  KW_EXPECT_CODE(store_->UpdateKey("alice", "ghost", 0, With(&KeyUpdate::disabled, true),
                                   One(event::kKeyDisabled)),
                 StatusCode::kNotFound);
  KW_EXPECT_CODE(
      store_->UpdateKey("bob", "a", 0, With(&KeyUpdate::disabled, true), One(event::kKeyDisabled)),
      StatusCode::kNotFound);
  Grant bad;
  bad.scopes = {"keys read"};
  KW_EXPECT_CODE(
      store_->UpdateKey("alice", "a", 0, With(&KeyUpdate::grant, bad), One(event::kKeyDisabled)),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(Events(), 0);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord a, store_->GetKey("alice", "a"));
  EXPECT_EQ(a.description, "");  // the failed rename changed nothing
  EXPECT_EQ(a.hash, Hash(1));
}

// An edit decided on a stale read (another edit or a rotation landed since) changes nothing.
TEST_P(KeyLifecycleStoreTest, UpdateKeyAppliesOnlyToTheRevisionItWasDecidedOn) {
  KeyRecord key = MakeKey("alice", "ci", 1);
  key.grant.scopes = {"keys:read", "keys:write"};
  KW_ASSERT_OK(store_->CreateKey(key));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord read, store_->GetKey("alice", "ci"));
  EXPECT_EQ(read.revision, 0);
  Grant narrower = key.grant;
  narrower.scopes = {"keys:read"};
  KW_ASSERT_OK(store_->UpdateKey("alice", "ci", 0, With(&KeyUpdate::grant, narrower), {}));
  // A second edit decided on revision 0 (it read the broader grant) is refused.
  KW_EXPECT_CODE(store_->UpdateKey("alice", "ci", 0, With(&KeyUpdate::grant, key.grant),
                                   One(event::kKeyDisabled)),
                 StatusCode::kFailedPrecondition);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord after, store_->GetKey("alice", "ci"));
  EXPECT_EQ(after.grant.scopes, std::vector<std::string>{"keys:read"});
  EXPECT_EQ(after.revision, 1);
  // A rotation moves the revision on too.
  KW_ASSERT_OK(store_->RotateKey("alice", "ci", Hash(1), Next(key, 2, kCreated + 1),
                                 MakeOld(1, kCreated + 1, key.expires_at), {}));
  KW_ASSERT_OK_AND_ASSIGN(after, store_->GetKey("alice", "ci"));
  EXPECT_EQ(after.revision, 2);
  KW_EXPECT_CODE(store_->UpdateKey("alice", "ci", 1, With(&KeyUpdate::disabled, false),
                                   One(event::kKeyDisabled)),
                 StatusCode::kFailedPrecondition);
  EXPECT_EQ(Events(), 0);  // refused edits append nothing
  KW_ASSERT_OK(store_->UpdateKey("alice", "ci", 2, With(&KeyUpdate::disabled, true),
                                 One(event::kKeyDisabled)));
  KW_ASSERT_OK_AND_ASSIGN(after, store_->GetKey("alice", "ci"));
  EXPECT_TRUE(after.disabled);
  EXPECT_EQ(after.revision, 3);
  EXPECT_EQ(Events(), 1);
  // A stale revision of a key that is gone is NotFound, not "try again".
  KW_ASSERT_OK(store_->DeleteKey("alice", "ci"));
  KW_EXPECT_CODE(store_->UpdateKey("alice", "ci", 2, With(&KeyUpdate::disabled, false), {}),
                 StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, KeyLifecycleStoreTest,
                         ::testing::ValuesIn(store_test::Backends()),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace keyward
