// The Store contract (store.h), run against every backend: SQLite always, and PostgreSQL on the
// server KEYWARD_TEST_PG_URL names (skipped without it; `make test` always provides one), each
// test on a database of its own. A backend passes only if it passes all of it, error codes
// included.
#include "store/store_conformance.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "store/migration.h"
#include "store/postgres/pg_test_util.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace keyward {
namespace {

using store_test::Backend;
using store_test::Backends;
using store_test::Hash;
using store_test::MakeKey;
using store_test::MakeSession;
using store_test::MakeUser;

std::vector<std::string> KeyNames(const std::vector<KeyRecord>& keys) {
  std::vector<std::string> names;
  names.reserve(keys.size());
  for (const KeyRecord& key : keys) names.push_back(key.name);
  return names;
}

void ExpectSameKey(const KeyRecord& got, const KeyRecord& want) {
  EXPECT_EQ(got.user_id, want.user_id);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.hash, want.hash);
  EXPECT_EQ(got.sealed, want.sealed);
  EXPECT_EQ(got.masked, want.masked);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.expires_at, want.expires_at);
  EXPECT_EQ(got.last_used_at, want.last_used_at);
  EXPECT_EQ(got.grant, want.grant);
}

class StoreConformanceTest : public store_test::BackendStoreTest {};

// --- readiness ---

TEST_P(StoreConformanceTest, AMigratedStoreIsReady) {
  KW_EXPECT_OK(store_->CheckReady());
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KW_EXPECT_OK(store_->CheckReady());
}

TEST(SchemaCurrentTest, OnlyTheLastMigrationIsCurrent) {
  const Migration migrations[] = {{1, "init", ""}, {2, "more", ""}};
  KW_EXPECT_OK(CheckSchemaCurrent(2, migrations));
  KW_EXPECT_CODE(CheckSchemaCurrent(1, migrations), StatusCode::kFailedPrecondition);
  KW_EXPECT_CODE(CheckSchemaCurrent(3, migrations), StatusCode::kFailedPrecondition);
  KW_EXPECT_CODE(CheckSchemaCurrent(0, migrations), StatusCode::kFailedPrecondition);
}

// --- users ---

TEST_P(StoreConformanceTest, CreateUserThenGetReturnsEveryFieldWithSortedTags) {
  User user = MakeUser("alice", {"team:b", "roles:id:operator", "team:a"});
  user.type = UserType::kApplication;
  KW_ASSERT_OK(store_->CreateUser(user));
  KW_ASSERT_OK_AND_ASSIGN(User got, store_->GetUser("alice"));
  EXPECT_EQ(got.id, "alice");
  EXPECT_EQ(got.name, user.name);
  EXPECT_EQ(got.type, UserType::kApplication);
  EXPECT_EQ(got.password_hash, user.password_hash);
  EXPECT_EQ(got.created_at, user.created_at);
  EXPECT_EQ(got.tags, (std::vector<std::string>{"roles:id:operator", "team:a", "team:b"}));
}

TEST_P(StoreConformanceTest, GetMissingUserIsNotFound) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KW_EXPECT_CODE(store_->GetUser("bob"), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->GetUser(""), StatusCode::kNotFound);
}

TEST_P(StoreConformanceTest, TakenUserIdIsAlreadyExistsAndKeepsTheFirst) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice", {"a"})));
  User second = MakeUser("alice", {"b"});
  second.name = "Impostor";
  KW_EXPECT_CODE(store_->CreateUser(second), StatusCode::kAlreadyExists);
  KW_ASSERT_OK_AND_ASSIGN(User got, store_->GetUser("alice"));
  EXPECT_EQ(got.name, "Name of alice");
  EXPECT_EQ(got.tags, std::vector<std::string>{"a"});  // the failed create left no tag behind
}

TEST_P(StoreConformanceTest, ListUsersIsOrderedByIdWithTheirTags) {
  KW_ASSERT_OK_AND_ASSIGN(std::vector<User> empty, store_->ListUsers());
  EXPECT_TRUE(empty.empty());
  KW_ASSERT_OK(store_->CreateUser(MakeUser("carol", {"z", "c"})));
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KW_ASSERT_OK(store_->CreateUser(MakeUser("bob", {"b"})));
  KW_ASSERT_OK_AND_ASSIGN(std::vector<User> users, store_->ListUsers());
  ASSERT_EQ(users.size(), 3u);
  EXPECT_EQ(users[0].id, "alice");
  EXPECT_TRUE(users[0].tags.empty());
  EXPECT_EQ(users[1].id, "bob");
  EXPECT_EQ(users[1].tags, std::vector<std::string>{"b"});
  EXPECT_EQ(users[2].id, "carol");
  EXPECT_EQ(users[2].tags, (std::vector<std::string>{"c", "z"}));
  EXPECT_EQ(users[2].name, "Name of carol");
}

