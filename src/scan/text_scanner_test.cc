#include "scan/text_scanner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <tuple>

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

// Line, byte and UTF-16 column, length and key of each finding.
std::vector<std::tuple<std::size_t, std::size_t, std::size_t, std::size_t, std::string>> Rows(
    const std::vector<Finding>& found) {
  std::vector<std::tuple<std::size_t, std::size_t, std::size_t, std::size_t, std::string>> rows;
  rows.reserve(found.size());
  for (const Finding& f : found)
    rows.emplace_back(f.line, f.column, f.utf16_column, f.length, f.key);
  return rows;
}

TEST_F(TextScannerTest, ScanningInBlocksFindsWhatScanningWholeFinds) {
  // Keys in every form the finder knows, among multi-byte characters and long lines, so that
  // block boundaries fall inside keys, escapes, characters and lines.
  const std::vector<std::string> pieces = {"é",
                                           "😀",
                                           " ",
                                           "\n",
                                           "x",
                                           "\\n",
                                           "%3D",
                                           "\\u00e9",
                                           "abc_def",
                                           "\r\n",
                                           "kw",
                                           "\"",
                                           std::string(300, 'q')};
  std::string text;
  std::size_t keys = 0;
  for (std::size_t i = 0; i < 600; ++i) {
    text += pieces[(i * 7 + i / 5) % pieces.size()];
    if (i % 3 == 0) {
      const std::string key = GenerateKey("kw");
      text += (i % 9 == 0 ? "kw%5F" + key.substr(3) : key) + (i % 2 == 0 ? "," : "");
      ++keys;
    }
  }
  const KeyFinder finder({"kw"});
  std::vector<Finding> whole;
  ScanText(text, finder, "p", "", whole);
  // Some keys follow "x", "kw" or a key without a comma, and are no keys: as intended.
  ASSERT_GE(whole.size(), keys / 3);
  for (std::size_t block : {1, 2, 61, 67, 300, 1000, 4096, 1 << 20}) {
    std::size_t at = 0;
    const ReadFunction read = [&](char* to, std::size_t n) -> ssize_t {
      // Short reads too: at most 1000 bytes at a time.
      n = std::min({n, text.size() - at, std::size_t{1000}});
      std::memcpy(to, text.data() + at, n);
      at += n;
      return static_cast<ssize_t>(n);
    };
    std::vector<Finding> blocks;
    EXPECT_EQ(ScanBlocks(read, block, finder, "p", blocks), static_cast<long long>(text.size()));
    EXPECT_EQ(Rows(blocks), Rows(whole)) << "block " << block;
  }
}

TEST_F(TextScannerTest, ScanBlocksReportsAReadError) {
  const std::string key = GenerateKey("kw");
  int calls = 0;
  const ReadFunction read = [&](char* to, std::size_t n) -> ssize_t {
    if (++calls > 1) {
      errno = EIO;
      return -1;
    }
    std::copy_n(key.data(), std::min(n, key.size()), to);
    return static_cast<ssize_t>(std::min(n, key.size()));
  };
  std::vector<Finding> found;
  EXPECT_EQ(ScanBlocks(read, 1000, KeyFinder({"kw"}), "p", found), -1);
  EXPECT_EQ(errno, EIO);
}

}  // namespace
}  // namespace keyward::scan
