#include "scan/text_scanner.h"

#include <gtest/gtest.h>

#include "common/random.h"
#include "core/api_key.h"

namespace keyward::scan {
namespace {

class TextScannerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto()); }
};

TEST_F(TextScannerTest, GivesLineAndByteAndUtf16Columns) {
  const std::string a = GenerateKey("kw");
  const std::string b = GenerateKey("kw");
  const std::string c = GenerateKey("kw");
  // "é" is 2 bytes and 1 UTF-16 unit; "😀" 4 bytes and 2 units.
  const std::string text = "first line\n\nx=" + a + " é😀" + b + "\r\n\n" + c;
  std::vector<Finding> found;
  ScanText(text, KeyFinder({"kw"}), "p", "", found);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].line, 3u);
  EXPECT_EQ(found[0].column, 3u);
  EXPECT_EQ(found[0].utf16_column, 3u);
  EXPECT_EQ(found[0].key, a);
  EXPECT_EQ(found[0].path, "p");
  EXPECT_EQ(found[1].line, 3u);
  EXPECT_EQ(found[1].column, 3 + a.size() + 1 + 2 + 4);
  EXPECT_EQ(found[1].utf16_column, 3 + a.size() + 1 + 1 + 2);
  EXPECT_EQ(found[2].line, 5u);
  EXPECT_EQ(found[2].column, 1u);
  EXPECT_EQ(found[2].utf16_column, 1u);
  EXPECT_EQ(found[2].length, c.size());
}

TEST_F(TextScannerTest, CountsAPercentEncodedKeyByItsBytes) {
  const std::string key = GenerateKey("kw");
  const std::string text = "\n?t=kw%5F" + key.substr(3);
  std::vector<Finding> found;
  ScanText(text, KeyFinder({"kw"}), "u", "c0ffee", found);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].line, 2u);
  EXPECT_EQ(found[0].column, 4u);
  EXPECT_EQ(found[0].length, key.size() + 2);
  EXPECT_EQ(found[0].key, key);
  EXPECT_EQ(found[0].commit, "c0ffee");
}

}  // namespace
}  // namespace keyward::scan
