// Sign-in throttling across nodes (issue 19): three `keyward serve` nodes on one PostgreSQL
// count failed sign-ins in it, so 1,000 wrong passwords for one user spread over them are
// evaluated no more often than one node alone would allow in that time; the owner signs in once
// the backoff has passed; and while PostgreSQL is down a sign-in answers 503, never a password
// checked without its count (200 or 401), and works again when PostgreSQL is back, without a
// restart of the nodes.
//
// A checked password answers 401 `unauthenticated` (wrong username or password); a throttled
// attempt 429 `resource_exhausted` with Retry-After, before any password is checked
// (signin_abuse_test.cc shows both on one node). Needs the server `scripts/with-postgres`
// starts, which this test stops and starts (RUN_SERIAL); skipped without KEYWARD_TEST_PG_URL.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backend_fixture.h"
#include "harness.h"

namespace keyward::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

// The nodes' throttle (flags of `keyward serve`): short, so that the owner waits seconds.
constexpr int kFreeFailures = 5;
constexpr int kMaxBackoff = 2;  // seconds
constexpr int kNodes = 3;

std::string SignInBody(const std::string& user, const std::string& password) {
  return boost::json::serialize(boost::json::value{{"username", user}, {"password", password}});
}

// The most passwords of one name a throttle admits within `elapsed` seconds, on any number of
// nodes sharing its counts: the free failures, then one more each time a lock has passed. The
// lock after the (free + i)-th failure lasts more than min(2^i, max backoff) seconds (its whole
// seconds, plus the rest of the second it began in), so k further admissions need more than the
// sum of the first k locks.
int ThrottleBound(double elapsed) {
  int admitted = kFreeFailures;
  double locks = 0;
  for (int i = 0;; ++i) {
    locks += std::min<double>(kMaxBackoff, i >= 30 ? kMaxBackoff : double(1LL << i));
    if (locks >= elapsed) return admitted;
    ++admitted;
  }
}

class SignInClusterTest : public PostgresClusterTest {
 protected:
  SignInClusterTest() : PostgresClusterTest("kw_signin_") {}

  void SetUp() override {
    PostgresClusterTest::SetUp();
    if (IsSkipped()) return;
    const std::vector<std::string> flags = {"--login-free-failures", std::to_string(kFreeFailures),
                                            "--login-max-backoff",
                                            std::to_string(kMaxBackoff) + "s"};
    StartBoth(flags);
    c_ = Node(flags);
    ASSERT_GT(c_->port(), 0);
    nodes_ = {a_.get(), b_.get(), c_.get()};
  }
  void TearDown() override {
    if (pg_stopped_) PgCtl("start");  // a failed test must not leave the server down
    StopAndScan(c_, /*sqlite=*/false);
    PostgresClusterTest::TearDown();
  }

  HttpResult SignIn(int node, const std::string& from, const std::string& user,
                    const std::string& password) {
    HttpResult r =
        CallFrom(from, nodes_[node]->port(), "POST", "/api/v1/login", SignInBody(user, password));
    if (r.status == 200) RememberSecret(std::string(r.Json().at("token").as_string()));
    return r;
  }

  std::unique_ptr<ServerProcess> c_;
  std::array<ServerProcess*, kNodes> nodes_{};
  bool pg_stopped_ = false;
};