TEST_P(StoreConformanceTest, CountUsersFollowsCreatesAndDeletes) {
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t none, store_->CountUsers());
  EXPECT_EQ(none, 0);
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KW_ASSERT_OK(store_->CreateUser(MakeUser("bob")));
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t two, store_->CountUsers());
  EXPECT_EQ(two, 2);
  KW_ASSERT_OK(store_->DeleteUser("alice"));
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t one, store_->CountUsers());
  EXPECT_EQ(one, 1);
}

TEST_P(StoreConformanceTest, DeleteMissingUserIsNotFound) {
  KW_EXPECT_CODE(store_->DeleteUser("ghost"), StatusCode::kNotFound);
}

TEST_P(StoreConformanceTest, DeleteUserCascadesToTagsKeysAndSessions) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice", {"t1", "t2"})));
  KW_ASSERT_OK(store_->CreateUser(MakeUser("bob", {"t1"})));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "k", 1)));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("bob", "k", 2)));
  KW_ASSERT_OK(store_->CreateSession(MakeSession("alice", 3, 2'000'000'000)));
  KW_ASSERT_OK(store_->CreateSession(MakeSession("bob", 4, 2'000'000'000)));

  KW_ASSERT_OK(store_->DeleteUser("alice"));
  KW_EXPECT_CODE(store_->GetUser("alice"), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->FindKeyByHash(Hash(1)), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->GetKey("alice", "k"), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->FindSessionByHash(Hash(3)), StatusCode::kNotFound);
  // A user created again under the same id starts with nothing.
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KW_ASSERT_OK_AND_ASSIGN(User again, store_->GetUser("alice"));
  EXPECT_TRUE(again.tags.empty());
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> keys, store_->ListKeys("alice"));
  EXPECT_TRUE(keys.empty());
  // Bob keeps everything.
  KW_ASSERT_OK_AND_ASSIGN(User bob, store_->GetUser("bob"));
  EXPECT_EQ(bob.tags, std::vector<std::string>{"t1"});
  KW_EXPECT_OK(store_->FindKeyByHash(Hash(2)).status());
  KW_EXPECT_OK(store_->FindSessionByHash(Hash(4)).status());
}

TEST_P(StoreConformanceTest, SetPasswordHashReplacesItAndNeedsTheUser) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KW_ASSERT_OK(store_->SetPasswordHash("alice", "$argon2id$new"));
  KW_ASSERT_OK_AND_ASSIGN(User got, store_->GetUser("alice"));
  EXPECT_EQ(got.password_hash, "$argon2id$new");
  KW_ASSERT_OK(store_->SetPasswordHash("alice", ""));  // no password sign-in
  KW_ASSERT_OK_AND_ASSIGN(User cleared, store_->GetUser("alice"));
  EXPECT_EQ(cleared.password_hash, "");
  KW_EXPECT_CODE(store_->SetPasswordHash("ghost", "x"), StatusCode::kNotFound);
}

TEST_P(StoreConformanceTest, AddTagIsIdempotentAndTagsComeBackSorted) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice", {"m"})));
  KW_ASSERT_OK(store_->AddTag("alice", "z"));
  KW_ASSERT_OK(store_->AddTag("alice", "a"));
  KW_ASSERT_OK(store_->AddTag("alice", "m"));  // already there: OK, no change
  KW_ASSERT_OK_AND_ASSIGN(User got, store_->GetUser("alice"));
  EXPECT_EQ(got.tags, (std::vector<std::string>{"a", "m", "z"}));
}

TEST_P(StoreConformanceTest, AddTagForMissingUserIsNotFound) {
  KW_EXPECT_CODE(store_->AddTag("ghost", "t"), StatusCode::kNotFound);
}

TEST_P(StoreConformanceTest, RemoveTagRemovesOnlyThatTag) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice", {"a", "b"})));
  KW_ASSERT_OK(store_->CreateUser(MakeUser("bob", {"a"})));
  KW_ASSERT_OK(store_->RemoveTag("alice", "a"));
  KW_ASSERT_OK_AND_ASSIGN(User alice, store_->GetUser("alice"));
  EXPECT_EQ(alice.tags, std::vector<std::string>{"b"});
  KW_ASSERT_OK_AND_ASSIGN(User bob, store_->GetUser("bob"));
  EXPECT_EQ(bob.tags, std::vector<std::string>{"a"});
}

TEST_P(StoreConformanceTest, RemoveMissingTagOrFromMissingUserIsNotFound) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice", {"a"})));
  KW_EXPECT_CODE(store_->RemoveTag("alice", "nope"), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->RemoveTag("ghost", "a"), StatusCode::kNotFound);
  KW_ASSERT_OK(store_->RemoveTag("alice", "a"));
  KW_EXPECT_CODE(store_->RemoveTag("alice", "a"), StatusCode::kNotFound);
}

