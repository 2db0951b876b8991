// Issue 16 through the real ApiHandler (api_test_world.h): rate limits on keys (create, edit,
// validation, who may widen them) and the usage routes over hours seeded as the last-used writer
// writes them (Store::RecordUsage): dense buckets, day sums, since/until forms, range limits,
// and the top keys for operators.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "app/api_call_test_util.h"
#include "app/api_test_world.h"
#include "core/api_key.h"
#include "core/usage.h"

namespace keyward {
namespace {

namespace bh = http::beast_http;
namespace json = boost::json;
using ::testing::HasSubstr;

using api_call::Call;
using api_call::Sent;

const std::string kKeys = "/api/v1/users/alice/apikeys";
constexpr std::int64_t kDay = 86400;

UsageCounts Counts(std::int64_t allowed, std::int64_t scope = 0, std::int64_t rate_limited = 0) {
  UsageCounts counts{};
  counts[static_cast<std::size_t>(UsageOutcome::kAllowed)] = allowed;
  counts[static_cast<std::size_t>(UsageOutcome::kScope)] = scope;
  counts[static_cast<std::size_t>(UsageOutcome::kRateLimited)] = rate_limited;
  return counts;
}

json::object DeniedJson(std::int64_t scope, std::int64_t rate_limited) {
  return {{"expired", 0},
          {"revoked", 0},
          {"disabled", 0},
          {"scope", scope},
          {"tag", 0},
          {"address", 0},
          {"rate_limited", rate_limited}};
}

// A grant of exactly `scope`, all of the owner's tags, from anywhere.
Grant Scoped(const std::string& scope) {
  Grant grant;
  grant.scopes = {scope};
  return grant;
}

class UsageApiTest : public ::testing::Test {
 protected:
  // Makes alice's key `name` with `extra` JSON members as alice; returns the create answer.
  Sent Make(const std::string& name, const std::string& extra = "") {
    Sent made = Call(world_, bh::verb::post, kKeys, alice(),
                     R"({"name":")" + name + "\"" + (extra.empty() ? "" : "," + extra) + "}");
    EXPECT_EQ(made.status, 201) << json::serialize(made.body);
    return made;
  }
  Sent Patch(const std::string& name, const std::string& body, const std::string& token) {
    return Call(world_, bh::verb::patch, kKeys + "/" + name, token, body);
  }
  // Adds `counts` in the hour starting `hour` to the key whose secret is `token`.
  void Seed(const std::string& token, UnixSeconds hour, const UsageCounts& counts,
            UnixSeconds seen_at = 0, const std::string& address = "",
            const std::string& user_agent = "") {
    ASSERT_THAT(world_.store().RecordUsage({UsageDelta{.hash = HashKey(token),
                                                       .hour_start = hour,
                                                       .counts = counts,
                                                       .seen_at = seen_at,
                                                       .last_address = address,
                                                       .last_user_agent = user_agent}}),
                IsOk());
  }
  Sent Usage(const std::string& name, const std::string& query, const std::string& token) {
    return Call(world_, bh::verb::get, kKeys + "/" + name + "/usage" + query, token);
  }
  std::string alice() { return world_.tokens["alice"]; }
  std::string admin() { return world_.tokens["admin"]; }

