#include "common/cpus.h"

#include <gtest/gtest.h>
#include <sched.h>

namespace keyward {
namespace {

TEST(CpusTest, CpuMaxReadsQuotaOverPeriod) {
  EXPECT_EQ(CpuMaxLimit("max 100000\n"), std::nullopt);
  EXPECT_EQ(CpuMaxLimit("100000 100000\n"), 1.0);
  EXPECT_EQ(CpuMaxLimit("150000 100000"), 1.5);
  EXPECT_EQ(CpuMaxLimit("50000 100000\n"), 0.5);
  EXPECT_EQ(CpuMaxLimit(""), std::nullopt);
  EXPECT_EQ(CpuMaxLimit("abc 100000"), std::nullopt);
  EXPECT_EQ(CpuMaxLimit("100000 0"), std::nullopt);
  EXPECT_EQ(CpuMaxLimit("100000 100000x"), std::nullopt);
}

TEST(CpusTest, CountsTheAffinityMaskNotTheMachine) {
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  const int in_mask = CPU_COUNT(&set);
  const UsableCpus cpus = CountUsableCpus();
  EXPECT_GE(cpus.count, 1);
  EXPECT_LE(cpus.count, in_mask);
  EXPECT_NE(cpus.reason.find("affinity mask"), std::string::npos) << cpus.reason;
}

}  // namespace
}  // namespace keyward
