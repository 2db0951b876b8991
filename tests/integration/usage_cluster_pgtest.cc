// Usage counts and rate limits with two keyward nodes on one PostgreSQL database (issue 16,
// acceptance 1 and 4).
//
// Counts: each node counts what it answers and adds it to the stored hour (an upsert that adds),
// so after both have flushed, the usage API of either node gives the exact sum.
//
// Rate limits: with --rate-limit-nodes N, each node enforces its share of a key's limit: rate/N,
// burst ceil(requests/N). Over any t seconds the nodes together allow at most
//     N·ceil(requests/N) + requests·t/per        (docs/usage-and-limits.md)
// Here N = 2 and 10 per 1 s: 10 + 10·t. t is measured from the first request's scheduled time to
// the last answer, which holds every request both nodes saw, so the bound applies to it as it
// stands; the test adds N (one token per node coming due at the window's very end, counted when a
// request lands on it). The floor is the rate alone over the time the requests were sent,
// 10·3 = 30: more than one node's share can give (5 + 5·t + 1 ≈ 21), so both nodes took part,
// and a limiter that refused far too much fails it.
//
// Needs the server `scripts/with-postgres` starts; without KEYWARD_TEST_PG_URL it is skipped.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "backend_fixture.h"
#include "harness.h"
#include "load_client.h"
#include "usage_expect.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;

class UsageClusterTest : public PostgresClusterTest {
 protected:
  UsageClusterTest() : PostgresClusterTest("kw_usage_cluster_") {}

  // A key of the admin's made on node A with `extra` members; "" unless 201.
  std::string MakeKey(const std::string& name, json::object extra = {}) {
    extra["name"] = name;
    HttpResult r = a_->As(admin_a_, "POST", "/api/v1/users/me/apikeys", extra);
    EXPECT_EQ(r.status, 201) << name << ": " << r.body;
    if (r.status != 201) return "";
    std::string token(r.Json().at("token").as_string());
    RememberSecret(token);
    return token;
  }

  static int Auth(const ServerProcess& node, const std::string& key, const std::string& query = "",
                  const std::string& from = "127.0.0.1") {
    return CallFrom(from, node.port(), "GET", "/auth" + query, "",
                    {{"Authorization", "Bearer " + key}})
        .status;
  }
};

TEST_F(UsageClusterTest, EitherNodeShowsTheSumOfBothAfterTheyFlush) {
  ASSERT_NO_FATAL_FAILURE(StartBoth({"--last-used-interval", "1s"}));
  const std::int64_t from = WallNow();
  const std::string key = MakeKey("shared", {{"allowed_addresses", json::array{"127.0.0.0/24"}}});
  ASSERT_FALSE(key.empty());
  UsageTally want;
  for (int i = 0; i < 6; ++i) EXPECT_EQ(Auth(*a_, key), 200);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(Auth(*a_, key, "?scope=x"), 403);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Auth(*b_, key), 200);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Auth(*b_, key, "?scope=x"), 403);
  HttpResult fenced =
      b_->As(admin_b_, "POST", "/api/v1/authorize", {{"token", key}, {"address", "192.0.2.1"}});
  ASSERT_EQ(fenced.status, 200) << fenced.body;
  EXPECT_EQ(fenced.Json().at("reason"), "address") << fenced.body;
  want.Add("allowed", 10);
  want.Add("scope", 5);
  want.Add("address", 1);
  const std::int64_t to = WallNow();

  for (const auto& entry : {std::pair{a_.get(), admin_a_}, std::pair{b_.get(), admin_b_}}) {
    // Named, not bound: clang's C++20 captures no structured binding in a lambda.
    const ServerProcess* node = entry.first;
    const std::string& admin = entry.second;
    json::value usage;
    EXPECT_TRUE(Eventually(
        [&] {
          usage = TryGetUsage(node->port(), admin, "me", "shared");
          return usage.is_object() && TallyOf(usage.at("totals")).Total() >= want.Total();
        },
        std::chrono::seconds(10)))
        << usage;
  }
  // A flush later, nothing was added twice; both nodes read the same sum.
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  ExpectUsage(GetUsage(a_->port(), admin_a_, "me", "shared"), want, from, to, "node A");
  ExpectUsage(GetUsage(b_->port(), admin_b_, "me", "shared"), want, from, to, "node B");
}

TEST_F(UsageClusterTest, TwoNodesTogetherStayWithinTheDocumentedBound) {
  ASSERT_NO_FATAL_FAILURE(StartBoth({"--rate-limit-nodes", "2"}));
  const std::string key =
      MakeKey("ten-per-second", {{"rate_limit", json::object{{"requests", 10}, {"per", "1s"}}}});
  ASSERT_FALSE(key.empty());
  LoadRequest request;
  request.headers = {{"Authorization", "Bearer " + key}};
  // 4 keep-alive connections, two to each node: 100 requests per second per node for 3 s.
  LoadResult load = RunPacedLoad({a_->port(), b_->port()}, request, 4, 200, 3.0);
  ASSERT_EQ(load.replies.size(), 600u);
  int allowed = 0, other = 0;
  int per_node[2] = {0, 0};
  for (const auto& reply : load.replies) {
    if (reply.result.status == 200) {
      ++allowed;
      ++per_node[reply.port_index];
    } else if (reply.result.status != 429) {
      ++other;
    }
  }
  const double t = load.seconds();
  const double bound = 2 * std::ceil(10 / 2.0) + 10 * t;
  const double node_bound = std::ceil(10 / 2.0) + 5 * t;
  std::printf(
      "two nodes, 10/1s, --rate-limit-nodes 2: %d allowed (A %d, B %d) in %.3f s; "
      "bound %.1f + 2, floor 30\n",
      allowed, per_node[0], per_node[1], t, bound);
  EXPECT_EQ(other, 0) << "every answer is 200 or 429";
  EXPECT_LE(allowed, bound + 2);
  EXPECT_GE(allowed, 30);
  // Each node keeps to its share (5/s, burst 5), and uses it.
  for (int n : per_node) {
    EXPECT_LE(n, node_bound + 1);
    EXPECT_GE(n, 15);
  }

  // Unbalanced traffic: a client that reaches one node only gets that node's share, half the
  // limit (the caveat docs/usage-and-limits.md states).
  const std::string lone =
      MakeKey("lone", {{"rate_limit", json::object{{"requests", 10}, {"per", "1s"}}}});
  ASSERT_FALSE(lone.empty());
  request.headers = {{"Authorization", "Bearer " + lone}};
  LoadResult one = RunPacedLoad({a_->port()}, request, 2, 100, 2.0);
  const int lone_allowed = one.CountStatus(200);
  std::printf("all on node A: %d allowed in %.3f s (its share: at most %.1f + 1)\n", lone_allowed,
              one.seconds(), 5 + 5 * one.seconds());
  EXPECT_LE(lone_allowed, 5 + 5 * one.seconds() + 1);
  EXPECT_GE(lone_allowed, 10);  // 5/s over the 2 s the requests were sent
}

}  // namespace
}  // namespace keyward::testing