  ApiWorld world_;
};

// --- rate limits on keys ---

TEST_F(UsageApiTest, CreatedKeyShowsItsRateLimit) {
  Sent made = Make("limited", R"("rate_limit":{"requests":10,"per":"60s"})");
  EXPECT_EQ(made.body.at("rate_limit"), (json::object{{"requests", 10}, {"per", "1m"}}));
  EXPECT_TRUE(made.body.at("last_address").is_null());
  Sent plain = Make("plain");
  EXPECT_TRUE(plain.body.at("rate_limit").is_null());
  Sent none = Make("none", R"("rate_limit":null)");
  EXPECT_TRUE(none.body.at("rate_limit").is_null());
  // Stored: the list shows the same.
  Sent listed = Call(world_, bh::verb::get, kKeys, alice());
  ASSERT_EQ(listed.status, 200);
  for (const json::value& key : listed.body.as_array()) {
    if (key.at("name") == "limited") {
      EXPECT_EQ(key.at("rate_limit"), (json::object{{"requests", 10}, {"per", "1m"}}));
    } else {
      EXPECT_TRUE(key.at("rate_limit").is_null()) << json::serialize(key);
    }
  }
}

TEST_F(UsageApiTest, PatchSetsChangesAndRemovesTheRateLimitOnRecord) {
  Make("worker");
  Sent set = Patch("worker", R"({"rate_limit":{"requests":10,"per":"1s"}})", alice());
  ASSERT_EQ(set.status, 200) << json::serialize(set.body);
  EXPECT_EQ(set.body.at("rate_limit"), (json::object{{"requests", 10}, {"per", "1s"}}));
  Sent changed = Patch("worker", R"({"rate_limit":{"requests":500,"per":"1h"}})", alice());
  ASSERT_EQ(changed.status, 200) << json::serialize(changed.body);
  EXPECT_EQ(changed.body.at("rate_limit"), (json::object{{"requests", 500}, {"per", "1h"}}));
  Sent removed = Patch("worker", R"({"rate_limit":null})", alice());
  ASSERT_EQ(removed.status, 200) << json::serialize(removed.body);
  EXPECT_TRUE(removed.body.at("rate_limit").is_null());
  // Each change is in the audit log's key.update record.
  Sent audit = Call(world_, bh::verb::get, "/api/v1/audit?user=alice", admin());
  ASSERT_EQ(audit.status, 200);
  std::vector<std::string> details;
  for (const json::value& event : audit.body.at("events").as_array()) {
    if (event.at("action") == "key.update") details.emplace_back(event.at("detail").as_string());
  }
  EXPECT_THAT(details, ::testing::ElementsAre("rate_limit=off", "rate_limit=500/1h",
                                              "rate_limit=10/1s"));  // newest first
}

TEST_F(UsageApiTest, MalformedRateLimitsAreRefusedNamingTheMember) {
  struct Case {
    std::string rate_limit;
    std::string says;
  };
  const std::vector<Case> cases = {
      {R"("10/1s")", "\"rate_limit\" must be an object"},
      {R"({"requests":10,"per":"1s","burst":5})", "unknown field \"burst\""},
      {R"({"per":"1s"})", "\"rate_limit.requests\" is required"},
      {R"({"requests":10})", "\"rate_limit.per\" is required"},
      {R"({"requests":0,"per":"1s"})", "\"rate_limit.requests\" must be 1…1000000000"},
      {R"({"requests":-3,"per":"1s"})", "\"rate_limit.requests\" must be 1…1000000000"},
      {R"({"requests":1000000001,"per":"1s"})", "\"rate_limit.requests\" must be 1…"},
      {R"({"requests":18446744073709551615,"per":"1s"})", "\"rate_limit.requests\" must be 1…"},
      {R"({"requests":1.5,"per":"1s"})", "\"rate_limit.requests\" must be a whole number"},
      {R"({"requests":"10","per":"1s"})", "\"rate_limit.requests\" must be a whole number"},
      {R"({"requests":10,"per":1})", "\"rate_limit.per\" must be a duration"},
      {R"({"requests":10,"per":"soon"})", "rate_limit.per: "},
      {R"({"requests":10,"per":"0s"})", "rate_limit.per: "},
      {R"({"requests":10,"per":"25h"})", "rate_limit.per must be 1s…24h"},
  };
  Make("target");
  for (const Case& c : cases) {
    Sent created = Call(world_, bh::verb::post, kKeys, alice(),
                        R"({"name":"bad","rate_limit":)" + c.rate_limit + "}");
    EXPECT_EQ(created.status, 400) << c.rate_limit;
    EXPECT_THAT(created.Message(), HasSubstr(c.says)) << c.rate_limit;
    Sent edited = Patch("target", R"({"rate_limit":)" + c.rate_limit + "}", alice());
    EXPECT_EQ(edited.status, 400) << c.rate_limit;
    EXPECT_THAT(edited.Message(), HasSubstr(c.says)) << c.rate_limit;
  }
  // Nothing was made or changed.
  Sent listed = Call(world_, bh::verb::get, kKeys, alice());
  ASSERT_EQ(listed.status, 200);
  for (const json::value& key : listed.body.as_array()) {
    EXPECT_NE(key.at("name"), "bad");
    EXPECT_TRUE(key.at("rate_limit").is_null()) << json::serialize(key);
  }
}

// A key without full access may set or lower a limit on any key it may edit; removing or
// raising one (more per second, or a larger burst) only on a key it could reveal; and a key
// never widens its own.
TEST_F(UsageApiTest, OnlyACallerThatCouldRevealTheKeyWidensItsRateLimit) {
  const std::string editor = world_.AddKey("alice", "editor", Scoped("keys:write"));
  // Broader than the editor: it may not reveal it.
  Make("broad", R"("scopes":["keys:read","keys:write"],"rate_limit":{"requests":10,"per":"1s"})");
  // Narrower, and gone before the editor: it could.
  Make("narrow", R"("duration":"1h","rate_limit":{"requests":10,"per":"1s"})");

  EXPECT_EQ(Patch("broad", R"({"rate_limit":{"requests":5,"per":"1s"}})", editor).status, 200);
  EXPECT_EQ(Patch("broad", R"({"rate_limit":{"requests":5,"per":"2s"}})", editor).status, 200);
  for (const char* wider : {R"({"rate_limit":null})",
                            R"({"rate_limit":{"requests":6,"per":"2s"}})",     // more per second
                            R"({"rate_limit":{"requests":10,"per":"4s"}})",    // a larger burst
                            R"({"rate_limit":{"requests":5,"per":"1s"}})"}) {  // faster
    Sent refused = Patch("broad", wider, editor);
    EXPECT_EQ(refused.status, 403) << wider << ": " << json::serialize(refused.body);
  }
  Sent still = Call(world_, bh::verb::get, kKeys, alice());
  for (const json::value& key : still.body.as_array()) {
    if (key.at("name") == "broad") {
      EXPECT_EQ(key.at("rate_limit"), (json::object{{"requests", 5}, {"per", "2s"}}));
    }
  }
  // The owner's full power widens it; the editor widens the key it could reveal.
  EXPECT_EQ(Patch("broad", R"({"rate_limit":null})", alice()).status, 200);
  EXPECT_EQ(Patch("narrow", R"({"rate_limit":{"requests":100,"per":"1s"}})", editor).status, 200);
  EXPECT_EQ(Patch("narrow", R"({"rate_limit":null})", editor).status, 200);

  // A key on itself: lower, yes; remove, no.
  EXPECT_EQ(Patch("editor", R"({"rate_limit":{"requests":50,"per":"1s"}})", editor).status, 200);
  Sent self = Patch("editor", R"({"rate_limit":null})", editor);
  EXPECT_EQ(self.status, 403);
  EXPECT_THAT(self.Message(), HasSubstr("rate limit"));
}

// --- GET …/apikeys/{name}/usage ---

TEST_F(UsageApiTest, UsageGivesDenseHourBucketsWithTotalsAndTheLastClient) {
  const std::string token = Make("busy").Str("token");
  const UnixSeconds base = HourStart(Clock::System().Now()) - 10 * kSecondsPerHour;
  Seed(token, base + kSecondsPerHour, Counts(3, 1, 2), base + kSecondsPerHour + 5, "10.1.2.3",
       "curl/8.0");
  Seed(token, base + 3 * kSecondsPerHour, Counts(4));
  Seed(token, base + 3 * kSecondsPerHour, Counts(1));  // adds up
  Seed(token, base + 9 * kSecondsPerHour, Counts(7));  // after `until`'s bucket: left out

  const std::string query = "?since=" + FormatRfc3339(base + 1800) +
                            "&until=" + FormatRfc3339(base + 5 * kSecondsPerHour + 10);
  Sent got = Usage("busy", query, alice());
  ASSERT_EQ(got.status, 200) << json::serialize(got.body);
  EXPECT_EQ(got.Str("granularity"), "hour");
  EXPECT_EQ(got.Str("since"), FormatRfc3339(base + 1800));
  EXPECT_EQ(got.Str("until"), FormatRfc3339(base + 5 * kSecondsPerHour + 10));
  const json::array& buckets = got.body.at("buckets").as_array();
  ASSERT_EQ(buckets.size(), 6u);  // base … base+5h, the empty ones too
  const std::vector<std::int64_t> allowed = {0, 3, 0, 5, 0, 0};
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    EXPECT_EQ(buckets[i].at("start"), json::value(FormatRfc3339(base + static_cast<int>(i) * 3600)))
        << i;
    EXPECT_EQ(buckets[i].at("allowed"), allowed[i]) << i;
    EXPECT_EQ(buckets[i].at("denied"), i == 1 ? DeniedJson(1, 2) : DeniedJson(0, 0)) << i;
  }
  EXPECT_EQ(got.body.at("totals"), (json::object{{"allowed", 8}, {"denied", DeniedJson(1, 2)}}));
  EXPECT_EQ(got.body.at("first_used"), json::value(FormatRfc3339(base + kSecondsPerHour + 5)));
  EXPECT_EQ(got.body.at("last_address"), "10.1.2.3");
  EXPECT_EQ(got.body.at("last_user_agent"), "curl/8.0");
  // The key JSON shows where it was last used from.
  Sent listed = Call(world_, bh::verb::get, kKeys, alice());
  for (const json::value& key : listed.body.as_array()) {
    if (key.at("name") == "busy") {
      EXPECT_EQ(key.at("last_address"), "10.1.2.3");
    }
  }
}

