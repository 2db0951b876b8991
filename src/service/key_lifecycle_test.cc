// Rotation with a grace period, retirement when idle, reuse of a retired secret (reported, and
// revoking the key with on_reuse "revoke"), disabled keys — on a real SQLite store with a
// hand-moved clock, through the Authenticator and its cache as the server uses them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/api_key.h"
#include "service/lifecycle_test_world.h"
#include "service/token_test_world.h"

namespace keyward {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class KeyLifecycleTest : public LifecycleTest {
 protected:
  // The Principal of `token`, or the refusal.
  Result<Principal> Auth(const std::string& token) {
    return auth_->Authenticate(token, {.address = "10.9.8.7", .user_agent = "driver/1.0"});
  }

  // The last-used marks the cache holds go to the store, as LastUsedWriter does.
  void FlushLastUsed() { KW_ASSERT_OK(store_->TouchKeys(cache_.TakeUsed())); }

  Result<KeyView> Rotate(std::string_view name, const RotateRequest& request) {
    return keys_->Rotate(admin_, "alice", name, request);
  }
};

TEST_F(KeyLifecycleTest, BothSecretsPassDuringTheGraceThenTheOldOneIsReuse) {
  const std::string old_token = AliceKey({.name = "ci", .duration = "48h"});
  KW_ASSERT_OK(Auth(old_token).status());
  NewEvents();
  const UnixSeconds rotated = clock_.Now();
  KW_ASSERT_OK_AND_ASSIGN(KeyView view, Rotate("ci", {.grace = "1m"}));
  EXPECT_NE(view.token, old_token);
  EXPECT_TRUE(IsWellFormedKey(view.token, "kw"));
  EXPECT_EQ(view.expires_at, rotated + 48 * 3600);
  EXPECT_EQ(view.rotated_at, rotated);
  EXPECT_EQ(view.status, "rotating");
  ASSERT_THAT(view.old_secrets, SizeIs(1));
  EXPECT_EQ(view.old_secrets[0].masked, MaskKey(old_token));
  EXPECT_EQ(view.old_secrets[0].accepted_until, rotated + 60);

  auto events = NewEvents();
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].type, "key.rotated");
  EXPECT_EQ(events[0].user_id, "alice");
  auto data = Data(events[0]);
  EXPECT_EQ(data.at("key"), "ci");
  EXPECT_EQ(data.at("expiration").as_string(), FormatRfc3339(rotated + 48 * 3600));
  EXPECT_EQ(data.at("grace_until").as_string(), FormatRfc3339(rotated + 60));
  EXPECT_FALSE(data.contains("retire_when_idle"));
  auto rotations = Audited(AuditAction::kKeyRotate);
  ASSERT_THAT(rotations, SizeIs(1));
  EXPECT_EQ(rotations[0].detail, "grace=1m");

  // Both pass; the old one as itself, until the grace ends.
  KW_ASSERT_OK(Auth(view.token).status());
  KW_ASSERT_OK_AND_ASSIGN(Principal old, Auth(old_token));
  EXPECT_TRUE(old.old_secret);
  EXPECT_EQ(old.token_hash, HashKey(old_token));
  EXPECT_EQ(old.expires_at, rotated + 60);
  EXPECT_EQ(old.key_name, "ci");
  EXPECT_EQ(old.user.id, "alice");

  clock_.Advance(60);
  EXPECT_THAT(Auth(old_token), StatusIs(StatusCode::kUnauthenticated));
  // The refusal is cached: no second report within the cache's lifetime.
  EXPECT_EQ(auth_->TryCached(old_token, [](const CacheEntry&) { ADD_FAILURE(); }),
            KeyCache::Outcome::kInvalid);
  EXPECT_THAT(Auth(old_token), StatusIs(StatusCode::kUnauthenticated));
  KW_ASSERT_OK(Auth(view.token).status());

  events = NewEvents();
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].type, "key.reuse_detected");
  data = Data(events[0]);
  EXPECT_EQ(data.at("key"), "ci");
  EXPECT_EQ(data.at("address"), "10.9.8.7");
  EXPECT_EQ(data.at("user_agent"), "driver/1.0");
  EXPECT_FALSE(data.at("revoked").as_bool());
  auto reuses = Audited(AuditAction::kKeyReuse);
  ASSERT_THAT(reuses, SizeIs(1));
  EXPECT_EQ(reuses[0].actor, "system");
  EXPECT_EQ(reuses[0].address, "10.9.8.7");
  EXPECT_EQ(reuses[0].detail, "");

  KW_ASSERT_OK_AND_ASSIGN(auto listed, keys_->List(admin_, "alice", false));
  ASSERT_THAT(listed, SizeIs(1));
  EXPECT_EQ(listed[0].status, "active");
  EXPECT_THAT(listed[0].old_secrets, IsEmpty());
}

