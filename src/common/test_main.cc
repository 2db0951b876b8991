// main() of every GoogleTest binary (the kw_test_main library, in place of GTest::gtest_main).
//
// It adds one rule to GoogleTest's: a test whose suite's SetUpTestSuite failed fails. GoogleTest
// itself reports such tests as skipped ("[  SKIPPED ]") and the suite's failure only in its
// summary; ctest (gtest_discover_tests' SKIP_REGULAR_EXPRESSION) then counts them as skipped,
// not failed, so a suite whose server did not start passed unseen. The listener fails each
// such test as it starts; TearDownTestSuite still runs (it stops the suite's server).
#include <gtest/gtest.h>

namespace {

class FailTestsOfAFailedSuite : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo& /*test*/) override {
    const ::testing::TestSuite* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
    if (suite != nullptr && suite->ad_hoc_test_result().Failed()) {
      ADD_FAILURE() << "SetUpTestSuite of " << suite->name() << " failed (above)";
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::UnitTest::GetInstance()->listeners().Append(new FailTestsOfAFailedSuite);
  return RUN_ALL_TESTS();
}
