#include "common/log.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <string>

namespace keyward::log {
namespace {

namespace json = boost::json;

// 2026-12-07T16:40:00.123Z
constexpr std::int64_t kMillis = 1796661600123;

// `line` without its '\n', parsed; a failure when it is not one JSON object on one line.
json::object ParseLine(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  const std::string body = line.substr(0, line.size() - 1);
  EXPECT_EQ(body.find('\n'), std::string::npos) << body;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  EXPECT_FALSE(ec) << ec.message() << ": " << body;
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

TEST(LogTest, JsonLineHasTimeLevelAndMessage) {
  const std::string line = FormatLine(Format::kJson, Level::kWarn, "store: slow", kMillis);
  EXPECT_EQ(line, R"({"time":"2026-12-07T16:40:00.123Z","level":"warn","msg":"store: slow"})"
                  "\n");
  EXPECT_EQ(ParseLine(FormatLine(Format::kJson, Level::kError, "x", 0)).at("time"),
            "1970-01-01T00:00:00.000Z");
  for (auto [level, name] : {std::pair{Level::kDebug, "debug"}, std::pair{Level::kInfo, "info"},
                             std::pair{Level::kError, "error"}}) {
    EXPECT_EQ(ParseLine(FormatLine(Format::kJson, level, "m", kMillis)).at("level"), name);
  }
}

TEST(LogTest, TextLineIsUnchanged) {
  EXPECT_EQ(FormatLine(Format::kText, Level::kInfo, "keyward stopped", kMillis),
            "2026-12-07T16:40:00Z INFO  keyward stopped\n");
}

// Every string a message may hold comes back whole from the JSON line: quotes, backslashes,
// control characters, UTF-8. Bytes that are not UTF-8 become U+FFFD, so the line stays JSON.
TEST(LogTest, JsonEscapesEveryMessage) {
  const std::string tricky = std::string("say \"hi\" \\ back\nnew line\ttab\r\x01\x1f\x7f end ") +
                             "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91 /path";
  json::object line = ParseLine(FormatLine(Format::kJson, Level::kInfo, tricky, kMillis));
  EXPECT_EQ(line.at("msg").as_string(), tricky);

  const std::string broken =
      std::string("a\xff b\xc3 c\xed\xa0\x80 d\xe0\x80\x80 e\xf4\x90\x80\x80") +
      std::string("\0z", 2);
  line = ParseLine(FormatLine(Format::kJson, Level::kInfo, broken, kMillis));
  const std::string r = "\xef\xbf\xbd";
  EXPECT_EQ(line.at("msg").as_string(), "a" + r + " b" + r + " c" + r + r + r + " d" + r + r + r +
                                            " e" + r + r + r + r + std::string("\0z", 2));

  // Every byte value, alone: always one valid JSON line.
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    json::object parsed = ParseLine(FormatLine(Format::kJson, Level::kInfo, one, kMillis));
    if (b < 0x80) {
      EXPECT_EQ(parsed.at("msg").as_string(), one) << b;
    }
  }
}

TEST(LogTest, TextLineEscapesControlCharacters) {
  EXPECT_EQ(FormatLine(Format::kText, Level::kError,
                       "a\nb\rc\td\x01"
                       "e\x7f",
                       kMillis),
            "2026-12-07T16:40:00Z ERROR a\\nb\\rc\\td\\x01e\\x7f\n");
}

TEST(LogTest, JsonAccessLine) {
  const AccessEntry entry{.request_id = "3f9a1c2e7b4d-1a",
                          .method = "GET",
                          .route = "/api/v1/users/{id}/apikeys",
                          .status = 200,
                          .latency_ms = 0.4567,
                          .user = "alice",
                          .key_name = "ci \"main\"\n"};
  const std::string text = FormatAccessLine(Format::kJson, entry, kMillis);
  json::object line = ParseLine(text);
  EXPECT_EQ(line.at("time"), "2026-12-07T16:40:00.123Z");
  EXPECT_EQ(line.at("level"), "info");
  EXPECT_EQ(line.at("msg"), "access");
  EXPECT_EQ(line.at("request_id"), "3f9a1c2e7b4d-1a");
  EXPECT_EQ(line.at("method"), "GET");
  EXPECT_EQ(line.at("route"), "/api/v1/users/{id}/apikeys");
  EXPECT_EQ(line.at("status"), 200);
  ASSERT_TRUE(line.at("latency_ms").is_number());
  EXPECT_NEAR(line.at("latency_ms").to_number<double>(), 0.457, 1e-9);
  EXPECT_EQ(line.at("user"), "alice");
  EXPECT_EQ(line.at("key_name"), "ci \"main\"\n");

  // Unknown user and key: left out.
  line = ParseLine(FormatAccessLine(Format::kJson,
                                    {.request_id = "r",
                                     .method = "POST",
                                     .route = "/auth",
                                     .status = 401,
                                     .latency_ms = 2,
                                     .user = {},
                                     .key_name = {}},
                                    kMillis));
  EXPECT_FALSE(line.contains("user"));
  EXPECT_FALSE(line.contains("key_name"));
  EXPECT_EQ(line.at("status"), 401);
}

TEST(LogTest, TextAccessLineQuotesValuesThatAreNotWords) {
  EXPECT_EQ(FormatAccessLine(Format::kText,
                             {.request_id = "abc",
                              .method = "GET",
                              .route = "/auth",
                              .status = 200,
                              .latency_ms = 1.5,
                              .user = "alice",
                              .key_name = "my key\n\"x\""},
                             kMillis),
            "2026-12-07T16:40:00Z INFO  access request_id=abc method=GET route=/auth status=200 "
            "latency_ms=1.500 user=alice key_name=\"my key\\n\\\"x\\\"\"\n");
}

TEST(LogTest, AccessIsOffByDefault) { EXPECT_FALSE(AccessEnabled()); }

}  // namespace
}  // namespace keyward::log
