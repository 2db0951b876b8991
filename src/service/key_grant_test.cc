// Never more than the creator: the grant KeyService::Create gives a new key (validated,
// inherited from a limited creator, refused when it exceeds the creator or what the owner may
// hold, with nothing stored), and what a limited key may reveal.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "service/grant_test_world.h"

namespace keyward {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::optional<std::vector<std::string>> Tags(std::vector<std::string> tags) { return tags; }

// A grant as NormalizeGrant leaves it: give the lists sorted.
Grant Limited(std::vector<std::string> scopes, std::optional<std::vector<std::string>> tags,
              std::vector<std::string> addresses) {
  Grant grant;
  grant.scopes = std::move(scopes);
  grant.tags = std::move(tags);
  grant.allowed_addresses = std::move(addresses);
  return grant;
}

TEST_F(GrantTest, AMalformedGrantIsInvalidArgumentAndNothingIsStored) {
  const std::vector<NewKey> bad = {
      {.scopes = {"keys:reed"}},
      {.scopes = {"Minerva Query"}},
      {.tags = std::vector<std::string>{"no spaces"}},
      {.allowed_addresses = std::vector<std::string>{"10.0.0.0/33"}},
      {.allowed_addresses = std::vector<std::string>{"::/129"}},
      {.allowed_addresses = std::vector<std::string>{"1.2.3"}},
      {.allowed_addresses = std::vector<std::string>(10'000, "10.0.0.0/8")},
  };
  for (const NewKey& in : bad) {
    EXPECT_THAT(keys_->Create(admin_, "alice", in), StatusIs(StatusCode::kInvalidArgument));
  }
  EXPECT_THAT(KeyNames("alice"), IsEmpty());
}

TEST_F(GrantTest, TheGrantIsNormalizedKeptInTheViewAndAudited) {
  KW_ASSERT_OK_AND_ASSIGN(
      KeyView key,
      keys_->Create(admin_, "alice",
                    {.name = "ci",
                     .scopes = {"minerva:query", "keys:read", "keys:read"},
                     .tags = std::vector<std::string>{"team:y", "team:x"},
                     .allowed_addresses = std::vector<std::string>{"10.1.2.3", "10.0.0.0/8"}}));
  const Grant expected = Limited({"keys:read", "minerva:query"}, Tags({"team:x", "team:y"}),
                                 {"10.0.0.0/8", "10.1.2.3/32"});
  EXPECT_EQ(key.grant, expected);
  const AuditEvent created = Events().back();
  EXPECT_EQ(created.action, AuditAction::kKeyCreate);
  EXPECT_TRUE(created.success);
  EXPECT_EQ(created.detail, DescribeGrant(expected));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord stored, store_->GetKey("alice", "ci"));
  EXPECT_EQ(stored.grant, expected);
}

TEST_F(GrantTest, ALimitedKeyPassesItsLimitsOnToWhatIsLeftOut) {
  const Principal creator = KeyCaller(
      alice_, Limited({"keys:read", "keys:write"}, Tags({"team:gone", "team:x"}), {"10.0.0.0/8"}),
      600);
  KW_ASSERT_OK_AND_ASSIGN(KeyView child, keys_->Create(creator, "me", {.name = "child"}));
  // No scopes, the creator's tags that alice holds, its address ranges, its expiry.
  EXPECT_EQ(child.grant, Limited({}, Tags({"team:x"}), {"10.0.0.0/8"}));
  EXPECT_EQ(child.expires_at, creator.expires_at);
  // Given explicitly, narrower is fine.
  KW_ASSERT_OK_AND_ASSIGN(
      KeyView narrow,
      keys_->Create(creator, "me",
                    {.name = "narrow",
                     .duration = "5m",
                     .scopes = {"keys:read"},
                     .tags = std::vector<std::string>{},
                     .allowed_addresses = std::vector<std::string>{"10.1.0.0/16"}}));
  EXPECT_EQ(narrow.grant, Limited({"keys:read"}, Tags({}), {"10.1.0.0/16"}));
  EXPECT_EQ(narrow.expires_at, clock_.Now() + 300);

  // A key with all of the owner's tags, from anywhere, passes that on.
  const Principal open = KeyCaller(alice_, Limited({"keys:write"}, std::nullopt, {}));
  KW_ASSERT_OK_AND_ASSIGN(KeyView live, keys_->Create(open, "me", {.name = "live"}));
  EXPECT_EQ(live.grant, Grant{});
}

TEST_F(GrantTest, AKeyCreatesNothingBroaderThanItself) {
  const Principal creator =
      KeyCaller(alice_, Limited({"keys:write", "minerva:query"}, Tags({"team:x"}), {"10.0.0.0/8"}));
  struct Case {
    std::string what;
    NewKey in;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"scope",
       {.scopes = {"keys:reveal"}},
       "scope keys:reveal is not in the creating key's grant"},
      {"service scope",
       {.scopes = {"pulsar:produce"}},
       "scope pulsar:produce is not in the creating key's grant"},
      {"tag",
       {.tags = std::vector<std::string>{"team:y"}},
       "tag team:y is not in the creating key"},
      {"all tags", {.tags = std::nullopt, .allowed_addresses = std::nullopt}, ""},  // inherits: ok
      {"address",
       {.allowed_addresses = std::vector<std::string>{"192.168.0.0/16"}},
       "address range 192.168.0.0/16 is not in the creating key's grant"},
      {"wider address",
       {.allowed_addresses = std::vector<std::string>{"0.0.0.0/0"}},
       "address range 0.0.0.0/0 is not in the creating key's grant"},
      {"anywhere",
       {.allowed_addresses = std::vector<std::string>{}},
       "use from any address is not in the creating key's grant"},
      {"expiry", {.duration = "9999h"}, "duration 9999h outlives the creating key (expires "},
      {"expiry by a second", {.duration = "3601s"}, "duration 3601s outlives the creating key"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto created = keys_->Create(creator, "me", c.in);
    if (c.message.empty()) {
      EXPECT_THAT(created, IsOk());
      if (created.ok()) KW_EXPECT_OK(keys_->Delete(alice_, "me", created->name));
      continue;
    }
    EXPECT_THAT(created, StatusIs(StatusCode::kPermissionDenied, HasSubstr(c.message)));
  }
  EXPECT_THAT(KeyNames("alice"), IsEmpty());
  // Each refusal is on record as a failed create, without a grant.
  for (const AuditEvent& e : Events()) {
    if (e.action == AuditAction::kKeyCreate && !e.success) {
      EXPECT_THAT(e.detail, IsEmpty());
    }
  }
}

TEST_F(GrantTest, AKeyHoldsOnlyWhatItsOwnerMay) {
  // Tags the owner does not hold, even from a session with full power.
  EXPECT_THAT(
      keys_->Create(admin_, "alice", {.tags = std::vector<std::string>{"team:x", "team:z"}}),
      StatusIs(StatusCode::kPermissionDenied, "tag team:z is not one of alice's tags"));
  EXPECT_THAT(
      keys_->Create(admin_, "alice", {.tags = std::vector<std::string>{std::string(kOperatorTag)}}),
      StatusIs(StatusCode::kPermissionDenied, "tag roles:id:operator is not one of alice's tags"));
  // users:* scopes need an operator owner, and a key presenting the operator tag.
  for (const char* scope : {"users:read", "users:write"}) {
    EXPECT_THAT(keys_->Create(admin_, "alice", {.scopes = {scope}}),
                StatusIs(StatusCode::kPermissionDenied,
                         "scope " + std::string(scope) + " needs an operator owner"));
  }
  EXPECT_THAT(
      keys_->Create(admin_, "me", {.scopes = {"users:write"}, .tags = std::vector<std::string>{}}),
      StatusIs(StatusCode::kPermissionDenied,
               "scope users:write needs the tag roles:id:operator among the key's tags"));
  EXPECT_THAT(KeyNames("alice"), IsEmpty());
  EXPECT_THAT(KeyNames("admin"), IsEmpty());
  EXPECT_THAT(keys_->Create(admin_, "me", {.name = "ops", .scopes = {"users:write"}}), IsOk());
}

// An operator's key creating for another user: users:write, the target's limits, and its own.
TEST_F(GrantTest, AnOperatorsKeyGivesAnotherUserOnlyWhatBothAllow) {
  const Principal op = KeyCaller(
      admin_, Limited({"keys:read", "keys:write", "users:write"}, std::nullopt, {}), 7200);
  EXPECT_THAT(keys_->Create(op, "alice", {.scopes = {"keys:reveal"}}),
              StatusIs(StatusCode::kPermissionDenied,
                       "scope keys:reveal is not in the creating key's grant"));
  EXPECT_THAT(keys_->Create(op, "alice", {.scopes = {"users:write"}}),
              StatusIs(StatusCode::kPermissionDenied, "scope users:write needs an operator owner"));
  EXPECT_THAT(keys_->Create(op, "alice", {.duration = "3h"}),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("outlives the creating key")));
  EXPECT_THAT(KeyNames("alice"), IsEmpty());
  KW_ASSERT_OK_AND_ASSIGN(
      KeyView made, keys_->Create(op, "alice", {.name = "for-alice", .scopes = {"keys:read"}}));
  EXPECT_EQ(made.grant, Limited({"keys:read"}, std::nullopt, {}));
  EXPECT_EQ(made.expires_at, op.expires_at);  // the default validity, cut to the creator's
}

// A limited key reveals only keys within its grant that expire no later; in a list, the others
// stay masked and are not recorded as revealed.
TEST_F(GrantTest, ALimitedKeyRevealsOnlyNarrowerKeys) {
  // Keys of alice (made by a full-power caller) and the one thing each has beyond `narrow`.
  const std::vector<std::pair<std::string, NewKey>> made = {
      {"narrow", {.duration = "1h", .scopes = {"keys:read"}, .tags = Tags({"team:x"})}},
      {"broad",
       {.duration = "1h", .scopes = {"keys:read", "keys:write"}, .tags = Tags({"team:x"})}},
      {"all-tags", {.duration = "1h", .tags = std::nullopt}},  // every tag alice will hold
      {"longer", {.duration = "3h", .tags = Tags({"team:x"})}},
  };
  std::map<std::string, std::string> tokens;
  for (auto [name, in] : made) {
    in.name = name;
    KW_ASSERT_OK_AND_ASSIGN(KeyView key, keys_->Create(admin_, "alice", in));
    tokens[name] = key.token;
  }
  const Principal revealer = KeyCaller(
      alice_, Limited({"keys:read", "keys:reveal"}, Tags({"team:x", "team:y"}), {}), 7200);
  KW_ASSERT_OK_AND_ASSIGN(KeyView shown, keys_->Reveal(revealer, "me", "narrow"));
  EXPECT_EQ(shown.token, tokens["narrow"]);
  EXPECT_EQ(shown.grant, Limited({"keys:read"}, Tags({"team:x"}), {}));
  EXPECT_THAT(keys_->Reveal(revealer, "me", "broad"),
              StatusIs(StatusCode::kPermissionDenied,
                       "key broad has a broader grant than this key: scope keys:write is not in "
                       "this key's grant"));
  EXPECT_THAT(keys_->Reveal(revealer, "me", "all-tags"),
              StatusIs(StatusCode::kPermissionDenied,
                       "key all-tags has a broader grant than this key: all of the owner's tags "
                       "is not in this key's grant"));
  EXPECT_THAT(keys_->Reveal(revealer, "me", "longer"),
              StatusIs(StatusCode::kPermissionDenied,
                       "key longer has a broader grant than this key: it expires after this key"));

  const std::size_t before = Events().size();
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyView> listed, keys_->List(revealer, "me", true));
  ASSERT_EQ(listed.size(), made.size());
  for (const KeyView& key : listed) {
    const std::string& token = tokens[key.name];
    EXPECT_EQ(key.token, key.name == "narrow" ? token : MaskKey(token)) << key.name;
  }
  std::vector<std::string> revealed;
  const std::vector<AuditEvent> events = Events();
  for (std::size_t i = before; i < events.size(); ++i) revealed.push_back(events[i].target);
  EXPECT_THAT(revealed, ElementsAre("narrow"));

  // A full-access key (made before scopes) reveals every one.
  EXPECT_THAT(keys_->Reveal(KeyCaller(alice_, FullAccess()), "me", "broad"), IsOk());
}

}  // namespace
}  // namespace keyward
