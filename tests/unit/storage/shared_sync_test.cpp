// SharedSync: a caller returns only after a sync that started after its call finished, many
// concurrent callers share few syncs, and a failure reaches every caller it may concern.
#include "storage/shared_sync.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/fs.hpp"
#include "storage_test_util.hpp"
#include "testlib/temp_dir.hpp"

namespace dovetail::storage {
namespace {

// Real files underneath; syncfs is timed against one shared event clock and can be made slow
// (so callers pile up behind a running sync) or made to fail.
class ClockedFs final : public test::ForwardingFs {
 public:
  ClockedFs() : ForwardingFs(real_fs()) {}
  std::atomic<uint64_t> clock{0};
  std::atomic<int> fail_next_syncfs{0};
  std::chrono::milliseconds syncfs_takes{0};
  struct Span {
    uint64_t start, end;
    int result;
  };
  std::mutex mutex;
  std::vector<Span> syncs;

  int syncfs(int fd) override {
    const uint64_t start = clock.fetch_add(1);
    const bool fail = fail_next_syncfs.exchange(0) != 0;  // decided as it starts
    std::this_thread::sleep_for(syncfs_takes);
    int r = fail ? -EIO : inner_.syncfs(fd);
    const uint64_t end = clock.fetch_add(1);
    std::lock_guard lock(mutex);
    syncs.push_back({start, end, r});
    return r;
  }
};

struct Dir {
  testlib::TempDir tmp;
  int fd = ::open(tmp.str().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  dev_t dev() const {
    struct stat st {};
    ::fstat(fd, &st);
    return st.st_dev;
  }
  ~Dir() { ::close(fd); }
};

TEST(SharedSync, ConcurrentCallersShareSyncsThatStartedAfterTheirCall) {
  Dir dir;
  ClockedFs fs;
  fs.syncfs_takes = std::chrono::milliseconds(20);
  SharedSync shared;
  constexpr int kCallers = 16;
  struct Call {
    uint64_t called, returned;
    int result;
  };
  std::vector<Call> calls(kCallers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      calls[i].called = fs.clock.fetch_add(1);
      calls[i].result = shared.sync(fs, dir.fd, dir.dev());
      calls[i].returned = fs.clock.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LT(shared.syncs_run(), static_cast<uint64_t>(kCallers)) << "callers waiting together share a sync";
  EXPECT_EQ(fs.syncs.size(), shared.syncs_run());
  for (const auto& c : calls) {
    EXPECT_EQ(c.result, 0);
    bool covered = false;
    for (const auto& s : fs.syncs) covered |= s.start > c.called && s.end < c.returned;
    EXPECT_TRUE(covered) << "a caller returned without a whole sync after its call";
  }
}

TEST(SharedSync, AloneACallerRunsItsOwnSyncEachTime) {
  Dir dir;
  ClockedFs fs;
  SharedSync shared;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(shared.sync(fs, dir.fd, dir.dev()), 0);
  EXPECT_EQ(shared.syncs_run(), 3u);
}

TEST(SharedSync, AFailedSyncReachesItsCallerAndNotTheNextOne) {
  Dir dir;
  ClockedFs fs;
  SharedSync shared;
  fs.fail_next_syncfs = 1;
  EXPECT_EQ(shared.sync(fs, dir.fd, dir.dev()), -EIO);
  EXPECT_EQ(shared.sync(fs, dir.fd, dir.dev()), 0);
}

// Callers queued behind a running sync wait for the next one; when that one fails, every
// caller that arrived before it started hears it (its links may be in the failed writes).
TEST(SharedSync, AFailureReachesEveryCallerWaitingOnIt) {
  Dir dir;
  ClockedFs fs;
  fs.syncfs_takes = std::chrono::milliseconds(30);
  SharedSync shared;
  std::thread first([&] { EXPECT_EQ(shared.sync(fs, dir.fd, dir.dev()), 0); });
  while (fs.clock.load() == 0) std::this_thread::yield();  // the first sync is running
  fs.fail_next_syncfs = 1;                                  // ... the next one will fail
  struct Call {
    uint64_t called = 0;
    int result = 1;
  };
  std::vector<Call> calls(4);
  std::vector<std::thread> waiting;
  for (auto& c : calls)
    waiting.emplace_back([&] {
      c.called = fs.clock.fetch_add(1);
      c.result = shared.sync(fs, dir.fd, dir.dev());
    });
  first.join();
  for (auto& t : waiting) t.join();
  ASSERT_GE(fs.syncs.size(), 2u);
  const auto failed = std::find_if(fs.syncs.begin(), fs.syncs.end(), [](const auto& s) { return s.result != 0; });
  ASSERT_NE(failed, fs.syncs.end());
  int heard = 0;
  for (const auto& c : calls) {
    if (c.called < failed->start) {
      EXPECT_EQ(c.result, -EIO) << "arrived before the failed sync started";
      ++heard;
    } else {
      EXPECT_EQ(c.result, 0) << "arrived after the failed sync started: a later, good sync covered it";
    }
  }
  EXPECT_GE(heard, 1);
  EXPECT_EQ(shared.sync(fs, dir.fd, dir.dev()), 0);  // the filesystem is fine again
}

}  // namespace
}  // namespace dovetail::storage
