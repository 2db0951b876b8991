#include "common/clock.h"

#include <gtest/gtest.h>

namespace keyward {
namespace {

TEST(ClockTest, FormatsUtcRfc3339) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(1691708400), "2023-08-10T23:00:00Z");
}

TEST(ClockTest, ParsesWhatItFormats) {
  EXPECT_EQ(ParseRfc3339("2023-08-10T23:00:00Z"), 1691708400);
  EXPECT_EQ(ParseRfc3339("2023-08-10T23:00:00+00:00"), 1691708400);
  EXPECT_EQ(ParseRfc3339("2023-08-10T23:00:00+02:00"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("yesterday"), std::nullopt);
}

TEST(ClockTest, ManualClockMoves) {
  ManualClock clock(100);
  clock.Advance(5);
  EXPECT_EQ(clock.Now(), 105);
}

}  // namespace
}  // namespace keyward
