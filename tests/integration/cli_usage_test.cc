// Issue 16 from the command line, against the real server: `apikey create|update --rate-limit`,
// the limit in the key list, and `apikey usage` (JSON, table, sparkline, last use) after a known
// number of allowed and rate-limited requests at /auth, written by the server's flush.
#include <gtest/gtest.h>

#include <ctime>
#include <regex>

#include "cli_fixture.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;

constexpr const char* kClientAddress = "127.0.0.7";
constexpr const char* kUserAgent = "cli-usage-test/1.0";

std::int64_t Sum(const json::value& usage, const char* outcome) {
  std::int64_t sum = 0;
  for (const json::value& bucket : usage.at("buckets").as_array()) {
    sum += std::string_view(outcome) == "allowed"
               ? bucket.at("allowed").to_number<std::int64_t>()
               : bucket.at("denied").at(outcome).to_number<std::int64_t>();
  }
  return sum;
}

// Characters a terminal shows for UTF-8 `text`: its code points.
std::size_t DisplayWidthOf(const std::string& text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

class CliUsageTest : public CliTest {
 protected:
  // Usage is written every second, so that the test waits about that long for its counts.
  std::vector<std::string> ServerArgs() const override { return {"--last-used-interval", "1s"}; }

  int Auth(const std::string& key) {
    return CallFrom(kClientAddress, server_->port(), "GET", "/auth", "",
                    {{"Authorization", "Bearer " + key}, {"User-Agent", kUserAgent}})
        .status;
  }

  // `apikey usage -n name args… -o json`, parsed; null (and a failure) unless it exits 0.
  json::value UsageJson(const std::string& name, std::vector<std::string> args = {}) {
    std::vector<std::string> argv = {"user", "apikey", "usage", "-n", name};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"-o", "json"});
    ProcessResult r = Cli(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    boost::system::error_code ec;
    json::value usage = json::parse(r.out, ec);
    EXPECT_FALSE(ec) << r.out;
    return ec ? json::value() : usage;
  }
};

