// Issue 16 through the real ApiHandler (api_test_world.h): a key's rate limit at /auth (429, or
// 403 for nginx), at POST /api/v1/authorize and at the token endpoint, each with Retry-After and
// the RateLimit headers; what counts on the key; and the /metrics lines.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <thread>

#include "app/api_test_world.h"

namespace keyward {
namespace {

namespace bh = http::beast_http;
namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Header(const Answer& a, std::string_view name) {
  auto it = a.response.find(name);
  return it == a.response.end() ? "" : std::string(it->value());
}

// The rate-limit headers of a refusal of a key limited to `limit` requests.
void ExpectRateLimitHeaders(const Answer& a, int limit, const std::string& what) {
  EXPECT_EQ(Header(a, "X-Keyward-Reason"), "rate_limited") << what;
  const std::string retry = Header(a, "Retry-After");
  ASSERT_FALSE(retry.empty()) << what;
  ASSERT_TRUE(std::all_of(retry.begin(), retry.end(), [](char c) { return std::isdigit(c); }))
      << what << ": " << retry;
  EXPECT_GE(std::stoi(retry), 1) << what;
  EXPECT_LE(std::stoi(retry), 60) << what;
  EXPECT_EQ(Header(a, "RateLimit-Limit"), std::to_string(limit)) << what;
  EXPECT_EQ(Header(a, "RateLimit-Remaining"), "0") << what;
  EXPECT_FALSE(Header(a, "RateLimit-Reset").empty()) << what;
}

// The JSON error body of a rate-limited /auth or /api/v1/authorize.
void ExpectExhaustedBody(const Answer& a, const std::string& limit_text, const std::string& what) {
  const json::value body = json::parse(a.response.body());
  EXPECT_EQ(body.at("error").at("code").as_string(), "resource_exhausted") << what;
  EXPECT_THAT(std::string(body.at("error").at("message").as_string()),
              StartsWith("the key's rate limit (" + limit_text + ") is used up; retry in "))
      << what;
}

class RateLimitApiTest : public ::testing::Test {
 protected:
  // A full-access key of alice's limited to `requests` a minute.
  std::string Limited(const std::string& name, int requests) {
    return world_.AddKey("alice", name, FullAccess(), RateLimit{.requests = requests, .per = 60});
  }
  Answer Auth(const std::string& key, const std::string& target = "/auth", bool as_403 = false) {
    http::Request req = MakeRequest(bh::verb::get, target, "", key);
    if (as_403) req.set("X-Keyward-Rate-Limit-Status", "403");
    auto answer = world_.Send(std::move(req));
    EXPECT_TRUE(answer.has_value());
    return answer ? std::move(*answer) : Answer{};
  }
  Answer Authorize(const std::string& token) {
    auto answer = world_.Send(MakeRequest(bh::verb::post, "/api/v1/authorize",
                                          json::serialize(json::object{{"token", token}}),
                                          world_.tokens["admin"]));
    EXPECT_TRUE(answer.has_value());
    return answer ? std::move(*answer) : Answer{};
  }
  // What the usage recorder counted for `token` since the last call (all hours).
  UsageCounts CountedFor(const std::string& token) {
    UsageCounts sum{};
    for (const UsageDelta& d : world_.graph().usage().Take()) {
      if (d.hash != HashKey(token)) continue;
      for (std::size_t o = 0; o < kUsageOutcomes; ++o) sum[o] += d.counts[o];
    }
    return sum;
  }
  static std::int64_t At(const UsageCounts& c, UsageOutcome o) {
    return c[static_cast<std::size_t>(o)];
  }

