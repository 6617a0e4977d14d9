// Large messages are written with O_DIRECT (storage/direct_write.hpp): byte-exact files in
// every shape of headers, chunks and tail; aligned direct writes and a buffered tail; and the
// buffered way wherever the kernel or the filesystem says no.
#include "storage/direct_write.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "storage/maildir_writer.hpp"
#include "storage_test_util.hpp"
#include "testlib/temp_dir.hpp"

namespace dovetail::storage {
namespace {

using test::list_dir;
using test::make_user;
using test::memory_body;

// Records the writes (length, whether O_DIRECT was on) and the direct-I/O switches; can
// refuse O_DIRECT, fail the first direct write, or claim another filesystem.
class RecordingFs final : public test::ForwardingFs {
 public:
  RecordingFs() : ForwardingFs(real_fs()) {}
  struct Write {
    size_t len;
    bool direct;
  };
  std::vector<Write> writes;
  int direct_on = 0, direct_off = 0, fs_types = 0;
  int refuse_direct = 0;         // set_direct_io(true) answers -refuse_direct
  int fail_first_direct = 0;     // the first direct write answers -fail_first_direct
  int64_t claimed_type = 0;      // non-zero: fs_type answers this

  int64_t write(int fd, const void* b, size_t n) override {
    if (direct_ && fail_first_direct != 0) {
      const int err = fail_first_direct;
      fail_first_direct = 0;
      writes.push_back({n, true});
      return -err;
    }
    writes.push_back({n, direct_});
    return inner_.write(fd, b, n);
  }
  int64_t fs_type(int fd) override {
    ++fs_types;
    return claimed_type != 0 ? claimed_type : inner_.fs_type(fd);
  }
  int set_direct_io(int fd, bool on) override {
    ++(on ? direct_on : direct_off);
    if (on && refuse_direct != 0) return -refuse_direct;
    int r = inner_.set_direct_io(fd, on);
    if (r == 0) direct_ = on;
    return r;
  }

 private:
  bool direct_ = false;
};

std::string pattern(size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i % 77 == 76) ? '\n' : 'a' + (i * 7 + seed) % 26);
  return s;
}

std::string read_file(const std::string& path) { return testlib::read_file(path); }

bool direct_capable(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  int64_t t = real_fs().fs_type(fd);
  ::close(fd);
  return t == EXT4_SUPER_MAGIC || t == XFS_SUPER_MAGIC;
}

TEST(DirectWrite, LargeMessagesAreByteExactInEveryShape) {
  testlib::TempDir tmp;
  const bool capable = direct_capable(tmp.str());
  RecordingFs rfs;
  MaildirWriter writer(FsyncMode::kOptimized, rfs);
  UserTarget user = make_user(tmp.str() + "/Maildir");
  const std::vector<size_t> sizes = {kDirectMinSize - 40, kDirectMinSize,      kDirectChunk - 1,
                                     kDirectChunk,        kDirectChunk + 1,    3 * kDirectChunk + kDirectAlign - 1,
                                     (1u << 20) + 1234};
  unsigned seed = 0;
  for (size_t total : sizes) {
    for (std::string headers : {std::string(), std::string("Received: from x\nX-Odd: 1234567\n")}) {
      for (bool from_fd : {false, true}) {
        SCOPED_TRACE("total " + std::to_string(total) + (headers.empty() ? "" : " +headers") + (from_fd ? " fd" : " memory"));
        const std::string body_text = pattern(total - headers.size(), ++seed);
        Body body = memory_body(body_text);
        int fd = -1;
        if (from_fd) {
          fd = ::open(tmp.write("spool" + std::to_string(seed), body_text).c_str(), O_RDONLY);
          ASSERT_GE(fd, 0);
          body.memory = {};
          body.fd = fd;
        }
        rfs.writes.clear();
        rfs.direct_on = 0;
        auto saved = writer.save(body, headers, user, MailboxRequest{});
        if (fd >= 0) ::close(fd);
        ASSERT_TRUE(saved) << saved.error().log_reason;
        EXPECT_EQ(read_file(saved->path), headers + body_text);
        EXPECT_NE(saved->path.find(",S=" + std::to_string(total) + ","), std::string::npos) << saved->path;
        const bool large = total >= kDirectMinSize;
        EXPECT_EQ(rfs.direct_on, large && capable ? 1 : 0);
        if (!large || !capable) continue;
        // Direct writes are whole aligned blocks, at most a chunk each; only the tail is buffered.
        size_t direct_bytes = 0, buffered_bytes = 0;
        for (const auto& w : rfs.writes) {
          if (w.direct) {
            EXPECT_EQ(w.len % kDirectAlign, 0u);
            EXPECT_LE(w.len, kDirectChunk);
            direct_bytes += w.len;
          } else {
            buffered_bytes += w.len;
          }
        }
        EXPECT_EQ(direct_bytes, total & ~(kDirectAlign - 1));
        EXPECT_EQ(buffered_bytes, total % kDirectAlign);
      }
    }
  }
  if (!capable) GTEST_SKIP() << "the temp dir is on neither ext4 nor XFS: only the buffered way was checked";
}

