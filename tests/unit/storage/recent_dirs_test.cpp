// RecentDirs: what a kept new/ may serve, for whom, and for how long.
#include "storage/recent_dirs.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "testlib/temp_dir.hpp"

namespace dovetail::storage {
namespace {

using Clock = RecentDirs::Clock;

RecentDirs::Dir open_dir(const std::string& root) {
  std::filesystem::create_directories(root + "/new");
  RecentDirs::Dir d;
  const int fd = ::open((root + "/new").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  d.neu = std::make_shared<const FsFd>(real_fs(), fd);
  EXPECT_EQ(::stat(root.c_str(), &d.root), 0);
  return d;
}

// One Maildir under a temporary directory and an empty cache, at time t0.
class RecentDirsTest : public ::testing::Test {
 protected:
  testlib::TempDir tmp;
  RecentDirs recent{real_fs()};
  const std::string root = tmp.str() + "/Maildir";
  const Clock::time_point t0 = Clock::now();
};

TEST_F(RecentDirsTest, ServesItsOwnerWithinTheLifetimeOnly) {
  recent.put(root, 1000, 1000, open_dir(root), t0);
  auto hit = recent.find(root, 1000, 1000, t0 + RecentDirs::kLifetime / 2);
  ASSERT_TRUE(hit);
  EXPECT_TRUE(S_ISDIR(hit->root.st_mode));
  EXPECT_FALSE(recent.find(root, 1001, 1000, t0)) << "another uid";
  EXPECT_FALSE(recent.find(root, 1000, 1001, t0)) << "another gid";
  EXPECT_FALSE(recent.find(root + "2", 1000, 1000, t0)) << "another path";
  EXPECT_FALSE(recent.find(root, 1000, 1000, t0 + RecentDirs::kLifetime)) << "expired";
  EXPECT_EQ(recent.size(), 0u) << "an expired entry is dropped";
}

TEST_F(RecentDirsTest, ARemovedDirectoryIsNotServed) {
  recent.put(root, 1000, 1000, open_dir(root), t0);
  std::filesystem::remove_all(root);
  EXPECT_FALSE(recent.find(root, 1000, 1000, t0));
  EXPECT_EQ(recent.size(), 0u);
}

TEST_F(RecentDirsTest, AHolderKeepsItsDescriptorAfterTheEntryIsGone) {
  recent.put(root, 1000, 1000, open_dir(root), t0);
  auto held = recent.find(root, 1000, 1000, t0);
  ASSERT_TRUE(held);
  EXPECT_FALSE(recent.find(root, 1000, 1000, t0 + RecentDirs::kLifetime));  // evicts it
  struct stat st {};
  EXPECT_EQ(::fstat(held->neu->get(), &st), 0) << "still open for the delivery holding it";
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST_F(RecentDirsTest, ExpiredEntriesAreClosedByTheNextLifetimesFirstPut) {
  recent.put(root + "a", 1, 1, open_dir(root), t0);
  recent.put(root + "b", 1, 1, open_dir(root), t0 + RecentDirs::kLifetime / 2);
  EXPECT_EQ(recent.size(), 2u);
  recent.put(root + "c", 1, 1, open_dir(root), t0 + RecentDirs::kLifetime * 5 / 4);  // a is old, b not
  EXPECT_EQ(recent.size(), 2u);
  EXPECT_FALSE(recent.find(root + "a", 1, 1, t0 + RecentDirs::kLifetime * 5 / 4));
  EXPECT_TRUE(recent.find(root + "b", 1, 1, t0 + RecentDirs::kLifetime * 5 / 4));
}

TEST_F(RecentDirsTest, IsBoundedAndSweepsExpiredEntriesWhenFull) {
  const auto shared = open_dir(root);
  for (size_t i = 0; i < RecentDirs::kMaxEntries; ++i) recent.put(root + std::to_string(i), 1, 1, shared, t0);
  EXPECT_EQ(recent.size(), RecentDirs::kMaxEntries);
  recent.put(root + "x", 1, 1, shared, t0);  // all young: not kept
  EXPECT_EQ(recent.size(), RecentDirs::kMaxEntries);
  recent.put(root + "y", 1, 1, shared, t0 + RecentDirs::kLifetime);  // the old ones go
  EXPECT_EQ(recent.size(), 1u);
  EXPECT_TRUE(recent.find(root + "y", 1, 1, t0 + RecentDirs::kLifetime));
}

// The privileged writer's 64 threads share one RecentDirs: entries expire, are replaced and
// evicted while other threads hold what they found. A held descriptor must stay open.
TEST_F(RecentDirsTest, ThreadsFindPutAndExpireWithoutLosingAHeldDescriptor) {
  std::filesystem::create_directories(root + "/new");
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        // Time moves on by a quarter lifetime every few steps: entries expire all the time.
        const auto now = t0 + RecentDirs::kLifetime / 4 * ((i + t) / 3);
        const std::string box = root + (i % 2 ? "" : "/");  // two keys, one directory
        auto hit = recent.find(box, 1, 1, now);
        if (!hit) {
          recent.put(box, 1, 1, open_dir(root), now);
          continue;
        }
        struct stat st {};
        if (::fstat(hit->neu->get(), &st) != 0 || !S_ISDIR(st.st_mode)) ++bad;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_LE(recent.size(), 2u);
}

}  // namespace
}  // namespace dovetail::storage
