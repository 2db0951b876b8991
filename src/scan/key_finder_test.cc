#include "scan/key_finder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/random.h"
#include "core/api_key.h"

namespace keyward::scan {
namespace {

class KeyFinderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto()); }

  static std::vector<KeyMatch> FindAll(const KeyFinder& finder, std::string_view text) {
    std::vector<KeyMatch> out;
    finder.Find(text, [&](const KeyMatch& m) { out.push_back(m); });
    return out;
  }
};

TEST_F(KeyFinderTest, FindsKeysInsideAnyText) {
  const std::string a = GenerateKey("kw");
  const std::string b = GenerateKey("kw");
  const std::string c = GenerateKey("acme2");
  const std::string text = "const k=\"" + a + "\";x=" + b + ".y;\n{\"key\":\"" + c + "\"}" + a;
  KeyFinder finder({"kw", "acme2"});
  auto found = FindAll(finder, text);
  ASSERT_EQ(found.size(), 4u);
  EXPECT_EQ(found[0].key, a);
  EXPECT_EQ(found[0].offset, text.find(a));
  EXPECT_EQ(found[0].length, a.size());
  EXPECT_EQ(found[1].key, b);
  EXPECT_EQ(found[2].key, c);
  EXPECT_EQ(found[2].offset, text.find(c));
  EXPECT_EQ(found[3].key, a);
  EXPECT_EQ(found[3].offset, text.size() - a.size());
}

TEST_F(KeyFinderTest, FindsAPercentEncodedSeparator) {
  const std::string key = GenerateKey("kw");
  const std::string upper = "kw%5F" + key.substr(3);
  const std::string lower = "kw%5f" + key.substr(3);
  const std::string text = "https://x.example/?k=" + upper + "&j=" + lower + "%20";
  auto found = FindAll(KeyFinder({"kw"}), text);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].key, key);
  EXPECT_EQ(found[0].offset, text.find(upper));
  EXPECT_EQ(found[0].length, upper.size());
  EXPECT_EQ(found[1].key, key);
  EXPECT_EQ(found[1].offset, text.find(lower));
  // A key after a percent-encoded byte, as in a URL inside a URL's query.
  const std::string nested = "?next=https%3A%2F%2Fh%2F%3Fk%3D" + upper + "%26";
  found = FindAll(KeyFinder({"kw"}), nested);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].offset, nested.find(upper));
  EXPECT_TRUE(FindAll(KeyFinder({"kw"}), "%3G" + key).empty());
  EXPECT_TRUE(FindAll(KeyFinder({"kw"}), "x3D" + key).empty());
}

TEST_F(KeyFinderTest, RefusesNearMisses) {
  const std::string key = GenerateKey("kw");
  std::string bad_checksum = key;
  bad_checksum.back() = bad_checksum.back() == 'A' ? 'B' : 'A';
  std::string bad_secret = key;
  bad_secret[5] = bad_secret[5] == 'A' ? 'B' : 'A';
  const std::vector<std::string> misses = {
      bad_checksum,
      bad_secret,
      key.substr(0, key.size() - 1),  // one short
      key + "x",                      // one long
      key + "0",
      "x" + key,  // preceded by a letter
      "7" + key,
      "kx_" + key.substr(3),  // another prefix
      key.substr(0, 20) + "\n" + key.substr(20),
      "kw%5G" + key.substr(3),
      "kw-" + key.substr(3),
      "kw__" + key.substr(3),
  };
  KeyFinder finder({"kw"});
  for (const std::string& miss : misses) {
    EXPECT_TRUE(FindAll(finder, " " + miss + " ").empty()) << miss;
  }
  // A key glued to punctuation on both sides is a key.
  EXPECT_EQ(FindAll(finder, "_" + key + "_").size(), 1u);
  EXPECT_EQ(FindAll(finder, "é" + key + "\xff").size(), 1u);
}

