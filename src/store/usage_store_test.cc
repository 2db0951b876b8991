// The Store's usage calls (store.h: RecordUsage, GetUsage, TopUsage, PruneUsage; issue 16) and
// the rate limit and client fields of keys (migration V006), run against every backend like
// store_conformance_test.cc. "Nodes" are two stores on one database (for SQLite, one file).
#include <gtest/gtest.h>

#include <cstdint>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/usage.h"
#include "store/key_lifecycle_fixture.h"
#include "store/store.h"
#include "store/store_test_util.h"

namespace keyward {
namespace {

using store_test::Backend;
using store_test::Hash;
using store_test::kCreated;
using store_test::MakeKey;
using store_test::MakeOld;
using store_test::MakeUser;
using store_test::Next;
using store_test::With;

constexpr UnixSeconds kHour = 1'800'000'000 - 1'800'000'000 % 3600;  // an hour's start

// Counts with `n` at `outcome` and nothing else.
UsageCounts Only(UsageOutcome outcome, std::int64_t n) {
  UsageCounts counts{};
  counts[static_cast<std::size_t>(outcome)] = n;
  return counts;
}

UsageCounts Counts(std::int64_t allowed, std::int64_t scope, std::int64_t rate_limited) {
  UsageCounts counts{};
  counts[static_cast<std::size_t>(UsageOutcome::kAllowed)] = allowed;
  counts[static_cast<std::size_t>(UsageOutcome::kScope)] = scope;
  counts[static_cast<std::size_t>(UsageOutcome::kRateLimited)] = rate_limited;
  return counts;
}

UsageDelta Delta(int secret, UnixSeconds hour_start, UsageCounts counts, UnixSeconds seen_at = 0,
                 std::string address = "", std::string agent = "") {
  return {.hash = Hash(secret),
          .hour_start = hour_start,
          .counts = counts,
          .seen_at = seen_at,
          .last_address = std::move(address),
          .last_user_agent = std::move(agent)};
}

std::vector<UnixSeconds> Starts(const KeyUsage& usage) {
  std::vector<UnixSeconds> starts;
  starts.reserve(usage.hours.size());
  for (const UsageHour& hour : usage.hours) starts.push_back(hour.start);
  return starts;
}

class UsageStoreTest : public store_test::KeyLifecycleFixture {
 protected:
  // The key's stored hours from `since` on, failing the test on an error.
  KeyUsage UsageOf(const char* user, const char* name, UnixSeconds since = 0) {
    Result<KeyUsage> usage = store_->GetUsage(user, name, since, kHour + 1000 * 3600);
    EXPECT_THAT(usage, IsOk());
    return usage.ok() ? *usage : KeyUsage{};
  }
};

TEST_P(UsageStoreTest, CountsOfSeveralCallsAndNodesAddUpPerHour) {
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "ci", 1)));
  KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> other, GetParam().open_again(dir_.path(), keep_));
  KW_ASSERT_OK(store_->RecordUsage({Delta(1, kHour, Counts(3, 1, 0))}));
  KW_ASSERT_OK(other->RecordUsage({Delta(1, kHour, Counts(2, 0, 4))}));
  KW_ASSERT_OK(store_->RecordUsage(
      {Delta(1, kHour, Only(UsageOutcome::kExpired, 1)), Delta(1, kHour + 3600, Counts(7, 0, 0))}));
  KW_ASSERT_OK(other->RecordUsage({}));  // nothing to write

  KeyUsage usage = UsageOf("alice", "ci");
  ASSERT_EQ(Starts(usage), (std::vector<UnixSeconds>{kHour, kHour + 3600}));
  UsageCounts first = Counts(5, 1, 4);
  first[static_cast<std::size_t>(UsageOutcome::kExpired)] = 1;
  EXPECT_EQ(usage.hours[0].counts, first);
  EXPECT_EQ(usage.hours[1].counts, Counts(7, 0, 0));
  // The other node reads the same.
  KW_ASSERT_OK_AND_ASSIGN(KeyUsage seen, other->GetUsage("alice", "ci", 0, kHour + 7200));
  ASSERT_EQ(seen.hours.size(), 2u);
  EXPECT_EQ(seen.hours[0].counts, first);
}

