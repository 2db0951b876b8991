// The CLI's pure parts of issue 16: `apikey usage`'s granularity, sparkline and table, and the
// --rate-limit flag of `apikey create|update` with the key list's RATE LIMIT column.
#include "cli/usage_output.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>

#include "cli/key_output.h"
#include "common/status_matchers.h"

namespace keyward {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

TEST(SparklineTest, ScalesToTheLargestAndShowsIdleBucketsAsGaps) {
  EXPECT_EQ(Sparkline({}), "");
  EXPECT_EQ(Sparkline({0, 0, 0}), "   ");
  EXPECT_EQ(Sparkline({1, 2, 3, 4, 5, 6, 7, 8}), "▁▂▃▄▅▆▇█");
  EXPECT_EQ(Sparkline({16, 8, 0, 2}), "█▄ ▁");
  // Any use at all is at least ▁; equal values are all full; the scale is relative.
  EXPECT_EQ(Sparkline({1, 1000}), "▁█");
  EXPECT_EQ(Sparkline({7, 7}), "██");
  EXPECT_EQ(Sparkline({3, 0, 2, 1}), "█ ▆▃");  // ceil(8·2/3) = 6, ceil(8/3) = 3
  EXPECT_EQ(Sparkline({-1, 4}), " █");
  EXPECT_EQ(Sparkline({INT64_MAX, INT64_MAX / 2, 1}), "█▄▁");
}

TEST(UsageGranularityTest, DayBucketsForRangesLongerThan48Hours) {
  const UnixSeconds now = 1'796'000'000;
  const auto granularity = [&](const std::string& since, const std::string& until,
                               const std::string& given) {
    Result<std::string> g = UsageGranularity(since, until, given, now);
    return g.ok() ? *g : "error: " + g.status().message();
  };
  EXPECT_EQ(granularity("24h", "", ""), "hour");
  EXPECT_EQ(granularity("48h", "", ""), "hour");
  EXPECT_EQ(granularity("49h", "", ""), "day");
  EXPECT_EQ(granularity("7d", "", ""), "day");
  EXPECT_EQ(granularity("7d", "", "hour"), "hour") << "an explicit --granularity wins";
  EXPECT_EQ(granularity("1h", "", "day"), "day");
  EXPECT_EQ(granularity("7d", "6d", ""), "hour") << "the range, not only --since";
  EXPECT_EQ(granularity(FormatRfc3339(now - 3 * 86400), "", ""), "day");
  EXPECT_EQ(granularity(FormatRfc3339(now - 3600), FormatRfc3339(now), ""), "hour");
  EXPECT_THAT(UsageGranularity("soon", "", "", now).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("--since")));
  EXPECT_THAT(UsageGranularity("24h", "2026-13-01T00:00:00Z", "", now).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("--until")));
}

// Three hours of a key, as the API answers.
json::value ThreeHours() {
  const std::string none =
      R"({"expired":0,"revoked":0,"disabled":0,"scope":0,"tag":0,"address":0,"rate_limited":0})";
  return json::parse(
      R"({"granularity":"hour","since":"2026-12-07T08:00:00Z","until":"2026-12-07T10:30:00Z",)"
      R"("buckets":[{"start":"2026-12-07T08:00:00Z","allowed":3,"denied":)" +
      none + R"(},{"start":"2026-12-07T09:00:00Z","allowed":0,"denied":)" + none +
      R"(},{"start":"2026-12-07T10:00:00Z","allowed":10,"denied":{"expired":0,"revoked":0,)"
      R"("disabled":0,"scope":1,"tag":0,"address":0,"rate_limited":1}}],)"
      R"("totals":{"allowed":13,"denied":{"expired":0,"revoked":0,"disabled":0,"scope":1,)"
      R"("tag":0,"address":0,"rate_limited":1}},"first_used":"2026-12-07T08:12:00Z",)"
      R"("last_used":"2026-12-07T10:29:59Z","last_address":"10.1.2.3",)"
      R"("last_user_agent":"curl/8.0"})");
}

TEST(RenderUsageTest, TableSparklineTotalsAndLastUse) {
  EXPECT_EQ(RenderUsage(ThreeHours(), OutputFormat::kTable),
            RenderTable({"START", "ALLOWED", "DENIED"}, {{"2026-12-07T08:00:00Z", "3", "0"},
                                                         {"2026-12-07T09:00:00Z", "0", "0"},
                                                         {"2026-12-07T10:00:00Z", "10", "2"}}) +
                "requests per hour |▂ █| max 12\n"
                "totals: 13 allowed, 2 denied (scope 1, rate_limited 1)\n"
                "last used 2026-12-07T10:29:59Z from 10.1.2.3 (curl/8.0)\n");
}

TEST(RenderUsageTest, NeverUsedAndUnknownClient) {
  json::value usage = ThreeHours();
  json::object& o = usage.as_object();
  for (const char* member : {"first_used", "last_used", "last_address", "last_user_agent"}) {
    o[member] = nullptr;
  }
  for (json::value& bucket : o["buckets"].as_array()) bucket.as_object()["allowed"] = 0;
  o["totals"].as_object()["allowed"] = 0;
  std::string table = RenderUsage(usage, OutputFormat::kTable);
  EXPECT_NE(table.find("requests per hour |  █| max 2\n"), std::string::npos) << table;
  EXPECT_NE(table.find("\nnever used\n"), std::string::npos) << table;

  o["last_used"] = "2026-12-07T10:29:59Z";
  o["last_user_agent"] =
      "evil\x1b[2Jagent\xc2\x9b"
      "2J\xc3\xa9";  // C0 ESC, C1 CSI, "é"
  table = RenderUsage(usage, OutputFormat::kTable);
  EXPECT_NE(table.find("\nlast used 2026-12-07T10:29:59Z (evil?[2Jagent?2J\xc3\xa9)\n"),
            std::string::npos)
      << table;
}

