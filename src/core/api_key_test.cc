#include "core/api_key.h"

#include <gtest/gtest.h>

#include <set>

#include "common/random.h"
#include "common/status_matchers.h"

namespace keyward {
namespace {

class ApiKeyTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto()); }
};

TEST_F(ApiKeyTest, GeneratedKeyHasTheDocumentedShape) {
  std::string key = GenerateKey("kw");
  ASSERT_EQ(key.size(), 3 + kSecretChars + kChecksumChars);
  EXPECT_EQ(key.substr(0, 3), "kw_");
  for (char c : key.substr(3)) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << c;
  EXPECT_TRUE(IsWellFormedKey(key, "kw"));
}

TEST_F(ApiKeyTest, KeysAreUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(GenerateKey("kw")).second);
}

TEST_F(ApiKeyTest, EveryOneCharacterTypoIsRejected) {
  std::string key = GenerateKey("kw");
  const std::string alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  int tried = 0;
  for (std::size_t i = 3; i < key.size(); ++i) {
    for (char c : alphabet) {
      if (c == key[i]) continue;
      std::string typo = key;
      typo[i] = c;
      ++tried;
      EXPECT_FALSE(IsWellFormedKey(typo, "kw")) << "position " << i << " char " << c;
    }
  }
  EXPECT_EQ(tried, 49 * 61);
}

TEST_F(ApiKeyTest, RejectsWrongPrefixLengthAndCharacters) {
  std::string key = GenerateKey("kw");
  EXPECT_FALSE(IsWellFormedKey(key, "kx"));
  EXPECT_FALSE(IsWellFormedKey("kx" + key.substr(2), "kw"));
  EXPECT_FALSE(IsWellFormedKey(key.substr(0, key.size() - 1), "kw"));
  EXPECT_FALSE(IsWellFormedKey(key + "0", "kw"));
  std::string dash = key;
  dash[10] = '-';
  EXPECT_FALSE(IsWellFormedKey(dash, "kw"));
  EXPECT_FALSE(IsWellFormedKey("", "kw"));
  EXPECT_FALSE(IsWellFormedKey("kw_", "kw"));
}

TEST_F(ApiKeyTest, CustomPrefix) {
  ASSERT_THAT(ValidateKeyPrefix("acme2"), IsOk());
  std::string key = GenerateKey("acme2");
  EXPECT_TRUE(IsWellFormedKey(key, "acme2"));
  EXPECT_FALSE(IsWellFormedKey(key, "kw"));
  EXPECT_THAT(ValidateKeyPrefix(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateKeyPrefix("Kw"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateKeyPrefix("k_w"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateKeyPrefix("abcdefghijklmnopq"), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(ApiKeyTest, Base62IsFixedWidthAndOrdered) {
  EXPECT_EQ(Base62Encode(std::string(32, '\0'), 43), std::string(43, '0'));
  EXPECT_EQ(Base62Encode(std::string(32, '\xff'), 43).size(), 43u);
  EXPECT_EQ(Base62Encode(std::string("\x00\x3d", 2), 2), "0z");  // 61
  EXPECT_EQ(Base62Encode(std::string("\x00\x3e", 2), 2), "10");  // 62
}

TEST_F(ApiKeyTest, Crc32MatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
}

TEST_F(ApiKeyTest, HashIsSha256) {
  std::string h = HashKey("abc");
  ASSERT_EQ(h.size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>(h[0]), 0xba);
  EXPECT_EQ(static_cast<unsigned char>(h[31]), 0xad);
}

TEST_F(ApiKeyTest, MaskShowsOnlyEightCharacters) {
  std::string key = GenerateKey("kw");
  std::string masked = MaskKey(key);
  EXPECT_EQ(masked, "kw_" + key.substr(3, 4) + "…" + key.substr(key.size() - 4));
}

}  // namespace
}  // namespace keyward
