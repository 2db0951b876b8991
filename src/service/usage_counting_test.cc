// Issue 16's counting in the verification path: the cache's meters (an expired entry and a
// refused key's negative entry count themselves; a token's meters are its key's), the
// Authenticator's counted refusals, and the last-used writer flushing usage into a real SQLite
// store (keeping what a failed write could not write).
#include <gtest/gtest.h>

#include "common/random.h"
#include "core/api_key.h"
#include "service/last_used_writer.h"
#include "service/lifecycle_test_world.h"
#include "service/token_test_world.h"
#include "store/forwarding_store.h"

namespace keyward {
namespace {

std::int64_t CountOf(const UsageCounts& counts, UsageOutcome outcome) {
  return counts[static_cast<std::size_t>(outcome)];
}

// Sums what the recorder holds for `hash` by outcome (taking it).
UsageCounts TakeCounts(UsageRecorder& recorder, const std::string& hash) {
  UsageCounts sum{};
  for (const UsageDelta& d : recorder.Take()) {
    if (d.hash != hash) continue;
    for (std::size_t i = 0; i < kUsageOutcomes; ++i) sum[i] += d.counts[i];
  }
  return sum;
}

class KeyCacheMetersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    cache_.AttachMeters(&recorder_, &limiter_);
  }
  static Principal Key(const std::string& hash, UnixSeconds expires) {
    Principal p;
    p.user.id = "alice";
    p.key_name = "ci";
    p.token_hash = hash;
    p.expires_at = expires;
    return p;
  }

  UsageRecorder recorder_;
  RateLimiter limiter_;
  // 100 entries per shard: with one per shard, two random hashes in the same shard (1 in 64)
  // would push each other out.
  KeyCache cache_{{.max_entries = 6400, .max_negative = 6400, .ttl = 5}};
};

TEST_F(KeyCacheMetersTest, AHitCountsNothingAnExpiredEntryCountsExpired) {
  const std::string h = HashKey(RandomBytes(16));
  cache_.Insert(Key(h, 103), 100, cache_.Generation());
  std::shared_ptr<UsageSlot> slot;
  EXPECT_EQ(cache_.Find(h, 101, [&](const CacheEntry& e) { slot = e.meters.usage; }),
            KeyCache::Outcome::kValid);
  ASSERT_NE(slot, nullptr);
  EXPECT_EQ(slot, recorder_.SlotFor(h));
  EXPECT_EQ(TakeCounts(recorder_, h), UsageCounts{}) << "the caller counts what it allows";
  EXPECT_EQ(cache_.Find(h, 103, [](const CacheEntry&) { ADD_FAILURE(); }),
            KeyCache::Outcome::kInvalid);
  EXPECT_EQ(cache_.Find(h, 104, [](const CacheEntry&) { ADD_FAILURE(); }),
            KeyCache::Outcome::kInvalid);
  EXPECT_EQ(CountOf(TakeCounts(recorder_, h), UsageOutcome::kExpired), 2);
}

TEST_F(KeyCacheMetersTest, ARefusedKeysNegativeEntryCountsItsReasonOnEveryHit) {
  const std::string refused = HashKey(RandomBytes(16));
  const std::string unknown = HashKey(RandomBytes(16));
  cache_.InsertUnknown(refused, 100, cache_.Generation(), recorder_.SlotFor(refused),
                       UsageOutcome::kDisabled);
  cache_.InsertUnknown(unknown, 100, cache_.Generation());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(cache_.Find(refused, 101, [](const CacheEntry&) {}), KeyCache::Outcome::kInvalid);
    EXPECT_EQ(cache_.Find(unknown, 101, [](const CacheEntry&) {}), KeyCache::Outcome::kInvalid);
  }
  EXPECT_EQ(cache_.Find(refused, 105, [](const CacheEntry&) {}), KeyCache::Outcome::kMiss)
      << "aged out: the store decides (and counts) again";
  auto deltas = recorder_.Take();
  ASSERT_EQ(deltas.size(), 1u) << "unknown keys are not counted";
  EXPECT_EQ(deltas[0].hash, refused);
  EXPECT_EQ(CountOf(deltas[0].counts, UsageOutcome::kDisabled), 3);
}

