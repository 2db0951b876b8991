// The sign-in throttle of three nodes on one PostgreSQL database (issue 19): each node its own
// store and throttle, as three `keyward serve` processes have. Together they admit what one node
// would, never three times that. Skips without KEYWARD_TEST_PG_URL (scripts/with-postgres).
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/random.h"
#include "common/status_matchers.h"
#include "service/login_throttle.h"
#include "store/postgres/pg_test_util.h"
#include "store/store_factory.h"

namespace keyward {
namespace {

constexpr int kNodes = 3;

class LoginThrottlePgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (pg::TestServerUrl().empty()) {
      GTEST_SKIP() << "KEYWARD_TEST_PG_URL is not set (scripts/with-postgres sets it)";
    }
    ASSERT_TRUE(InitCrypto());
    ASSERT_THAT(db_.status(), IsOk());
    const std::string key = RandomBytes(32);  // the nodes share the master key
    for (int i = 0; i < kNodes; ++i) {
      auto store = OpenStore({.data_dir = "", .db_url = db_.url()});
      ASSERT_THAT(store, IsOk());
      stores_.push_back(std::move(store).value());
      throttles_.push_back(std::make_unique<LoginThrottle>(*stores_.back(), 5, 20, 900, key));
    }
  }

  // Node `node`'s answer; -1 (and a failed test) on a store error.
  std::int64_t Admit(int node, const std::string& name, const std::string& address,
                     UnixSeconds now) {
    Result<std::int64_t> wait = throttles_[node]->Admit(name, address, now);
    EXPECT_THAT(wait, IsOk());
    return wait.ok() ? *wait : -1;
  }

  pg::TempDatabase db_;
  std::vector<std::unique_ptr<Store>> stores_;
  std::vector<std::unique_ptr<LoginThrottle>> throttles_;
};

// 24 threads, 8 per node, 40 attempts each at the same second: the 5 free failures of the name
// are admitted in all, and every other attempt is refused with the lock's wait.
TEST_F(LoginThrottlePgTest, ThreeNodesAtOnceAdmitNoMoreThanOne) {
  constexpr int kThreads = 24;
  constexpr int kEach = 40;
  const UnixSeconds now = 1'700'000'000;
  std::atomic<int> admitted{0}, refused{0}, failed{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kEach; ++i) {
        // From many addresses, so only the name's counter can stop them.
        Result<std::int64_t> wait = throttles_[t % kNodes]->Admit(
            "victim", "10.0." + std::to_string(t) + "." + std::to_string(i), now);
        if (!wait.ok()) {
          ++failed;
        } else if (*wait == 0) {
          ++admitted;
        } else {
          ++refused;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(admitted.load(), 5);
  EXPECT_EQ(refused.load(), kThreads * kEach - 5);
  // The lock holds on every node, and ends for all of them together.
  for (int node = 0; node < kNodes; ++node)
    EXPECT_EQ(Admit(node, "victim", "10.9.9.9", now + 1), 1);
  EXPECT_EQ(Admit(1, "victim", "10.9.9.9", now + 2), 0);
  EXPECT_EQ(Admit(2, "victim", "10.9.9.9", now + 2), 3);
}

// A success on one node clears the name on all: the owner is not locked out by what another
// node counted.
TEST_F(LoginThrottlePgTest, ASuccessOnOneNodeClearsTheNameOnAll) {
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Admit(i % kNodes, "alice", "10.0.0.1", 100), 0) << i;
  ASSERT_EQ(Admit(1, "alice", "10.0.0.2", 100), 0);
  ASSERT_THAT(throttles_[1]->RecordSuccess("alice", "10.0.0.2", 100), IsOk());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Admit(i % kNodes, "alice", "10.0.0.3", 100), 0) << i;
  EXPECT_EQ(Admit(0, "alice", "10.0.0.3", 100), 2);
}

}  // namespace
}  // namespace keyward
