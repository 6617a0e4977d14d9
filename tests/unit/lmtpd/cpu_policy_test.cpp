#include "lmtpd/cpu_policy.hpp"

#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

namespace dovetail::lmtpd {
namespace {

TEST(CpuPolicy, ParsesTheTwoNames) {
  EXPECT_EQ(parse_cpu_policy("batch"), CpuPolicy::kBatch);
  EXPECT_EQ(parse_cpu_policy("normal"), CpuPolicy::kNormal);
  EXPECT_EQ(parse_cpu_policy("fifo"), std::nullopt);
  EXPECT_EQ(parse_cpu_policy(""), std::nullopt);
  EXPECT_EQ(cpu_policy_name(CpuPolicy::kBatch), "batch");
  EXPECT_EQ(cpu_policy_name(CpuPolicy::kNormal), "normal");
}

// Run in a thread of its own: the policy is per thread, and the test runner's thread stays
// as it was.
TEST(CpuPolicy, AppliesToTheCallingThreadAndThreadsItStarts) {
  int self = -1, child = -1, after_normal = -1;
  std::thread t([&] {
    ASSERT_TRUE(apply_cpu_policy(CpuPolicy::kBatch));
    self = ::sched_getscheduler(0);
    std::thread([&] { child = ::sched_getscheduler(0); }).join();
    ASSERT_TRUE(apply_cpu_policy(CpuPolicy::kNormal));
    after_normal = ::sched_getscheduler(0);
  });
  t.join();
  EXPECT_EQ(self, SCHED_BATCH);
  EXPECT_EQ(child, SCHED_BATCH);
  EXPECT_EQ(after_normal, SCHED_OTHER);
}

}  // namespace
}  // namespace dovetail::lmtpd