TEST_P(UsageStoreTest, TwoNodesRecordingAtOnceLoseNoCount) {
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "a", 1)));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "b", 2)));
  KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> other, GetParam().open_again(dir_.path(), keep_));
  Store* stores[2] = {store_.get(), other.get()};
  constexpr int kRounds = 20;
  std::latch start(2);
  std::vector<std::thread> threads;
  threads.reserve(2);
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      for (int round = 0; round < kRounds; ++round) {
        // Opposite orders of the same keys and hours on the two nodes.
        std::vector<UsageDelta> deltas = {Delta(1, kHour, Counts(1, 0, 0)),
                                          Delta(2, kHour, Counts(1, 0, 0), kHour + round)};
        if (i == 1) std::swap(deltas[0], deltas[1]);
        EXPECT_THAT(stores[i]->RecordUsage(deltas), IsOk());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const char* name : {"a", "b"}) {
    KeyUsage usage = UsageOf("alice", name);
    ASSERT_EQ(usage.hours.size(), 1u) << name;
    EXPECT_EQ(usage.hours[0].counts, Counts(2 * kRounds, 0, 0)) << name;
  }
}

// One node's usage flush and another's last-used write touch the same keys' rows: they lock them
// in the same order (by hash), so neither fails on a deadlock. The keys are made so that their
// ids run opposite to their hashes (an order by id would deadlock against TouchKeys).
TEST_P(UsageStoreTest, AUsageFlushAndALastUsedWriteOfTheSameKeysDoNotDeadlock) {
  const bool one_first = Hash(1) > Hash(2);  // the larger hash gets the smaller id
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "a", one_first ? 1 : 2)));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "b", one_first ? 2 : 1)));
  KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> other, GetParam().open_again(dir_.path(), keep_));
  constexpr int kRounds = 30;
  std::latch start(2);
  std::thread flusher([&] {
    start.arrive_and_wait();
    for (int round = 0; round < kRounds; ++round) {
      EXPECT_THAT(
          store_->RecordUsage({Delta(1, kHour, Counts(1, 0, 0), kHour + round, "10.0.0.1"),
                               Delta(2, kHour, Counts(1, 0, 0), kHour + round, "10.0.0.2")}),
          IsOk());
    }
  });
  start.arrive_and_wait();
  for (int round = 0; round < kRounds; ++round) {
    EXPECT_THAT(other->TouchKeys({{Hash(1), kHour + round}, {Hash(2), kHour + round}}), IsOk());
  }
  flusher.join();
  EXPECT_EQ(UsageOf("alice", "a").hours.at(0).counts, Counts(kRounds, 0, 0));
}

TEST_P(UsageStoreTest, OldSecretsCountOnTheirKeyAndUnknownHashesAreSkipped) {
  KeyRecord key = MakeKey("alice", "ci", 1);
  KW_ASSERT_OK(store_->CreateKey(key));
  const UnixSeconds at = kCreated + 100;
  KW_ASSERT_OK(store_->RotateKey("alice", "ci", Hash(1), Next(key, 2, at),
                                 MakeOld(1, at, key.expires_at), {}));
  KW_ASSERT_OK(store_->RecordUsage({Delta(1, kHour, Only(UsageOutcome::kRevoked, 2)),
                                    Delta(99, kHour, Counts(50, 0, 0), kHour + 9, "10.9.9.9"),
                                    Delta(2, kHour, Counts(3, 0, 0))}));
  KeyUsage usage = UsageOf("alice", "ci");
  ASSERT_EQ(usage.hours.size(), 1u);
  UsageCounts want = Counts(3, 0, 0);
  want[static_cast<std::size_t>(UsageOutcome::kRevoked)] = 2;
  EXPECT_EQ(usage.hours[0].counts, want);
  EXPECT_EQ(usage.last_address, "");  // the unknown hash's client went nowhere
  // A batch of unknown hashes only is fine too.
  KW_EXPECT_OK(store_->RecordUsage({Delta(98, kHour, Counts(1, 0, 0), kHour, "10.0.0.1")}));
}

