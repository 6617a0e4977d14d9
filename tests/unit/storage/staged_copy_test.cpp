// A large body written while it still arrives (MaildirWriter::stage, decision 0011): the
// file is complete and byte-exact once saved, invisible until then, dropped without a trace
// when the transaction ends otherwise, and written the ordinary way whenever the save is not
// the one that was staged.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "storage/direct_write.hpp"
#include "storage/maildir_writer.hpp"
#include "storage_test_util.hpp"
#include "testlib/temp_dir.hpp"

namespace dovetail::storage {
namespace {

using test::list_dir;
using test::make_user;

std::string pattern(size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i % 81 == 80) ? '\n' : 'a' + (i * 5 + seed) % 26);
  return s;
}

uint64_t lfs_of(const std::string& s) { return static_cast<uint64_t>(std::count(s.begin(), s.end(), '\n')); }

// Counts direct writes; can fail the n-th write or claim another filesystem.
class CountingWritesFs final : public test::ForwardingFs {
 public:
  CountingWritesFs() : ForwardingFs(real_fs()) {}
  int writes = 0;
  int fail_write = 0;  // the fail_write-th write answers EIO (0 = never)
  int64_t claimed_type = 0;
  int64_t write(int fd, const void* b, size_t n) override {
    if (++writes == fail_write) return -EIO;
    return inner_.write(fd, b, n);
  }
  int64_t fs_type(int fd) override { return claimed_type != 0 ? claimed_type : inner_.fs_type(fd); }
};

// The spool of a message still arriving: a file that grows.
class GrowingSpool {
 public:
  GrowingSpool(const std::string& path, std::string body) : body_(std::move(body)) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  }
  ~GrowingSpool() { ::close(fd_); }
  uint64_t grow_to(size_t n) {
    EXPECT_EQ(::pwrite(fd_, body_.data() + have_, n - have_, static_cast<off_t>(have_)), static_cast<ssize_t>(n - have_));
    have_ = n;
    return have_;
  }
  Body body() const {
    Body b;
    b.fd = fd_;
    b.size = have_;
    b.line_feeds = lfs_of(body_.substr(0, have_));
    return b;
  }
  int fd() const { return fd_; }
  const std::string& text() const { return body_; }

 private:
  std::string body_;
  int fd_ = -1;
  size_t have_ = 0;
};

bool direct_capable(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  int64_t t = real_fs().fs_type(fd);
  ::close(fd);
  return t == EXT4_SUPER_MAGIC || t == XFS_SUPER_MAGIC;
}

class Staged : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!direct_capable(tmp.str())) GTEST_SKIP() << "staging needs ext4 or XFS under " << tmp.str();
    root = tmp.str() + "/Maildir";
    user = make_user(root);
  }
  testlib::TempDir tmp;
  std::string root;
  UserTarget user;
  const std::string headers = "Return-Path: <s@x>\nDelivered-To: a@x\nX-Odd: 12345\n";
};

TEST_F(Staged, AGrowingBodyEndsUpByteExactAndInvisibleUntilSaved) {
  for (size_t total : {size_t{300 * 1024}, size_t{(1u << 20) + 777}, size_t{3 * kDirectChunk}}) {
    SCOPED_TRACE(total);
    CountingWritesFs fs;
    MaildirWriter writer(FsyncMode::kOptimized, fs);
    GrowingSpool spool(tmp.str() + "/spool", pattern(total, static_cast<unsigned>(total)));
    auto staged = writer.stage(spool.fd(), spool.grow_to(256 * 1024 + 1), headers, user, MailboxRequest{});
    ASSERT_TRUE(staged);
    const int at_start = fs.writes;
    EXPECT_GE(at_start, 1);  // the first whole chunks went out at once
    for (size_t n = 256 * 1024 + 70000; n < total; n += 70000) writer.stage_more(*staged, spool.grow_to(n));
    EXPECT_TRUE(list_dir(root + "/new").empty()) << "nothing is visible while the body arrives";
    spool.grow_to(total);
    const int before_save = fs.writes;
    SaveTarget target{&user, MailboxRequest{}};
    auto results = writer.save_batch(spool.body(), headers, {&target, 1}, staged.get());
    ASSERT_EQ(results.size(), 1u);
    ASSERT_TRUE(results[0]) << results[0].error().log_reason;
    const std::string want = headers + spool.text();
    EXPECT_EQ(testlib::read_file(results[0]->path), want);
    EXPECT_NE(results[0]->path.find(",S=" + std::to_string(want.size()) + ",W=" +
                                    std::to_string(want.size() + lfs_of(want))),
              std::string::npos)
        << results[0]->path;
    // At the save only what was not yet whole is written: less than two chunks.
    EXPECT_LE(fs.writes - before_save, 3);
    EXPECT_EQ(list_dir(root + "/new").size(), 1u);
    EXPECT_TRUE(list_dir(root + "/tmp").empty());
    for (const auto& f : list_dir(root + "/new")) ::unlink((root + "/new/" + f).c_str());
  }
}