TEST_F(SignInClusterTest, AThousandWrongPasswordsOverThreeNodesEvaluateOneNodesBound) {
  const std::string password = "owner-password-5d1e8b";
  RememberSecret(password);
  HttpResult created =
      a_->As(admin_a_, "POST", "/api/v1/users",
             {{"id", "owner"}, {"name", "owner"}, {"type", "person"}, {"password", password}});
  ASSERT_EQ(created.status, 201) << created.body;

  // 1,000 guesses, attempt i on node i % 3, from 16 connections at once, each thread from an
  // address of its own (so that only the name's count can hold them back), as fast as the
  // nodes answer; at most a minute.
  constexpr int kAttempts = 1000;
  constexpr int kThreads = 16;
  std::atomic<int> next{0};
  std::mutex mu;
  std::map<int, int> by_status;
  std::array<int, kNodes> evaluated_on{};
  int without_retry_after = 0;
  const auto started = SteadyClock::now();
  const auto give_up = started + std::chrono::seconds(60);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string from = "127.0.1." + std::to_string(t + 1);
      for (int i = next++; i < kAttempts && SteadyClock::now() < give_up; i = next++) {
        HttpResult r = SignIn(i % kNodes, from, "owner", "guess-" + std::to_string(i));
        std::lock_guard lock(mu);
        ++by_status[r.status];
        if (r.status == 401) ++evaluated_on[i % kNodes];
        if (r.status == 429 && r.Header("retry-after").empty()) ++without_retry_after;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - started).count();
  const int bound = ThrottleBound(elapsed);
  std::printf(
      "1,000 wrong passwords over 3 nodes in %.2f s: %d evaluated (401: %d, %d, %d per node), "
      "%d throttled (429); one node's bound for that time: %d\n",
      elapsed, by_status[401], evaluated_on[0], evaluated_on[1], evaluated_on[2], by_status[429],
      bound);
  EXPECT_EQ(by_status[401] + by_status[429], kAttempts) << "every guess got one of the two";
  EXPECT_LE(by_status[401], bound) << "more passwords were checked than one node allows";
  EXPECT_GE(by_status[401], kFreeFailures) << "the free failures are checked";
  EXPECT_EQ(without_retry_after, 0);

  // The owner, from an address of their own: told to wait, waits, and gets in; never a 401.
  int waits = 0;
  for (int attempt = 0;; ++attempt) {
    HttpResult r = SignIn(attempt % kNodes, "127.0.2.1", "owner", password);
    if (r.status == 200) break;
    ASSERT_EQ(r.status, 429) << r.body;
    ASSERT_LT(waits, 3) << "the backoff never ended";
    const int wait = std::stoi(r.Header("retry-after"));
    ASSERT_GT(wait, 0);
    ASSERT_LE(wait, kMaxBackoff + 1);
    ++waits;
    std::this_thread::sleep_for(std::chrono::seconds(wait));
  }
  std::printf("the owner signed in after waiting %d time(s)\n", waits);
  EXPECT_LE(waits, 2);  // one Retry-After is enough, give or take a second's rounding

  // PostgreSQL down: no node can count, so none checks a password. The right password and a
  // wrong one both get 503, on every node, however often they are tried.
  PgCtl("stop");
  pg_stopped_ = true;
  std::map<int, int> while_down;
  for (int round = 0; round < 5; ++round) {
    for (int node = 0; node < kNodes; ++node) {
      for (const std::string& tried : {password, std::string("guess-while-down")}) {
        HttpResult r = SignIn(node, "127.0.2.2", "owner", tried);
        ++while_down[r.status];
        ASSERT_EQ(r.status, 503) << "node " << node << ": " << r.body;
        EXPECT_EQ(Str(r.Json().at("error"), "code"), "unavailable");
        EXPECT_EQ(Str(r.Json().at("error"), "message"),
                  "sign-in is unavailable: failed sign-ins cannot be counted while the database "
                  "cannot be reached; try again shortly");
      }
    }
  }
  EXPECT_EQ(while_down[503], 5 * kNodes * 2);

  // Back: every node signs the owner in again by itself, within seconds.
  PgCtl("start");
  pg_stopped_ = false;
  const auto back = SteadyClock::now();
  for (int node = 0; node < kNodes; ++node) {
    EXPECT_TRUE(
        Eventually([&] { return SignIn(node, "127.0.2.3", "owner", password).status == 200; },
                   std::chrono::seconds(15)))
        << "node " << node << " did not sign in again";
  }
  std::printf("signing in again on all nodes %.2f s after PostgreSQL came back\n",
              std::chrono::duration<double>(SteadyClock::now() - back).count());
}

}  // namespace
}  // namespace keyward::testing