TEST_F(KeyFinderTest, TheLongerOfTwoOverlappingPrefixesWins) {
  const std::string key = GenerateKey("xkw");
  auto found = FindAll(KeyFinder({"kw", "xkw"}), key);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].key, key);
  EXPECT_TRUE(FindAll(KeyFinder({"kw"}), key).empty());
}

TEST_F(KeyFinderTest, FindsKeysAtTheEdgesAndNothingInShortText) {
  const std::string key = GenerateKey("kw");
  KeyFinder finder({"kw"});
  EXPECT_EQ(FindAll(finder, key).size(), 1u);
  EXPECT_EQ(FindAll(finder, key + key.substr(0, 10)).size(), 0u);  // glued: one long
  EXPECT_EQ(FindAll(finder, key + "." + key).size(), 2u);
  EXPECT_TRUE(FindAll(finder, "").empty());
  EXPECT_TRUE(FindAll(finder, "_").empty());
  EXPECT_TRUE(FindAll(finder, "%5").empty());
  EXPECT_TRUE(FindAll(finder, "kw_").empty());
}

TEST_F(KeyFinderTest, FindsKeysAmongRandomBytes) {
  std::string text = RandomBytes(1 << 16);
  const std::string key = GenerateKey("kw");
  // Bytes that are not base62 around the key, so that it stands alone.
  text.replace(1000, key.size() + 2, "\x01" + key + "\x02");
  auto found = FindAll(KeyFinder({"kw"}), text);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].offset, 1001u);
}

TEST_F(KeyFinderTest, FindsKeysRightAfterJsonAndCEscapes) {
  const std::string key = GenerateKey("kw");
  KeyFinder finder({"kw"});
  for (const std::string escape :
       {"\\n", "\\t", "\\r", "\\b", "\\f", "\\\\", "\\/", "\\\"", "\\u00e9", "\\u000A"}) {
    const std::string text = std::string("\"A=1").append(escape).append(key).append("\"");
    auto found = FindAll(finder, text);
    ASSERT_EQ(found.size(), 1u) << escape;
    EXPECT_EQ(found[0].key, key) << escape;
    EXPECT_EQ(found[0].offset, 4 + escape.size()) << escape;
    EXPECT_EQ(MaskKeysIn(text, finder), "\"A=1" + escape + MaskKey(key) + "\"") << escape;
  }
  // Not escapes: an escaped backslash before the letter, a letter after a plain one, a short or
  // non-hex \u, and an escape letter outside the set.
  for (const std::string before : {"\\\\n", "n", "\\u00e", "\\u00g9", "\\a", "\\\\u00e9", "x\\x"}) {
    const std::string text = std::string("\"A=1").append(before).append(key).append("\"");
    EXPECT_TRUE(FindAll(finder, text).empty()) << before;
    EXPECT_EQ(MaskKeysIn(text, finder), text) << before;
  }
}

TEST_F(KeyFinderTest, RefusesUnderscoresOfSnakeCaseAndFindsTheKeyAmongThem) {
  const std::string key = GenerateKey("kw");
  std::string text;
  for (int i = 0; i < 100; ++i) text += "some_snake_case_name_" + key.substr(3) + " ";
  text += "kw_snake_case = \"" + key + "\"";
  auto found = FindAll(KeyFinder({"kw", "acme"}), text);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].offset, text.size() - 1 - key.size());
}

TEST_F(KeyFinderTest, MaskKeysInReplacesEveryKeyAndKeepsTheRest) {
  const std::string key = GenerateKey("kw");
  const std::string encoded = "kw%5F" + key.substr(3);
  const std::string url = "https://h.example/p?a=" + key + "&b=" + encoded + "&c=kw_short";
  const std::string masked = MaskKeysIn(url, KeyFinder({"kw"}));
  EXPECT_EQ(masked, "https://h.example/p?a=" + MaskKey(key) + "&b=" + MaskKey(key) + "&c=kw_short");
  EXPECT_EQ(masked.find(key.substr(3)), std::string::npos);
  EXPECT_EQ(MaskKeysIn("nothing here", KeyFinder({"kw"})), "nothing here");
}

}  // namespace
}  // namespace keyward::scan