TEST_F(UsageApiTest, UnusedKeyHasEmptyBucketsAndNullSummary) {
  Make("idle");
  Sent got = Usage("idle", "", alice());  // defaults: the last 24 hours by the hour
  ASSERT_EQ(got.status, 200) << json::serialize(got.body);
  EXPECT_EQ(got.Str("granularity"), "hour");
  const auto since = ParseRfc3339(got.Str("since"));
  const auto until = ParseRfc3339(got.Str("until"));
  ASSERT_TRUE(since && until);
  EXPECT_EQ(*until - *since, kDay);
  const json::array& buckets = got.body.at("buckets").as_array();
  ASSERT_EQ(buckets.size(), 25u);  // the hour holding since … the one holding until
  EXPECT_EQ(buckets.front().at("start"), json::value(FormatRfc3339(HourStart(*since))));
  EXPECT_EQ(buckets.back().at("start"), json::value(FormatRfc3339(HourStart(*until))));
  for (const json::value& bucket : buckets) {
    EXPECT_EQ(bucket.at("allowed"), 0);
    EXPECT_EQ(bucket.at("denied"), DeniedJson(0, 0));
  }
  for (const char* field : {"first_used", "last_used", "last_address", "last_user_agent"}) {
    EXPECT_TRUE(got.body.at(field).is_null()) << field;
  }
}