TEST_F(CliUsageTest, RateLimitedKeyIsCountedAndShown) {
  LoginAsAdmin();
  ProcessResult created =
      Cli({"user", "apikey", "create", "-n", "metered", "--rate-limit", "3/1h", "-o", "json"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  json::value key = json::parse(created.out);
  const std::string token(key.at("token").as_string());
  RememberSecret(token);
  EXPECT_EQ(key.at("rate_limit"), json::parse(R"({"requests":3,"per":"1h"})"));
  ProcessResult wide = Cli({"user", "apikey", "get", "-o", "wide"});
  ASSERT_EQ(wide.exit_code, 0) << wide.err;
  EXPECT_TRUE(std::regex_search(wide.out, std::regex(R"(\| metered +\|.*\| 3/1h +\n)")))
      << wide.out;

  ProcessResult unused = Cli({"user", "apikey", "usage", "-n", "metered"});
  ASSERT_EQ(unused.exit_code, 0) << unused.err;
  EXPECT_NE(unused.out.find("\nnever used\n"), std::string::npos) << unused.out;

  // A burst of 3, then refused: 3 allowed, 2 rate limited.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Auth(token), i < 3 ? 200 : 429) << "request " << i;

  json::value usage;
  ASSERT_TRUE(Eventually(
      [&] {
        usage = UsageJson("metered");
        return usage.is_object() && Sum(usage, "allowed") + Sum(usage, "rate_limited") >= 5;
      },
      std::chrono::seconds(15)))
      << "the counts were never written: " << json::serialize(usage);
  EXPECT_EQ(usage.at("granularity"), "hour");
  EXPECT_EQ(usage.at("buckets").as_array().size(), 25u) << "dense: every hour of the last 24";
  EXPECT_EQ(Sum(usage, "allowed"), 3);
  EXPECT_EQ(Sum(usage, "rate_limited"), 2);
  for (const char* other : {"expired", "revoked", "disabled", "scope", "tag", "address"}) {
    EXPECT_EQ(Sum(usage, other), 0) << other;
  }
  EXPECT_EQ(usage.at("totals").at("allowed"), 3);
  EXPECT_EQ(usage.at("totals").at("denied").at("rate_limited"), 2);
  EXPECT_EQ(usage.at("last_address"), kClientAddress);
  EXPECT_EQ(usage.at("last_user_agent"), kUserAgent);
  ASSERT_TRUE(usage.at("last_used").is_string());

  // The table: every bucket, the sparkline of 25 buckets with the busiest full, the totals and
  // the last use.
  ProcessResult table = Cli({"user", "apikey", "usage", "-n", "metered", "-i", "admin"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_TRUE(std::regex_search(table.out, std::regex(R"(START +\| ALLOWED \| DENIED)")))
      << table.out;
  const std::regex row(R"(\n \d{4}-\d\d-\d\dT\d\d:00:00Z \| \d+ +\| \d+)");
  std::ptrdiff_t rows = std::distance(std::sregex_iterator(table.out.begin(), table.out.end(), row),
                                      std::sregex_iterator());
  EXPECT_EQ(rows, 25) << table.out;
  std::smatch spark;
  ASSERT_TRUE(std::regex_search(table.out, spark,
                                std::regex("requests per hour \\|(.*)\\| max "
                                           "(\\d+)\n")))
      << table.out;
  EXPECT_EQ(DisplayWidthOf(spark[1].str()), 25u) << spark[1];
  EXPECT_NE(spark[1].str().find("█"), std::string::npos) << spark[1];
  EXPECT_NE(table.out.find("totals: 3 allowed, 2 denied (rate_limited 2)\n"), std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("last used " + std::string(usage.at("last_used").as_string()) +
                           " from 127.0.0.7 (cli-usage-test/1.0)\n"),
            std::string::npos)
      << table.out;

  // Longer than 48 h: day buckets unless hours are asked for. An RFC 3339 time with an offset
  // reaches the server intact ('+' percent-encoded).
  json::value week = UsageJson("metered", {"--since", "7d"});
  EXPECT_EQ(week.at("granularity"), "day");
  EXPECT_EQ(week.at("buckets").as_array().size(), 8u);
  EXPECT_EQ(Sum(week, "allowed"), 3);
  json::value hours = UsageJson("metered", {"--since", "7d", "--granularity", "hour"});
  EXPECT_EQ(hours.at("buckets").as_array().size(), 7u * 24 + 1);
  std::time_t two_hours_ago = std::time(nullptr) - 7200;
  std::tm tm{};
  gmtime_r(&two_hours_ago, &tm);
  char since[32], since_utc[32];
  std::strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
  std::strftime(since_utc, sizeof since_utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
  json::value recent = UsageJson("metered", {"--since", since});
  EXPECT_EQ(recent.at("granularity"), "hour");
  EXPECT_EQ(recent.at("since"), since_utc);
  const std::size_t recent_hours = recent.at("buckets").as_array().size();
  EXPECT_TRUE(recent_hours == 3 || recent_hours == 4) << recent_hours;  // 4 across an hour's end
  EXPECT_EQ(Sum(recent, "rate_limited"), 2);
  // --until: two hours that saw no use.
  json::value before = UsageJson("metered", {"--since", "3h", "--until", "2h"});
  EXPECT_EQ(before.at("buckets").as_array().size(), 2u);
  EXPECT_EQ(Sum(before, "allowed") + Sum(before, "rate_limited"), 0);
}

TEST_F(CliUsageTest, RateLimitIsChangedAndRemoved) {
  LoginAsAdmin();
  ASSERT_EQ(Cli({"user", "apikey", "create", "-n", "ci", "-o", "json"}).exit_code, 0);
  ProcessResult limited =
      Cli({"user", "apikey", "update", "-n", "ci", "--rate-limit", "600/60s", "-o", "json"});
  ASSERT_EQ(limited.exit_code, 0) << limited.err;
  EXPECT_EQ(json::parse(limited.out).at("rate_limit"),
            json::parse(R"({"requests":600,"per":"1m"})"));
  ProcessResult listed = Cli({"user", "apikey", "get", "-o", "json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(json::parse(listed.out).at(0).at("rate_limit"),
            json::parse(R"({"requests":600,"per":"1m"})"));
  ProcessResult off =
      Cli({"user", "apikey", "update", "-n", "ci", "--rate-limit", "off", "-o", "json"});
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_TRUE(json::parse(off.out).at("rate_limit").is_null()) << off.out;

  // Refused before anything is sent, or by the server; no key made by a refused create.
  ProcessResult bad = Cli({"user", "apikey", "update", "-n", "ci", "--rate-limit", "10"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--rate-limit"), std::string::npos) << bad.err;
  EXPECT_EQ(Cli({"user", "apikey", "create", "-n", "x", "--rate-limit", "0/1s"}).exit_code, 2);
  EXPECT_EQ(Cli({"user", "apikey", "create", "-n", "x", "--rate-limit", "10/2d"}).exit_code, 2);
  EXPECT_EQ(ApiKeys("admin").as_array().size(), 1u);

  ProcessResult missing = Cli({"user", "apikey", "usage", "-n", "nope"});
  EXPECT_EQ(missing.exit_code, 5) << missing.err;
  EXPECT_NE(missing.err.find("ERRO"), std::string::npos) << missing.err;
  EXPECT_EQ(Cli({"user", "apikey", "usage", "-n", "ci", "--since", "soon"}).exit_code, 2);
  EXPECT_EQ(Cli({"user", "apikey", "usage", "-n", "ci", "--since", "40d", "--granularity", "hour"})
                .exit_code,
            2)
      << "hour buckets reach back at most 31 days";
}

}  // namespace
}  // namespace keyward::testing