TEST_P(UsageStoreTest, GetUsageGivesTheHoursFromSinceUpToUntilAndNotFoundForNoKey) {
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "ci", 1)));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "idle", 2)));
  std::vector<UsageDelta> deltas;
  deltas.reserve(4);
  for (int h = 0; h < 4; ++h) deltas.push_back(Delta(1, kHour + h * 3600, Counts(h + 1, 0, 0)));
  KW_ASSERT_OK(store_->RecordUsage(deltas));

  KW_ASSERT_OK_AND_ASSIGN(KeyUsage usage,
                          store_->GetUsage("alice", "ci", kHour + 3600, kHour + 3 * 3600));
  EXPECT_EQ(Starts(usage), (std::vector<UnixSeconds>{kHour + 3600, kHour + 7200}));
  EXPECT_EQ(usage.hours[0].counts, Counts(2, 0, 0));
  KW_ASSERT_OK_AND_ASSIGN(usage, store_->GetUsage("alice", "ci", kHour + 1, kHour + 3 * 3600 + 1));
  EXPECT_EQ(Starts(usage), (std::vector<UnixSeconds>{kHour + 3600, kHour + 7200, kHour + 10800}));
  KW_ASSERT_OK_AND_ASSIGN(usage, store_->GetUsage("alice", "ci", kHour + 5 * 3600, kHour + 9000));
  EXPECT_TRUE(usage.hours.empty());
  // A key never used: found, with nothing.
  KW_ASSERT_OK_AND_ASSIGN(usage, store_->GetUsage("alice", "idle", 0, kHour + 9000));
  EXPECT_TRUE(usage.hours.empty());
  EXPECT_EQ(usage.first_used_at, 0);
  EXPECT_EQ(usage.last_address, "");
  KW_EXPECT_CODE(store_->GetUsage("alice", "nope", 0, kHour + 9000), StatusCode::kNotFound);
  KW_EXPECT_CODE(store_->GetUsage("bob", "ci", 0, kHour + 9000), StatusCode::kNotFound);
}

TEST_P(UsageStoreTest, SummaryKeepsTheFirstUseAndTheLatestClientWhateverTheFlushOrder) {
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "ci", 1)));
  KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> other, GetParam().open_again(dir_.path(), keep_));
  KW_ASSERT_OK(store_->RecordUsage(
      {Delta(1, kHour, Counts(1, 0, 0), kHour + 500, "10.0.0.5", "curl/8.0 ☃")}));
  // Another node flushes an earlier presentation later: it moves first use back only.
  KW_ASSERT_OK(
      other->RecordUsage({Delta(1, kHour, Counts(1, 0, 0), kHour + 100, "10.0.0.1", "a")}));
  // A delta without a client (seen_at 0) changes neither.
  KW_ASSERT_OK(store_->RecordUsage({Delta(1, kHour, Counts(1, 0, 0), 0, "10.0.0.7", "b")}));
  KW_ASSERT_OK(store_->TouchKeys({{Hash(1), kHour + 500}}));

  KeyUsage usage = UsageOf("alice", "ci");
  EXPECT_EQ(usage.first_used_at, kHour + 100);
  EXPECT_EQ(usage.last_used_at, kHour + 500);
  EXPECT_EQ(usage.last_address, "10.0.0.5");
  EXPECT_EQ(usage.last_user_agent, "curl/8.0 ☃");
  ASSERT_EQ(usage.hours.size(), 1u);
  EXPECT_EQ(usage.hours[0].counts, Counts(3, 0, 0));
  // Later wins, a tie too; the key's reads carry the same.
  KW_ASSERT_OK(other->RecordUsage(
      {Delta(1, kHour + 3600, Only(UsageOutcome::kScope, 1), kHour + 3700, "2001:db8::1", "")}));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord key, store_->GetKey("alice", "ci"));
  EXPECT_EQ(key.first_used_at, kHour + 100);
  EXPECT_EQ(key.last_address, "2001:db8::1");
  EXPECT_EQ(key.last_user_agent, "");
  KW_ASSERT_OK(store_->RecordUsage({Delta(1, kHour + 3600, {}, kHour + 3700, "10.1.1.1", "c")}));
  KW_ASSERT_OK_AND_ASSIGN(key, store_->FindKeyByHash(Hash(1)));
  EXPECT_EQ(key.last_address, "10.1.1.1");
  EXPECT_EQ(key.last_user_agent, "c");
  // A delta with no counts writes no hour.
  EXPECT_EQ(UsageOf("alice", "ci").hours.size(), 2u);
}