// --- API keys ---

TEST_P(StoreConformanceTest, CreateKeyThenGetAndFindReturnEveryField) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KeyRecord key = MakeKey("alice", "ci", 1);
  key.last_used_at = 1'700'000'200;
  KW_ASSERT_OK(store_->CreateKey(key));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord by_name, store_->GetKey("alice", "ci"));
  ExpectSameKey(by_name, key);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord by_hash, store_->FindKeyByHash(key.hash));
  ExpectSameKey(by_hash, key);
}

// The grant comes back as it was given from every read, the tags' three states kept apart: all
// of the owner's (nullopt), none (an empty list) and a subset.
TEST_P(StoreConformanceTest, GrantsRoundTripThroughGetFindAndList) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice", {"roles:id:operator", "team:a"})));
  std::vector<KeyRecord> keys;
  keys.push_back(MakeKey("alice", "k1-default", 1));  // no scopes, live tags, anywhere
  KeyRecord scoped = MakeKey("alice", "k2-scoped", 2);
  scoped.grant.scopes = {"audit:read", "keys:read", "minerva:query", "pulsar.produce_x-1"};
  scoped.grant.tags = std::vector<std::string>{};
  scoped.grant.allowed_addresses = {"10.0.0.0/8", "192.168.1.7/32", "2001:db8::/32"};
  keys.push_back(scoped);
  KeyRecord subset = MakeKey("alice", "k3-subset", 3);
  subset.grant.scopes = {"keys:write"};
  subset.grant.tags = std::vector<std::string>{"roles:id:operator", "team:a"};
  keys.push_back(subset);
  KeyRecord one_tag = MakeKey("alice", "k4-one-tag", 4);
  one_tag.grant.tags = std::vector<std::string>{"team:a"};
  one_tag.grant.allowed_addresses = {"::/0"};
  keys.push_back(one_tag);
  KeyRecord full = MakeKey("alice", "k5-full", 5);
  full.grant = FullAccess();
  keys.push_back(full);
  for (const KeyRecord& key : keys) KW_ASSERT_OK(store_->CreateKey(key));

  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> listed, store_->ListKeys("alice"));
  ASSERT_EQ(listed.size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    SCOPED_TRACE(keys[i].name);
    ExpectSameKey(listed[i], keys[i]);
    KW_ASSERT_OK_AND_ASSIGN(KeyRecord by_name, store_->GetKey("alice", keys[i].name));
    ExpectSameKey(by_name, keys[i]);
    KW_ASSERT_OK_AND_ASSIGN(KeyRecord by_hash, store_->FindKeyByHash(keys[i].hash));
    ExpectSameKey(by_hash, keys[i]);
  }
  EXPECT_FALSE(listed[0].grant.full_access);
  EXPECT_FALSE(listed[0].grant.tags.has_value());
  ASSERT_TRUE(listed[1].grant.tags.has_value());
  EXPECT_TRUE(listed[1].grant.tags->empty());
  EXPECT_TRUE(listed[4].grant.full_access);
}

// A list entry that is empty or holds a space would read back as other entries: refused, and
// nothing stored.
TEST_P(StoreConformanceTest, GrantEntryThatCannotReadBackIsInvalidArgument) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KeyRecord scope = MakeKey("alice", "scope", 1);
  scope.grant.scopes = {"keys:read keys:write"};
  KeyRecord tag = MakeKey("alice", "tag", 2);
  tag.grant.tags = std::vector<std::string>{""};
  KeyRecord address = MakeKey("alice", "address", 3);
  address.grant.allowed_addresses = {"10.0.0.0/8", ""};
  for (const KeyRecord& key : {scope, tag, address}) {
    SCOPED_TRACE(key.name);
    KW_EXPECT_CODE(store_->CreateKey(key), StatusCode::kInvalidArgument);
    KW_EXPECT_CODE(store_->FindKeyByHash(key.hash), StatusCode::kNotFound);
  }
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> keys, store_->ListKeys("alice"));
  EXPECT_TRUE(keys.empty());
}

