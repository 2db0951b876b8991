// Proves test_main.cc's rule: this suite's set-up fails, so its test must fail, not be skipped.
// Not discovered (no gtest_discover_tests): src/common/CMakeLists.txt runs it as one test that
// passes only if the output says the test failed and says nothing was skipped.
#include <gtest/gtest.h>

namespace {

class SuiteWhoseSetUpFails : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { FAIL() << "the suite's server did not start"; }
};

TEST_F(SuiteWhoseSetUpFails, IsReportedAsFailedNotSkipped) { SUCCEED(); }

}  // namespace