TEST_P(UsageStoreTest, ClientTextThatIsNotUtf8IsDroppedAndALongOneIsCut) {
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "ci", 1)));
  std::string long_agent = "x" + std::string(600, '\xc3');  // "x" then "é" halves...
  for (std::size_t i = 2; i < long_agent.size(); i += 2) long_agent[i] = '\xa9';  // ... "é"s
  KW_ASSERT_OK(store_->RecordUsage(
      {Delta(1, kHour, Counts(1, 0, 0), kHour + 1, std::string("10.0.0.1\0x", 10), long_agent)}));
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord key, store_->GetKey("alice", "ci"));
  EXPECT_EQ(key.last_address, "");
  EXPECT_EQ(key.last_user_agent, long_agent.substr(0, 511));  // 512 would split an "é"
  KW_ASSERT_OK(store_->RecordUsage(
      {Delta(1, kHour, Counts(1, 0, 0), kHour + 2, "10.0.0.2", std::string("\xff\xfe"))}));
  KW_ASSERT_OK_AND_ASSIGN(key, store_->GetKey("alice", "ci"));
  EXPECT_EQ(key.last_address, "10.0.0.2");
  EXPECT_EQ(key.last_user_agent, "");
  // Control characters (C0, DEL, and C1 such as U+009B, a terminal's CSI) are stored as '?';
  // other characters ("é") are kept.
  KW_ASSERT_OK(store_->RecordUsage({Delta(1, kHour, Counts(1, 0, 0), kHour + 3, "10.0.0.3",
                                          "a\x1b[2Jb\x7f\xc2\x9b"
                                          "31m\xc3\xa9")}));
  KW_ASSERT_OK_AND_ASSIGN(key, store_->GetKey("alice", "ci"));
  EXPECT_EQ(key.last_user_agent, "a?[2Jb??31m\xc3\xa9");
}