TEST_P(StoreConformanceTest, KeyWithoutSealedValueKeepsItEmpty) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KeyRecord key = MakeKey("alice", "once", 1);
  key.sealed.clear();  // reveal is off
  KW_ASSERT_OK(store_->CreateKey(key));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord got, store_->GetKey("alice", "once"));
  ExpectSameKey(got, key);
}

TEST_P(StoreConformanceTest, ListKeysIsOrderedByCreationThenNameAndIncludesExpired) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KW_ASSERT_OK(store_->CreateUser(MakeUser("bob")));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "b", 1, 200)));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "z", 2, 100)));  // long expired
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "a", 3, 200)));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("bob", "bobs", 4, 150)));
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> keys, store_->ListKeys("alice"));
  EXPECT_EQ(KeyNames(keys), (std::vector<std::string>{"z", "a", "b"}));
  ASSERT_EQ(keys.size(), 3u);
  ExpectSameKey(keys[1], MakeKey("alice", "a", 3, 200));
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> none, store_->ListKeys("carol"));
  EXPECT_TRUE(none.empty());
}

TEST_P(StoreConformanceTest, TakenKeyNameIsAlreadyExistsForTheSameUserOnly) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KW_ASSERT_OK(store_->CreateUser(MakeUser("bob")));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "ci", 1)));
  KW_EXPECT_CODE(store_->CreateKey(MakeKey("alice", "ci", 2)), StatusCode::kAlreadyExists);
  KW_EXPECT_CODE(store_->FindKeyByHash(Hash(2)), StatusCode::kNotFound);  // nothing half-written
  KW_ASSERT_OK(store_->CreateKey(MakeKey("bob", "ci", 3)));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord alices, store_->GetKey("alice", "ci"));
  EXPECT_EQ(alices.hash, Hash(1));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord bobs, store_->GetKey("bob", "ci"));
  EXPECT_EQ(bobs.hash, Hash(3));
}

TEST_P(StoreConformanceTest, CreateKeyForMissingUserIsNotFound) {
  KW_EXPECT_CODE(store_->CreateKey(MakeKey("ghost", "ci", 1)), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->FindKeyByHash(Hash(1)), StatusCode::kNotFound);
}

TEST_P(StoreConformanceTest, GetMissingKeyIsNotFound) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KW_ASSERT_OK(store_->CreateUser(MakeUser("bob")));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "ci", 1)));
  KW_EXPECT_CODE(store_->GetKey("alice", "other"), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->GetKey("bob", "ci"), StatusCode::kNotFound);  // alice's, not bob's
  KW_EXPECT_CODE(store_->FindKeyByHash(Hash(9)), StatusCode::kNotFound);
}

TEST_P(StoreConformanceTest, DeleteKeyRemovesItAndFreesItsName) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "ci", 1)));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "keep", 2)));
  KW_ASSERT_OK(store_->DeleteKey("alice", "ci"));
  KW_EXPECT_CODE(store_->GetKey("alice", "ci"), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->FindKeyByHash(Hash(1)), StatusCode::kNotFound);
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> keys, store_->ListKeys("alice"));
  EXPECT_EQ(KeyNames(keys), std::vector<std::string>{"keep"});
  KW_EXPECT_OK(store_->CreateKey(MakeKey("alice", "ci", 3)));
}

TEST_P(StoreConformanceTest, DeleteMissingKeyIsNotFound) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KW_ASSERT_OK(store_->CreateUser(MakeUser("bob")));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "ci", 1)));
  KW_EXPECT_CODE(store_->DeleteKey("alice", "other"), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->DeleteKey("bob", "ci"), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->DeleteKey("ghost", "ci"), StatusCode::kNotFound);
  KW_EXPECT_OK(store_->GetKey("alice", "ci").status());
}

