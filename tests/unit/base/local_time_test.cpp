#include "base/local_time.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <thread>

namespace dovetail::base {
namespace {

constexpr std::time_t kNow = 1795469466;  // 2026-11-23 21:31:06 UTC

class LocalTimeTest : public ::testing::Test {
 protected:
  void use_zone(const char* tz) {
    setenv("TZ", tz, 1);
    tzset();
  }
  void TearDown() override {
    unsetenv("TZ");
    tzset();
  }
};

TEST_F(LocalTimeTest, TheSameSecondIsConvertedOnce) {
  use_zone("UTC0");
  const LocalTime a = local_time(kNow);
  const uint64_t first = a.conversion;
  EXPECT_EQ(local_time(kNow).conversion, first);
  EXPECT_EQ(local_time(kNow).tm.tm_hour, 21);
  const LocalTime b = local_time(kNow + 1);
  EXPECT_NE(b.conversion, first);
  EXPECT_EQ(b.tm.tm_sec, 7);
}

TEST_F(LocalTimeTest, AnswersLikeLocaltimeR) {
  use_zone("CET-1CEST,M3.5.0,M10.5.0/3");
  for (std::time_t t : {kNow, kNow + 1, std::time_t{1782000000}, std::time_t{0}, kNow}) {
    std::tm expected{};
    localtime_r(&t, &expected);
    const std::tm& got = local_time(t).tm;
    EXPECT_EQ(got.tm_year, expected.tm_year);
    EXPECT_EQ(got.tm_yday, expected.tm_yday);
    EXPECT_EQ(got.tm_hour, expected.tm_hour);
    EXPECT_EQ(got.tm_min, expected.tm_min);
    EXPECT_EQ(got.tm_sec, expected.tm_sec);
    EXPECT_EQ(got.tm_isdst, expected.tm_isdst);
    EXPECT_EQ(got.tm_gmtoff, expected.tm_gmtoff);
  }
}

TEST_F(LocalTimeTest, AZoneChangedByTzsetIsSeenWithinTheSameSecond) {
  use_zone("UTC0");
  EXPECT_EQ(local_time(kNow).tm.tm_gmtoff, 0);
  use_zone("IST-5:30");
  EXPECT_EQ(local_time(kNow).tm.tm_gmtoff, 5 * 3600 + 1800);
  EXPECT_EQ(local_time(kNow).tm.tm_hour, 3);
}

TEST_F(LocalTimeTest, EachThreadKeepsItsOwnConversion) {
  use_zone("UTC0");
  const std::tm& mine = local_time(kNow).tm;
  int other_hour = -1;
  std::thread([&] { other_hour = local_time(kNow + 3600).tm.tm_hour; }).join();
  EXPECT_EQ(other_hour, 22);
  EXPECT_EQ(mine.tm_hour, 21);  // untouched by the other thread's conversion
}

}  // namespace
}  // namespace dovetail::base
