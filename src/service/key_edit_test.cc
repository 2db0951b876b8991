// Issue 15's settings of a key: what Create stores, every rule of Update (PATCH), listing with
// expiring_within, and the events' payloads — on a real SQLite store with a hand-moved clock.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>
#include <vector>

#include "core/api_key.h"
#include "service/key_events.h"
#include "service/lifecycle_test_world.h"

namespace keyward {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class KeyEditTest : public LifecycleTest {
 protected:
  Result<KeyView> Edit(const Caller& caller, std::string_view name, const KeyEdit& edit) {
    return keys_->Update(caller, "alice", name, edit);
  }
  std::string In(std::int64_t seconds) { return FormatRfc3339(clock_.Now() + seconds); }
};

TEST_F(KeyEditTest, CreateStoresTheNewSettingsAndAnnouncesTheKey) {
  const UnixSeconds now = clock_.Now();
  KW_ASSERT_OK_AND_ASSIGN(KeyView view, keys_->Create(admin_, "alice",
                                                      {.name = "ci",
                                                       .duration = "48h",
                                                       .description = "the CI runner",
                                                       .idle_timeout = "30d",
                                                       .on_reuse = "revoke"}));
  EXPECT_EQ(view.description, "the CI runner");
  EXPECT_EQ(view.idle_timeout, 30 * 86400);
  EXPECT_TRUE(view.revoke_on_reuse);
  EXPECT_FALSE(view.disabled);
  EXPECT_EQ(view.status, "active");
  EXPECT_EQ(view.rotated_at, 0);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord stored, store_->GetKey("alice", "ci"));
  EXPECT_EQ(stored.validity, 48 * 3600);
  EXPECT_EQ(stored.description, "the CI runner");
  EXPECT_EQ(stored.idle_timeout, 30 * 86400);
  EXPECT_TRUE(stored.revoke_on_reuse);

