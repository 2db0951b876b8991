#include "core/duration.h"

#include <gtest/gtest.h>

#include "common/status_matchers.h"

namespace keyward {
namespace {

TEST(DurationTest, ParsesTheDocumentedForms) {
  EXPECT_EQ(ParseDuration("30m").value(), 1800);
  EXPECT_EQ(ParseDuration("24h").value(), 86400);
  EXPECT_EQ(ParseDuration("9999h").value(), 9999LL * 3600);
  EXPECT_EQ(ParseDuration("7d").value(), 7 * 86400);
  EXPECT_EQ(ParseDuration("2s").value(), 2);
  EXPECT_EQ(ParseDuration("1d12h").value(), 36 * 3600);
}

TEST(DurationTest, RejectsMalformedInput) {
  for (const char* bad : {"", "h", "24", "24x", "-1h", "0h", "0s", "1.5h", "24H", " 24h", "24h ",
                          "1y", "99999999999999h", "1000000d"}) {
    auto r = ParseDuration(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument)) << bad;
    }
  }
}

TEST(DurationTest, MessageExplainsAndEscapes) {
  auto r = ParseDuration("soon\n");
  ASSERT_THAT(r, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_NE(r.status().message().find("30m, 24h"), std::string::npos);
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
}

TEST(DurationTest, FormatsShortest) {
  EXPECT_EQ(FormatDuration(86400), "24h");
  EXPECT_EQ(FormatDuration(1800), "30m");
  EXPECT_EQ(FormatDuration(90), "90s");
  EXPECT_EQ(ParseDuration(FormatDuration(12345)).value(), 12345);
}

}  // namespace
}  // namespace keyward
