#include "common/status.h"

#include <gtest/gtest.h>

namespace keyward {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  KW_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
}

TEST(StatusTest, InternalHidesDetailFromMessage) {
  Status s = Status::Internal("disk I/O error at /var/x");
  EXPECT_EQ(s.message(), "internal error");
  EXPECT_EQ(s.detail(), "disk I/O error at /var/x");
}

TEST(StatusTest, AssignOrReturnPropagates) {
  EXPECT_EQ(Quarter(8).value(), 2);
  EXPECT_EQ(Quarter(6).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Quarter(3).status().message(), "odd");
}

TEST(StatusTest, CodeNamesAreStable) {
  EXPECT_EQ(StatusCodeName(StatusCode::kNotFound), "not_found");
  EXPECT_EQ(StatusCodeName(StatusCode::kAlreadyExists), "already_exists");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnauthenticated), "unauthenticated");
}

TEST(StatusTest, ExplainDiskFullNamesWhatWasNotDone) {
  Status full = ExplainDiskFull(Status::InsufficientStorage("full", "SQLITE_FULL"),
                                "the key was not created");
  EXPECT_EQ(full.code(), StatusCode::kInsufficientStorage);
  EXPECT_EQ(full.message(), "the server's disk is full: the key was not created; retry later");
  EXPECT_EQ(full.detail(), "SQLITE_FULL");
  // Any other error is left as it is.
  EXPECT_EQ(ExplainDiskFull(Status::NotFound("no such key"), "x").message(), "no such key");
  EXPECT_TRUE(ExplainDiskFull(Status::Ok(), "x").ok());
}

TEST(StatusTest, CodeNamesRoundTrip) {
  for (int c = 0; c <= static_cast<int>(kLastStatusCode); ++c) {
    auto code = static_cast<StatusCode>(c);
    EXPECT_EQ(StatusCodeFromName(StatusCodeName(code)), code) << StatusCodeName(code);
  }
  // Unknown text is no code at all, so the round trip above cannot pass by falling back.
  EXPECT_EQ(StatusCodeFromName("nonsense"), std::nullopt);
  EXPECT_EQ(StatusCodeFromName(""), std::nullopt);
}

TEST(StatusTest, AResultMadeFromAnOkStatusIsAnError) {
  const Result<int> r{Status::Ok()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_EQ(r.status().detail(), "a Result was made from an OK Status");
}

TEST(StatusDeathTest, ValueOfAnErrorSaysWhichError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH((void)Half(3).value(),
               "value\\(\\) of a Result that holds an error: "
               "invalid_argument: odd");
  const Result<int> error = Half(5);
  EXPECT_DEATH((void)*error, "invalid_argument: odd");
}

}  // namespace
}  // namespace keyward
