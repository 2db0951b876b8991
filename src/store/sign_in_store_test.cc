// The Store's sign-in counters (store.h: UpdateSignInCounters, PruneSignInCounters; migration
// V008; issue 19), run against every backend like store_conformance_test.cc. "Nodes" are two
// stores on one database (for SQLite, two connections to one file).
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"
#include "store/store_conformance.h"
#include "store/store_test_util.h"

namespace keyward {
namespace {

using store_test::Backend;
using store_test::BackendStoreTest;

// Subjects as the throttle makes them (32-byte digests), with NUL and 0xff bytes, given out of
// byte order so that a backend that sorted or text-mangled them would be seen.
const std::string kName = std::string("\xff\x00name", 6) + std::string(26, '\x01');
const std::string kAddress = std::string(
                                 "\x00\xff"
                                 "addr",
                                 6) +
                             std::string(26, '\x02');

class SignInStoreTest : public BackendStoreTest {
 protected:
  // The counters of `subjects` as stored, read by an update that changes nothing.
  std::vector<SignInCounter> Read(const std::vector<std::string>& subjects,
                                  Store* store = nullptr) {
    std::vector<SignInCounter> seen;
    EXPECT_THAT((store != nullptr ? store : store_.get())
                    ->UpdateSignInCounters(subjects,
                                           [&](std::vector<SignInCounter>& counters) {
                                             seen = counters;
                                             return false;
                                           }),
                IsOk());
    return seen;
  }
  // Stores `value` as the counter of each of `subjects`.
  void Set(const std::vector<std::string>& subjects, SignInCounter value) {
    KW_ASSERT_OK(store_->UpdateSignInCounters(subjects, [&](std::vector<SignInCounter>& counters) {
      for (SignInCounter& c : counters) c = value;
      return true;
    }));
  }
};

void ExpectCounter(const SignInCounter& c, std::int64_t failures, UnixSeconds locked_until,
                   UnixSeconds expires_at) {
  EXPECT_EQ(c.failures, failures);
  EXPECT_EQ(c.locked_until, locked_until);
  EXPECT_EQ(c.expires_at, expires_at);
}

TEST_P(SignInStoreTest, AbsentCountersReadAsZerosAndUpdatesAreStoredInTheSubjectsOrder) {
  std::vector<SignInCounter> first = Read({kName, kAddress});
  ASSERT_EQ(first.size(), 2u);
  ExpectCounter(first[0], 0, 0, 0);
  ExpectCounter(first[1], 0, 0, 0);

  KW_ASSERT_OK(store_->UpdateSignInCounters({kName, kAddress}, [](std::vector<SignInCounter>& c) {
    c[0] = {.failures = 5, .locked_until = 1'000'002, .expires_at = 1'086'402};
    c[1] = {.failures = 1, .locked_until = 0, .expires_at = 1'086'400};
    return true;
  }));
  std::vector<SignInCounter> both = Read({kAddress, kName});
  ASSERT_EQ(both.size(), 2u);
  ExpectCounter(both[0], 1, 0, 1'086'400);
  ExpectCounter(both[1], 5, 1'000'002, 1'086'402);
  // Each is a counter of its own: one alone, and with a subject never counted.
  ExpectCounter(Read({kName})[0], 5, 1'000'002, 1'086'402);
  std::vector<SignInCounter> with_new = Read({"other", kAddress});
  ExpectCounter(with_new[0], 0, 0, 0);
  ExpectCounter(with_new[1], 1, 0, 1'086'400);
}

TEST_P(SignInStoreTest, AnUpdateThatReturnsFalseChangesNothing) {
  Set({kName}, {.failures = 3, .locked_until = 7, .expires_at = 9});
  KW_ASSERT_OK(store_->UpdateSignInCounters({kName, kAddress}, [](std::vector<SignInCounter>& c) {
    c[0].failures = 99;  // changed, but not to be stored
    c[1].failures = 99;
    return false;
  }));
  ExpectCounter(Read({kName})[0], 3, 7, 9);
  ExpectCounter(Read({kAddress})[0], 0, 0, 0);
  // Nothing was inserted for the absent one (PostgreSQL takes it as a row of zeros first).
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t pruned, store_->PruneSignInCounters(1'000'000'000));
  EXPECT_EQ(pruned, 1);
}

TEST_P(SignInStoreTest, ACounterLeftWithoutFailuresIsDeleted) {
  Set({kName, kAddress}, {.failures = 2, .locked_until = 0, .expires_at = 500});
  KW_ASSERT_OK(store_->UpdateSignInCounters({kName, kAddress}, [](std::vector<SignInCounter>& c) {
    c[0].failures = 0;
    c[1].failures = 1;
    return true;
  }));
  ExpectCounter(Read({kName})[0], 0, 0, 0);
  ExpectCounter(Read({kAddress})[0], 1, 0, 500);
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t pruned, store_->PruneSignInCounters(1'000'000'000));
  EXPECT_EQ(pruned, 1) << "only the address's counter was left";
}

TEST_P(SignInStoreTest, PruneForgetsTheCountersThatExpiredByThen) {
  Set({"a"}, {.failures = 1, .locked_until = 0, .expires_at = 100});
  Set({"b"}, {.failures = 9, .locked_until = 150, .expires_at = 200});
  Set({"c"}, {.failures = 2, .locked_until = 0, .expires_at = 201});
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t none, store_->PruneSignInCounters(99));
  EXPECT_EQ(none, 0);
  KW_ASSERT_OK_AND_ASSIGN(std::int64_t two, store_->PruneSignInCounters(200));
  EXPECT_EQ(two, 2);
  std::vector<SignInCounter> left = Read({"a", "b", "c"});
  ExpectCounter(left[0], 0, 0, 0);
  ExpectCounter(left[1], 0, 0, 0);
  ExpectCounter(left[2], 2, 0, 201);
}

TEST_P(SignInStoreTest, SubjectsOutOfBoundsAreRefusedBeforeUpdateRuns) {
  bool ran = false;
  auto update = [&](std::vector<SignInCounter>&) {
    ran = true;
    return true;
  };
  std::vector<std::string> nine;
  for (int i = 0; i < 9; ++i) nine.push_back("s" + std::to_string(i));
  for (const std::vector<std::string>& subjects :
       std::vector<std::vector<std::string>>{{}, nine, {""}, {std::string(65, 'x')}, {"a", "a"}}) {
    EXPECT_THAT(store_->UpdateSignInCounters(subjects, update),
                StatusIs(StatusCode::kInvalidArgument))
        << subjects.size();
  }
  EXPECT_FALSE(ran);
  std::vector<std::string> eight(nine.begin(), nine.end() - 1);
  eight.back() = std::string(64, '\xff');
  KW_EXPECT_OK(store_->UpdateSignInCounters(eight, update));
  EXPECT_TRUE(ran);
}

// Two nodes add to the same counters from 8 threads at once: no increment is lost, so each
// read-modify-write saw the one before it.
TEST_P(SignInStoreTest, TwoStoresCountingAtOnceLoseNoIncrement) {
  KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> other, GetParam().open_again(dir_.path(), keep_));
  std::array<Store*, 2> stores = {store_.get(), other.get()};
  constexpr int kThreads = 8;
  constexpr int kEach = 25;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      // Half name first, half address first: the store locks them in one order whatever the
      // caller's, so these cannot deadlock.
      const std::vector<std::string> subjects = t % 4 < 2
                                                    ? std::vector<std::string>{kName, kAddress}
                                                    : std::vector<std::string>{kAddress, kName};
      for (int i = 0; i < kEach; ++i) {
        EXPECT_THAT(stores[t % 2]->UpdateSignInCounters(subjects,
                                                        [](std::vector<SignInCounter>& c) {
                                                          for (SignInCounter& one : c) {
                                                            ++one.failures;
                                                            one.expires_at = 1000;
                                                          }
                                                          return true;
                                                        }),
                    IsOk());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::vector<SignInCounter> counted = Read({kName, kAddress}, other.get());
  EXPECT_EQ(counted[0].failures, kThreads * kEach);
  EXPECT_EQ(counted[1].failures, kThreads * kEach);
}

// The throttle's admission as the store sees it: a counter admits while it is below a bound and
// counts what it admits. 16 threads on two nodes try 50 times each, all at once: exactly the
// bound is admitted between them, never one more.
TEST_P(SignInStoreTest, TwoStoresAdmittingAtOnceAdmitNoMoreThanTheBound) {
  KW_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> other, GetParam().open_again(dir_.path(), keep_));
  std::array<Store*, 2> stores = {store_.get(), other.get()};
  constexpr int kBound = 5;
  constexpr int kThreads = 16;
  constexpr int kEach = 50;
  std::atomic<int> admitted{0};
  std::atomic<int> errors{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kEach; ++i) {
        bool in = false;
        Status status = stores[t % 2]->UpdateSignInCounters(
            {kName, kAddress}, [&](std::vector<SignInCounter>& c) {
              in = c[0].failures < kBound;
              if (!in) return false;
              ++c[0].failures;
              ++c[1].failures;
              c[0].expires_at = c[1].expires_at = 1000;
              return true;
            });
        if (!status.ok()) ++errors;
        if (status.ok() && in) ++admitted;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(admitted.load(), kBound);
  std::vector<SignInCounter> counted = Read({kName, kAddress});
  EXPECT_EQ(counted[0].failures, kBound);
  EXPECT_EQ(counted[1].failures, kBound);
}

INSTANTIATE_TEST_SUITE_P(Backends, SignInStoreTest, ::testing::ValuesIn(store_test::Backends()),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace keyward