  auto events = NewEvents();
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].type, "key.created");
  EXPECT_EQ(events[0].time, now);
  EXPECT_EQ(events[0].user_id, "alice");
  EXPECT_EQ(events[0].data, R"({"user":"alice","key":"ci","expiration":")" +
                                FormatRfc3339(now + 48 * 3600) + R"("})");
  EXPECT_EQ(EventPayload(events[0]), R"({"type":"key.created","timestamp":")" + FormatRfc3339(now) +
                                         R"(","data":)" + events[0].data + "}");
  EXPECT_EQ(events[0].data.find(view.token.substr(0, 12)), std::string::npos);

  KW_ASSERT_OK_AND_ASSIGN(view, keys_->Create(admin_, "alice", {.idle_timeout = "0s"}));
  EXPECT_EQ(view.idle_timeout, 0);
  EXPECT_FALSE(view.revoke_on_reuse);
  EXPECT_THAT(keys_->Create(admin_, "alice", {.description = std::string(1025, 'x')}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("1024")));
  EXPECT_THAT(keys_->Create(admin_, "alice", {.description = "a\nb"}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(keys_->Create(admin_, "alice", {.idle_timeout = "never"}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(keys_->Create(admin_, "alice", {.idle_timeout = "10000h"}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(keys_->Create(admin_, "alice", {.on_reuse = "panic"}),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(KeyEditTest, UpdateChangesWhatItNamesAndKeepsTheRest) {
  AliceKey({.name = "ci", .scopes = {"keys:read", "pulsar:produce"}});
  AliceKey({.name = "taken"});
  NewEvents();
  KW_ASSERT_OK_AND_ASSIGN(KeyView view, Edit(admin_, "ci",
                                             {.name = "ci2",
                                              .description = "moved",
                                              .expiration = In(3600),
                                              .scopes = std::vector<std::string>{"keys:read"},
                                              .idle_timeout = "1h",
                                              .on_reuse = "revoke"}));
  EXPECT_EQ(view.name, "ci2");
  EXPECT_EQ(view.description, "moved");
  EXPECT_EQ(view.expires_at, clock_.Now() + 3600);
  EXPECT_THAT(view.grant.scopes, ElementsAre("keys:read"));
  EXPECT_EQ(view.idle_timeout, 3600);
  EXPECT_TRUE(view.revoke_on_reuse);
  EXPECT_THAT(store_->GetKey("alice", "ci"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(NewEventTypes(), ::testing::IsEmpty());  // no event for an edit
  auto updates = Audited(AuditAction::kKeyUpdate);
  ASSERT_THAT(updates, SizeIs(1));
  EXPECT_EQ(updates[0].target, "ci");
  EXPECT_THAT(updates[0].detail, HasSubstr("name=ci2"));
  EXPECT_THAT(updates[0].detail, HasSubstr("grant=scopes=keys:read"));

  EXPECT_THAT(Edit(admin_, "ci2", {.name = "taken"}), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(Edit(admin_, "nope", {.description = ""}), StatusIs(StatusCode::kNotFound));
  KW_ASSERT_OK_AND_ASSIGN(view, Edit(admin_, "ci2", {.idle_timeout = "0s", .on_reuse = "keep"}));
  EXPECT_EQ(view.idle_timeout, 0);
  EXPECT_FALSE(view.revoke_on_reuse);
}

TEST_F(KeyEditTest, MalformedEditsAreRefused) {
  AliceKey({.name = "ci"});
  auto bad = [&](const KeyEdit& edit) { return Edit(admin_, "ci", edit); };
  EXPECT_THAT(bad({}), StatusIs(StatusCode::kInvalidArgument, "nothing to change"));
  EXPECT_THAT(bad({.name = "a/b"}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(bad({.description = std::string(2000, 'd')}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(bad({.expiration = "tomorrow"}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(bad({.expiration = In(0)}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(bad({.expiration = In(options_.max_validity + 1)}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(bad({.scopes = std::vector<std::string>{"keys:reed"}}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(bad({.idle_timeout = "x"}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(bad({.on_reuse = "always"}), StatusIs(StatusCode::kInvalidArgument));
  KW_EXPECT_OK(bad({.expiration = In(options_.max_validity)}).status());
}

TEST_F(KeyEditTest, AGrantMayOnlyNarrow) {
  AliceKey({.name = "ci",
            .scopes = {"pulsar:produce"},
            .tags = std::vector<std::string>{"team:x"},
            .allowed_addresses = std::vector<std::string>{"10.0.0.0/8"}});
  EXPECT_THAT(Edit(admin_, "ci", {.scopes = std::vector<std::string>{"pulsar:consume"}}),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("the key's current grant")));
  EXPECT_THAT(Edit(admin_, "ci", {.tags = std::vector<std::string>{"team:x", "team:y"}}),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(Edit(admin_, "ci", {.allowed_addresses = std::vector<std::string>{}}),
              StatusIs(StatusCode::kPermissionDenied));
  KW_ASSERT_OK_AND_ASSIGN(KeyView view,
                          Edit(admin_, "ci",
                               {.scopes = std::vector<std::string>{},
                                .allowed_addresses = std::vector<std::string>{"10.1.0.0/16"}}));
  EXPECT_TRUE(view.grant.scopes.empty());
  EXPECT_THAT(view.grant.allowed_addresses, ElementsAre("10.1.0.0/16"));
  EXPECT_EQ(view.grant.tags, std::vector<std::string>{"team:x"});

  // A key made before scopes (full access) narrows from anything.
  KeyRecord legacy;
  legacy.user_id = "alice";
  legacy.name = "legacy";
  legacy.hash = HashKey(GenerateKey("kw"));
  legacy.masked = "kw_old…";
  legacy.created_at = clock_.Now();
  legacy.expires_at = clock_.Now() + 3600;
  legacy.grant.full_access = true;
  KW_ASSERT_OK(store_->CreateKey(legacy));
  KW_ASSERT_OK_AND_ASSIGN(
      view, Edit(admin_, "legacy", {.scopes = std::vector<std::string>{"keys:read"}}));
  EXPECT_FALSE(view.grant.full_access);
  EXPECT_THAT(view.grant.scopes, ElementsAre("keys:read"));
  EXPECT_EQ(view.grant.tags, std::nullopt);
}

TEST_F(KeyEditTest, AKeyEditingItselfMayOnlyShortenItsExpiration) {
  const std::string token =
      AliceKey({.name = "self", .duration = "2h", .scopes = {"keys:read", "keys:write"}});
  KW_ASSERT_OK_AND_ASSIGN(Principal self, auth_->Authenticate(token));
  EXPECT_THAT(Edit(self, "self", {.expiration = In(3 * 3600)}),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("earlier")));
  KW_ASSERT_OK_AND_ASSIGN(KeyView view, Edit(self, "self", {.expiration = In(3600)}));
  EXPECT_EQ(view.expires_at, clock_.Now() + 3600);
  EXPECT_THAT(Audited(AuditAction::kKeyUpdate), SizeIs(2));  // failures are on record too
}

TEST_F(KeyEditTest, ALimitedCallerKeyExtendsNothingBeyondItself) {
  AliceKey({.name = "ci", .duration = "2h", .scopes = {"pulsar:produce"}});
  AliceKey({.name = "small", .duration = "2h", .scopes = {"keys:read"}});
  Principal caller = KeyCaller(alice_, Scopes({"keys:read", "keys:write"}), 4 * 3600);
  EXPECT_THAT(Edit(caller, "ci", {.expiration = In(5 * 3600)}),
              StatusIs(StatusCode::kPermissionDenied));
  // A later expiration widens the key: only one the caller could reveal (within its grant).
  EXPECT_THAT(Edit(caller, "ci", {.expiration = In(3 * 3600)}),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("broader grant")));
  KW_EXPECT_OK(Edit(caller, "ci", {.expiration = In(3600)}).status());  // shortening is fine
  KW_ASSERT_OK_AND_ASSIGN(KeyView view, Edit(caller, "small", {.expiration = In(3 * 3600)}));
  EXPECT_EQ(view.expires_at, clock_.Now() + 3 * 3600);
  // Disabling is never an escalation; enabling a key broader than the caller is.
  KW_ASSERT_OK(Edit(caller, "ci", {.disabled = true}).status());
  EXPECT_THAT(Edit(caller, "ci", {.disabled = false}),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("broader grant")));
  KW_ASSERT_OK(Edit(caller, "small", {.disabled = true}).status());
  KW_EXPECT_OK(Edit(caller, "small", {.disabled = false}).status());
  // Scopes and reach as for any key call.
  Principal reader = KeyCaller(alice_, Scopes({"keys:read"}));
  EXPECT_THAT(Edit(reader, "small", {.description = "x"}),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("keys:write")));
  EXPECT_THAT(keys_->Update(alice_, "admin", "small", {.description = "x"}),
              StatusIs(StatusCode::kNotFound));
}

// A key may shorten, disable and tighten itself, never widen itself: each widening refused.
TEST_F(KeyEditTest, AKeyEditingItselfWidensNothing) {
  const std::string token = AliceKey({.name = "self",
                                      .duration = "2h",
                                      .scopes = {"keys:read", "keys:write"},
                                      .idle_timeout = "1h",
                                      .on_reuse = "revoke"});
  KW_ASSERT_OK_AND_ASSIGN(Principal self, auth_->Authenticate(token));
  auto refused = StatusIs(StatusCode::kPermissionDenied, HasSubstr("tighten itself"));
  EXPECT_THAT(Edit(self, "self", {.idle_timeout = "0s"}), refused);
  EXPECT_THAT(Edit(self, "self", {.idle_timeout = "2h"}), refused);
  EXPECT_THAT(Edit(self, "self", {.on_reuse = "keep"}), refused);
  KW_ASSERT_OK(keys_->Update(admin_, "alice", "self", {.disabled = true}).status());
  EXPECT_THAT(Edit(self, "self", {.disabled = false}), refused);
  KW_ASSERT_OK(keys_->Update(admin_, "alice", "self", {.disabled = false}).status());
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord stored, store_->GetKey("alice", "self"));
  EXPECT_EQ(stored.idle_timeout, 3600);
  EXPECT_TRUE(stored.revoke_on_reuse);
  // Tightening is fine.
  KW_ASSERT_OK_AND_ASSIGN(KeyView view,
                          Edit(self, "self", {.idle_timeout = "10m", .on_reuse = "revoke"}));
  EXPECT_EQ(view.idle_timeout, 600);
  KW_ASSERT_OK(Edit(self, "self", {.disabled = true}).status());
}

// A limited caller key widens only keys it could reveal: an idle_timeout off or longer and
// on_reuse back to keep are refused on a broader key, allowed on one within its grant.
TEST_F(KeyEditTest, ALimitedCallerKeyLoosensOnlyKeysItCouldReveal) {
  AliceKey({.name = "ci",
            .duration = "2h",
            .scopes = {"pulsar:produce"},
            .idle_timeout = "1h",
            .on_reuse = "revoke"});
  AliceKey({.name = "small",
            .duration = "2h",
            .scopes = {"keys:read"},
            .idle_timeout = "1h",
            .on_reuse = "revoke"});
  Principal caller = KeyCaller(alice_, Scopes({"keys:read", "keys:write"}), 4 * 3600);
  auto broader = StatusIs(StatusCode::kPermissionDenied, HasSubstr("broader grant"));
  EXPECT_THAT(Edit(caller, "ci", {.idle_timeout = "0s"}), broader);
  EXPECT_THAT(Edit(caller, "ci", {.idle_timeout = "2h"}), broader);
  EXPECT_THAT(Edit(caller, "ci", {.on_reuse = "keep"}), broader);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord stored, store_->GetKey("alice", "ci"));
  EXPECT_EQ(stored.idle_timeout, 3600);
  EXPECT_TRUE(stored.revoke_on_reuse);
  // Tightening a broader key is fine; loosening one within the caller too.
  KW_EXPECT_OK(Edit(caller, "ci", {.idle_timeout = "10m"}).status());
  KW_ASSERT_OK_AND_ASSIGN(KeyView view,
                          Edit(caller, "small", {.idle_timeout = "0s", .on_reuse = "keep"}));
  EXPECT_EQ(view.idle_timeout, 0);
  EXPECT_FALSE(view.revoke_on_reuse);
}

TEST_F(KeyEditTest, ExpiringWithinListsKeysNotYetExpiredThatExpireSoon) {
  AliceKey({.name = "hour", .duration = "1h"});
  AliceKey({.name = "two-days", .duration = "48h"});
  AliceKey({.name = "ten-days", .duration = "240h"});
  AliceKey({.name = "gone", .duration = "10s"});
  clock_.Advance(10);
  KW_ASSERT_OK_AND_ASSIGN(auto soon, keys_->List(admin_, "alice", false, 7 * 86400));
  std::vector<std::string> names;
  names.reserve(soon.size());
  for (const KeyView& v : soon) names.push_back(v.name);
  EXPECT_THAT(names, ElementsAre("hour", "two-days"));
  KW_ASSERT_OK_AND_ASSIGN(auto all, keys_->List(admin_, "alice", true, std::nullopt));
  EXPECT_THAT(all, SizeIs(4));
  for (const KeyView& v : all) EXPECT_EQ(v.status == "expired", v.name == "gone") << v.name;
  EXPECT_THAT(keys_->List(admin_, "alice", false, -1), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace keyward

#include "store/forwarding_store.h"

namespace keyward {
namespace {

// A store in which an operator's edit lands between a PATCH's read and its write.
class InterleavingStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  std::function<void()> before_update;
  Status UpdateKey(std::string_view user_id, std::string_view name, std::int64_t expected_revision,
                   const KeyUpdate& update, const EventList& events) override {
    if (auto f = std::exchange(before_update, nullptr)) f();
    return ForwardingStore::UpdateKey(user_id, name, expected_revision, update, events);
  }
};

TEST_F(KeyEditTest, ReviewANarrowingLandingMidPatchIsNotUndone) {
  const std::string token = AliceKey(
      {.name = "k", .scopes = {"keys:read", "keys:write", "pulsar:produce", "pulsar:consume"}});
  InterleavingStore window(*store_);
  KeyService racing(window, master_.get(), options_, clock_, &cache_, audit_.get());
  KW_ASSERT_OK_AND_ASSIGN(Principal self, auth_->Authenticate(token));
  window.before_update = [&] {
    // The operator removes everything but keys:read.
    ASSERT_TRUE(
        keys_->Update(admin_, "alice", "k", {.scopes = std::vector<std::string>{"keys:read"}})
            .ok());
  };
  // The key re-asserts the grant it read (within that stale grant).
  auto r = racing.Update(
      self, "alice", "k",
      {.scopes = std::vector<std::string>{"keys:read", "keys:write", "pulsar:produce"}});
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord after, store_->GetKey("alice", "k"));
  EXPECT_THAT(after.grant.scopes, ElementsAre("keys:read")) << "status " << r.status().ToString();
}

}  // namespace
}  // namespace keyward