TEST_F(KeyLifecycleTest, ACachedOldSecretPastItsTimeGoesBackToTheStore) {
  const std::string old_token = AliceKey({.name = "ci"});
  KW_ASSERT_OK(Rotate("ci", {.grace = "3s"}).status());
  KW_ASSERT_OK(Auth(old_token).status());
  EXPECT_EQ(auth_->TryCached(old_token, [](const CacheEntry&) {}), KeyCache::Outcome::kValid);
  NewEvents();
  clock_.Advance(3);  // past the grace, not past the cache's lifetime
  EXPECT_EQ(auth_->TryCached(old_token, [](const CacheEntry&) { ADD_FAILURE(); }),
            KeyCache::Outcome::kMiss);
  EXPECT_THAT(Auth(old_token), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(NewEventTypes(), ElementsAre("key.reuse_detected"));
  EXPECT_EQ(auth_->TryCached(old_token, [](const CacheEntry&) { ADD_FAILURE(); }),
            KeyCache::Outcome::kInvalid);
}

TEST_F(KeyLifecycleTest, ReuseWithOnReuseRevokeDeletesTheKey) {
  const std::string old_token = AliceKey({.name = "ci", .on_reuse = "revoke"});
  KW_ASSERT_OK_AND_ASSIGN(KeyView view, Rotate("ci", {.grace = "0s"}));
  KW_ASSERT_OK(Auth(view.token).status());  // cached
  NewEvents();
  EXPECT_THAT(Auth(old_token), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(Auth(view.token), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(store_->GetKey("alice", "ci"), StatusIs(StatusCode::kNotFound));
  auto events = NewEvents();
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].type, "key.reuse_detected");
  EXPECT_TRUE(Data(events[0]).at("revoked").as_bool());
  EXPECT_EQ(events[1].type, "key.deleted");
  auto reuses = Audited(AuditAction::kKeyReuse);
  ASSERT_THAT(reuses, SizeIs(1));
  EXPECT_EQ(reuses[0].detail, "revoked");
}

// With no traffic, the old secret retires retire_when_idle plus one writer interval (the lag
// the store may learn of a use with) after the rotation: not a second later.
TEST_F(KeyLifecycleTest, RetireWhenIdleEndsTheGraceOfAnUnusedOldSecret) {
  options_.last_used_lag_seconds = 5;
  const std::string old_token = AliceKey({.name = "ci"});
  const std::string other_token = AliceKey({.name = "other"});
  KW_ASSERT_OK_AND_ASSIGN(KeyView view, Rotate("ci", {.grace = "1h", .retire_when_idle = "10s"}));
  KW_ASSERT_OK(Rotate("other", {.grace = "1h", .retire_when_idle = "10s"}).status());
  EXPECT_EQ(view.old_secrets.at(0).accepted_until, view.rotated_at + 15);
  EXPECT_EQ(Audited(AuditAction::kKeyRotate).at(0).detail, "grace=1h retire_when_idle=10s");
  EXPECT_EQ(Data(NewEvents().at(2)).at("retire_when_idle").as_int64(), 10);
  NewEvents();
  clock_.Advance(14);
  KW_ASSERT_OK(Auth(other_token).status());  // the last second it is accepted
  clock_.Advance(1);
  EXPECT_THAT(Auth(old_token), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(NewEventTypes(), ElementsAre("key.reuse_detected"));
  KW_ASSERT_OK_AND_ASSIGN(auto listed, keys_->List(admin_, "alice", false));
  for (const KeyView& key : listed) {
    if (key.name == "ci") {
      EXPECT_THAT(key.old_secrets, IsEmpty());
    }
  }
}

// After one use (cached, then written), unused again: refused at that use + retire_when_idle +
// the lag, though the use's cache entry would otherwise still be trusted.
TEST_F(KeyLifecycleTest, RetireWhenIdleCountsFromTheLastUseWrittenPlusTheLag) {
  options_.last_used_lag_seconds = 5;
  const std::string old_token = AliceKey({.name = "ci"});
  KW_ASSERT_OK(Rotate("ci", {.grace = "1h", .retire_when_idle = "10s"}).status());
  NewEvents();
  clock_.Advance(2);
  const UnixSeconds used = clock_.Now();
  KW_ASSERT_OK_AND_ASSIGN(Principal old, Auth(old_token));
  EXPECT_EQ(old.expires_at, used + 15);
  FlushLastUsed();
  clock_.Advance(14);
  KW_ASSERT_OK_AND_ASSIGN(auto listed, keys_->List(admin_, "alice", false));
  EXPECT_EQ(listed.at(0).old_secrets.at(0).accepted_until, used + 15);
  clock_.Advance(1);
  EXPECT_THAT(Auth(old_token), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(NewEventTypes(), ElementsAre("key.reuse_detected"));
}

TEST_F(KeyLifecycleTest, RetireWhenIdleKeepsAnOldSecretInUseToTheEndOfTheGrace) {
  const std::string old_token = AliceKey({.name = "ci"});
  KW_ASSERT_OK(Rotate("ci", {.grace = "1m", .retire_when_idle = "10s"}).status());
  const UnixSeconds rotated = clock_.Now();
  for (int t = 5; t < 60; t += 5) {
    clock_.Advance(5);
    KW_ASSERT_OK_AND_ASSIGN(Principal old, Auth(old_token));
    EXPECT_TRUE(old.old_secret);
    EXPECT_LE(old.expires_at, rotated + 60);
    FlushLastUsed();
  }
  // The store saw the uses: the old secret is still listed as accepted.
  KW_ASSERT_OK_AND_ASSIGN(auto listed, keys_->List(admin_, "alice", false));
  EXPECT_EQ(listed.at(0).status, "rotating");
  EXPECT_EQ(listed.at(0).old_secrets.at(0).last_used_at, clock_.Now());
  clock_.Advance(5);  // the grace is over
  EXPECT_THAT(Auth(old_token), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(NewEventTypes(), ElementsAre("key.created", "key.rotated", "key.reuse_detected"));
}

TEST_F(KeyLifecycleTest, RotationRules) {
  AliceKey({.name = "ci", .duration = "2h", .scopes = {"pulsar:produce"}});
  EXPECT_THAT(Rotate("ci", {.grace = "31d"}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Rotate("ci", {.grace = "soon"}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Rotate("ci", {.grace = "1m", .retire_when_idle = "2m"}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Rotate("ci", {.grace = "0s", .retire_when_idle = "1s"}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Rotate("ci", {.retire_when_idle = "0s"}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Rotate("nope", {}), StatusIs(StatusCode::kNotFound));
  // The default grace is an hour, capped by the old secret's own expiry.
  KW_ASSERT_OK_AND_ASSIGN(KeyView view, Rotate("ci", {}));
  EXPECT_EQ(view.old_secrets.at(0).accepted_until, clock_.Now() + 3600);
  clock_.Advance(3600);
  KW_ASSERT_OK_AND_ASSIGN(view, Rotate("ci", {.grace = "24h"}));
  EXPECT_EQ(view.old_secrets.at(0).accepted_until, clock_.Now() + 3600);  // its expiry
  // Renewed for the key's validity, capped by the server's maximum.
  EXPECT_EQ(view.expires_at, clock_.Now() + 7200);
  options_.max_validity = 1800;
  KW_ASSERT_OK_AND_ASSIGN(view, Rotate("ci", {}));
  EXPECT_EQ(view.expires_at, clock_.Now() + 1800);
  options_.max_validity = ServiceOptions().max_validity;

  // A caller key: keys:write, able to reveal the key, and never making it outlive itself.
  Principal no_write = KeyCaller(alice_, Scopes({"keys:read"}));
  EXPECT_THAT(keys_->Rotate(no_write, "me", "ci", {}), StatusIs(StatusCode::kPermissionDenied));
  Principal narrow = KeyCaller(alice_, Scopes({"keys:write"}));
  EXPECT_THAT(keys_->Rotate(narrow, "me", "ci", {}),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("broader grant")));
  AliceKey({.name = "narrow",
            .duration = "24h",
            .scopes = {"keys:write"},
            .tags = std::vector<std::string>{}});
  Principal writer = KeyCaller(alice_, Scopes({"keys:write"}), 3 * 86400);
  writer.user.tags.clear();
  writer.grant.tags = std::vector<std::string>{};
  KW_ASSERT_OK_AND_ASSIGN(view, keys_->Rotate(writer, "me", "narrow", {}));
  EXPECT_EQ(view.expires_at, clock_.Now() + 86400);
  Principal short_lived = writer;
  short_lived.expires_at = clock_.Now() + 86400 + 100;  // outlives the key
  KW_ASSERT_OK_AND_ASSIGN(view, keys_->Rotate(short_lived, "me", "narrow", {}));
  EXPECT_EQ(view.expires_at, clock_.Now() + 86400);
  clock_.Advance(200);  // now the renewed key would outlive the caller: cut to its expiry
  KW_ASSERT_OK_AND_ASSIGN(view, keys_->Rotate(short_lived, "me", "narrow", {}));
  EXPECT_EQ(view.expires_at, short_lived.expires_at);
  // Other users' keys do not exist for alice.
  AliceKey({.name = "x"});
  EXPECT_THAT(keys_->Rotate(alice_, "admin", "x", {}), StatusIs(StatusCode::kNotFound));
}

TEST_F(KeyLifecycleTest, RotationWorksWithRevealOff) {
  options_.reveal = false;
  const std::string old_token = AliceKey({.name = "ci"});
  KW_ASSERT_OK_AND_ASSIGN(KeyView view, Rotate("ci", {.grace = "1m"}));
  EXPECT_TRUE(IsWellFormedKey(view.token, "kw"));
  KW_ASSERT_OK(Auth(view.token).status());
  KW_ASSERT_OK(Auth(old_token).status());
}

TEST_F(KeyLifecycleTest, ADisabledKeyIsRefusedAtOnceAndAcceptedAgainWhenEnabled) {
  const std::string token = AliceKey({.name = "ci"});
  KW_ASSERT_OK(Auth(token).status());  // now cached
  NewEvents();
  KW_ASSERT_OK_AND_ASSIGN(KeyView view, keys_->Update(admin_, "alice", "ci", {.disabled = true}));
  EXPECT_TRUE(view.disabled);
  EXPECT_EQ(view.status, "disabled");
  EXPECT_THAT(Auth(token), StatusIs(StatusCode::kUnauthenticated));
  // Disabling it again changes nothing: no event.
  KW_ASSERT_OK(keys_->Update(admin_, "alice", "ci", {.disabled = true}).status());
  KW_ASSERT_OK_AND_ASSIGN(view, keys_->Update(admin_, "alice", "ci", {.disabled = false}));
  EXPECT_EQ(view.status, "active");
  KW_ASSERT_OK(Auth(token).status());
  auto events = NewEvents();
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].type, "key.disabled");
  EXPECT_EQ(events[1].type, "key.enabled");
  EXPECT_EQ(Data(events[1]).at("key"), "ci");
  EXPECT_THAT(Audited(AuditAction::kKeyDisable), SizeIs(2));
  EXPECT_THAT(Audited(AuditAction::kKeyEnable), SizeIs(1));
  EXPECT_THAT(Audited(AuditAction::kKeyUpdate), IsEmpty());
}

TEST_F(KeyLifecycleTest, TheOldSecretOfADisabledKeyIsRefusedToo) {
  const std::string old_token = AliceKey({.name = "ci"});
  KW_ASSERT_OK(Rotate("ci", {.grace = "1h"}).status());
  KW_ASSERT_OK(Auth(old_token).status());
  KW_ASSERT_OK(keys_->Update(admin_, "alice", "ci", {.disabled = true}).status());
  EXPECT_THAT(Auth(old_token), StatusIs(StatusCode::kUnauthenticated));
}

// An expiration edited earlier ends the old secrets too, and they leave the listing then.
TEST_F(KeyLifecycleTest, TheOldSecretEndsWithTheKeysShortenedExpiration) {
  const std::string old_token = AliceKey({.name = "ci", .duration = "48h"});
  KW_ASSERT_OK(Rotate("ci", {.grace = "24h"}).status());
  const UnixSeconds until = clock_.Now() + 300;
  KW_ASSERT_OK_AND_ASSIGN(
      KeyView view, keys_->Update(admin_, "alice", "ci", {.expiration = FormatRfc3339(until)}));
  ASSERT_THAT(view.old_secrets, SizeIs(1));
  EXPECT_EQ(view.old_secrets[0].accepted_until, until);
  KW_ASSERT_OK_AND_ASSIGN(Principal old, Auth(old_token));
  EXPECT_EQ(old.expires_at, until);
  clock_.Advance(300);
  EXPECT_THAT(Auth(old_token), StatusIs(StatusCode::kUnauthenticated));
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyView> listed, keys_->List(admin_, "alice", false));
  ASSERT_THAT(listed, SizeIs(1));
  EXPECT_THAT(listed[0].old_secrets, IsEmpty());
  EXPECT_EQ(listed[0].status, "expired");
}

TEST_F(KeyLifecycleTest, DeleteWritesKeyDeletedAndDropsTheOldSecretsToo) {
  const std::string old_token = AliceKey({.name = "ci"});
  KW_ASSERT_OK(Rotate("ci", {.grace = "1h"}).status());
  KW_ASSERT_OK(Auth(old_token).status());
  NewEvents();
  KW_ASSERT_OK(keys_->Delete(admin_, "alice", "ci"));
  EXPECT_THAT(Auth(old_token), StatusIs(StatusCode::kUnauthenticated));
  auto events = NewEvents();
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].type, "key.deleted");
  EXPECT_EQ(Data(events[0]).at("key"), "ci");
}

// A fresh signing key ring, and alice's key "pulsar-client" (pulsar:produce and tokens:issue,
// tag team:x) in key_.
class PulsarClientKeyTest : public TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    KW_ASSERT_OK(ring_->Refresh());
    key_ = AliceKey({.name = "pulsar-client",
                     .scopes = {"pulsar:produce", "tokens:issue"},
                     .tags = std::vector<std::string>{"team:x"}});
  }

  std::string key_;
};

class DisabledKeyTokenTest : public PulsarClientKeyTest {};

TEST_F(DisabledKeyTokenTest, TheTokensOfADisabledKeyAreRefused) {
  const std::string key = key_;
  const std::string jwt = MustIssue({.api_key = key}).access_token;
  KW_ASSERT_OK(tokens_->Verify(jwt, AudienceSet::kGateway).status());
  KW_ASSERT_OK(keys_->Update(admin_, "alice", "pulsar-client", {.disabled = true}).status());
  EXPECT_THAT(tokens_->Verify(jwt, AudienceSet::kAny), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(IssueError({.api_key = key}), "invalid_client");
  KW_ASSERT_OK(keys_->Update(admin_, "alice", "pulsar-client", {.disabled = false}).status());
  clock_.Advance(6);  // the token's refusal may stay cached for the cache's lifetime
  KW_ASSERT_OK(tokens_->Verify(jwt, AudienceSet::kAny).status());
}

}  // namespace
}  // namespace keyward

