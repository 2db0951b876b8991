#include "core/password.h"

#include <gtest/gtest.h>

#include "common/random.h"
#include "common/status_matchers.h"

namespace keyward {
namespace {

TEST(PasswordTest, HashVerifies) {
  ASSERT_TRUE(InitCrypto());
  auto hash = HashPassword("correct horse battery");
  ASSERT_THAT(hash, IsOk());
  EXPECT_TRUE(hash->starts_with("$argon2id$"));
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
  EXPECT_TRUE(VerifyPassword("correct horse battery", *hash));
  EXPECT_FALSE(VerifyPassword("correct horse batterY", *hash));
}

TEST(PasswordTest, EmptyOrForeignHashNeverMatches) {
  ASSERT_TRUE(InitCrypto());
  EXPECT_FALSE(VerifyPassword("keyward-dummy-password", ""));
  EXPECT_FALSE(VerifyPassword("x", "$2b$10$bcrypt"));
}

TEST(PasswordTest, Validation) {
  EXPECT_THAT(ValidatePassword("short"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidatePassword("longenough"), IsOk());
  EXPECT_THAT(ValidatePassword(std::string(1025, 'a')), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace keyward