TEST(RenderUsageTest, DayBucketsAndMissingTotals) {
  json::value usage = json::parse(
      R"({"granularity":"day","buckets":[{"start":"2026-12-06T00:00:00Z","allowed":5,)"
      R"("denied":{"tag":2}},{"start":"2026-12-07T00:00:00Z","allowed":1,"denied":{"tag":1}}]})");
  std::string table = RenderUsage(usage, OutputFormat::kTable);
  EXPECT_NE(table.find("requests per day |█▃| max 7\n"), std::string::npos) << table;
  EXPECT_NE(table.find("totals: 6 allowed, 3 denied (tag 3)\n"), std::string::npos) << table;
}

TEST(RenderUsageTest, MachineOutputIsTheAnswerUnchanged) {
  EXPECT_EQ(json::parse(RenderUsage(ThreeHours(), OutputFormat::kJson)), ThreeHours());
  YAML::Node yaml = YAML::Load(RenderUsage(ThreeHours(), OutputFormat::kYaml));
  EXPECT_EQ(yaml["buckets"][2]["denied"]["rate_limited"].as<int>(), 1);
  EXPECT_EQ(yaml["last_user_agent"].as<std::string>(), "curl/8.0");
}

TEST(RateLimitFlagTest, RequestsPerDuration) {
  const auto body = [](const std::string& text) {
    Result<json::value> b = RateLimitBody(text);
    EXPECT_THAT(b, IsOk()) << text;
    return b.ok() ? *b : json::value();
  };
  EXPECT_EQ(body("10/1s"), json::parse(R"({"requests":10,"per":"1s"})"));
  EXPECT_EQ(body("600/1m"), json::parse(R"({"requests":600,"per":"1m"})"));
  EXPECT_EQ(body("5000/60m"), json::parse(R"({"requests":5000,"per":"1h"})"));
  EXPECT_EQ(body("5/90s"), json::parse(R"({"requests":5,"per":"90s"})"));
  EXPECT_EQ(body("1000000000/24h"), json::parse(R"({"requests":1000000000,"per":"24h"})"));
  EXPECT_EQ(body("off"), json::value(nullptr));
}

TEST(RateLimitFlagTest, BadValuesAreRefusedNamingTheFlag) {
  for (const char* bad :
       {"", "10", "10/", "/1s", "0/1s", "-1/1s", "abc/1s", "1000000001/1s", "99999999999/1s",
        "10/0s", "10/25h", "10/2d", "10/soon", "10/1s/2", "10 /1s", "OFF", "none"}) {
    EXPECT_THAT(RateLimitBody(bad).status(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("--rate-limit")))
        << bad;
  }
  EXPECT_THAT(RateLimitBody("10/25h").status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("longer than 24h")));
  EXPECT_THAT(RateLimitBody("10").status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("such as 10/1s")));
}

TEST(RateLimitFlagTest, CreateAndUpdateBodies) {
  KeyLifecycleFlags lifecycle;
  lifecycle.rate_limit = "10/1s";
  EXPECT_EQ(KeyCreateBody("ci", "", {}, lifecycle),
            (json::object{{"name", "ci"}, {"rate_limit", {{"requests", 10}, {"per", "1s"}}}}));
  lifecycle.rate_limit = "off";
  EXPECT_EQ(KeyCreateBody("ci", "", {}, lifecycle), (json::object{{"name", "ci"}}))
      << "no limit is the default: nothing to send";

  KeyEditFlags edit;
  edit.lifecycle.rate_limit = "off";
  Result<json::object> patch = KeyUpdateBody(edit);
  ASSERT_THAT(patch, IsOk());
  EXPECT_EQ(*patch, (json::object{{"rate_limit", nullptr}}));
  edit.lifecycle.rate_limit = "100/1m";
  patch = KeyUpdateBody(edit);
  ASSERT_THAT(patch, IsOk());
  EXPECT_EQ(*patch, (json::object{{"rate_limit", {{"requests", 100}, {"per", "1m"}}}}));
  edit.lifecycle.rate_limit = "100 per minute";
  EXPECT_THAT(KeyUpdateBody(edit).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("--rate-limit")));
  EXPECT_THAT(KeyUpdateBody({}).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("--rate-limit")));
}

TEST(RateLimitFlagTest, WideTableShowsTheLimitAndThePlainTableKeepsItsColumns) {
  json::value keys = json::parse(
      R"([{"name":"a","type":"apikey","expiration":"2026-12-13T10:00:00Z","token":"kw_a",)"
      R"("rate_limit":{"requests":10,"per":"1s"}},)"
      R"({"name":"b","type":"apikey","expiration":"2026-12-13T10:00:00Z","token":"kw_b",)"
      R"("rate_limit":null}])");
  std::string wide = RenderKeys(keys, OutputFormat::kWide);
  EXPECT_NE(wide.find("| LAST USED | RATE LIMIT \n"), std::string::npos) << wide;
  EXPECT_NE(wide.find("| never     | 10/1s "), std::string::npos) << wide;
  EXPECT_NE(wide.find("| never     | none "), std::string::npos) << wide;
  EXPECT_EQ(RenderKeys(keys, OutputFormat::kTable),
            RenderTable({"TOKEN", "TYPE", "EXPIRATION", "NAME"},
                        {{"kw_a", "apikey", "2026-12-13T10:00:00Z", "a"},
                         {"kw_b", "apikey", "2026-12-13T10:00:00Z", "b"}}));
  EXPECT_EQ(json::parse(RenderKeys(keys, OutputFormat::kJson)), keys);
}

}  // namespace
}  // namespace keyward
