// The usage recorder (issue 16): counts per hour per presented secret, the client at most once
// per second, Take handing everything over once, concurrent counting, idle slots forgotten.
#include "service/usage_recorder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace keyward {
namespace {

constexpr UnixSeconds kHour = 1'765'101'600;  // a multiple of 3600 (2025-12-07T10:00:00Z)
static_assert(kHour % kSecondsPerHour == 0);

std::string HashOf(char c) { return std::string(32, c); }

UsageCounts Counts(std::initializer_list<std::pair<UsageOutcome, std::int64_t>> counts) {
  UsageCounts out{};
  for (const auto& [outcome, n] : counts) out[static_cast<std::size_t>(outcome)] = n;
  return out;
}

std::vector<UsageDelta> Sorted(std::vector<UsageDelta> deltas) {
  std::sort(deltas.begin(), deltas.end(), [](const UsageDelta& a, const UsageDelta& b) {
    return std::tie(a.hash, a.hour_start) < std::tie(b.hash, b.hour_start);
  });
  return deltas;
}

TEST(UsageRecorderTest, CountsPerHourAcrossAnHourBoundary) {
  UsageRecorder recorder;
  auto slot = recorder.SlotFor(HashOf('a'));
  ASSERT_NE(slot, nullptr);
  slot->Count(UsageOutcome::kAllowed, kHour + 3598);
  slot->Count(UsageOutcome::kAllowed, kHour + 3599);
  slot->Count(UsageOutcome::kScope, kHour + 3599);
  slot->Count(UsageOutcome::kAllowed, kHour + 3600);  // the next hour
  slot->Count(UsageOutcome::kRateLimited, kHour + 7199);
  auto deltas = recorder.Take();
  ASSERT_EQ(deltas.size(), 2u);
  EXPECT_EQ(deltas[0].hash, HashOf('a'));
  EXPECT_EQ(deltas[0].hour_start, kHour);
  EXPECT_EQ(deltas[0].counts, Counts({{UsageOutcome::kAllowed, 2}, {UsageOutcome::kScope, 1}}));
  EXPECT_EQ(deltas[1].hour_start, kHour + 3600);
  EXPECT_EQ(deltas[1].counts,
            Counts({{UsageOutcome::kAllowed, 1}, {UsageOutcome::kRateLimited, 1}}));
  EXPECT_EQ(deltas[0].seen_at, 0) << "no client recorded";
  EXPECT_EQ(recorder.totals(), Counts({{UsageOutcome::kAllowed, 3},
                                       {UsageOutcome::kScope, 1},
                                       {UsageOutcome::kRateLimited, 1}}));
}

TEST(UsageRecorderTest, TakeResetsTheCountsButNotTheTotals) {
  UsageRecorder recorder;
  auto slot = recorder.SlotFor(HashOf('a'));
  slot->Count(UsageOutcome::kExpired, kHour);
  ASSERT_EQ(recorder.Take().size(), 1u);
  EXPECT_TRUE(recorder.Take().empty()) << "taken once";
  slot->Count(UsageOutcome::kExpired, kHour + 1);
  auto deltas = recorder.Take();
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0].counts, Counts({{UsageOutcome::kExpired, 1}}));
  // The place of an hour is reused two hours later, for that hour's counts alone.
  slot->Count(UsageOutcome::kDisabled, kHour + 7200);
  deltas = recorder.Take();
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0].hour_start, kHour + 7200);
  EXPECT_EQ(deltas[0].counts, Counts({{UsageOutcome::kDisabled, 1}}));
  EXPECT_EQ(recorder.totals(), Counts({{UsageOutcome::kExpired, 2}, {UsageOutcome::kDisabled, 1}}));
}

