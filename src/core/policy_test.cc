#include "core/policy.h"

#include <gtest/gtest.h>

#include "common/status_matchers.h"

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
  EXPECT_THAT(CheckKeyAccess(alice, "alice"), IsOk());
  EXPECT_THAT(CheckKeyAccess(alice, "bob"), StatusIs(StatusCode::kNotFound));
}

TEST(PolicyTest, OperatorsReachEveryone) {
  User op = MakeUser("admin", {std::string(kOperatorTag)});
  EXPECT_THAT(CheckKeyAccess(op, "bob"), IsOk());
  EXPECT_THAT(CheckOperator(op), IsOk());
  EXPECT_TRUE(CanManageUsers(op));
  User bob = MakeUser("bob", {"roles:id:data-dev", "roles:id:operators"});
  EXPECT_THAT(CheckOperator(bob), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_FALSE(CanManageUsers(bob));
}

TEST(PolicyTest, AKeyNeedsTheScopeFullAccessHasEvery) {
  Grant reader;
  reader.scopes = {std::string(scope::kKeysRead)};
  EXPECT_THAT(RequireScope(reader, scope::kKeysRead), IsOk());
  Status lacking = RequireScope(reader, scope::kKeysWrite);
  EXPECT_THAT(lacking, StatusIs(StatusCode::kPermissionDenied));
  EXPECT_EQ(lacking.message(), "this API key lacks the scope keys:write");
  EXPECT_THAT(RequireScope(Grant{}, scope::kKeysRead), StatusIs(StatusCode::kPermissionDenied));
  for (std::string_view s : kKeywardScopes) EXPECT_THAT(RequireScope(FullAccess(), s), IsOk());
}

}  // namespace
}  // namespace keyward
