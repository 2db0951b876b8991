#include "common/clock.h"

#include <gtest/gtest.h>

namespace keyward {
namespace {

TEST(ClockTest, FormatsUtcRfc3339) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(1691708400), "2023-08-10T23:00:00Z");
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatRfc3339(951782400), "2000-02-29T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(253402300799), "9999-12-31T23:59:59Z");
}

TEST(ClockTest, ParsesWhatItFormats) {
  EXPECT_EQ(ParseRfc3339("2023-08-10T23:00:00Z"), 1691708400);
  EXPECT_EQ(ParseRfc3339("2023-08-10t23:00:00z"), 1691708400);
  EXPECT_EQ(ParseRfc3339("2023-08-10T23:00:00+00:00"), 1691708400);
  EXPECT_EQ(ParseRfc3339("2023-08-10T23:00:00-00:00"), 1691708400);
  EXPECT_EQ(ParseRfc3339("yesterday"), std::nullopt);
  EXPECT_EQ(ParseRfc3339(""), std::nullopt);
}

TEST(ClockTest, RoundTrips) {
  for (UnixSeconds t : {UnixSeconds{0}, UnixSeconds{-1}, UnixSeconds{1691708400},
                        UnixSeconds{951782399}, UnixSeconds{951782400}, UnixSeconds{4107542399},
                        UnixSeconds{-62135596800}, UnixSeconds{253402300799}}) {
    SCOPED_TRACE(t);
    EXPECT_EQ(ParseRfc3339(FormatRfc3339(t)), t);
  }
  EXPECT_EQ(FormatRfc3339(*ParseRfc3339("2024-02-29T12:34:56Z")), "2024-02-29T12:34:56Z");
}

TEST(ClockTest, OffsetsMoveTheTimeToUtc) {
  EXPECT_EQ(ParseRfc3339("2023-08-11T01:00:00+02:00"), 1691708400);
  EXPECT_EQ(ParseRfc3339("2023-08-10T17:30:00-05:30"), 1691708400);
  EXPECT_EQ(ParseRfc3339("2023-08-11T22:59:00+23:59"), 1691708400);
  EXPECT_EQ(ParseRfc3339("2023-08-10T23:00:00+24:00"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2023-08-10T23:00:00+02:60"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2023-08-10T23:00:00+0200"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2023-08-10T23:00:00+2:00"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2023-08-10T23:00:00"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2023-08-10T23:00:00ZZ"), std::nullopt);
}

TEST(ClockTest, FractionsAreDroppedAndLeapSecondsCountAsTheNext) {
  EXPECT_EQ(ParseRfc3339("2023-08-10T23:00:00.999Z"), 1691708400);
  EXPECT_EQ(ParseRfc3339("2023-08-10T23:00:00.5+00:00"), 1691708400);
  EXPECT_EQ(ParseRfc3339("2016-12-31T23:59:60Z"), ParseRfc3339("2017-01-01T00:00:00Z"));
  EXPECT_EQ(ParseRfc3339("2023-08-10T23:00:00.Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2023-08-10T23:00:00,5Z"), std::nullopt);
}

TEST(ClockTest, LeapYears) {
  EXPECT_EQ(ParseRfc3339("2024-02-29T00:00:00Z"), 1709164800);
  EXPECT_EQ(ParseRfc3339("2000-02-29T00:00:00Z"), 951782400);
  EXPECT_EQ(ParseRfc3339("2023-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("1900-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2100-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2024-03-01T00:00:00Z"), 1709164800 + 86400);
}

TEST(ClockTest, RefusesOutOfRangeFields) {
  for (const char* text : {"2023-00-10T23:00:00Z", "2023-13-10T23:00:00Z", "2023-08-00T23:00:00Z",
                           "2023-08-32T23:00:00Z", "2023-04-31T23:00:00Z", "2023-08-10T24:00:00Z",
                           "2023-08-10T23:60:00Z", "2023-08-10T23:00:61Z", "+023-08-10T23:00:00Z",
                           "2023-8-10T23:00:00Z", "2023-08-10 23:00:00Z", " 2023-08-10T23:00:00Z",
                           "2023-08-10T23:00:0-Z", "20230-08-10T23:00:00Z"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(ParseRfc3339(text), std::nullopt);
  }
}

TEST(ClockTest, ManualClockMoves) {
  ManualClock clock(100);
  clock.Advance(5);
  EXPECT_EQ(clock.Now(), 105);
}

}  // namespace
}  // namespace keyward
