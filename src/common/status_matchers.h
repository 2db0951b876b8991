// gMock matchers for Status and Result<T>, for tests only (the kw_status_matchers target).
//
//   EXPECT_THAT(store.CreateKey(record), IsOk());
//   ASSERT_THAT(opened, IsOk());                       // a Result<T>
//   EXPECT_THAT(Get("x"), StatusIs(StatusCode::kNotFound));
//   EXPECT_THAT(Parse(body), StatusIs(StatusCode::kInvalidArgument, HasSubstr("duplicate")));
//
// A failure prints the status the call gave ("not_found: no such key (detail)"), where
// EXPECT_TRUE(x.ok()) would print only "false". StatusIs matches the code and, when given, the
// message() (never the detail()) against a string matcher or a plain string. Both work on a
// Status and on any Result<T>; a Result that holds a value has an OK status.
#pragma once

#include <gmock/gmock.h>

#include <ostream>
#include <string>
#include <utility>

#include "common/status.h"

namespace keyward {

// gtest prints these by name, not as bytes.
inline void PrintTo(StatusCode code, std::ostream* os) { *os << StatusCodeName(code); }
inline void PrintTo(const Status& status, std::ostream* os) { *os << status.ToString(); }
template <typename T>
void PrintTo(const Result<T>& result, std::ostream* os) {
  if (result.ok()) {
    *os << "OK (holds a value)";
  } else {
    *os << result.status().ToString();
  }
}

namespace status_matchers_internal {

inline const Status& GetStatus(const Status& status) { return status; }
template <typename T>
Status GetStatus(const Result<T>& result) {
  return result.status();
}

class IsOkMatcher {
 public:
  template <typename StatusOrResult>
  bool MatchAndExplain(const StatusOrResult& actual,
                       ::testing::MatchResultListener* listener) const {
    const Status status = GetStatus(actual);
    if (!status.ok()) *listener << "whose status is " << status.ToString();
    return status.ok();
  }
  void DescribeTo(std::ostream* os) const { *os << "is OK"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "is not OK"; }
};

class StatusIsMatcher {
 public:
  StatusIsMatcher(StatusCode code, ::testing::Matcher<const std::string&> message)
      : code_(code), message_(std::move(message)) {}

  template <typename StatusOrResult>
  bool MatchAndExplain(const StatusOrResult& actual,
                       ::testing::MatchResultListener* listener) const {
    const Status status = GetStatus(actual);
    if (status.code() != code_) {
      *listener << "whose status is " << (status.ok() ? std::string("OK") : status.ToString());
      return false;
    }
    ::testing::StringMatchResultListener why;
    if (!message_.MatchAndExplain(status.message(), &why)) {
      *listener << "whose message \"" << status.message() << "\" does not match";
      if (!why.str().empty()) *listener << ", " << why.str();
      return false;
    }
    return true;
  }
  void DescribeTo(std::ostream* os) const {
    *os << "has status code " << StatusCodeName(code_) << " and a message that ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "does not have status code " << StatusCodeName(code_) << " or has a message that ";
    message_.DescribeNegationTo(os);
  }

 private:
  StatusCode code_;
  ::testing::Matcher<const std::string&> message_;
};

}  // namespace status_matchers_internal

// Matches an OK Status, or a Result that holds a value.
inline ::testing::PolymorphicMatcher<status_matchers_internal::IsOkMatcher> IsOk() {
  return ::testing::MakePolymorphicMatcher(status_matchers_internal::IsOkMatcher());
}

// Matches a Status or Result whose code is `code`, whatever its message.
inline ::testing::PolymorphicMatcher<status_matchers_internal::StatusIsMatcher> StatusIs(
    StatusCode code) {
  return ::testing::MakePolymorphicMatcher(
      status_matchers_internal::StatusIsMatcher(code, ::testing::A<const std::string&>()));
}

// Matches a Status or Result whose code is `code` and whose message() matches `message`: a
// gMock string matcher (HasSubstr, StartsWith, ...) or a string it must equal.
template <typename MessageMatcher>
::testing::PolymorphicMatcher<status_matchers_internal::StatusIsMatcher> StatusIs(
    StatusCode code, MessageMatcher&& message) {
  return ::testing::MakePolymorphicMatcher(status_matchers_internal::StatusIsMatcher(
      code, ::testing::MatcherCast<const std::string&>(std::forward<MessageMatcher>(message))));
}

}  // namespace keyward