TEST_P(StoreConformanceTest, TouchKeysUpdatesABatchAndSkipsUnknownHashes) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  for (int i = 1; i <= 3; ++i) {
    KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "k" + std::to_string(i), i)));
  }
  KW_ASSERT_OK(
      store_->TouchKeys({{Hash(1), 1'800'000'001}, {Hash(99), 5}, {Hash(2), 1'800'000'002}}));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord k1, store_->FindKeyByHash(Hash(1)));
  EXPECT_EQ(k1.last_used_at, 1'800'000'001);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord k2, store_->FindKeyByHash(Hash(2)));
  EXPECT_EQ(k2.last_used_at, 1'800'000'002);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord k3, store_->FindKeyByHash(Hash(3)));
  EXPECT_EQ(k3.last_used_at, 0);  // not in the batch
  KW_EXPECT_CODE(store_->FindKeyByHash(Hash(99)), StatusCode::kNotFound);
  KW_EXPECT_OK(store_->TouchKeys({}));
}

TEST_P(StoreConformanceTest, TouchKeysNeverMovesLastUsedBackwards) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "k", 1)));
  KW_ASSERT_OK(store_->TouchKeys({{Hash(1), 2000}}));
  KW_ASSERT_OK(store_->TouchKeys({{Hash(1), 1500}}));  // an older batch arriving late
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord key, store_->GetKey("alice", "k"));
  EXPECT_EQ(key.last_used_at, 2000);
}

// --- sessions ---

TEST_P(StoreConformanceTest, CreateSessionThenFindReturnsEveryField) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  SessionRecord session = MakeSession("alice", 1, 1'700'003'600);
  KW_ASSERT_OK(store_->CreateSession(session));
  KW_ASSERT_OK_AND_ASSIGN(SessionRecord got, store_->FindSessionByHash(session.hash));
  EXPECT_EQ(got.user_id, "alice");
  EXPECT_EQ(got.hash, session.hash);
  EXPECT_EQ(got.created_at, session.created_at);
  EXPECT_EQ(got.expires_at, session.expires_at);
  KW_EXPECT_CODE(store_->FindKeyByHash(session.hash), StatusCode::kNotFound);  // not a key
}

TEST_P(StoreConformanceTest, CreateSessionForMissingUserIsNotFound) {
  KW_EXPECT_CODE(store_->CreateSession(MakeSession("ghost", 1, 2'000'000'000)),
                 StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->FindSessionByHash(Hash(1)), StatusCode::kNotFound);
}

TEST_P(StoreConformanceTest, DeleteSessionRemovesItOnce) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KW_ASSERT_OK(store_->CreateSession(MakeSession("alice", 1, 2'000'000'000)));
  KW_ASSERT_OK(store_->CreateSession(MakeSession("alice", 2, 2'000'000'000)));
  KW_ASSERT_OK(store_->DeleteSession(Hash(1)));
  KW_EXPECT_CODE(store_->FindSessionByHash(Hash(1)), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->DeleteSession(Hash(1)), StatusCode::kNotFound);
  KW_EXPECT_OK(store_->FindSessionByHash(Hash(2)).status());
}

TEST_P(StoreConformanceTest, DeleteExpiredSessionsRemovesOnlyThoseExpiredBeforeNow) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KW_ASSERT_OK(store_->CreateSession(MakeSession("alice", 1, 100)));
  KW_ASSERT_OK(store_->CreateSession(MakeSession("alice", 2, 150)));
  KW_ASSERT_OK(store_->CreateSession(MakeSession("alice", 3, 200)));  // expires at `now`
  KW_ASSERT_OK(store_->CreateSession(MakeSession("alice", 4, 300)));
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t removed, store_->DeleteExpiredSessions(200));
  EXPECT_EQ(removed, 2);
  KW_EXPECT_CODE(store_->FindSessionByHash(Hash(1)), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->FindSessionByHash(Hash(2)), StatusCode::kNotFound);
  KW_EXPECT_OK(store_->FindSessionByHash(Hash(3)).status());
  KW_EXPECT_OK(store_->FindSessionByHash(Hash(4)).status());
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t again, store_->DeleteExpiredSessions(200));
  EXPECT_EQ(again, 0);
}

// --- values are data, byte for byte ---

TEST_P(StoreConformanceTest, UnicodeAndSqlMetacharactersRoundTripByteForByte) {
  const std::string hostile = "Robert'); DROP TABLE api_keys;--";
  const std::string id = "o'brien\";--";
  User user = MakeUser(id, {"x' OR '1'='1", "%_\\"});
  user.name = "Zoë Ωμέγα 名前 🔑🚀 " + hostile;
  KW_ASSERT_OK(store_->CreateUser(user));
  KeyRecord key = MakeKey(id, "клю́ч 🗝️ " + hostile, 1);
  key.masked = "kw_Ab\"Cd…9x'Yz";
  KW_ASSERT_OK(store_->CreateKey(key));

  KW_ASSERT_OK_AND_ASSIGN(User got, store_->GetUser(id));
  EXPECT_EQ(got.id, id);
  EXPECT_EQ(got.name, user.name);
  EXPECT_EQ(got.tags, (std::vector<std::string>{"%_\\", "x' OR '1'='1"}));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord by_name, store_->GetKey(id, key.name));
  ExpectSameKey(by_name, key);
  // The tables are all still there, and a LIKE-pattern name matches nothing else.
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> keys, store_->ListKeys(id));
  EXPECT_EQ(KeyNames(keys), std::vector<std::string>{key.name});
  KW_EXPECT_CODE(store_->GetKey(id, "%"), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->RemoveTag(id, "%"), StatusCode::kNotFound);
  KW_ASSERT_OK(store_->DeleteKey(id, key.name));
  KW_ASSERT_OK(store_->DeleteUser(id));
}

TEST_P(StoreConformanceTest, BinaryValuesWithNulBytesRoundTrip) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  // Two hashes equal up to a NUL and different after it: a store that stopped at the NUL would
  // confuse them.
  std::string first(32, '\0');
  std::string second(32, '\0');
  second[31] = '\xff';
  KeyRecord a = MakeKey("alice", "a", 0);
  a.hash = first;
  a.sealed = all_bytes;
  KeyRecord b = MakeKey("alice", "b", 0);
  b.hash = second;
  b.sealed = std::string(3, '\0');
  KW_ASSERT_OK(store_->CreateKey(a));
  KW_ASSERT_OK(store_->CreateKey(b));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord got_a, store_->FindKeyByHash(first));
  ExpectSameKey(got_a, a);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord got_b, store_->FindKeyByHash(second));
  ExpectSameKey(got_b, b);
  KW_EXPECT_CODE(store_->FindKeyByHash(std::string(31, '\0')), StatusCode::kNotFound);

  SessionRecord session = MakeSession("alice", 0, 2'000'000'000);
  session.hash = first;  // sessions are kept apart from keys
  KW_ASSERT_OK(store_->CreateSession(session));
  KW_ASSERT_OK_AND_ASSIGN(SessionRecord got_session, store_->FindSessionByHash(first));
  EXPECT_EQ(got_session.hash, first);
  KW_EXPECT_CODE(store_->FindSessionByHash(second), StatusCode::kNotFound);
}

