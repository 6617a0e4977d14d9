// The hot path's shape, measured in syscalls rather than time: a delivery into a full mailbox
// makes exactly the calls a delivery into an empty one makes (no directory scans), creates one
// file, deletes none (the ext4 trap in bench/README.md), and a batch links instead of writing.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "storage/fs.hpp"
#include "storage/maildir_writer.hpp"
#include "storage_test_util.hpp"
#include "testlib/temp_dir.hpp"

namespace dovetail::storage {
namespace {

using test::list_dir;
using test::make_user;
using test::memory_body;

class CountingFs final : public Fs {
 public:
  std::map<std::string, int> calls;
  bool without_tmpfile = false;  // a filesystem that refuses O_TMPFILE
  int open_at(int d, const char* p, int f, mode_t m) override {
    if (without_tmpfile && (f & O_TMPFILE) == O_TMPFILE) return ++calls["tmpfile_refused"], -EOPNOTSUPP;
    ++calls[((f & O_CREAT) != 0 || (f & O_TMPFILE) == O_TMPFILE) ? "create" : "open"];
    return real_.open_at(d, p, f, m);
  }
  int mkdir_at(int d, const char* p, mode_t m) override { return ++calls["mkdir"], real_.mkdir_at(d, p, m); }
  int rename_at(int a, const char* b, int c, const char* e) override {
    return ++calls["rename"], real_.rename_at(a, b, c, e);
  }
  int link_at(int a, const char* b, int c, const char* e) override { return ++calls["link"], real_.link_at(a, b, c, e); }
  int link_file(int fd, int c, const char* e) override { return ++calls["link_file"], real_.link_file(fd, c, e); }
  int unlink_at(int d, const char* p) override { return ++calls["unlink"], real_.unlink_at(d, p); }
  int64_t write(int fd, const void* b, size_t n) override { return ++calls["write"], real_.write(fd, b, n); }
  int64_t pread(int fd, void* b, size_t n, uint64_t o) override { return ++calls["pread"], real_.pread(fd, b, n, o); }
  int64_t copy_range(int i, uint64_t o, int out, size_t n) override {
    return ++calls["copy_range"], real_.copy_range(i, o, out, n);
  }
  int fsync(int fd) override { return ++calls["fsync"], real_.fsync(fd); }
  int syncfs(int fd) override { return ++calls["syncfs"], real_.syncfs(fd); }
  int fchown(int fd, uid_t u, gid_t g) override { return ++calls["fchown"], real_.fchown(fd, u, g); }
  int fchmod(int fd, mode_t m) override { return ++calls["fchmod"], real_.fchmod(fd, m); }
  int fstat(int fd, struct stat* st) override { return ++calls["fstat"], real_.fstat(fd, st); }
  int stat_at(int d, const char* p, struct stat* st) override { return ++calls["stat"], real_.stat_at(d, p, st); }
  int close(int fd) override { return ++calls["close"], real_.close(fd); }
  int64_t fs_type(int fd) override { return ++calls["fs_type"], real_.fs_type(fd); }
  int set_direct_io(int fd, bool on) override {
    return ++calls[on ? "direct_on" : "direct_off"], real_.set_direct_io(fd, on);
  }

