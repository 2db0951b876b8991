// The service layer against a real SQLite store in a temporary folder, with a clock that
// tests move by hand.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/random.h"
#include "common/status_matchers.h"
#include "core/api_key.h"
#include "service/authenticator.h"
#include "service/key_refresher.h"
#include "service/key_service.h"
#include "service/last_used_writer.h"
#include "service/sign_in_service.h"
#include "service/user_service.h"
#include "store/forwarding_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_test_util.h"

namespace keyward {
namespace {

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    auto store = OpenSqliteStore(dir_.File("keyward.db"));
    ASSERT_THAT(store, IsOk());
    store_ = std::move(store).value();
    master_ = std::make_unique<MasterKey>(MasterKey::FromBytes(RandomBytes(32)));
    users_ = std::make_unique<UserService>(*store_, clock_, &cache_);
    auto boot = users_->Bootstrap(std::string("admin-password"));
    ASSERT_THAT(boot, IsOk());
    admin_ = store_->GetUser("admin").value();
    NewUser alice{"alice", "Alice", "person", std::string("alice-password")};
    ASSERT_THAT(users_->Create(admin_, alice), IsOk());
    alice_ = store_->GetUser("alice").value();
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<MasterKey> master_;
  ServiceOptions options_;
  KeyCache cache_;
  ManualClock clock_{1'700'000'000};
  std::unique_ptr<UserService> users_;
  User admin_;
  User alice_;
};

TEST_F(ServiceTest, CreateListRevealDelete) {
  KeyService keys(*store_, master_.get(), options_, clock_, &cache_);
  auto created = keys.Create(alice_, "me", {.name = "presto", .duration = "7d"});
  ASSERT_THAT(created, IsOk());
  EXPECT_TRUE(IsWellFormedKey(created->token, "kw"));
  EXPECT_EQ(created->expires_at, clock_.Now() + 7 * 86400);

  auto masked = keys.List(alice_, "alice", false);
  ASSERT_THAT(masked, IsOk());
  ASSERT_EQ(masked->size(), 1u);
  EXPECT_EQ((*masked)[0].token, MaskKey(created->token));
  auto revealed = keys.List(alice_, "me", true);
  EXPECT_EQ((*revealed)[0].token, created->token);
  EXPECT_EQ(keys.Reveal(alice_, "me", "presto").value().token, created->token);

  Authenticator auth(*store_, options_, clock_, &cache_);
  auto who = auth.Authenticate(created->token);
  ASSERT_THAT(who, IsOk());
  EXPECT_EQ(who->user.id, "alice");
  EXPECT_EQ(who->key_name, "presto");

  EXPECT_THAT(keys.Delete(alice_, "me", "presto"), IsOk());
  EXPECT_THAT(auth.Authenticate(created->token), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(keys.Delete(alice_, "me", "presto"), StatusIs(StatusCode::kNotFound));
}

TEST_F(ServiceTest, ExpiryIsCheckedAtAuthentication) {
  KeyService keys(*store_, master_.get(), options_, clock_, &cache_);
  auto created = keys.Create(alice_, "me", {.duration = "30m"});
  ASSERT_THAT(created, IsOk());
  Authenticator auth(*store_, options_, clock_, &cache_);
  EXPECT_THAT(auth.Authenticate(created->token), IsOk());
  clock_.Advance(1799);
  EXPECT_THAT(auth.Authenticate(created->token), IsOk());
  clock_.Advance(1);
  EXPECT_THAT(auth.Authenticate(created->token), StatusIs(StatusCode::kUnauthenticated));
}

// TryCached looks the hash up before it checks the checksum (a hit needs none): a cached key
// passes, and a key of the same shape with a bad checksum, a bad character or another prefix is
// still refused without the store, never mistaken for a miss.
TEST_F(ServiceTest, TryCachedRefusesMalformedKeysAndPassesACachedOne) {
  KeyService keys(*store_, master_.get(), options_, clock_, &cache_);
  auto created = keys.Create(alice_, "me", {.name = "hot"});
  ASSERT_THAT(created, IsOk());
  Authenticator auth(*store_, options_, clock_, &cache_);
  const std::string& token = created->token;
  EXPECT_EQ(auth.TryCached(token, [](const CacheEntry&) {}), KeyCache::Outcome::kMiss);
  ASSERT_THAT(auth.Authenticate(token), IsOk());
  std::string user;
  EXPECT_EQ(auth.TryCached(token, [&](const CacheEntry& e) { user = e.principal.user.id; }),
            KeyCache::Outcome::kValid);
  EXPECT_EQ(user, "alice");

  std::string bad_checksum = token;
  bad_checksum.back() = bad_checksum.back() == 'a' ? 'b' : 'a';
  std::string bad_character = token;
  bad_character[5] = '-';
  std::string other_prefix = "zz" + token.substr(2);
  for (const std::string& bad :
       {bad_checksum, bad_character, other_prefix, token.substr(1), token + "0"}) {
    EXPECT_EQ(auth.TryCached(bad, [](const CacheEntry&) { ADD_FAILURE(); }),
              KeyCache::Outcome::kInvalid)
        << bad;
  }
}

// Issue 19: a key in use is read again before its entry ages out (KeyCache::ClaimRefresh), so that
// a request never waits for the store: the reload picks up what changed in the store and is not
// a miss; a key that no longer verifies is left to age out, and then the miss path refuses it.
TEST_F(ServiceTest, RefreshReadsAKeyAgainAndLeavesARevokedOneToAgeOut) {
  KeyService keys(*store_, master_.get(), options_, clock_, &cache_);
  auto kept = keys.Create(alice_, "me", {.name = "kept"});
  auto gone = keys.Create(alice_, "me", {.name = "gone"});
  ASSERT_THAT(kept, IsOk());
  ASSERT_THAT(gone, IsOk());
  Authenticator auth(*store_, options_, clock_, &cache_);
  ASSERT_THAT(auth.Authenticate(kept->token), IsOk());
  ASSERT_THAT(auth.Authenticate(gone->token), IsOk());
  const std::uint64_t misses = cache_.misses();
  // Changed behind the cache's back, as another node would: a tag, and a deleted key.
  ASSERT_THAT(store_->AddTag("alice", "team:x"), IsOk());
  ASSERT_THAT(store_->DeleteKey("alice", "gone"), IsOk());
  clock_.Advance(4);  // the entries' last second (ttl 5)
  for (const std::string& token : {kept->token, gone->token}) {
    bool claimed = false;
    EXPECT_EQ(auth.TryCached(token,
                             [&](const CacheEntry& e) {
                               EXPECT_EQ(e.tags_header, "");  // still the cached entry
                               claimed = auth.ClaimRefresh(e, clock_.Now());
                             }),
              KeyCache::Outcome::kValid);
    EXPECT_TRUE(claimed);
    auth.Refresh(HashKey(token));
  }
  clock_.Advance(1);  // past the ttl of the entries cached at first
  std::string tags;
  EXPECT_EQ(auth.TryCached(kept->token, [&](const CacheEntry& e) { tags = e.tags_header; }),
            KeyCache::Outcome::kValid);
  EXPECT_EQ(tags, "team:x");
  EXPECT_EQ(cache_.misses(), misses);
  EXPECT_EQ(auth.TryCached(gone->token, [](const CacheEntry&) { ADD_FAILURE(); }),
            KeyCache::Outcome::kMiss);
  EXPECT_THAT(auth.Authenticate(gone->token), StatusIs(StatusCode::kUnauthenticated));
}

// A reload handed over just before a rotation finds the hash an old secret: it is left alone —
// never judged as a presentation, which would report a retired secret as reused (and revoke a
// key set to revoke on reuse) when no client presented it.
TEST_F(ServiceTest, ARefreshOfASecretRotatedMeanwhileReportsNoReuse) {
  struct CountingListener final : ReuseListener {
    void ReuseDetected(const KeyRecord&, const ClientInfo&) const override { ++reports; }
    mutable int reports = 0;
  } listener;
  KeyService keys(*store_, master_.get(), options_, clock_, &cache_);
  auto key = keys.Create(alice_, "me", {.name = "k"});
  ASSERT_THAT(key, IsOk());
  Authenticator auth(*store_, options_, clock_, &cache_);
  auth.set_reuse_listener(&listener);
  ASSERT_THAT(auth.Authenticate(key->token), IsOk());
  ASSERT_THAT(keys.Rotate(alice_, "me", "k", {.grace = "0s"}), IsOk());
  clock_.Advance(4);
  auth.Refresh(HashKey(key->token));
  EXPECT_EQ(listener.reports, 0);
  // A client presenting it is judged, and reported, as before.
  EXPECT_THAT(auth.Authenticate(key->token), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(listener.reports, 1);
}

// The refresher reads what it is handed on its own thread; a full queue drops, never blocks.
TEST_F(ServiceTest, TheRefresherReloadsOnItsThreadAndDropsWhenFull) {
  KeyService keys(*store_, master_.get(), options_, clock_, &cache_);
  auto key = keys.Create(alice_, "me", {.name = "k"});
  ASSERT_THAT(key, IsOk());
  Authenticator auth(*store_, options_, clock_, &cache_);
  ASSERT_THAT(auth.Authenticate(key->token), IsOk());
  ASSERT_THAT(store_->AddTag("alice", "team:y"), IsOk());
  clock_.Advance(4);
  {
    KeyRefresher full(auth, /*max_queued=*/0);
    EXPECT_FALSE(full.Submit(HashKey(key->token)));
  }
  KeyRefresher refresher(auth);
  EXPECT_TRUE(refresher.Submit(HashKey(key->token)));
  std::string tags;
  for (int i = 0; i < 500 && tags != "team:y"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(auth.TryCached(key->token, [&](const CacheEntry& e) { tags = e.tags_header; }),
              KeyCache::Outcome::kValid);
  }
  EXPECT_EQ(tags, "team:y");
}

TEST_F(ServiceTest, OthersKeysAreNotFoundOperatorsReachThem) {
  KeyService keys(*store_, master_.get(), options_, clock_, &cache_);
  ASSERT_THAT(keys.Create(admin_, "admin", {.name = "ops"}), IsOk());
  EXPECT_THAT(keys.List(alice_, "admin", false), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(keys.Reveal(alice_, "admin", "ops"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(keys.Delete(alice_, "admin", "ops"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(keys.Create(admin_, "alice", {.name = "for-alice"}), IsOk());
  EXPECT_EQ(keys.List(alice_, "me", false)->size(), 1u);
  EXPECT_THAT(keys.List(admin_, "ghost", false), StatusIs(StatusCode::kNotFound));
}

// An id or name that is not UTF-8 (or holds NUL) is refused as such: never an empty list, and
// never NotFound as if it were only a miss.
TEST_F(ServiceTest, TextThatIsNotUtf8IsInvalidArgumentNotAnEmptyList) {
  KeyService keys(*store_, master_.get(), options_, clock_, &cache_);
  for (const std::string& bad : {std::string("alice\xff"), std::string("ali\0ce", 6)}) {
    SCOPED_TRACE(testing::PrintToString(bad));
    KW_EXPECT_CODE(keys.List(admin_, bad, false), StatusCode::kInvalidArgument);
    KW_EXPECT_CODE(keys.Reveal(admin_, bad, "ci"), StatusCode::kInvalidArgument);
    KW_EXPECT_CODE(keys.Delete(admin_, "alice", bad), StatusCode::kInvalidArgument);
    KW_EXPECT_CODE(users_->Get(admin_, bad), StatusCode::kInvalidArgument);
    KW_EXPECT_CODE(users_->Delete(admin_, bad), StatusCode::kInvalidArgument);
  }
}

TEST_F(ServiceTest, RevealOffKeepsNoCopy) {
  options_.reveal = false;
  KeyService keys(*store_, nullptr, options_, clock_, &cache_);
  auto created = keys.Create(alice_, "me", {.name = "once"});
  ASSERT_THAT(created, IsOk());
  EXPECT_TRUE(store_->GetKey("alice", "once")->sealed.empty());
  EXPECT_THAT(keys.Reveal(alice_, "me", "once"), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_EQ((*keys.List(alice_, "me", true))[0].token, MaskKey(created->token));
}

TEST_F(ServiceTest, SealedCopyMovedToAnotherRowDoesNotOpen) {
  KeyService keys(*store_, master_.get(), options_, clock_, &cache_);
  ASSERT_THAT(keys.Create(alice_, "me", {.name = "a"}), IsOk());
  ASSERT_THAT(keys.Create(alice_, "me", {.name = "b"}), IsOk());
  KeyRecord a = store_->GetKey("alice", "a").value();
  KeyRecord b = store_->GetKey("alice", "b").value();
  ASSERT_THAT(store_->DeleteKey("alice", "b"), IsOk());
  b.sealed = a.sealed;  // an attacker with database access swaps the ciphertexts
  ASSERT_THAT(store_->CreateKey(b), IsOk());
  EXPECT_THAT(keys.Reveal(alice_, "me", "b"), StatusIs(StatusCode::kInternal));
}

TEST_F(ServiceTest, LoginLogoutAndThrottle) {
  SignInService sign_in(*store_, options_, clock_, &cache_);
  Authenticator auth(*store_, options_, clock_, &cache_);
  std::int64_t retry = 0;
  auto in = sign_in.Login("alice", "alice-password", "127.0.0.1", &retry);
  ASSERT_THAT(in, IsOk());
  EXPECT_EQ(in->expires_at, clock_.Now() + 12 * 3600);
  auto who = auth.Authenticate(in->token);
  ASSERT_THAT(who, IsOk());
  EXPECT_EQ(who->via, KeyType::kSession);
  EXPECT_THAT(sign_in.Logout(*who), IsOk());
  EXPECT_THAT(auth.Authenticate(in->token), StatusIs(StatusCode::kUnauthenticated));

  auto wrong = sign_in.Login("alice", "nope-nope", "127.0.0.1", &retry);
  auto unknown = sign_in.Login("nobody", "nope-nope", "127.0.0.1", &retry);
  EXPECT_THAT(wrong, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(wrong.status().message(), unknown.status().message());
  for (int i = 0; i < 4; ++i) (void)sign_in.Login("alice", "nope-nope", "127.0.0.1", &retry);
  auto throttled = sign_in.Login("alice", "alice-password", "127.0.0.1", &retry);
  EXPECT_THAT(throttled, StatusIs(StatusCode::kResourceExhausted));
  EXPECT_EQ(retry, 2);
  clock_.Advance(1);
  EXPECT_THAT(sign_in.Login("alice", "alice-password", "127.0.0.1", &retry),
              StatusIs(StatusCode::kResourceExhausted));
  clock_.Advance(1);
  EXPECT_THAT(sign_in.Login("alice", "alice-password", "127.0.0.1", &retry), IsOk());
}

// A store that fails as an unreachable database does: sign-in counting from the
// `count_fails_after`-th call on, and it says how often a user was read (a password checked).
class SignInFailingStore final : public ForwardingStore {
 public:
  explicit SignInFailingStore(Store& store) : ForwardingStore(store) {}
  Status UpdateSignInCounters(const std::vector<std::string>& subjects,
                              const SignInCounterUpdate& update) override {
    if (counts_left-- <= 0) return failure;
    return store_.UpdateSignInCounters(subjects, update);
  }
  Result<User> GetUser(std::string_view id) override {
    ++users_read;
    return store_.GetUser(id);
  }
  int counts_left = 0;
  int users_read = 0;
  Status failure = Status::Unavailable("the database is unavailable", "test");
};

// Issue 19: a throttle that cannot count admits nothing. No password is checked, the answer is
// Unavailable (503) with a message that says why; and a right password whose success cannot be
// recorded gives no session.
TEST_F(ServiceTest, ASignInThatCannotBeCountedChecksNoPassword) {
  SignInFailingStore failing(*store_);
  SignInService sign_in(failing, options_, clock_, &cache_);
  std::int64_t retry = 0;
  for (const char* password : {"alice-password", "wrong-password"}) {
    auto refused = sign_in.Login("alice", password, "127.0.0.1", &retry);
    EXPECT_THAT(refused, StatusIs(StatusCode::kUnavailable));
    EXPECT_EQ(refused.status().message(), kThrottleUnavailable);
    EXPECT_EQ(retry, 0);
  }
  EXPECT_EQ(failing.users_read, 0) << "a password was checked without being counted";
  failing.counts_left = 1;  // admitted, then the success cannot be taken back
  EXPECT_THAT(sign_in.Login("alice", "alice-password", "127.0.0.1", &retry),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(failing.users_read, 1);
  failing.counts_left = 1000;  // back
  EXPECT_THAT(sign_in.Login("alice", "alice-password", "127.0.0.1", &retry), IsOk());
}

// Issue 19: on a full disk (SQLite) the count, sign-in's first write, is refused: 507 with the
// message of a full disk, and still no password checked.
TEST_F(ServiceTest, ASignInOnAFullDiskSaysSoAndChecksNoPassword) {
  SignInFailingStore failing(*store_);
  failing.failure = Status::InsufficientStorage(
      "the server's disk is full: nothing was changed; retry later", "test");
  SignInService sign_in(failing, options_, clock_, &cache_);
  auto refused = sign_in.Login("alice", "alice-password", "127.0.0.1", nullptr);
  EXPECT_THAT(refused, StatusIs(StatusCode::kInsufficientStorage));
  EXPECT_EQ(refused.status().message(),
            "the server's disk is full: you were not signed in; retry later");
  EXPECT_EQ(failing.users_read, 0) << "a password was checked without being counted";
  failing.counts_left = 1;  // admitted, then the success cannot be taken back
  EXPECT_THAT(sign_in.Login("alice", "alice-password", "127.0.0.1", nullptr),
              StatusIs(StatusCode::kInsufficientStorage));
}

TEST_F(ServiceTest, SessionsExpire) {
  SignInService sign_in(*store_, options_, clock_, &cache_);
  Authenticator auth(*store_, options_, clock_, &cache_);
  auto in = sign_in.Login("admin", "admin-password", "::1", nullptr);
  ASSERT_THAT(in, IsOk());
  clock_.Advance(12 * 3600);
  EXPECT_THAT(auth.Authenticate(in->token), StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(ServiceTest, BootstrapRunsOnceOnAnEmptyStore) {
  auto again = users_->Bootstrap(std::nullopt);
  ASSERT_THAT(again, IsOk());
  EXPECT_FALSE(again->has_value());
  EXPECT_TRUE(admin_.IsOperator());
}

TEST_F(ServiceTest, UserManagementNeedsTheOperatorRole) {
  NewUser app{"svc", "Service", "application", std::nullopt};
  EXPECT_THAT(users_->Create(alice_, app), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(users_->Create(admin_, app), IsOk());
  EXPECT_THAT(users_->Create(admin_, app), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_EQ(users_->AddTag(alice_, "alice", kOperatorTag).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_THAT(users_->AddTag(admin_, "svc", "roles:id:data-dev"), IsOk());
  EXPECT_EQ(users_->RemoveTag(admin_, "me", kOperatorTag).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_THAT(users_->Delete(admin_, "admin"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(users_->Delete(admin_, "svc"), IsOk());
  EXPECT_THAT(users_->Delete(admin_, "svc"), StatusIs(StatusCode::kNotFound));
  NewUser app_with_password{"svc2", "S", "application", std::string("password123")};
  EXPECT_EQ(users_->Create(admin_, app_with_password).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace keyward

namespace keyward {
namespace {

TEST_F(ServiceTest, CachedIdentitiesFollowTagChangesAndUserDeletion) {
  KeyService keys(*store_, master_.get(), options_, clock_, &cache_);
  Authenticator auth(*store_, options_, clock_, &cache_);
  auto created = keys.Create(admin_, "alice", {.name = "k"});
  ASSERT_THAT(created, IsOk());
  ASSERT_THAT(auth.Authenticate(created->token), IsOk());  // now cached
  EXPECT_EQ(cache_.size(), 1u);
  ASSERT_THAT(users_->AddTag(admin_, "alice", "roles:id:data-dev"), IsOk());
  auto after_tag = auth.Authenticate(created->token);
  ASSERT_THAT(after_tag, IsOk());
  EXPECT_EQ(after_tag->user.tags, std::vector<std::string>{"roles:id:data-dev"});
  ASSERT_THAT(users_->Delete(admin_, "alice"), IsOk());
  EXPECT_THAT(auth.Authenticate(created->token), StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(ServiceTest, LastUsedIsWrittenInBatches) {
  KeyService keys(*store_, master_.get(), options_, clock_, &cache_);
  Authenticator auth(*store_, options_, clock_, &cache_);
  auto created = keys.Create(alice_, "me", {.name = "used"});
  ASSERT_THAT(created, IsOk());
  LastUsedWriter writer(cache_, *store_, std::chrono::hours(1));
  for (int i = 0; i < 100; ++i) ASSERT_THAT(auth.Authenticate(created->token), IsOk());
  EXPECT_EQ(store_->GetKey("alice", "used")->last_used_at, 0) << "written per request";
  EXPECT_EQ(writer.Flush(), 1u);
  EXPECT_EQ(store_->GetKey("alice", "used")->last_used_at, clock_.Now());
}

}  // namespace
}  // namespace keyward

namespace keyward {
namespace {

TEST_F(ServiceTest, LastUsedBatchesLargerThanAChunkAreWrittenWhole) {
  KeyService keys(*store_, master_.get(), options_, clock_, &cache_);
  Authenticator auth(*store_, options_, clock_, &cache_);
  std::vector<std::string> tokens;
  for (int i = 0; i < 300; ++i) {  // more than one chunk of 256
    auto created = keys.Create(alice_, "me", {.name = "k" + std::to_string(i)});
    ASSERT_THAT(created, IsOk());
    tokens.push_back(created->token);
  }
  for (const auto& token : tokens) ASSERT_THAT(auth.Authenticate(token), IsOk());
  LastUsedWriter writer(cache_, *store_, std::chrono::hours(1));
  EXPECT_EQ(writer.Flush(), 300u);
  auto listed = store_->ListKeys("alice");
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), 300u);
  for (const KeyRecord& key : *listed) {
    EXPECT_EQ(key.last_used_at, clock_.Now()) << key.name;
  }
}

// A store whose TouchKeys fails while `down` is set, as an unreachable database does.
class TouchFailingStore final : public ForwardingStore {
 public:
  explicit TouchFailingStore(Store& store) : ForwardingStore(store) {}
  Status TouchKeys(const std::vector<std::pair<std::string, UnixSeconds>>& used) override {
    if (down) return Status::Unavailable("the store is down (test)");
    return store_.TouchKeys(used);
  }
  bool down = false;
};

// A use is never lost to a failed write: the next flush writes it (an old secret in steady use
// must not look idle because the store was briefly down).
TEST_F(ServiceTest, LastUsedTimesAFlushCouldNotWriteAreWrittenByTheNext) {
  KeyService keys(*store_, master_.get(), options_, clock_, &cache_);
  Authenticator auth(*store_, options_, clock_, &cache_);
  auto created = keys.Create(alice_, "me", {.name = "used"});
  ASSERT_THAT(created, IsOk());
  ASSERT_THAT(auth.Authenticate(created->token), IsOk());
  TouchFailingStore failing(*store_);
  LastUsedWriter writer(cache_, failing, std::chrono::hours(1));
  failing.down = true;
  EXPECT_EQ(writer.Flush(), 1u);
  EXPECT_EQ(store_->GetKey("alice", "used")->last_used_at, 0);
  failing.down = false;
  EXPECT_EQ(writer.Flush(), 1u) << "the unwritten mark is retried";
  EXPECT_EQ(store_->GetKey("alice", "used")->last_used_at, clock_.Now());
  EXPECT_EQ(writer.Flush(), 0u) << "and written once";
}

}  // namespace
}  // namespace keyward