TEST_F(KeyCacheMetersTest, ATokensMetersAreItsKeysSessionsHaveNone) {
  const std::string key_hash = HashKey(RandomBytes(16));
  const std::string token_hash = HashKey(RandomBytes(16));
  Principal key = Key(key_hash, 1'000);
  key.rate_limit = {.requests = 5, .per = 1};
  Principal token = key;
  token.token_hash = token_hash;
  token.parent_key_hash = key_hash;
  cache_.Insert(key, 100, cache_.Generation());
  cache_.Insert(token, 100, cache_.Generation());
  KeyMeters of_key, of_token;
  cache_.Find(key_hash, 101, [&](const CacheEntry& e) { of_key = e.meters; });
  cache_.Find(token_hash, 101, [&](const CacheEntry& e) { of_token = e.meters; });
  ASSERT_NE(of_key.usage, nullptr);
  EXPECT_EQ(of_key.usage->hash(), key_hash);
  EXPECT_EQ(of_token.usage, of_key.usage);
  ASSERT_NE(of_key.bucket, nullptr);
  EXPECT_EQ(of_token.bucket, of_key.bucket) << "one bucket per key";
  EXPECT_EQ(of_key.bucket, limiter_.BucketFor(RateKeyId("alice", "ci"), key.rate_limit));
  EXPECT_EQ(cache_.MetersOf(token).usage, of_key.usage);

  key.rate_limit = {};
  EXPECT_EQ(cache_.MetersOf(key).bucket, nullptr) << "no limit, no bucket";
  Principal session = key;
  session.via = KeyType::kSession;
  session.rate_limit = {.requests = 5, .per = 1};
  EXPECT_EQ(cache_.MetersOf(session).usage, nullptr);
  EXPECT_EQ(cache_.MetersOf(session).bucket, nullptr);
}

// The Authenticator counts the store's refusals of known keys, with the client; the negative
// cache entry counts the later ones.
class AuthenticatorCountingTest : public LifecycleTest {
 protected:
  void SetUp() override {
    LifecycleTest::SetUp();
    cache_.AttachMeters(&recorder_, &limiter_);
  }
  void TearDown() override { cache_.Clear(); }  // the entries hold slots of recorder_
  Result<Principal> Auth(const std::string& token) {
    return auth_->Authenticate(token, {.address = "10.9.8.7", .user_agent = "driver/1.0"});
  }

  UsageRecorder recorder_;
  RateLimiter limiter_;
};

TEST_F(AuthenticatorCountingTest, AllowedIsTheCallersToCountRefusalsAreCountedWithTheClient) {
  const std::string token = AliceKey({.name = "ci"});
  const std::string hash = HashKey(token);
  KW_ASSERT_OK(Auth(token).status());
  KW_ASSERT_OK(Auth(token).status());  // a cache hit
  EXPECT_EQ(TakeCounts(recorder_, hash), UsageCounts{});
  EXPECT_THAT(Auth("kw_" + std::string(40, 'x')), StatusIs(StatusCode::kUnauthenticated));

  KW_ASSERT_OK(keys_->Update(admin_, "alice", "ci", {.disabled = true}).status());
  EXPECT_THAT(Auth(token), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(Auth(token), StatusIs(StatusCode::kUnauthenticated));  // the negative entry
  auto deltas = recorder_.Take();
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0].hash, hash);
  EXPECT_EQ(CountOf(deltas[0].counts, UsageOutcome::kDisabled), 2);
  EXPECT_EQ(DeniedTotal(deltas[0].counts), 2);
  EXPECT_EQ(deltas[0].last_address, "10.9.8.7");
  EXPECT_EQ(deltas[0].last_user_agent, "driver/1.0");
}

TEST_F(AuthenticatorCountingTest, AnExpiredKeyCountsExpiredWithOrWithoutTheCache) {
  const std::string token = AliceKey({.name = "ci", .duration = "1h"});
  clock_.Advance(3600);
  EXPECT_THAT(Auth(token), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(CountOf(TakeCounts(recorder_, HashKey(token)), UsageOutcome::kExpired), 1);

  Authenticator uncached(*store_, options_, clock_, nullptr);
  uncached.set_meters(&recorder_, &limiter_);
  EXPECT_THAT(uncached.Authenticate(token), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(CountOf(TakeCounts(recorder_, HashKey(token)), UsageOutcome::kExpired), 1);
}

TEST_F(AuthenticatorCountingTest, ARetiredOldSecretCountsRevokedOnTheOldSecret) {
  const std::string old_token = AliceKey({.name = "ci"});
  KW_ASSERT_OK_AND_ASSIGN(KeyView view, keys_->Rotate(admin_, "alice", "ci", {.grace = "0s"}));
  EXPECT_THAT(Auth(old_token), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(Auth(old_token), StatusIs(StatusCode::kUnauthenticated));
  KW_ASSERT_OK(Auth(view.token).status());
  auto deltas = recorder_.Take();
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0].hash, HashKey(old_token)) << "counted on the old secret it presented";
  EXPECT_EQ(CountOf(deltas[0].counts, UsageOutcome::kRevoked), 2);
}

TEST_F(AuthenticatorCountingTest, APrincipalCarriesItsKeysRateLimitAndMeters) {
  KeyRecord key;
  key.user_id = "alice";
  key.name = "ci";
  key.hash = HashKey(RandomBytes(16));
  key.expires_at = clock_.Now() + 60;
  key.rate_limit = {.requests = 3, .per = 1};
  KW_ASSERT_OK_AND_ASSIGN(Principal p, auth_->PrincipalOfKey(key, clock_.Now()));
  EXPECT_EQ(p.rate_limit, key.rate_limit);
  KeyMeters meters = auth_->MetersOf(p);
  ASSERT_NE(meters.bucket, nullptr);
  EXPECT_EQ(meters.bucket->limit(), key.rate_limit);
  ASSERT_NE(meters.usage, nullptr);
  EXPECT_EQ(meters.usage->hash(), key.hash);
}

// A token issued from a limited key carries the key's limit; its cache entry's meters are the
// key's (one slot, one bucket), as read from the real store.
class TokenMetersTest : public TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    cache_.AttachMeters(&recorder_, &limiter_);
    KW_ASSERT_OK(ring_->Refresh());
    key_ = AliceKey({.name = "client", .scopes = {"tokens:issue"}});
    KW_ASSERT_OK_AND_ASSIGN(KeyRecord record, store_->GetKey("alice", "client"));
    KeyUpdate update;
    update.rate_limit = kLimit;
    KW_ASSERT_OK(store_->UpdateKey("alice", "client", record.revision, update, {}));
  }
  void TearDown() override { cache_.Clear(); }

  static constexpr RateLimit kLimit{.requests = 5, .per = 1};
  UsageRecorder recorder_;
  RateLimiter limiter_;
  std::string key_;
};