// Text no row can hold is a mistake of the caller, never a miss: not NotFound, not an empty list.
TEST_P(StoreConformanceTest, TextThatIsNotUtf8OrHoldsNulIsInvalidArgument) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice", {"t"})));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "ci", 1)));
  for (const std::string& bad :
       {std::string("alice\xff"), std::string("alice\0", 6), std::string("\xc3"),
        std::string("ci\0", 3), std::string("\xc0\xaf"), std::string("\xed\xa0\x80")}) {
    SCOPED_TRACE(testing::PrintToString(bad));
    const StatusCode invalid = StatusCode::kInvalidArgument;
    KW_EXPECT_CODE(store_->GetUser(bad), invalid);
    KW_EXPECT_CODE(store_->GetKey("alice", bad), invalid);
    KW_EXPECT_CODE(store_->GetKey(bad, "ci"), invalid);
    KW_EXPECT_CODE(store_->DeleteKey("alice", bad), invalid);
    KW_EXPECT_CODE(store_->AddTag("alice", bad), invalid);
    KW_EXPECT_CODE(store_->RemoveTag("alice", bad), invalid);
    KW_EXPECT_CODE(store_->DeleteUser(bad), invalid);
    KW_EXPECT_CODE(store_->ListKeys(bad), invalid);
    KW_EXPECT_CODE(store_->CreateUser(MakeUser(bad, {})), invalid);
    KW_EXPECT_CODE(store_->CreateKey(MakeKey("alice", bad, 2)), invalid);
  }
  KW_EXPECT_OK(store_->GetKey("alice", "ci").status());
  KW_ASSERT_OK_AND_ASSIGN(User alice, store_->GetUser("alice"));
  EXPECT_EQ(alice.tags, std::vector<std::string>{"t"});
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> keys, store_->ListKeys("alice"));
  EXPECT_EQ(keys.size(), 1u);
}

// --- audit log ---