TEST_P(UsageStoreTest, TopUsageRanksByRequestsOrDenialsThenByUserAndName) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("bob")));
  int n = 0;
  for (const char* user : {"alice", "bob"}) {
    for (const char* name : {"a", "b", "quiet"}) {
      KW_ASSERT_OK(store_->CreateKey(MakeKey(user, name, ++n)));
    }
  }
  KW_ASSERT_OK(store_->TouchKeys({{Hash(4), kHour + 60}}));
  // Keys 1..6: alice/a alice/b alice/quiet bob/a bob/b bob/quiet.
  KW_ASSERT_OK(store_->RecordUsage({
      Delta(1, kHour, Counts(5, 0, 0)),             // alice/a: 5 requests, no denial
      Delta(2, kHour, Counts(1, 2, 0)),             // alice/b: 3 requests, 2 denied
      Delta(4, kHour - 3600, Counts(100, 0, 100)),  // bob/a: an hour before `since`...
      Delta(4, kHour, Counts(0, 1, 2)),             // ... and 3 requests, 3 denied since
      Delta(5, kHour + 3600, Counts(2, 0, 3)),      // bob/b: 5 requests, 3 denied
  }));
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyUsageTotal> top,
                          store_->TopUsage(UsageRanking::kRequests, kHour, 10));
  ASSERT_EQ(top.size(), 4u);  // the quiet keys left out
  EXPECT_EQ(top[0].user_id, "alice");
  EXPECT_EQ(top[0].name, "a");
  EXPECT_EQ(top[0].allowed, 5);
  EXPECT_EQ(top[0].denied, 0);
  EXPECT_EQ(top[1].user_id, "bob");  // 5 requests too: then by user id
  EXPECT_EQ(top[1].name, "b");
  EXPECT_EQ(top[1].allowed, 2);
  EXPECT_EQ(top[1].denied, 3);
  EXPECT_EQ(top[2].user_id, "alice");  // 3 requests: alice before bob
  EXPECT_EQ(top[2].name, "b");
  EXPECT_EQ(top[3].user_id, "bob");
  EXPECT_EQ(top[3].name, "a");
  EXPECT_EQ(top[3].allowed, 0);
  EXPECT_EQ(top[3].denied, 3);
  EXPECT_EQ(top[3].last_used_at, kHour + 60);

  KW_ASSERT_OK_AND_ASSIGN(top, store_->TopUsage(UsageRanking::kDenied, kHour, 2));
  ASSERT_EQ(top.size(), 2u);  // limited; alice/a (no denial) would be left out anyway
  EXPECT_EQ(top[0].user_id, "bob");
  EXPECT_EQ(top[0].name, "a");  // 3 denied, a before b
  EXPECT_EQ(top[1].name, "b");
  KW_ASSERT_OK_AND_ASSIGN(top, store_->TopUsage(UsageRanking::kDenied, kHour - 3600, 10));
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].name, "a");
  EXPECT_EQ(top[0].denied, 103);
  EXPECT_EQ(top[2].user_id, "alice");
  EXPECT_EQ(top[2].name, "b");
  KW_ASSERT_OK_AND_ASSIGN(top, store_->TopUsage(UsageRanking::kRequests, kHour + 7200, 10));
  EXPECT_TRUE(top.empty());
  KW_EXPECT_CODE(store_->TopUsage(UsageRanking::kRequests, kHour, 0), StatusCode::kInvalidArgument);
}

TEST_P(UsageStoreTest, PruneUsageForgetsHoursStartingBeforeItsTime) {
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "ci", 1)));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "cd", 2)));
  KW_ASSERT_OK(store_->RecordUsage({Delta(1, kHour - 7200, Counts(1, 0, 0)),
                                    Delta(1, kHour - 3600, Counts(1, 0, 0)),
                                    Delta(2, kHour - 3600, Counts(1, 0, 0)),
                                    Delta(1, kHour, Counts(1, 0, 0), kHour + 5, "10.0.0.1")}));
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t gone, store_->PruneUsage(kHour - 3599));
  EXPECT_EQ(gone, 3);
  EXPECT_EQ(Starts(UsageOf("alice", "ci")), std::vector<UnixSeconds>{kHour});
  EXPECT_TRUE(UsageOf("alice", "cd").hours.empty());
  KW_ASSERT_OK_AND_ASSIGN(gone, store_->PruneUsage(kHour));
  EXPECT_EQ(gone, 0);
  // The key's summary stays.
  EXPECT_EQ(UsageOf("alice", "ci").last_address, "10.0.0.1");
}

TEST_P(UsageStoreTest, DeletingAKeyOrItsUserDropsItsUsage) {
  KW_ASSERT_OK(store_->CreateUser(MakeUser("bob")));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "ci", 1)));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("bob", "ci", 2)));
  KW_ASSERT_OK(store_->RecordUsage(
      {Delta(1, kHour, Counts(1, 0, 0), kHour, "10.0.0.1"), Delta(2, kHour, Counts(1, 0, 0))}));
  KW_ASSERT_OK(store_->DeleteKey("alice", "ci"));
  KW_ASSERT_OK(store_->DeleteUser("bob"));
  KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyUsageTotal> top,
                          store_->TopUsage(UsageRanking::kRequests, 0, 10));
  EXPECT_TRUE(top.empty());
  // A new key of the same name starts afresh.
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "ci", 3)));
  KeyUsage usage = UsageOf("alice", "ci");
  EXPECT_TRUE(usage.hours.empty());
  EXPECT_EQ(usage.last_address, "");
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t gone, store_->PruneUsage(kHour + 3600));
  EXPECT_EQ(gone, 0);
}