TEST_F(TokenMetersTest, ATokensLimitAndMetersAreItsKeys) {
  KW_ASSERT_OK_AND_ASSIGN(Principal key, auth_->Authenticate(key_));
  EXPECT_EQ(key.rate_limit, kLimit);
  auto issued = tokens_->Issue({.api_key = key_, .client_id = std::nullopt, .audience = ""});
  ASSERT_TRUE(std::holds_alternative<IssuedToken>(issued));
  const std::string jwt = std::get<IssuedToken>(issued).access_token;
  KW_ASSERT_OK_AND_ASSIGN(Principal token, tokens_->Verify(jwt, AudienceSet::kGateway));
  EXPECT_EQ(token.rate_limit, kLimit);
  EXPECT_EQ(token.parent_key_hash, HashKey(key_));
  KeyMeters cached;
  ASSERT_EQ(
      cache_.Find(HashKey(jwt), clock_.Now(), [&](const CacheEntry& e) { cached = e.meters; }),
      KeyCache::Outcome::kValid);
  ASSERT_NE(cached.usage, nullptr);
  EXPECT_EQ(cached.usage->hash(), HashKey(key_));
  EXPECT_EQ(cached.bucket, limiter_.BucketFor(RateKeyId("alice", "client"), kLimit));
  EXPECT_EQ(auth_->MetersOf(token).bucket, cached.bucket);
}

// A store whose RecordUsage fails while `down` is set.
class UsageFailingStore final : public ForwardingStore {
 public:
  explicit UsageFailingStore(Store& store) : ForwardingStore(store) {}
  Status RecordUsage(const std::vector<UsageDelta>& deltas) override {
    if (down) return Status::Unavailable("the store is down (test)");
    return store_.RecordUsage(deltas);
  }
  bool down = false;
};

TEST_F(AuthenticatorCountingTest, TheWriterFlushesUsageKeepingWhatItCouldNotWrite) {
  const std::string token = AliceKey({.name = "ci"});
  const UnixSeconds hour = HourStart(clock_.Now());
  auto slot = recorder_.SlotFor(HashKey(token));
  slot->Record(UsageOutcome::kAllowed, clock_.Now(), "10.1.2.3", "curl/8.0");
  slot->Count(UsageOutcome::kScope, clock_.Now());
  UsageFailingStore failing(*store_);
  LastUsedWriter writer(cache_, failing, std::chrono::hours(1), &recorder_);
  failing.down = true;
  writer.Flush();
  EXPECT_EQ(writer.unwritten_usage(), 1u);
  slot->Count(UsageOutcome::kAllowed, clock_.Now() + 3600);  // the next hour
  failing.down = false;
  writer.Flush();
  EXPECT_EQ(writer.unwritten_usage(), 0u);
  KW_ASSERT_OK_AND_ASSIGN(KeyUsage usage,
                          store_->GetUsage("alice", "ci", hour - 3600, hour + 7200));
  ASSERT_EQ(usage.hours.size(), 2u);
  EXPECT_EQ(usage.hours[0].start, hour);
  EXPECT_EQ(CountOf(usage.hours[0].counts, UsageOutcome::kAllowed), 1);
  EXPECT_EQ(CountOf(usage.hours[0].counts, UsageOutcome::kScope), 1);
  EXPECT_EQ(usage.hours[1].start, hour + 3600);
  EXPECT_EQ(CountOf(usage.hours[1].counts, UsageOutcome::kAllowed), 1);
  EXPECT_EQ(usage.last_address, "10.1.2.3");
  EXPECT_EQ(usage.last_user_agent, "curl/8.0");
  EXPECT_EQ(usage.first_used_at, clock_.Now());
  // Written once: another flush adds nothing.
  writer.Flush();
  KW_ASSERT_OK_AND_ASSIGN(usage, store_->GetUsage("alice", "ci", hour - 3600, hour + 7200));
  ASSERT_EQ(usage.hours.size(), 2u);
  EXPECT_EQ(CountOf(usage.hours[0].counts, UsageOutcome::kAllowed), 1);
}

}  // namespace
}  // namespace keyward