TEST(UsageRecorderTest, TheClientIsRecordedAtMostOncePerSecondAndTakenOnce) {
  UsageRecorder recorder;
  auto slot = recorder.SlotFor(HashOf('a'));
  slot->Record(UsageOutcome::kAllowed, kHour + 10, "10.0.0.1", "first/1");
  slot->Record(UsageOutcome::kAllowed, kHour + 10, "10.0.0.2", "second/1");  // same second
  EXPECT_FALSE(slot->WantsClient(kHour + 10));
  EXPECT_TRUE(slot->WantsClient(kHour + 11));
  auto deltas = recorder.Take();
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0].counts, Counts({{UsageOutcome::kAllowed, 2}}));
  EXPECT_EQ(deltas[0].seen_at, kHour + 10);
  EXPECT_EQ(deltas[0].last_address, "10.0.0.1");
  EXPECT_EQ(deltas[0].last_user_agent, "first/1");

  slot->Record(UsageOutcome::kTag, kHour + 11, "10.0.0.3", "third/1");
  deltas = recorder.Take();
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0].seen_at, kHour + 11);
  EXPECT_EQ(deltas[0].last_address, "10.0.0.3");
  slot->Count(UsageOutcome::kAllowed, kHour + 12);
  deltas = recorder.Take();
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0].seen_at, 0) << "the client went with the earlier delta";
  EXPECT_EQ(deltas[0].last_address, "");
}

TEST(UsageRecorderTest, TheClientGoesWithTheLatestHour) {
  UsageRecorder recorder;
  auto slot = recorder.SlotFor(HashOf('a'));
  slot->Record(UsageOutcome::kAllowed, kHour + 3599, "10.0.0.1", "a/1");
  slot->Record(UsageOutcome::kAllowed, kHour + 3600, "10.0.0.2", "b/1");
  auto deltas = recorder.Take();
  ASSERT_EQ(deltas.size(), 2u);
  EXPECT_EQ(deltas[0].hour_start, kHour);
  EXPECT_EQ(deltas[0].seen_at, 0);
  EXPECT_EQ(deltas[1].hour_start, kHour + 3600);
  EXPECT_EQ(deltas[1].seen_at, kHour + 3600);
  EXPECT_EQ(deltas[1].last_address, "10.0.0.2");
}

TEST(UsageRecorderTest, ConcurrentCountsAddUpToTheTotal) {
  UsageRecorder recorder;
  auto slot = recorder.SlotFor(HashOf('a'));
  constexpr int kPerThread = 100'000;
  std::int64_t taken = 0;
  std::atomic<bool> done{false};
  auto count = [&] {
    for (int i = 0; i < kPerThread; ++i) {
      slot->Record(UsageOutcome::kAllowed, kHour + i / 20'000, "10.0.0.1", "ua");
    }
  };
  // The writer takes while the two threads count: nothing is lost or taken twice.
  std::thread taker([&] {
    while (!done.load()) {
      for (const UsageDelta& d : recorder.Take()) taken += d.counts[0];
    }
  });
  std::thread a(count), b(count);
  a.join();
  b.join();
  done.store(true);
  taker.join();
  for (const UsageDelta& d : recorder.Take()) taken += d.counts[0];
  EXPECT_EQ(taken, 2 * kPerThread);
  EXPECT_EQ(recorder.totals()[0], 2 * kPerThread);
}

TEST(UsageRecorderTest, SlotsAreSharedWhileHeldAndForgottenOnceIdleAndTaken) {
  UsageRecorder recorder;
  auto a = recorder.SlotFor(HashOf('a'));
  auto b = recorder.SlotFor(HashOf('b'));
  EXPECT_EQ(recorder.SlotFor(HashOf('a')), a) << "one slot per secret";
  EXPECT_EQ(recorder.size(), 2u);
  a->Count(UsageOutcome::kAllowed, kHour);
  b->Count(UsageOutcome::kAllowed, kHour);
  a.reset();  // its owner (a cache entry) went: its counts are still taken, then it goes
  auto deltas = Sorted(recorder.Take());
  ASSERT_EQ(deltas.size(), 2u);
  EXPECT_EQ(deltas[0].hash, HashOf('a'));
  EXPECT_EQ(recorder.size(), 1u);
  b->Count(UsageOutcome::kAllowed, kHour);
  b.reset();
  ASSERT_EQ(recorder.Take().size(), 1u);
  EXPECT_EQ(recorder.size(), 0u);
}

TEST(UsageRecorderTest, DisabledOrMalformedGivesNoSlot) {
  UsageRecorder off(false);
  EXPECT_EQ(off.SlotFor(HashOf('a')), nullptr);
  EXPECT_TRUE(off.Take().empty());
  UsageRecorder on;
  EXPECT_EQ(on.SlotFor("short"), nullptr);
}

}  // namespace
}  // namespace keyward