TEST_P(UsageStoreTest, RateLimitRoundTripsThroughCreateUpdateRotateAndEveryRead) {
  KeyRecord key = MakeKey("alice", "ci", 1);
  key.rate_limit = {.requests = 10, .per = 60};
  key.first_used_at = 5;  // kept by the store only: CreateKey ignores them
  key.last_address = "1.2.3.4";
  KW_ASSERT_OK(store_->CreateKey(key));
  KW_ASSERT_OK(store_->CreateKey(MakeKey("alice", "plain", 2)));
  auto expect_everywhere = [&](const RateLimit& want, int secret) {
    KW_ASSERT_OK_AND_ASSIGN(KeyRecord got, store_->GetKey("alice", "ci"));
    KW_ASSERT_OK_AND_ASSIGN(KeyRecord found, store_->FindKeyByHash(Hash(secret)));
    KW_ASSERT_OK_AND_ASSIGN(KeyRecord by_prefix,
                            store_->FindKeyByHashPrefix(Hash(secret).substr(0, 8)));
    KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> keys, store_->ListKeys("alice"));
    KW_ASSERT_OK_AND_ASSIGN(std::vector<KeyRecord> due,
                            store_->ListKeysToWarn(kCreated, 2 * 86'400, 10));
    ASSERT_EQ(keys.size(), 2u);
    ASSERT_EQ(due.size(), 2u);
    const KeyRecord& due_ci = due[0].name == "ci" ? due[0] : due[1];
    for (const KeyRecord& k : {got, found, by_prefix, keys[0], due_ci}) {
      EXPECT_EQ(k.name, "ci");
      EXPECT_EQ(k.rate_limit, want);
      EXPECT_EQ(k.first_used_at, 0);
      EXPECT_EQ(k.last_address, "");
      EXPECT_EQ(k.last_user_agent, "");
    }
    EXPECT_FALSE(keys[1].rate_limit.enabled());
    EXPECT_EQ(keys[1].rate_limit, RateLimit{});
  };
  expect_everywhere({.requests = 10, .per = 60}, 1);

  KW_ASSERT_OK(store_->UpdateKey(
      "alice", "ci", 0, With(&KeyUpdate::rate_limit, RateLimit{.requests = 5, .per = 1}), {}));
  expect_everywhere({.requests = 5, .per = 1}, 1);
  // An edit of something else keeps it; so does a rotation.
  KW_ASSERT_OK(store_->UpdateKey("alice", "ci", 1, With(&KeyUpdate::description, "d"), {}));
  KeyRecord current = key;
  KW_ASSERT_OK(store_->RotateKey("alice", "ci", Hash(1), Next(current, 7, kCreated + 10),
                                 MakeOld(1, kCreated + 10, key.expires_at), {}));
  expect_everywhere({.requests = 5, .per = 1}, 7);
  KW_ASSERT_OK_AND_ASSIGN(KeyRecord by_old, store_->FindKeyByHash(Hash(1)));
  EXPECT_EQ(by_old.rate_limit, (RateLimit{.requests = 5, .per = 1}));
  // requests 0 removes it (per too).
  KW_ASSERT_OK(store_->UpdateKey(
      "alice", "ci", 3, With(&KeyUpdate::rate_limit, RateLimit{.requests = 0, .per = 30}), {}));
  expect_everywhere({}, 7);
}

INSTANTIATE_TEST_SUITE_P(Backends, UsageStoreTest, ::testing::ValuesIn(store_test::Backends()),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace keyward