TEST(DirectWrite, SmallMessagesMailFsyncNeverAndOtherFilesystemsStayBuffered) {
  testlib::TempDir tmp;
  UserTarget user = make_user(tmp.str() + "/Maildir");
  const std::string big = pattern(1u << 20, 1), small = pattern(kDirectMinSize - 1, 2);
  RecordingFs rfs;
  ASSERT_TRUE(MaildirWriter(FsyncMode::kOptimized, rfs).save(memory_body(small), "", user, MailboxRequest{}));
  EXPECT_EQ(rfs.fs_types, 0);  // below the threshold not even the filesystem is asked
  auto never = MaildirWriter(FsyncMode::kNever, rfs).save(memory_body(big), "", user, MailboxRequest{});
  ASSERT_TRUE(never);
  EXPECT_EQ(read_file(never->path), big);
  rfs.claimed_type = TMPFS_MAGIC;
  auto tmpfs = MaildirWriter(FsyncMode::kOptimized, rfs).save(memory_body(big), "", user, MailboxRequest{});
  ASSERT_TRUE(tmpfs);
  EXPECT_EQ(read_file(tmpfs->path), big);
  EXPECT_EQ(rfs.direct_on, 0);
}

TEST(DirectWrite, WhereTheKernelRefusesTheMessageIsWrittenBuffered) {
  testlib::TempDir tmp;
  if (!direct_capable(tmp.str())) GTEST_SKIP() << "needs ext4 or XFS";
  UserTarget user = make_user(tmp.str() + "/Maildir");
  const std::string big = pattern(kDirectChunk + 5000, 3);
  {
    RecordingFs rfs;  // fcntl(O_DIRECT) refused
    rfs.refuse_direct = EINVAL;
    auto r = MaildirWriter(FsyncMode::kOptimized, rfs).save(memory_body(big), "H: 1\n", user, MailboxRequest{});
    ASSERT_TRUE(r) << r.error().log_reason;
    EXPECT_EQ(read_file(r->path), "H: 1\n" + big);
    for (const auto& w : rfs.writes) EXPECT_FALSE(w.direct);
  }
  {
    RecordingFs rfs;  // accepted, but the first direct write says EINVAL (nothing written)
    rfs.fail_first_direct = EINVAL;
    auto r = MaildirWriter(FsyncMode::kOptimized, rfs).save(memory_body(big), "H: 1\n", user, MailboxRequest{});
    ASSERT_TRUE(r) << r.error().log_reason;
    EXPECT_EQ(read_file(r->path), "H: 1\n" + big);
    EXPECT_EQ(rfs.direct_off, 1);
    ASSERT_GE(rfs.writes.size(), 2u);
    EXPECT_TRUE(rfs.writes[0].direct);
    for (size_t i = 1; i < rfs.writes.size(); ++i) EXPECT_FALSE(rfs.writes[i].direct);
  }
}

TEST(DirectWrite, AFailedDirectWriteFailsTheSaveAndLeavesNothingVisible) {
  testlib::TempDir tmp;
  if (!direct_capable(tmp.str())) GTEST_SKIP() << "needs ext4 or XFS";
  const std::string root = tmp.str() + "/Maildir";
  UserTarget user = make_user(root);
  const std::string big = pattern(2 * kDirectChunk, 4);
  for (auto [err, kind] : {std::pair{ENOSPC, SaveError::Kind::kTemp}, std::pair{EDQUOT, SaveError::Kind::kQuotaExceeded},
                           std::pair{EIO, SaveError::Kind::kTemp}}) {
    RecordingFs rfs;
    rfs.fail_first_direct = err;
    auto r = MaildirWriter(FsyncMode::kOptimized, rfs).save(memory_body(big), "", user, MailboxRequest{});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, kind);
    EXPECT_EQ(r.error().sys_errno, err);
    EXPECT_TRUE(list_dir(root + "/new").empty());
    EXPECT_TRUE(list_dir(root + "/tmp").empty());
  }
}

}  // namespace
}  // namespace dovetail::storage