 private:
  RealFs real_;
};

TEST(HotPath, FullMailboxCostsTheSameCallsAsAnEmptyOne) {
  testlib::TempDir tmp;
  CountingFs cfs;
  MaildirWriter writer(FsyncMode::kOptimized, cfs);
  UserTarget user = make_user(tmp.str() + "/Maildir");
  for (std::string box : {"", "Lists"}) {
    MailboxRequest req{box, MissingMailbox::kCreate};
    ASSERT_TRUE(writer.save(memory_body("a\n"), "H: 1\n", user, req));  // creates the directories
    cfs.calls.clear();
    ASSERT_TRUE(writer.save(memory_body("a\n"), "H: 1\n", user, req));
    auto empty = cfs.calls;
    MaildirWriter filler(FsyncMode::kNever);  // fills fast; the measured writer syncs
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(filler.save(memory_body("a\n"), "H: 1\n", user, req));
    cfs.calls.clear();
    ASSERT_TRUE(writer.save(memory_body("a\n"), "H: 1\n", user, req));
    EXPECT_EQ(cfs.calls, empty) << "mailbox '" << box << "'";
    EXPECT_EQ(cfs.calls["create"], 1);
    EXPECT_EQ(cfs.calls["unlink"], 0);
    EXPECT_EQ(cfs.calls["mkdir"], 0);
    EXPECT_EQ(cfs.calls["rename"], 0);     // anonymous file (O_TMPFILE): tmp/ is never touched
    EXPECT_EQ(cfs.calls["link_file"], 1);  // it gets its name in new/ once synced
    EXPECT_EQ(cfs.calls["fsync"], 2);  // the file and new/
    // INBOX: its root stat'ed and new/ opened by path; a folder: root, folder, new/ (tmp/
    // is not needed either way).
    EXPECT_EQ(cfs.calls["open"], box.empty() ? 1 : 3);
    EXPECT_EQ(cfs.calls["stat"] + cfs.calls["fstat"], 1);
    EXPECT_EQ(cfs.calls["write"], 1);                    // headers and the body in one write
    EXPECT_EQ(cfs.calls["close"], cfs.calls["open"] + 1);  // every fd closed
  }
}

// With RecentDirs (the daemon's writers), a delivery into an INBOX opened in the last second
// walks no path: no stat of the root, no open of new/, one fstat of the kept new/.
// A writer as the daemon has it: counting calls, keeping recent INBOX directories.
class RecentInbox : public ::testing::Test {
 protected:
  RecentInbox() { writer.set_recent_dirs(recent); }
  testlib::TempDir tmp;
  CountingFs cfs;
  RecentDirs recent{cfs};
  MaildirWriter writer{FsyncMode::kOptimized, cfs};
  UserTarget user = make_user(tmp.str() + "/Maildir");
};

TEST_F(RecentInbox, IsReusedWithoutWalkingItsPath) {
  ASSERT_TRUE(writer.save(memory_body("a\n"), "H: 1\n", user, {}));  // creates the directories
  ASSERT_TRUE(writer.save(memory_body("a\n"), "H: 1\n", user, {}));  // opens and keeps new/
  EXPECT_EQ(recent.size(), 1u);
  cfs.calls.clear();
  ASSERT_TRUE(writer.save(memory_body("a\n"), "H: 1\n", user, {}));
  EXPECT_EQ(cfs.calls["stat"], 0);
  EXPECT_EQ(cfs.calls["open"], 0);
  EXPECT_EQ(cfs.calls["fstat"], 1);      // the kept new/ still has its links
  EXPECT_EQ(cfs.calls["create"], 1);     // the message itself, as without the cache
  EXPECT_EQ(cfs.calls["link_file"], 1);
  EXPECT_EQ(cfs.calls["fsync"], 2);      // the file and new/: durability unchanged
  EXPECT_EQ(cfs.calls["close"], 1);      // the message's fd; new/ stays open
  EXPECT_EQ(list_dir(user.location.root + "/new").size(), 3u);
}

// A Maildir removed and made again within the second: the kept new/ is dead (no links), so
// the next message goes into the new directory, where a reader looks.
TEST_F(RecentInbox, RemovedAndRecreatedGetsTheNextMessage) {
  ASSERT_TRUE(writer.save(memory_body("a\n"), "", user, {}));
  ASSERT_TRUE(writer.save(memory_body("a\n"), "", user, {}));
  std::filesystem::remove_all(user.location.root);
  ASSERT_TRUE(writer.save(memory_body("b\n"), "", user, {}));  // the full path makes it again
  EXPECT_EQ(list_dir(user.location.root + "/new").size(), 1u);
  ASSERT_TRUE(writer.save(memory_body("c\n"), "", user, {}));
  EXPECT_EQ(list_dir(user.location.root + "/new").size(), 2u);
}

TEST(HotPath, BatchWritesOnceAndLinksTheRest) {
  testlib::TempDir tmp;
  CountingFs cfs;
  SharedSync shared;
  MaildirWriter writer(FsyncMode::kOptimized, cfs, CopyMode::kHardLink, shared);
  std::vector<UserTarget> users;
  for (int i = 0; i < 5; ++i) users.push_back(make_user(tmp.str() + "/u" + std::to_string(i)));
  std::vector<SaveTarget> targets;
  for (const auto& u : users) targets.push_back({&u, {}});
  ASSERT_TRUE(writer.save_batch(memory_body("b\n"), "", targets)[0]);  // directories
  cfs.calls.clear();
  auto rs = writer.save_batch(memory_body("b\n"), "", targets);
  for (auto& r : rs) ASSERT_TRUE(r);
  EXPECT_EQ(cfs.calls["create"], 1);
  EXPECT_EQ(cfs.calls["link"], 4);
  EXPECT_EQ(cfs.calls["unlink"], 0);
  // Five new/ on one filesystem: the file's fsync, then one shared filesystem sync
  // (syncfs + the fsync that flushes after it) instead of five directory fsyncs.
  EXPECT_EQ(cfs.calls["syncfs"], 1);
  EXPECT_EQ(cfs.calls["fsync"], 1 + 1);
  EXPECT_EQ(shared.syncs_run(), 2u);
  // Each mail root's permissions (5, by path), and the filesystem of the one written copy:
  // the four links cannot be on another filesystem than their source.
  EXPECT_EQ(cfs.calls["stat"], 5);
  EXPECT_EQ(cfs.calls["fstat"], 1);
}

// Below kSharedSyncMinDirs each new/ gets its own fsync (cheaper there: decision 0009); from
// it on, one filesystem sync covers them all. Every copy is in new/ either way.
TEST(HotPath, FewDirectoriesAreFsyncedManyShareOneFilesystemSync) {
  for (size_t n = 1; n <= 4; ++n) {
    testlib::TempDir tmp;
    CountingFs cfs;
    SharedSync shared;
    MaildirWriter writer(FsyncMode::kOptimized, cfs, CopyMode::kHardLink, shared);
    std::vector<UserTarget> users;
    for (size_t i = 0; i < n; ++i) users.push_back(make_user(tmp.str() + "/u" + std::to_string(i)));
    std::vector<SaveTarget> targets;
    for (const auto& u : users) targets.push_back({&u, {}});
    ASSERT_TRUE(writer.save_batch(memory_body("b\n"), "", targets)[0]);
    cfs.calls.clear();
    auto rs = writer.save_batch(memory_body("b\n"), "", targets);
    for (auto& r : rs) ASSERT_TRUE(r);
    const bool shares = n >= MaildirWriter::kSharedSyncMinDirs;
    EXPECT_EQ(cfs.calls["syncfs"], shares ? 1 : 0) << n;
    EXPECT_EQ(cfs.calls["fsync"], 1 + (shares ? 1 : static_cast<int>(n))) << n;
    for (const auto& u : users) EXPECT_EQ(list_dir(u.location.root + "/new").size(), 2u) << n;
  }
}

// maildir_copy_with_hardlinks = no: three written copies, each fsynced, then one shared sync
// for the three new/ (each copy's filesystem looked up, none inferred from a link).
TEST(HotPath, WrittenCopiesShareTheFilesystemSyncToo) {
  testlib::TempDir tmp;
  CountingFs cfs;
  SharedSync shared;
  MaildirWriter writer(FsyncMode::kOptimized, cfs, CopyMode::kWriteEach, shared);
  UserTarget a = make_user(tmp.str() + "/a"), b = make_user(tmp.str() + "/b"), c = make_user(tmp.str() + "/c");
  std::vector<SaveTarget> targets = {{&a, {}}, {&b, {}}, {&c, {}}};
  ASSERT_TRUE(writer.save_batch(memory_body("b\n"), "", targets)[0]);
  cfs.calls.clear();
  for (auto& r : writer.save_batch(memory_body("b\n"), "", targets)) ASSERT_TRUE(r);
  EXPECT_EQ(cfs.calls["create"], 3);
  EXPECT_EQ(cfs.calls["link"], 0);
  EXPECT_EQ(cfs.calls["syncfs"], 1);
  EXPECT_EQ(cfs.calls["fsync"], 3 + 1);
  EXPECT_EQ(cfs.calls["stat"], 3);
  EXPECT_EQ(cfs.calls["fstat"], 3);
}

// Five recipients, two of them in one Maildir (a user and an alias of it): three distinct
// new/ directories, still one shared sync.
TEST(HotPath, TheThresholdCountsDistinctDirectories) {
  testlib::TempDir tmp;
  CountingFs cfs;
  SharedSync shared;
  MaildirWriter writer(FsyncMode::kOptimized, cfs, CopyMode::kHardLink, shared);
  UserTarget a = make_user(tmp.str() + "/a"), b = make_user(tmp.str() + "/b");
  std::vector<SaveTarget> two_dirs = {{&a, {}}, {&b, {}}, {&a, {}}, {&b, {}}};
  ASSERT_TRUE(writer.save_batch(memory_body("b\n"), "", two_dirs)[0]);
  cfs.calls.clear();
  for (auto& r : writer.save_batch(memory_body("b\n"), "", two_dirs)) ASSERT_TRUE(r);
  EXPECT_EQ(cfs.calls["syncfs"], 0);
  EXPECT_EQ(cfs.calls["fsync"], 1 + 2);
}

TEST(HotPath, WithoutTmpfileTheClassicTmpNameAndRenameAreUsed) {
  testlib::TempDir tmp;
  CountingFs cfs;
  cfs.without_tmpfile = true;
  MaildirWriter writer(FsyncMode::kOptimized, cfs);
  UserTarget user = make_user(tmp.str() + "/Maildir");
  ASSERT_TRUE(writer.save(memory_body("a\n"), "H: 1\n", user, MailboxRequest{}));
  cfs.calls.clear();
  auto saved = writer.save(memory_body("a\n"), "H: 1\n", user, MailboxRequest{});
  ASSERT_TRUE(saved);
  EXPECT_EQ(cfs.calls["tmpfile_refused"], 1);
  EXPECT_EQ(cfs.calls["create"], 1);  // tmp/<name>, after the refused anonymous file
  EXPECT_EQ(cfs.calls["rename"], 1);
  EXPECT_EQ(cfs.calls["link_file"], 0);
  EXPECT_EQ(cfs.calls["fsync"], 2);
  EXPECT_EQ(testlib::read_file(saved->path), "H: 1\na\n");
  EXPECT_TRUE(std::filesystem::is_empty(tmp.str() + "/Maildir/tmp"));
}

TEST(HotPath, FsyncModes) {
  struct Case {
    FsyncMode mode;
    int fsyncs;
  } cases[] = {{FsyncMode::kNever, 0},
               {FsyncMode::kOptimized, 2},
               // always: tmp/ too, but an anonymous file never has an entry there to sync.
               {FsyncMode::kAlways, 2}};
  for (const auto& c : cases) {
    testlib::TempDir tmp;
    CountingFs cfs;
    MaildirWriter writer(c.mode, cfs);
    UserTarget user = make_user(tmp.str() + "/Maildir");
    ASSERT_TRUE(writer.save(memory_body("a\n"), "", user, MailboxRequest{}));
    cfs.calls.clear();
    ASSERT_TRUE(writer.save(memory_body("a\n"), "", user, MailboxRequest{}));
    EXPECT_EQ(cfs.calls["fsync"], c.fsyncs) << static_cast<int>(c.mode);
  }
}

}  // namespace
}  // namespace dovetail::storage