namespace keyward {
namespace {

// REVIEW: steady use of the old secret, with uses written every 5 s (the default
// --last-used-interval) and retire_when_idle 3 s: a use every second must keep it.
TEST_F(KeyLifecycleTest, ReviewSteadyUseWithWriterLagIsNotReuse) {
  options_.last_used_lag_seconds = 5;  // --last-used-interval 5s
  const std::string old_token = AliceKey({.name = "ci"});
  KW_ASSERT_OK(Rotate("ci", {.grace = "1h", .retire_when_idle = "3s"}).status());
  NewEvents();
  for (int t = 1; t <= 20; ++t) {
    clock_.Advance(1);
    EXPECT_TRUE(Auth(old_token).ok()) << "refused at t=" << t;
    if (t % 5 == 0) FlushLastUsed();
  }
  EXPECT_THAT(NewEventTypes(), IsEmpty());
}

class ReviewRotatedKeyTokenTest : public PulsarClientKeyTest {};

// REVIEW: a token issued before a rotation, verified inside the grace.
TEST_F(ReviewRotatedKeyTokenTest, TokensOfTheOldSecretWorkInTheGrace) {
  const std::string key = key_;
  const std::string before = MustIssue({.api_key = key}).access_token;
  KW_ASSERT_OK(keys_->Rotate(admin_, "alice", "pulsar-client", {.grace = "1h"}).status());
  EXPECT_TRUE(tokens_->Verify(before, AudienceSet::kAny).ok()) << "issued before the rotation";
  const std::string during = MustIssue({.api_key = key}).access_token;
  EXPECT_TRUE(tokens_->Verify(during, AudienceSet::kAny).ok()) << "issued from the old secret";
}

// A token of a secret since rotated away verifies at a gateway (from the cache too) while the
// old secret is accepted, and not after; verifying it is not a use of the old secret.
TEST_F(ReviewRotatedKeyTokenTest, TokensOfARotatedSecretLiveAsLongAsItIsAccepted) {
  const std::string key = key_;
  const std::string jwt = MustIssue({.api_key = key}).access_token;
  KW_ASSERT_OK(tokens_->Verify(jwt, AudienceSet::kGateway).status());
  KW_ASSERT_OK(store_->TouchKeys(cache_.TakeUsed()));  // the uses before the rotation
  const UnixSeconds rotated = clock_.Now();
  KW_ASSERT_OK(keys_->Rotate(admin_, "alice", "pulsar-client", {.grace = "1m"}).status());
  KW_ASSERT_OK_AND_ASSIGN(Principal p, tokens_->Verify(jwt, AudienceSet::kGateway));
  EXPECT_TRUE(p.old_secret);
  EXPECT_EQ(p.parent_key_hash, HashKey(key));
  EXPECT_LE(p.expires_at, rotated + 60);
  EXPECT_EQ(p.user.id, "alice");
  EXPECT_EQ(tokens_->TryCached(jwt, [](const CacheEntry&) {}), KeyCache::Outcome::kValid);
  clock_.Advance(59);
  KW_ASSERT_OK(tokens_->Verify(jwt, AudienceSet::kGateway).status());
  // No use of the old secret was counted, and none of its refusals is a reuse.
  KW_ASSERT_OK(store_->TouchKeys(cache_.TakeUsed()));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord stored, store_->GetKey("alice", "pulsar-client"));
  ASSERT_EQ(stored.old_secrets.size(), 1u);
  EXPECT_EQ(stored.old_secrets[0].last_used_at, 0);
  clock_.Advance(1);  // the grace is over
  EXPECT_NE(tokens_->TryCached(jwt, [](const CacheEntry&) {}), KeyCache::Outcome::kValid);
  EXPECT_THAT(tokens_->Verify(jwt, AudienceSet::kGateway), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(tokens_->Verify(jwt, AudienceSet::kAny), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(IssueError({.api_key = key}), "invalid_client");
}

}  // namespace
}  // namespace keyward