TEST_F(UsageApiTest, DayBucketsSumTheirHours) {
  const std::string token = Make("daily").Str("token");
  const UnixSeconds day = Clock::System().Now() / kDay * kDay - 3 * kDay;
  Seed(token, day + kSecondsPerHour, Counts(2, 1));
  Seed(token, day + 23 * kSecondsPerHour, Counts(5, 0, 4));
  Seed(token, day + kDay + 2 * kSecondsPerHour, Counts(6));
  const std::string query = "?granularity=day&since=" + FormatRfc3339(day + 5 * kSecondsPerHour) +
                            "&until=" + FormatRfc3339(day + 2 * kDay + 1);
  Sent got = Usage("daily", query, alice());
  ASSERT_EQ(got.status, 200) << json::serialize(got.body);
  EXPECT_EQ(got.Str("granularity"), "day");
  const json::array& buckets = got.body.at("buckets").as_array();
  ASSERT_EQ(buckets.size(), 3u);
  EXPECT_EQ(buckets[0].at("start"), json::value(FormatRfc3339(day)));
  EXPECT_EQ(buckets[0].at("allowed"), 7);  // the whole day, from before since too
  EXPECT_EQ(buckets[0].at("denied"), DeniedJson(1, 4));
  EXPECT_EQ(buckets[1].at("start"), json::value(FormatRfc3339(day + kDay)));
  EXPECT_EQ(buckets[1].at("allowed"), 6);
  EXPECT_EQ(buckets[2].at("allowed"), 0);
  EXPECT_EQ(got.body.at("totals"), (json::object{{"allowed", 13}, {"denied", DeniedJson(1, 4)}}));
  // A duration back from now gives as many days as it spans, plus the day holding now.
  Sent week = Usage("daily", "?granularity=day&since=7d", alice());
  ASSERT_EQ(week.status, 200) << json::serialize(week.body);
  EXPECT_EQ(week.body.at("buckets").as_array().size(), 8u);
  EXPECT_EQ(week.body.at("totals").at("allowed"), 13);
}

