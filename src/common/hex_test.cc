#include "common/hex.h"

#include <gtest/gtest.h>

#include <string>

namespace keyward {
namespace {

TEST(HexTest, EncodesEveryByteInLowerCase) {
  EXPECT_EQ(ToHex(""), "");
  EXPECT_EQ(ToHex(std::string("\x00\x01\xab\xff\x7f", 5)), "0001abff7f");
}

TEST(HexTest, DecodesEitherCaseAndRoundTrips) {
  EXPECT_EQ(FromHex(""), std::string());
  EXPECT_EQ(FromHex("0001abFF7f"), std::string("\x00\x01\xab\xff\x7f", 5));
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(FromHex(ToHex(all)), all);
}

TEST(HexTest, RefusesOddLengthsAndNonHex) {
  EXPECT_EQ(FromHex("abc"), std::nullopt);
  EXPECT_EQ(FromHex("0g"), std::nullopt);
  EXPECT_EQ(FromHex("g0"), std::nullopt);
  EXPECT_EQ(FromHex(" 0"), std::nullopt);
  EXPECT_EQ(FromHex("0x"), std::nullopt);
  EXPECT_EQ(FromHex(std::string("\x00\x00", 2)), std::nullopt);
}

}  // namespace
}  // namespace keyward
