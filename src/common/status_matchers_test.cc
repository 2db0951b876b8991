#include "common/status_matchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <string>

namespace keyward {
namespace {

using ::testing::DescribeMatcher;
using ::testing::HasSubstr;
using ::testing::Matcher;
using ::testing::Not;

// What the matcher says of `value` when it does not match it ("" when it matches).
template <typename T, typename M>
std::string Explain(const M& matcher, const T& value) {
  Matcher<const T&> m = matcher;
  ::testing::StringMatchResultListener listener;
  if (m.MatchAndExplain(value, &listener)) return "";
  return listener.str();
}

Result<int> Value() { return 7; }
Result<int> Missing() { return Status::NotFound("no such key"); }

TEST(IsOkTest, MatchesOkStatusAndResultWithAValue) {
  EXPECT_THAT(Status::Ok(), IsOk());
  EXPECT_THAT(Value(), IsOk());
  EXPECT_THAT(Status::NotFound("x"), Not(IsOk()));
  EXPECT_THAT(Missing(), Not(IsOk()));
}

TEST(IsOkTest, FailureNamesTheStatus) {
  EXPECT_EQ(Explain(IsOk(), Status(StatusCode::kUnavailable, "store down", "ECONNREFUSED")),
            "whose status is " +
                Status(StatusCode::kUnavailable, "store down", "ECONNREFUSED").ToString());
  EXPECT_THAT(Explain(IsOk(), Missing()), HasSubstr("no such key"));
  EXPECT_EQ(DescribeMatcher<Status>(IsOk()), "is OK");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(Missing(), IsOk()), "not_found");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(Status::Internal("boom"), IsOk()), "boom");
}

TEST(StatusIsTest, MatchesTheCode) {
  EXPECT_THAT(Status::NotFound("x"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(Missing(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(Status::NotFound("x"), Not(StatusIs(StatusCode::kAlreadyExists)));
  EXPECT_THAT(Value(), Not(StatusIs(StatusCode::kNotFound)));
  EXPECT_THAT(Value(), StatusIs(StatusCode::kOk));
  EXPECT_THAT(Status::Ok(), StatusIs(StatusCode::kOk));
}

TEST(StatusIsTest, MatchesTheMessageNotTheDetail) {
  Status s(StatusCode::kInvalidArgument, "bad duration", "parser said: 1y");
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument, "bad duration"));
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument, HasSubstr("duration")));
  EXPECT_THAT(s, Not(StatusIs(StatusCode::kInvalidArgument, "bad")));
  EXPECT_THAT(s, Not(StatusIs(StatusCode::kInvalidArgument, HasSubstr("1y"))));
  EXPECT_THAT(s, Not(StatusIs(StatusCode::kNotFound, "bad duration")));
  EXPECT_THAT(Missing(), StatusIs(StatusCode::kNotFound, std::string("no such key")));
}

TEST(StatusIsTest, FailureSaysWhatDiffered) {
  EXPECT_EQ(Explain(StatusIs(StatusCode::kNotFound), Value()), "whose status is OK");
  EXPECT_EQ(Explain(StatusIs(StatusCode::kNotFound), Status::AlreadyExists("taken")),
            "whose status is " + Status::AlreadyExists("taken").ToString());
  EXPECT_EQ(Explain(StatusIs(StatusCode::kNotFound, "gone"), Missing()),
            "whose message \"no such key\" does not match");
  EXPECT_EQ(DescribeMatcher<Status>(StatusIs(StatusCode::kNotFound, "gone")),
            "has status code not_found and a message that is equal to \"gone\"");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(Value(), StatusIs(StatusCode::kNotFound)),
                          "whose status is OK");
  EXPECT_NONFATAL_FAILURE(
      EXPECT_THAT(Missing(), StatusIs(StatusCode::kNotFound, HasSubstr("user"))),
      "has substring \"user\"");
}

TEST(StatusPrinterTest, PrintsStatusesByName) {
  EXPECT_EQ(::testing::PrintToString(StatusCode::kPermissionDenied), "permission_denied");
  EXPECT_EQ(::testing::PrintToString(Status::NotFound("x")), Status::NotFound("x").ToString());
  EXPECT_EQ(::testing::PrintToString(Missing()), Status::NotFound("no such key").ToString());
  EXPECT_EQ(::testing::PrintToString(Value()), "OK (holds a value)");
}

}  // namespace
}  // namespace keyward