TEST_F(UsageApiTest, BadQueriesAndRangesOverTheLimitAre400) {
  Make("k");
  const std::string since31 = "&since=" + FormatRfc3339(Clock::System().Now() - 31 * kDay + 60);
  EXPECT_EQ(Usage("k", "?granularity=hour" + since31, alice()).status, 200);
  struct Case {
    std::string query;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"?since=32d", "at most 31 days"},
           {"?granularity=day&since=401d", "at most 400 days"},
           {"?granularity=week", "granularity"},
           {"?since=yesterday", "since must be an RFC 3339 time or a duration"},
           {"?until=2026-13-01T00:00:00Z", "until must be"},
           {"?since=1h&until=2h", "since must not be later than until"},
           {"?since=1h&since=2h", "repeated"},
       }) {
    Sent got = Usage("k", c.query, alice());
    EXPECT_EQ(got.status, 400) << c.query;
    EXPECT_THAT(got.Message(), HasSubstr(c.says)) << c.query;
  }
  EXPECT_EQ(Usage("k", "?granularity=day&since=400d", alice()).status, 200);
}

TEST_F(UsageApiTest, UsageOfAMissingOrAnotherUsersKeyIsNotFound) {
  Make("mine");
  EXPECT_EQ(Usage("absent", "", alice()).status, 404);
  const std::string bob = world_.tokens["bob"];
  EXPECT_EQ(Usage("mine", "", bob).status, 404);      // alice's keys do not exist for bob
  EXPECT_EQ(Usage("mine", "", admin()).status, 200);  // an operator's reach
  EXPECT_EQ(Call(world_, bh::verb::get, "/api/v1/users/nobody/apikeys/x/usage", admin()).status,
            404);
  // A key needs keys:read.
  const std::string reader = world_.AddKey("alice", "reader", Scoped("keys:read"));
  const std::string writer = world_.AddKey("alice", "writer", Scoped("keys:write"));
  EXPECT_EQ(Usage("mine", "", reader).status, 200);
  EXPECT_EQ(Usage("mine", "", writer).status, 403);
  EXPECT_EQ(Call(world_, bh::verb::get, "/api/v1/users/me/apikeys/mine/usage", reader).status, 200);
}

// --- GET /api/v1/usage/top ---

TEST_F(UsageApiTest, TopRanksKeysForOperatorsOnly) {
  const UnixSeconds hour = HourStart(Clock::System().Now()) - 2 * kSecondsPerHour;
  Seed(world_.tokens["alice"], hour, Counts(10, 0, 0));
  Seed(world_.tokens["bob"], hour, Counts(3, 2, 6));
  Seed(world_.tokens["admin"], hour - 3 * kDay, Counts(100));  // before the default 24h
  Sent top = Call(world_, bh::verb::get, "/api/v1/usage/top", admin());
  ASSERT_EQ(top.status, 200) << json::serialize(top.body);
  EXPECT_EQ(top.Str("by"), "requests");
  const json::array& keys = top.body.at("keys").as_array();
  ASSERT_EQ(keys.size(), 2u) << json::serialize(top.body);
  EXPECT_EQ(keys[0], (json::object{{"user_id", "bob"},
                                   {"name", "bob-key"},
                                   {"allowed", 3},
                                   {"denied", 8},
                                   {"requests", 11},
                                   {"last_used", nullptr}}));
  EXPECT_EQ(keys[1].at("user_id"), "alice");
  EXPECT_EQ(keys[1].at("requests"), 10);

  Sent denied = Call(world_, bh::verb::get, "/api/v1/usage/top?by=denied&limit=1", admin());
  ASSERT_EQ(denied.status, 200);
  ASSERT_EQ(denied.body.at("keys").as_array().size(), 1u);
  EXPECT_EQ(denied.body.at("keys").as_array()[0].at("user_id"), "bob");
  Sent week = Call(world_, bh::verb::get, "/api/v1/usage/top?since=7d", admin());
  ASSERT_EQ(week.status, 200);
  EXPECT_EQ(week.body.at("keys").as_array()[0].at("user_id"), "admin");

  for (const char* query : {"?limit=0", "?limit=101", "?limit=ten", "?by=allowed", "?since=x"}) {
    EXPECT_EQ(Call(world_, bh::verb::get, std::string("/api/v1/usage/top") + query, admin()).status,
              400)
        << query;
  }
  // Operators only, and a key needs usage:read.
  EXPECT_EQ(Call(world_, bh::verb::get, "/api/v1/usage/top", alice()).status, 403);
  const std::string reader = world_.AddKey("admin", "reader", Scoped("usage:read"));
  const std::string other = world_.AddKey("admin", "other", Scoped("keys:read"));
  EXPECT_EQ(Call(world_, bh::verb::get, "/api/v1/usage/top", reader).status, 200);
  EXPECT_EQ(Call(world_, bh::verb::get, "/api/v1/usage/top", other).status, 403);
}

}  // namespace
}  // namespace keyward
