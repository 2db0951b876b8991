// What an API key may call: each use case's scope (the route table of docs/api.md, "Scopes"),
// operator powers needing the scope and the operator tag among the key's tags, and what the
// Authenticator makes of a stored key (grant, presented tags, networks).
#include <gtest/gtest.h>

#include "service/grant_test_world.h"

namespace keyward {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A refusal for the want of `scope`, with the message that names it.
auto Lacks(std::string_view scope) {
  return StatusIs(StatusCode::kPermissionDenied,
                  "this API key lacks the scope " + std::string(scope));
}

TEST_F(GrantTest, AKeyWithoutScopesReachesNoUseCase) {
  KW_ASSERT_OK(keys_->Create(alice_, "me", {.name = "other"}).status());
  const Principal bare = KeyCaller(alice_, Grant{});
  EXPECT_THAT(keys_->List(bare, "me", false), Lacks(scope::kKeysRead));
  EXPECT_THAT(keys_->Create(bare, "me", {.duration = "9999h"}), Lacks(scope::kKeysWrite));
  EXPECT_THAT(keys_->Reveal(bare, "me", "other"), Lacks(scope::kKeysReveal));
  EXPECT_THAT(keys_->Delete(bare, "me", "other"), Lacks(scope::kKeysWrite));
  EXPECT_THAT(audit_->List(bare, {}), Lacks(scope::kAuditRead));
  EXPECT_THAT(users_->Get(bare, "me"), Lacks(scope::kUsersRead));
  EXPECT_THAT(KeyNames("alice"), ElementsAre("other"));

  // An operator's key without scopes: no user management either.
  const Principal op = KeyCaller(admin_, Grant{});
  EXPECT_THAT(users_->List(op), Lacks(scope::kUsersRead));
  EXPECT_THAT(users_->Create(op, NewUser{"mallory", "M", "person", std::nullopt}),
              Lacks(scope::kUsersWrite));
  EXPECT_THAT(users_->AddTag(op, "alice", kOperatorTag), Lacks(scope::kUsersWrite));
  EXPECT_THAT(users_->RemoveTag(op, "alice", "team:x"), Lacks(scope::kUsersWrite));
  EXPECT_THAT(users_->Delete(op, "alice"), Lacks(scope::kUsersWrite));
  EXPECT_THAT(store_->GetUser("mallory"), StatusIs(StatusCode::kNotFound));
  KW_ASSERT_OK_AND_ASSIGN(User alice, store_->GetUser("alice"));
  EXPECT_FALSE(alice.IsOperator());
}

TEST_F(GrantTest, EachKeyUseCaseOpensWithItsScope) {
  KW_ASSERT_OK(keys_->Create(alice_, "me", {.name = "narrow"}).status());
  KW_ASSERT_OK(
      keys_->Create(alice_, "me", {.name = "broad", .scopes = {"audit:read", "keys:reveal"}})
          .status());
  EXPECT_THAT(keys_->List(KeyCaller(alice_, Scopes({"keys:read"})), "me", false), IsOk());
  // Listing in full needs keys:reveal as well.
  EXPECT_THAT(keys_->List(KeyCaller(alice_, Scopes({"keys:read"})), "me", true),
              Lacks(scope::kKeysReveal));
  EXPECT_THAT(keys_->List(KeyCaller(alice_, Scopes({"keys:reveal"})), "me", true),
              Lacks(scope::kKeysRead));
  EXPECT_THAT(keys_->List(KeyCaller(alice_, Scopes({"keys:read", "keys:reveal"})), "me", true),
              IsOk());
  EXPECT_THAT(keys_->Reveal(KeyCaller(alice_, Scopes({"keys:reveal"}), 86400 * 2), "me", "narrow"),
              IsOk());
  EXPECT_THAT(keys_->Create(KeyCaller(alice_, Scopes({"keys:write"})), "me", {.name = "new"}),
              IsOk());
  // Deleting any own key is no escalation: a key with keys:write alone deletes a broader one.
  EXPECT_THAT(keys_->Delete(KeyCaller(alice_, Scopes({"keys:write"})), "me", "broad"), IsOk());
  EXPECT_THAT(KeyNames("alice"), ElementsAre("narrow", "new"));
  KW_ASSERT_OK_AND_ASSIGN(auto own, audit_->List(KeyCaller(alice_, Scopes({"audit:read"})), {}));
  EXPECT_FALSE(own.empty());
}

TEST_F(GrantTest, OperatorPowersNeedTheScopeAndTheOperatorTag) {
  KW_ASSERT_OK(keys_->Create(alice_, "me", {.name = "alices"}).status());
  const Principal reader = KeyCaller(admin_, Scopes({"users:read"}));
  KW_ASSERT_OK_AND_ASSIGN(std::vector<User> users, users_->List(reader));
  EXPECT_EQ(users.size(), 2u);
  EXPECT_THAT(users_->Get(reader, "alice"), IsOk());
  EXPECT_THAT(users_->AddTag(reader, "alice", "team:z"), Lacks(scope::kUsersWrite));

  const Principal writer = KeyCaller(admin_, Scopes({"users:write"}));
  KW_ASSERT_OK(users_->Create(writer, NewUser{"carol", "C", "person", std::nullopt}).status());
  KW_ASSERT_OK(users_->AddTag(writer, "carol", "team:z").status());
  KW_ASSERT_OK(users_->RemoveTag(writer, "carol", "team:z").status());
  KW_ASSERT_OK(users_->Delete(writer, "carol"));

  // Another user's keys: the keys:* scope and the users:* one.
  EXPECT_THAT(keys_->List(KeyCaller(admin_, Scopes({"keys:read"})), "alice", false),
              Lacks(scope::kUsersRead));
  EXPECT_THAT(keys_->List(KeyCaller(admin_, Scopes({"keys:read", "users:read"})), "alice", false),
              IsOk());
  const Grant reveal_read = Scopes({"keys:reveal", "users:read"});
  EXPECT_THAT(keys_->Reveal(KeyCaller(admin_, reveal_read), "alice", "alices"),
              Lacks(scope::kUsersWrite));
  // A listing that reveals follows the reveal's rule, not the listing's.
  const Grant list_reveal_read = Scopes({"keys:read", "keys:reveal", "users:read"});
  EXPECT_THAT(keys_->List(KeyCaller(admin_, list_reveal_read), "alice", true),
              Lacks(scope::kUsersWrite));
  EXPECT_THAT(
      keys_->List(
          KeyCaller(admin_, Scopes({"keys:read", "keys:reveal", "users:read", "users:write"})),
          "alice", true),
      IsOk());
  EXPECT_THAT(
      keys_->Delete(KeyCaller(admin_, Scopes({"keys:write", "users:read"})), "alice", "alices"),
      Lacks(scope::kUsersWrite));
  EXPECT_THAT(keys_->Create(KeyCaller(admin_, Scopes({"keys:write"})), "alice", {}),
              Lacks(scope::kUsersWrite));
  EXPECT_THAT(
      keys_->Delete(KeyCaller(admin_, Scopes({"keys:write", "users:write"})), "alice", "alices"),
      IsOk());

  // An operator's key that does not present the operator tag has no operator powers, whatever
  // its scopes: other users' keys are then absent, user management refused.
  Grant untagged = Scopes({"audit:read", "keys:read", "users:read", "users:write"});
  untagged.tags = std::vector<std::string>{};
  const Principal plain = KeyCaller(admin_, untagged);
  EXPECT_FALSE(plain.user.IsOperator());
  EXPECT_THAT(keys_->List(plain, "alice", false), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(users_->List(plain), StatusIs(StatusCode::kPermissionDenied));
  AuditFilter alices;
  alices.user = "alice";
  EXPECT_THAT(audit_->List(plain, alices), StatusIs(StatusCode::kPermissionDenied));
}

// A plain user's key never reaches another user's keys: still NotFound, as without scopes.
TEST_F(GrantTest, OthersKeysStayAbsentForAPlainUsersKey) {
  const Grant all = Scopes({"keys:read", "keys:reveal", "keys:write"});
  EXPECT_THAT(keys_->List(KeyCaller(alice_, all), "admin", false), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(keys_->Create(KeyCaller(alice_, all), "admin", {}), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(KeyNames("admin"), IsEmpty());
}

TEST_F(GrantTest, SessionsAndFullAccessKeysNeedNoScope) {
  Principal session;
  session.user = alice_;
  session.via = KeyType::kSession;
  session.grant = FullAccess();  // as Authenticator makes a session's
  session.expires_at = clock_.Now() + 3600;
  EXPECT_THAT(keys_->Create(session, "me", {.name = "s", .duration = "9999h"}), IsOk());
  EXPECT_THAT(keys_->List(session, "me", true), IsOk());
  EXPECT_THAT(users_->Get(session, "me"), IsOk());
  const Principal legacy = KeyCaller(alice_, FullAccess());
  EXPECT_THAT(keys_->Reveal(legacy, "me", "s"), IsOk());
  EXPECT_THAT(keys_->Delete(legacy, "me", "s"), IsOk());
  EXPECT_THAT(audit_->List(legacy, {}), IsOk());
}

TEST_F(GrantTest, AuthenticatorGivesTheKeysGrantTagsAndNetworks) {
  Authenticator auth(*store_, options_, clock_, &cache_);
  KW_ASSERT_OK_AND_ASSIGN(KeyView limited,
                          keys_->Create(admin_, "alice",
                                        {.scopes = {"keys:read", "minerva:query"},
                                         .tags = std::vector<std::string>{"team:x"},
                                         .allowed_addresses = std::vector<std::string>{
                                             "10.0.0.0/8", "2001:db8::/32"}}));
  KW_ASSERT_OK_AND_ASSIGN(Principal who, auth.Authenticate(limited.token));
  EXPECT_EQ(who.grant, limited.grant);
  EXPECT_THAT(who.grant.scopes, ElementsAre("keys:read", "minerva:query"));
  EXPECT_THAT(who.user.tags, ElementsAre("team:x"));  // not team:y
  ASSERT_EQ(who.networks.size(), 2u);
  EXPECT_TRUE(AddressAllowed(who.networks, "10.9.8.7"));
  EXPECT_TRUE(AddressAllowed(who.networks, "2001:db8::1"));
  EXPECT_FALSE(AddressAllowed(who.networks, "192.168.1.1"));

  // The cached entry is the same Principal; a tag change re-reads it with live tags.
  KW_ASSERT_OK_AND_ASSIGN(Principal cached, auth.Authenticate(limited.token));
  EXPECT_EQ(cached.grant, limited.grant);
  EXPECT_THAT(cached.user.tags, ElementsAre("team:x"));
  KW_ASSERT_OK(users_->RemoveTag(admin_, "alice", "team:x").status());
  KW_ASSERT_OK_AND_ASSIGN(Principal untagged, auth.Authenticate(limited.token));
  EXPECT_THAT(untagged.user.tags, IsEmpty());
  EXPECT_EQ(untagged.grant, limited.grant);

  // A key with all of the owner's tags follows them.
  KW_ASSERT_OK_AND_ASSIGN(KeyView live, keys_->Create(admin_, "alice", {.name = "live"}));
  KW_ASSERT_OK(users_->AddTag(admin_, "alice", "team:z").status());
  KW_ASSERT_OK_AND_ASSIGN(Principal follows, auth.Authenticate(live.token));
  EXPECT_THAT(follows.user.tags, ElementsAre("team:y", "team:z"));
  EXPECT_THAT(follows.grant.scopes, IsEmpty());
  EXPECT_FALSE(follows.grant.full_access);
  EXPECT_TRUE(follows.networks.empty());
}

// Stored address ranges that do not parse (a damaged row) refuse the key: never "anywhere".
TEST_F(GrantTest, AKeyWhoseStoredRangesDoNotParseIsRefused) {
  Authenticator auth(*store_, options_, clock_, &cache_);
  std::string token = GenerateKey(options_.key_prefix);
  KeyRecord record;
  record.user_id = "alice";
  record.name = "damaged";
  record.hash = HashKey(token);
  record.masked = MaskKey(token);
  record.created_at = clock_.Now();
  record.expires_at = clock_.Now() + 3600;
  record.grant.allowed_addresses = {"10.0.0.0/33"};
  KW_ASSERT_OK(store_->CreateKey(record));
  EXPECT_THAT(auth.Authenticate(token), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(auth.Authenticate(token), StatusIs(StatusCode::kUnauthenticated));  // cached
}

TEST_F(GrantTest, SessionsHaveFullAccessAndAllTheirTags) {
  Authenticator auth(*store_, options_, clock_, &cache_);
  std::string token = GenerateKey(options_.key_prefix);
  KW_ASSERT_OK(store_->CreateSession(SessionRecord{.user_id = "alice",
                                                   .hash = HashKey(token),
                                                   .created_at = clock_.Now(),
                                                   .expires_at = clock_.Now() + 3600}));
  KW_ASSERT_OK_AND_ASSIGN(Principal who, auth.Authenticate(token));
  EXPECT_EQ(who.grant, FullAccess());
  EXPECT_THAT(who.user.tags, ElementsAre("team:x", "team:y"));
}

}  // namespace
}  // namespace keyward
