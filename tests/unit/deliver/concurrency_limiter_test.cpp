// lmtp_user_concurrency_limit: slots per user, shared by every thread of the process.
#include "deliver/concurrency_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>
#include <vector>

namespace dovetail::deliver {
namespace {

TEST(ConcurrencyLimiterTest, RefusesAboveTheLimitAndFreesOnRelease) {
  auto limiter = ConcurrencyLimiter::create();
  auto a = limiter->try_acquire("alice", 2);
  auto b = limiter->try_acquire("alice", 2);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(limiter->try_acquire("alice", 2).has_value());
  EXPECT_TRUE(limiter->try_acquire("bob", 2).has_value());  // other users are not affected
  a.reset();  // the transaction of `a` ended
  EXPECT_EQ(limiter->in_flight("alice"), 1u);
  EXPECT_TRUE(limiter->try_acquire("alice", 2).has_value());
}

TEST(ConcurrencyLimiterTest, ZeroMeansUnlimited) {
  auto limiter = ConcurrencyLimiter::create();
  std::vector<ConcurrencyLimiter::Token> held;
  for (int i = 0; i < 1000; ++i) {
    auto t = limiter->try_acquire("alice", 0);
    ASSERT_TRUE(t.has_value());
    held.push_back(std::move(*t));
  }
  EXPECT_EQ(limiter->in_flight("alice"), 1000u);  // counted all the same: see below
}

// The limit is per call: snapshots with different limits share one count per user, and a
// lowered limit refuses until enough slots of the old, higher one were released.
TEST(ConcurrencyLimiterTest, LimitIsPerCallAndCountsAreShared) {
  auto limiter = ConcurrencyLimiter::create();
  struct Step {
    unsigned limit;
    bool granted;
    size_t in_flight_after;
  };
  const Step steps[] = {{0, true, 1}, {3, true, 2}, {3, true, 3}, {3, false, 3},
                        {2, false, 3}, {5, true, 4}, {0, true, 5}, {1, false, 5}};
  std::vector<ConcurrencyLimiter::Token> held;
  for (const auto& step : steps) {
    SCOPED_TRACE("limit " + std::to_string(step.limit) + " with " + std::to_string(held.size()) + " held");
    auto t = limiter->try_acquire("alice", step.limit);
    EXPECT_EQ(t.has_value(), step.granted);
    if (t) held.push_back(std::move(*t));
    EXPECT_EQ(limiter->in_flight("alice"), step.in_flight_after);
  }
  held.resize(1);
  EXPECT_TRUE(limiter->try_acquire("alice", 2).has_value());
  EXPECT_FALSE(limiter->try_acquire("alice", 1).has_value());
}

TEST(ConcurrencyLimiterTest, MovedTokenReleasesOnce) {
  auto limiter = ConcurrencyLimiter::create();
  auto t = limiter->try_acquire("alice", 1);
  ASSERT_TRUE(t);
  ConcurrencyLimiter::Token moved = std::move(*t);
  t.reset();
  EXPECT_EQ(limiter->in_flight("alice"), 1u);
  moved.release();
  moved.release();
  EXPECT_EQ(limiter->in_flight("alice"), 0u);
}

// Two threads (as two connections on two workers) compete for one slot many times: at
// every moment at most `limit` tokens exist, and every round exactly one thread wins.
TEST(ConcurrencyLimiterTest, CountsAcrossThreads) {
  auto limiter = ConcurrencyLimiter::create();
  constexpr int kRounds = 2000;
  std::atomic<int> wins{0};
  std::atomic<int> holding{0};
  std::atomic<int> max_holding{0};
  std::barrier sync(2);
  auto worker = [&] {
    for (int i = 0; i < kRounds; ++i) {
      sync.arrive_and_wait();
      auto token = limiter->try_acquire("alice@test.example", 1);
      if (token) {
        ++wins;
        int now = ++holding;
        int prev = max_holding.load();
        while (now > prev && !max_holding.compare_exchange_weak(prev, now)) {
        }
      }
      sync.arrive_and_wait();  // both tried while the winner still holds its slot
      if (token) --holding;
      token.reset();
      sync.arrive_and_wait();
    }
  };
  std::thread t1(worker), t2(worker);
  t1.join();
  t2.join();
  EXPECT_EQ(wins.load(), kRounds);
  EXPECT_EQ(max_holding.load(), 1);
  EXPECT_EQ(limiter->in_flight("alice@test.example"), 0u);
}

}  // namespace
}  // namespace dovetail::deliver
