#include "core/user.h"

#include <gtest/gtest.h>

#include "common/status_matchers.h"
#include "core/key_record.h"

namespace keyward {
namespace {

TEST(UserTest, UserIds) {
  EXPECT_THAT(ValidateUserId("lakesearchapi"), IsOk());
  EXPECT_THAT(ValidateUserId("a.b-c_9"), IsOk());
  EXPECT_THAT(ValidateUserId(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateUserId("me"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateUserId("Admin"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateUserId("-x"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateUserId("a/b"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateUserId(std::string(65, 'a')), StatusIs(StatusCode::kInvalidArgument));
}

TEST(UserTest, Tags) {
  EXPECT_THAT(ValidateTag("roles:id:operator"), IsOk());
  EXPECT_THAT(ValidateTag("has space"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateTag(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateTag("."), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateTag(".."), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateTag("..."), IsOk());
}

TEST(UserTest, OperatorTag) {
  User u;
  EXPECT_FALSE(u.IsOperator());
  u.tags = {"roles:id:data-dev", "roles:id:operator"};
  EXPECT_TRUE(u.IsOperator());
}

TEST(UserTest, Utf8) {
  EXPECT_TRUE(IsPrintableUtf8("plain"));
  EXPECT_TRUE(IsPrintableUtf8("e\xCC\x81 \xF0\x9F\x94\x91 \xE2\x80\xAE"));  // combining, emoji, RLO
  EXPECT_FALSE(IsPrintableUtf8("tab\there"));
  EXPECT_FALSE(IsPrintableUtf8(std::string("nul\0x", 5)));
  EXPECT_FALSE(IsPrintableUtf8("\xC0\xAF"));      // overlong '/'
  EXPECT_FALSE(IsPrintableUtf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(IsPrintableUtf8("\xF0\x9F\x94"));  // truncated
  EXPECT_FALSE(IsPrintableUtf8("\xC2\x85"));      // C1 control
}

TEST(UserTest, KeyNames) {
  EXPECT_THAT(ValidateKeyName("presto-driver"), IsOk());
  EXPECT_THAT(ValidateKeyName("Robert'); DROP TABLE api_keys;--"), IsOk());
  EXPECT_THAT(ValidateKeyName(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateKeyName("a/b"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateKeyName(std::string(129, 'a')), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateKeyName(std::string(128, 'a')), IsOk());
  EXPECT_THAT(ValidateKeyName("."), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateKeyName(".."), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateKeyName("..."), IsOk());
}

TEST(UserTest, Utf8TextIsWhatAStoreCanHold) {
  EXPECT_TRUE(IsUtf8Text(""));
  EXPECT_TRUE(IsUtf8Text("caf\xC3\xA9"));
  EXPECT_TRUE(IsUtf8Text("tab\tand C1 \xC2\x85"));  // controls are text, unlike IsPrintableUtf8
  EXPECT_FALSE(IsUtf8Text(std::string("a\0b", 3)));
  EXPECT_FALSE(IsUtf8Text("\xFF"));
  EXPECT_FALSE(IsUtf8Text("\xC0\xAF"));      // overlong '/'
  EXPECT_FALSE(IsUtf8Text("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(IsUtf8Text("\xF0\x9F\x94"));  // truncated
}

TEST(UserTest, JoinTagsKeepsTheirOrder) {
  EXPECT_EQ(JoinTags({}), "");
  EXPECT_EQ(JoinTags({"ops"}), "ops");
  EXPECT_EQ(JoinTags({"roles:id:data-dev", "ops", "a.b"}), "roles:id:data-dev,ops,a.b");
}

}  // namespace
}  // namespace keyward