AuditEvent MakeAudit(UnixSeconds time, const std::string& actor, AuditAction action,
                     const std::string& user, const std::string& target = "") {
  AuditEvent event;
  event.time = time;
  event.actor = actor;
  event.action = action;
  event.user = user;
  event.target = target;
  event.address = "127.0.0.1";
  event.success = true;
  return event;
}

std::vector<std::int64_t> AuditIds(const std::vector<AuditEvent>& events) {
  std::vector<std::int64_t> ids;
  ids.reserve(events.size());
  for (const AuditEvent& event : events) ids.push_back(event.id);
  return ids;
}

TEST_P(StoreConformanceTest, AppendAuditThenListReturnsEveryField) {
  AuditEvent event = MakeAudit(1'700'000'000, "admin", AuditAction::kKeyReveal, "alice", "ci");
  event.address = "2001:db8::1";
  event.success = false;
  event.reason = "no such user or key";
  event.detail = "scopes=keys:read tags=* from=10.0.0.0/8";
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t id, store_->AppendAudit(event));
  EXPECT_GT(id, 0);
  KW_ASSERT_OK_AND_ASSIGN(std::vector<AuditEvent> events, store_->ListAudit({}));
  ASSERT_EQ(events.size(), 1u);
  const AuditEvent& got = events[0];
  EXPECT_EQ(got.id, id);
  EXPECT_EQ(got.time, event.time);
  EXPECT_EQ(got.actor, "admin");
  EXPECT_EQ(got.action, AuditAction::kKeyReveal);
  EXPECT_EQ(got.user, "alice");
  EXPECT_EQ(got.target, "ci");
  EXPECT_EQ(got.address, "2001:db8::1");
  EXPECT_FALSE(got.success);
  EXPECT_EQ(got.reason, "no such user or key");
  EXPECT_EQ(got.detail, event.detail);
}

TEST_P(StoreConformanceTest, EveryAuditActionRoundTrips) {
  const AuditAction actions[] = {AuditAction::kSignIn,     AuditAction::kKeyCreate,
                                 AuditAction::kKeyReveal,  AuditAction::kKeyDelete,
                                 AuditAction::kUserCreate, AuditAction::kUserDelete,
                                 AuditAction::kTagAdd,     AuditAction::kTagDelete};
  UnixSeconds time = 1'700'000'000;
  for (AuditAction action : actions) {
    KW_ASSERT_OK(store_->AppendAudit(MakeAudit(time++, "admin", action, "alice")).status());
  }
  KW_ASSERT_OK_AND_ASSIGN(std::vector<AuditEvent> events, store_->ListAudit({}));
  ASSERT_EQ(events.size(), std::size(actions));
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].action, actions[std::size(actions) - 1 - i]);  // newest first
    EXPECT_TRUE(events[i].success);
    EXPECT_EQ(events[i].reason, "");
    EXPECT_EQ(events[i].detail, "");
  }
}

TEST_P(StoreConformanceTest, AuditIdsIncreaseAndListIsNewestFirstThenByIdDescending) {
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t a,
                          store_->AppendAudit(MakeAudit(200, "u", AuditAction::kSignIn, "u")));
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t b,
                          store_->AppendAudit(MakeAudit(100, "u", AuditAction::kSignIn, "u")));
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t c,
                          store_->AppendAudit(MakeAudit(200, "u", AuditAction::kSignIn, "u")));
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  KW_ASSERT_OK_AND_ASSIGN(std::vector<AuditEvent> events, store_->ListAudit({}));
  // Time descending; among equal times the later appended first; an event appended later with an
  // earlier time (another node's clock) sorts by its time.
  EXPECT_EQ(AuditIds(events), (std::vector<std::int64_t>{c, a, b}));
}

