#include "core/policy.h"

#include <gtest/gtest.h>

namespace keyward {
namespace {

User MakeUser(std::string id, std::vector<std::string> tags = {}) {
  User u;
  u.id = std::move(id);
  u.tags = std::move(tags);
  return u;
}

TEST(PolicyTest, MeResolvesToTheCaller) {
  EXPECT_EQ(ResolveUserId(MakeUser("alice"), "me"), "alice");
  EXPECT_EQ(ResolveUserId(MakeUser("alice"), "bob"), "bob");
}

TEST(PolicyTest, OwnersReachTheirKeysOthersGetNotFound) {
  User alice = MakeUser("alice");
  EXPECT_TRUE(CheckKeyAccess(alice, "alice").ok());
  EXPECT_EQ(CheckKeyAccess(alice, "bob").code(), StatusCode::kNotFound);
}

TEST(PolicyTest, OperatorsReachEveryone) {
  User op = MakeUser("admin", {std::string(kOperatorTag)});
  EXPECT_TRUE(CheckKeyAccess(op, "bob").ok());
  EXPECT_TRUE(CheckOperator(op).ok());
  EXPECT_TRUE(CanManageUsers(op));
  User bob = MakeUser("bob", {"roles:id:data-dev", "roles:id:operators"});
  EXPECT_EQ(CheckOperator(bob).code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(CanManageUsers(bob));
}

}  // namespace
}  // namespace keyward
