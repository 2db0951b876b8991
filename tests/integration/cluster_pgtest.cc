// Several keyward nodes on one PostgreSQL: what crosses nodes, and how fast.
//
// Needs the server `scripts/with-postgres` starts (make test runs ctest under it); without
// KEYWARD_TEST_PG_URL every test here is skipped.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>

#include "backend_fixture.h"
#include "harness.h"

namespace keyward::testing {
namespace {

using Clock = std::chrono::steady_clock;

class ClusterTest : public PostgresClusterTest {
 protected:
  ClusterTest() : PostgresClusterTest("kw_cluster_") {}
  int AuthOn(const ServerProcess& node, const std::string& key) {
    return Call(node.port(), "GET", "/auth", "", {{"Authorization", "Bearer " + key}}).status;
  }
};

TEST_F(ClusterTest, KeyCreatedOnOneNodeVerifiesOnTheOtherAtOnce) {
  StartBoth();
  std::string key = a_->NewKey(admin_a_, "me", "from-a");
  EXPECT_EQ(AuthOn(*b_, key), 200);
  // The master key is shared, so B can reveal what A sealed.
  HttpResult revealed = b_->As(admin_b_, "GET", "/api/v1/users/me/apikeys/from-a/token");
  ASSERT_EQ(revealed.status, 200) << revealed.body;
  EXPECT_EQ(revealed.Json().at("token").as_string(), key);
}

TEST_F(ClusterTest, KeyDeletedOnOneNodeIsRefusedByTheOtherWithinASecond) {
  StartBoth();
  std::vector<double> millis;
  for (int round = 0; round < 100; ++round) {
    std::string key = a_->NewKey(admin_a_, "me", "round");
    ASSERT_EQ(AuthOn(*b_, key), 200) << "round " << round;  // B has it cached now
    ASSERT_EQ(a_->As(admin_a_, "DELETE", "/api/v1/users/me/apikeys/round").status, 204);
    const auto deleted = Clock::now();
    while (AuthOn(*b_, key) == 200 && Clock::now() - deleted < std::chrono::seconds(10)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    millis.push_back(std::chrono::duration<double, std::milli>(Clock::now() - deleted).count());
  }
  std::sort(millis.begin(), millis.end());
  const double p50 = millis[millis.size() / 2], p99 = millis[millis.size() * 99 / 100];
  std::printf("delete on A → refused on B, 100 rounds: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
              p50, p99, millis.back());
  EXPECT_LT(p99, 1000.0);
}

TEST_F(ClusterTest, ALostListenConnectionStillRefusesWithinTheCacheLifetime) {
  StartBoth();
  std::string key = a_->NewKey(admin_a_, "me", "while-deaf");
  ASSERT_EQ(AuthOn(*b_, key), 200);
  // Cut every node's LISTEN connection; the delete's NOTIFY may then be lost on the way to B.
  Psql(url_,
       "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
       "WHERE datname = current_database() AND query ILIKE 'LISTEN%'");
  ASSERT_EQ(a_->As(admin_a_, "DELETE", "/api/v1/users/me/apikeys/while-deaf").status, 204);
  const auto deleted = Clock::now();
  while (AuthOn(*b_, key) == 200 && Clock::now() - deleted < std::chrono::seconds(15)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - deleted).count();
  std::printf("with B's listen connection killed: refused after %.2f s\n", seconds);
  EXPECT_EQ(AuthOn(*b_, key), 401);
  EXPECT_LE(seconds, 5.5) << "longer than the cache lifetime (5 s)";
}

TEST_F(ClusterTest, NodesStartingTogetherMigrateOnce) {
  auto first = std::async(std::launch::async, [&] { return Node(); });
  auto second = std::async(std::launch::async, [&] { return Node(); });
  a_ = first.get();
  b_ = second.get();
  EXPECT_GT(a_->port(), 0);
  EXPECT_GT(b_->port(), 0);
  // Each migration (V001 init, V002 audit log, V003 key grants, V004 signing keys, V005 key
  // lifecycle and webhooks, V006 usage and rate limits, V007 canary keys, V008 sign-in failures)
  // recorded once, by one of them.
  EXPECT_EQ(
      Psql(url_, "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations"),
      "1,2,3,4,5,6,7,8");
  EXPECT_EQ(Psql(url_, "SELECT count(*) FROM users WHERE id = 'admin'"), "1");
  EXPECT_EQ(Call(a_->port(), "GET", "/healthz").status, 200);
  EXPECT_EQ(Call(b_->port(), "GET", "/healthz").status, 200);
}

TEST_F(ClusterTest, SameNameOnBothNodesAtOnceGivesOne201AndOne409) {
  StartBoth();
  for (int round = 0; round < 10; ++round) {
    const std::string name = "race-" + std::to_string(round);
    auto on_a = std::async(std::launch::async, [&] {
      return a_->As(admin_a_, "POST", "/api/v1/users/me/apikeys", {{"name", name}});
    });
    auto on_b = std::async(std::launch::async, [&] {
      return b_->As(admin_b_, "POST", "/api/v1/users/me/apikeys", {{"name", name}});
    });
    HttpResult ra = on_a.get(), rb = on_b.get();
    for (const HttpResult* r : {&ra, &rb}) {
      if (r->status == 201) RememberSecret(std::string(r->Json().at("token").as_string()));
    }
    std::vector<int> statuses = {ra.status, rb.status};
    std::sort(statuses.begin(), statuses.end());
    EXPECT_EQ(statuses, (std::vector<int>{201, 409})) << "round " << round;
  }
}

TEST_F(ClusterTest, PostgresOutageFailsClosedAndRecovers) {
  a_ = Node();
  ASSERT_GT(a_->port(), 0);
  admin_a_ = a_->Login("admin", kAdminPassword);
  std::string cached = a_->NewKey(admin_a_, "me", "cached");
  std::string uncached = a_->NewKey(admin_a_, "me", "uncached");
  ASSERT_EQ(AuthOn(*a_, cached), 200);

  PgCtl("stop");
  HttpResult list = a_->As(admin_a_, "GET", "/api/v1/users/me/apikeys");
  EXPECT_EQ(list.status, 503) << list.body;
  EXPECT_EQ(list.Json().at("error").at("code").as_string(), "unavailable");
  int uncached_status = AuthOn(*a_, uncached);
  EXPECT_NE(uncached_status, 200) << "an uncached key must not pass while the store is down";
  EXPECT_TRUE(uncached_status == 401 || uncached_status == 403) << uncached_status;
  EXPECT_EQ(Call(a_->port(), "GET", "/healthz").status, 200) << "the node keeps running";

  PgCtl("start");
  const auto back = Clock::now();
  int status = 0;
  while (Clock::now() - back < std::chrono::seconds(5)) {
    status = a_->As(admin_a_, "GET", "/api/v1/users/me/apikeys").status;
    if (status == 200 && AuthOn(*a_, uncached) == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::printf("serving again %.2f s after PostgreSQL came back\n",
              std::chrono::duration<double>(Clock::now() - back).count());
  EXPECT_EQ(status, 200);
  EXPECT_EQ(AuthOn(*a_, uncached), 200);
}

}  // namespace
}  // namespace keyward::testing