  ApiWorld world_;
};

// 429 from the cache and from the store alike; 403 with the same headers when the request asks
// for it (nginx); a request refused by a requirement takes no token.
TEST_F(RateLimitApiTest, ForwardAuthAnswers429Or403WithTheHeaders) {
  const std::string key = Limited("gateway-client", 2);
  EXPECT_EQ(Auth(key, "/auth?scope=minerva:query").status(), 200);  // full access: has it
  EXPECT_EQ(Auth(key, "/auth?tag=team:none").status(), 403);        // refused: no token taken
  EXPECT_EQ(Auth(key).status(), 200);
  const Answer hit = Auth(key);  // the cache knows the key: answered on this thread
  EXPECT_EQ(hit.status(), 429) << hit.response.body();
  EXPECT_TRUE(hit.before_handle_returned);
  ExpectRateLimitHeaders(hit, 2, "cache hit");
  ExpectExhaustedBody(hit, "2 per 1m", "cache hit");
  EXPECT_EQ(Header(hit, "X-Keyward-User"), "");

  const Answer as_403 = Auth(key, "/auth", /*as_403=*/true);
  EXPECT_EQ(as_403.status(), 403);
  ExpectRateLimitHeaders(as_403, 2, "403 on request");
  ExpectExhaustedBody(as_403, "2 per 1m", "403 on request");

  world_.cache().Clear();  // the store decides; the bucket is the key's, not the entry's
  const Answer miss = Auth(key);
  EXPECT_EQ(miss.status(), 429);
  EXPECT_NE(miss.sent_on, std::this_thread::get_id());
  ExpectRateLimitHeaders(miss, 2, "cache miss");
  world_.cache().Clear();
  EXPECT_EQ(Auth(key, "/auth", /*as_403=*/true).status(), 403);

  // Each presentation counted once: 2 allowed, 1 tag, 4 rate limited.
  const UsageCounts c = CountedFor(key);
  EXPECT_EQ(At(c, UsageOutcome::kAllowed), 2);
  EXPECT_EQ(At(c, UsageOutcome::kTag), 1);
  EXPECT_EQ(At(c, UsageOutcome::kRateLimited), 4);
  // A key without a limit is never refused.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Auth(world_.tokens["bob"]).status(), 200) << i;
}

// POST /api/v1/authorize limits (and counts) the key it is asked about, not the caller's.
TEST_F(RateLimitApiTest, AuthorizeAnswers429ForTheAuthorizedKey) {
  const std::string key = Limited("authorized", 1);
  const Answer first = Authorize(key);
  ASSERT_EQ(first.status(), 200) << first.response.body();
  EXPECT_TRUE(json::parse(first.response.body()).at("allow").as_bool());
  const Answer second = Authorize(key);
  EXPECT_EQ(second.status(), 429) << second.response.body();
  ExpectRateLimitHeaders(second, 1, "authorize");
  ExpectExhaustedBody(second, "1 per 1m", "authorize");
  const UsageCounts c = CountedFor(key);
  EXPECT_EQ(At(c, UsageOutcome::kAllowed), 1);
  EXPECT_EQ(At(c, UsageOutcome::kRateLimited), 1);
  // The caller (admin's key, unlimited) is counted as an API caller, never limited.
  EXPECT_EQ(Authorize(world_.tokens["bob"]).status(), 200);
}

// The token endpoint: the key presented as client secret goes through its bucket; over it, 429
// with an OAuth-shaped body and Retry-After. A request refused for its scope takes no token.
TEST_F(RateLimitApiTest, TokenEndpointAnswers429InOAuthShape) {
  Grant grant;
  grant.scopes = {"minerva:query", "tokens:issue"};  // sorted, as grants keep them
  const std::string key =
      world_.AddKey("alice", "issuer-client", grant, RateLimit{.requests = 1, .per = 60});
  auto token = [&](const std::string& extra = "") {
    http::Request req{bh::verb::post, "/oauth/token", 11};
    req.set(bh::field::host, "127.0.0.1");
    req.set(bh::field::content_type, "application/x-www-form-urlencoded");
    req.body() = "grant_type=client_credentials&client_id=alice&client_secret=" + key + extra;
    auto answer = world_.Send(std::move(req));
    EXPECT_TRUE(answer.has_value());
    return answer ? std::move(*answer) : Answer{};
  };
  const Answer out_of_scope = token("&scope=minerva%3Anever");
  EXPECT_EQ(out_of_scope.status(), 400) << out_of_scope.response.body();
  const Answer issued = token();
  ASSERT_EQ(issued.status(), 200) << issued.response.body();
  const Answer limited = token();
  EXPECT_EQ(limited.status(), 429) << limited.response.body();
  EXPECT_EQ(Header(limited, "Pragma"), "no-cache");
  ExpectRateLimitHeaders(limited, 1, "token endpoint");
  const json::value body = json::parse(limited.response.body());
  EXPECT_EQ(body.at("error").as_string(), "rate_limited");
  EXPECT_THAT(std::string(body.at("error_description").as_string()),
              StartsWith("the key's rate limit (1 per 1m) is used up; retry in "));
  const UsageCounts c = CountedFor(key);
  EXPECT_EQ(At(c, UsageOutcome::kAllowed), 1);
  EXPECT_EQ(At(c, UsageOutcome::kScope), 1);
  EXPECT_EQ(At(c, UsageOutcome::kRateLimited), 1);
  EXPECT_EQ(At(c, UsageOutcome::kExpired) + At(c, UsageOutcome::kRevoked), 0);
}

// The management API counts a key's own calls as allowed (and never limits them).
TEST_F(RateLimitApiTest, ManagementApiCountsItsCallersKey) {
  const std::string key = Limited("api-caller", 1);
  for (int i = 0; i < 3; ++i) {
    auto me = world_.Send(MakeRequest(bh::verb::get, "/api/v1/users/me", "", key));
    ASSERT_TRUE(me.has_value());
    EXPECT_EQ(me->status(), 200) << i;
  }
  const UsageCounts c = CountedFor(key);
  EXPECT_EQ(At(c, UsageOutcome::kAllowed), 3);
  EXPECT_EQ(At(c, UsageOutcome::kRateLimited), 0);
}

TEST_F(RateLimitApiTest, MetricsShowRateLimitsAndKeyUses) {
  const std::string key = Limited("metered", 1);
  EXPECT_EQ(Auth(key).status(), 200);
  EXPECT_EQ(Auth(key).status(), 429);
  EXPECT_EQ(Auth(key, "/auth?tag=team:none").status(), 403);  // a requirement first: no token
  auto metrics = world_.Send(MakeRequest(bh::verb::get, "/metrics"));
  ASSERT_TRUE(metrics.has_value());
  const std::string& text = metrics->response.body();
  EXPECT_THAT(text, HasSubstr("keyward_denials_total{reason=\"rate_limited\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("keyward_rate_limited_total 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE keyward_key_uses_total counter\n"));
  EXPECT_THAT(text, HasSubstr("keyward_key_uses_total{outcome=\"rate_limited\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("keyward_key_uses_total{outcome=\"allowed\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("keyward_key_uses_total{outcome=\"tag\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("keyward_denials_total{reason=\"tag\"} 1\n"));
  for (const char* outcome : {"expired", "revoked", "disabled", "scope", "address"}) {
    EXPECT_THAT(text,
                HasSubstr("keyward_key_uses_total{outcome=\"" + std::string(outcome) + "\"} 0\n"));
  }
}

}  // namespace
}  // namespace keyward