TEST_P(StoreConformanceTest, ListAuditOfAUserMatchesActorOrUser) {
  KW_ASSERT_OK(
      store_->AppendAudit(MakeAudit(1, "admin", AuditAction::kUserCreate, "alice")).status());
  KW_ASSERT_OK(
      store_->AppendAudit(MakeAudit(2, "alice", AuditAction::kKeyCreate, "alice", "k")).status());
  KW_ASSERT_OK(
      store_->AppendAudit(MakeAudit(3, "alice", AuditAction::kKeyReveal, "bob", "x")).status());
  KW_ASSERT_OK(
      store_->AppendAudit(MakeAudit(4, "admin", AuditAction::kTagAdd, "bob", "t")).status());
  KW_ASSERT_OK(
      store_->AppendAudit(MakeAudit(5, "alicia", AuditAction::kSignIn, "alicia")).status());
  AuditFilter alice;
  alice.user = "alice";
  KW_ASSERT_OK_AND_ASSIGN(std::vector<AuditEvent> of_alice, store_->ListAudit(alice));
  ASSERT_EQ(of_alice.size(), 3u);
  EXPECT_EQ(of_alice[0].time, 3);
  EXPECT_EQ(of_alice[1].time, 2);
  EXPECT_EQ(of_alice[2].time, 1);
  AuditFilter bob;
  bob.user = "bob";
  KW_ASSERT_OK_AND_ASSIGN(std::vector<AuditEvent> of_bob, store_->ListAudit(bob));
  ASSERT_EQ(of_bob.size(), 2u);
  EXPECT_EQ(of_bob[0].action, AuditAction::kTagAdd);
  EXPECT_EQ(of_bob[1].actor, "alice");
  AuditFilter nobody;
  nobody.user = "al%";  // data, not a pattern
  KW_ASSERT_OK_AND_ASSIGN(std::vector<AuditEvent> none, store_->ListAudit(nobody));
  EXPECT_TRUE(none.empty());
}

TEST_P(StoreConformanceTest, ListAuditTimeBoundsAreInclusiveAndLimitKeepsTheNewest) {
  for (UnixSeconds t = 10; t <= 50; t += 10) {
    KW_ASSERT_OK(store_->AppendAudit(MakeAudit(t, "u", AuditAction::kSignIn, "u")).status());
  }
  AuditFilter window;
  window.since = 20;
  window.until = 40;
  KW_ASSERT_OK_AND_ASSIGN(std::vector<AuditEvent> in_window, store_->ListAudit(window));
  ASSERT_EQ(in_window.size(), 3u);
  EXPECT_EQ(in_window.front().time, 40);
  EXPECT_EQ(in_window.back().time, 20);

  AuditFilter newest;
  newest.limit = 2;
  KW_ASSERT_OK_AND_ASSIGN(std::vector<AuditEvent> two, store_->ListAudit(newest));
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].time, 50);
  EXPECT_EQ(two[1].time, 40);

  AuditFilter empty_window;
  empty_window.since = 41;
  empty_window.until = 49;
  KW_ASSERT_OK_AND_ASSIGN(std::vector<AuditEvent> none, store_->ListAudit(empty_window));
  EXPECT_TRUE(none.empty());
}

TEST_P(StoreConformanceTest, AuditEventsOutliveTheUserTheyName) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("alice")));
  KW_ASSERT_OK(
      store_->AppendAudit(MakeAudit(1, "alice", AuditAction::kKeyCreate, "alice", "k")).status());
  KW_ASSERT_OK(store_->DeleteUser("alice"));
  KW_ASSERT_OK(
      store_->AppendAudit(MakeAudit(2, "admin", AuditAction::kUserDelete, "alice")).status());
  AuditFilter alice;
  alice.user = "alice";
  KW_ASSERT_OK_AND_ASSIGN(std::vector<AuditEvent> events, store_->ListAudit(alice));
  EXPECT_EQ(events.size(), 2u);
}

TEST_P(StoreConformanceTest, AuditTextRoundTripsByteForByteAndOddFiltersMatchNothing) {
  AuditEvent event = MakeAudit(1, "o'brien\";--", AuditAction::kKeyDelete, "o'brien\";--",
                               "клю́ч 🗝️ Robert'); DROP TABLE audit_events;--");
  event.success = false;
  event.reason = "a \"quoted\" reason: 100%";
  event.detail = "scopes=a'b tags=\"x\" 名前 🔑 from=;--";
  KW_ASSERT_OK(store_->AppendAudit(event).status());
  AuditFilter of_user;
  of_user.user = event.actor;
  KW_ASSERT_OK_AND_ASSIGN(std::vector<AuditEvent> events, store_->ListAudit(of_user));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].actor, event.actor);
  EXPECT_EQ(events[0].user, event.user);
  EXPECT_EQ(events[0].target, event.target);
  EXPECT_EQ(events[0].reason, event.reason);
  EXPECT_EQ(events[0].detail, event.detail);
  for (const std::string& bad : {std::string("o\xff"), std::string("o\0", 2)}) {
    AuditFilter filter;
    filter.user = bad;
    KW_EXPECT_CODE(store_->ListAudit(filter), StatusCode::kInvalidArgument);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformanceTest, ::testing::ValuesIn(Backends()),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace keyward