TEST_F(Staged, ADroppedStageLeavesNothingAndTheNextSaveIsOrdinary) {
  MaildirWriter writer(FsyncMode::kOptimized);
  GrowingSpool spool(tmp.str() + "/spool", pattern(600 * 1024, 1));
  {
    auto staged = writer.stage(spool.fd(), spool.grow_to(500 * 1024), headers, user, MailboxRequest{});
    ASSERT_TRUE(staged);
  }  // the transaction ended without delivery
  EXPECT_TRUE(list_dir(root + "/new").empty());
  EXPECT_TRUE(list_dir(root + "/tmp").empty());
  spool.grow_to(600 * 1024);
  auto saved = writer.save(spool.body(), headers, user, MailboxRequest{});
  ASSERT_TRUE(saved);
  EXPECT_EQ(testlib::read_file(saved->path), headers + spool.text());
  EXPECT_EQ(list_dir(root + "/new").size(), 1u);
}

TEST_F(Staged, ASaveThatIsNotTheStagedOneIsWrittenTheOrdinaryWay) {
  MaildirWriter writer(FsyncMode::kOptimized);
  UserTarget other = make_user(tmp.str() + "/Other");
  GrowingSpool another(tmp.str() + "/spool2", pattern(700 * 1024, 3));
  another.grow_to(700 * 1024);
  struct Case {
    const char* name;
    std::string headers;
    const UserTarget* user;
    MailboxRequest mailbox;
    bool other_body;
  };
  const Case cases[] = {
      {"other headers", "Return-Path: <t@y>\n", &user, {}, false},
      {"other user", headers, &other, {}, false},
      {"other mailbox", headers, &user, {"Lists", MissingMailbox::kCreate}, false},
      {"other body file", headers, &user, {}, true},
  };
  unsigned seed = 10;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    GrowingSpool spool(tmp.str() + "/spool" + std::to_string(seed), pattern(700 * 1024, seed));
    ++seed;
    auto staged = writer.stage(spool.fd(), spool.grow_to(400 * 1024), headers, user, MailboxRequest{});
    ASSERT_TRUE(staged);
    spool.grow_to(700 * 1024);
    const GrowingSpool& body = c.other_body ? another : spool;
    SaveTarget target{c.user, c.mailbox};
    auto results = writer.save_batch(body.body(), c.headers, {&target, 1}, staged.get());
    ASSERT_TRUE(results[0]) << results[0].error().log_reason;
    EXPECT_EQ(testlib::read_file(results[0]->path), c.headers + body.text());
    staged.reset();
    EXPECT_TRUE(list_dir(root + "/tmp").empty());
  }
  // Exactly the four ordinary copies: nothing staged was ever named.
  size_t files = list_dir(root + "/new").size() + list_dir(tmp.str() + "/Other/new").size() +
                 list_dir(root + "/.Lists/new").size();
  EXPECT_EQ(files, 4u);
}

TEST_F(Staged, TheStagedCopyLeadsABatchAndTheOthersAreLinked) {
  MaildirWriter writer(FsyncMode::kOptimized);
  UserTarget second = make_user(tmp.str() + "/Second");
  GrowingSpool spool(tmp.str() + "/spool", pattern(512 * 1024 + 3, 4));
  auto staged = writer.stage(spool.fd(), spool.grow_to(300 * 1024), headers, user, MailboxRequest{});
  ASSERT_TRUE(staged);
  spool.grow_to(512 * 1024 + 3);
  SaveTarget targets[] = {{&user, {}}, {&second, {}}};
  auto results = writer.save_batch(spool.body(), headers, targets, staged.get());
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error().log_reason;
    EXPECT_EQ(testlib::read_file(r->path), headers + spool.text());
  }
  EXPECT_TRUE(results[1]->hard_link);
}

TEST_F(Staged, NotStagedWhereItDoesNotSuit) {
  GrowingSpool spool(tmp.str() + "/spool", pattern(400 * 1024, 5));
  spool.grow_to(300 * 1024);
  EXPECT_FALSE(MaildirWriter(FsyncMode::kNever).stage(spool.fd(), 300 * 1024, headers, user, {}));
  CountingWritesFs tmpfs;
  tmpfs.claimed_type = TMPFS_MAGIC;
  EXPECT_FALSE(MaildirWriter(FsyncMode::kOptimized, tmpfs).stage(spool.fd(), 300 * 1024, headers, user, {}));
  EXPECT_FALSE(MaildirWriter(FsyncMode::kOptimized).stage(-1, 300 * 1024, headers, user, {}));
  EXPECT_TRUE(list_dir(root + "/new").empty());
}

TEST_F(Staged, AFailedStagedWriteFallsBackToTheOrdinaryWay) {
  CountingWritesFs fs;
  MaildirWriter writer(FsyncMode::kOptimized, fs);
  GrowingSpool spool(tmp.str() + "/spool", pattern(900 * 1024, 6));
  auto staged = writer.stage(spool.fd(), spool.grow_to(300 * 1024), headers, user, MailboxRequest{});
  ASSERT_TRUE(staged);
  fs.fail_write = fs.writes + 1;  // the next staged write fails
  writer.stage_more(*staged, spool.grow_to(700 * 1024));
  writer.stage_more(*staged, spool.grow_to(900 * 1024));  // ignored: the stage is broken
  SaveTarget target{&user, {}};
  auto results = writer.save_batch(spool.body(), headers, {&target, 1}, staged.get());
  ASSERT_TRUE(results[0]) << results[0].error().log_reason;
  EXPECT_EQ(testlib::read_file(results[0]->path), headers + spool.text());
  EXPECT_EQ(list_dir(root + "/new").size(), 1u);
}

}  // namespace
}  // namespace dovetail::storage
