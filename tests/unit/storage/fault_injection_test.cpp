// Fault injection at every storage syscall: the right outcome kind, nothing visible in new/,
// no tmp/ leftovers. FaultFs wraps the real filesystem and fails one chosen call.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "storage/fs.hpp"
#include "storage/maildir_writer.hpp"
#include "storage_test_util.hpp"
#include "testlib/temp_dir.hpp"

namespace dovetail::storage {
namespace {

using test::list_dir;
using test::make_user;
using test::memory_body;

enum class Op {
  kOpenCreate, kMkdir, kRename, kLink, kWrite, kPread, kCopyRange, kFsyncFile, kFsyncDir, kFchown, kClose,
  kOpenExisting, kFstat, kSyncfs, kSetDirect, kFchmod,
};

const char* op_name(Op op) {
  static const char* names[] = {"open(O_CREAT)", "mkdir", "rename", "link", "write", "pread",
                                "copy_file_range", "fsync(file)", "fsync(dir)", "fchown", "close",
                                "open(existing)", "fstat", "syncfs", "fcntl(O_DIRECT)", "fchmod"};
  return names[static_cast<int>(op)];
}

// The last component: INBOX's new/ is opened by its full path, other levels by name.
const char* base_name(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash != nullptr ? slash + 1 : path;
}

class FaultFs final : public Fs {
 public:
  // Fails the nth call of `op`; with `name`, only calls on that path name count.
  void arm(Op op, int err, int nth = 1, const char* name = nullptr) {
    op_ = op;
    err_ = err;
    nth_ = nth;
    name_ = name;
    seen_ = 0;
    armed_ = true;
  }
  bool fired() const { return fired_; }

  int open_at(int d, const char* p, int f, mode_t m) override {
    // A new message file: named (O_CREAT) or anonymous (O_TMPFILE, the usual case).
    const bool creates = (f & O_CREAT) != 0 || (f & O_TMPFILE) == O_TMPFILE;
    if (hit(creates ? Op::kOpenCreate : Op::kOpenExisting, p)) return -err_;
    return real_.open_at(d, p, f, m);
  }
  int mkdir_at(int d, const char* p, mode_t m) override { return hit(Op::kMkdir, p) ? -err_ : real_.mkdir_at(d, p, m); }
  int rename_at(int a, const char* b, int c, const char* e) override {
    return hit(Op::kRename) ? -err_ : real_.rename_at(a, b, c, e);
  }
  int link_at(int a, const char* b, int c, const char* e) override {
    return hit(Op::kLink) ? -err_ : real_.link_at(a, b, c, e);
  }
  // Publishing an anonymous file into new/ is the writer's rename: the same fault row.
  int link_file(int fd, int c, const char* e) override { return hit(Op::kRename) ? -err_ : real_.link_file(fd, c, e); }
  int unlink_at(int d, const char* p) override { return real_.unlink_at(d, p); }
  int64_t write(int fd, const void* b, size_t n) override { return hit(Op::kWrite) ? -err_ : real_.write(fd, b, n); }
  int64_t pread(int fd, void* b, size_t n, uint64_t o) override {
    return hit(Op::kPread) ? -err_ : real_.pread(fd, b, n, o);
  }
  int64_t copy_range(int i, uint64_t o, int out, size_t n) override {
    return hit(Op::kCopyRange) ? -err_ : real_.copy_range(i, o, out, n);
  }
  int fsync(int fd) override {
    struct stat st {};
    ::fstat(fd, &st);
    return hit(S_ISDIR(st.st_mode) ? Op::kFsyncDir : Op::kFsyncFile) ? -err_ : real_.fsync(fd);
  }
  int syncfs(int fd) override { return hit(Op::kSyncfs) ? -err_ : real_.syncfs(fd); }
  int fchown(int fd, uid_t u, gid_t g) override { return hit(Op::kFchown) ? -err_ : real_.fchown(fd, u, g); }
  int fchmod(int fd, mode_t m) override { return hit(Op::kFchmod) ? -err_ : real_.fchmod(fd, m); }
  int fstat(int fd, struct stat* st) override { return hit(Op::kFstat) ? -err_ : real_.fstat(fd, st); }
  int stat_at(int d, const char* p, struct stat* st) override { return hit(Op::kFstat) ? -err_ : real_.stat_at(d, p, st); }
  int64_t fs_type(int fd) override { return real_.fs_type(fd); }
  int set_direct_io(int fd, bool on) override { return hit(Op::kSetDirect) ? -err_ : real_.set_direct_io(fd, on); }
  int close(int fd) override {
    struct stat st {};
    ::fstat(fd, &st);
    if (S_ISREG(st.st_mode) && hit(Op::kClose)) {  // the message file's close, not a directory's
      real_.close(fd);  // the fd is gone either way, as with a real failing close()
      return -err_;
    }
    return real_.close(fd);
  }

 private:
  bool hit(Op op, const char* name = nullptr) {
    if (!armed_ || op != op_) return false;
    if (name_ != nullptr && (name == nullptr || std::strcmp(base_name(name), name_) != 0)) return false;
    if (++seen_ != nth_) return false;
    armed_ = false;
    fired_ = true;
    return true;
  }
  RealFs real_;
  Op op_{};
  int err_ = 0;
  int nth_ = 1;
  const char* name_ = nullptr;
  int seen_ = 0;
  bool armed_ = false;
  bool fired_ = false;
};

constexpr std::string_view kBody = "Subject: fault\n\nbody\n";

struct Case {
  Op op;
  int err;
  int nth;
  bool first_delivery;  // the Maildir does not exist yet
  bool file_body;       // body comes from an fd (copy_file_range / pread path)
  SaveError::Kind kind;
  const char* name = nullptr;    // only calls on this path name count (open/mkdir)
  const char* folder = nullptr;  // deliver to this folder (lda_mailbox_autocreate) not INBOX
  FsyncMode mode = FsyncMode::kOptimized;
  mode_t root_mode = 0;  // an existing mail root with these modes (0: none, or a private one)
};

class StorageFault : public ::testing::TestWithParam<Case> {};

TEST_P(StorageFault, FailsCleanly) {
  const Case& c = GetParam();
  if (c.op == Op::kFchown && ::geteuid() != 0) GTEST_SKIP() << "fchown only happens as root";
  testlib::TempDir tmp;
  std::string root = tmp.str() + "/Maildir";
  FaultFs ffs;
  MaildirWriter writer(c.mode, ffs);
  UserTarget user = make_user(root);
  MailboxRequest mailbox;
  if (c.folder != nullptr) mailbox = {c.folder, MissingMailbox::kCreate};
  if (c.root_mode != 0) {
    ASSERT_EQ(::mkdir(root.c_str(), 0700), 0);
    ASSERT_EQ(::chmod(root.c_str(), c.root_mode), 0);
    if (::geteuid() == 0) {
      ASSERT_EQ(::chown(root.c_str(), user.uid, user.gid), 0);
    }
  }
  size_t before = 0;
  if (!c.first_delivery) {
    ASSERT_TRUE(writer.save(memory_body(kBody), "", user, MailboxRequest{}));
    before = 1;
  }
  Body body = memory_body(kBody);
  int fd = -1;
  if (c.file_body) {
    auto path = tmp.write("spool", std::string(kBody));
    fd = ::open(path.c_str(), O_RDONLY);
    body.memory = {};
    body.fd = fd;
  }
  ffs.arm(c.op, c.err, c.nth, c.name);
  SaveResult r = [&] {
    if (c.op != Op::kPread) return writer.save(body, "X: 1\n", user, mailbox);
    // Two faults in a row: EXDEV from copy_file_range, then the injected pread error.
    struct TwoStep final : test::ForwardingFs {
      using ForwardingFs::ForwardingFs;
      int64_t copy_range(int, uint64_t, int, size_t) override { return -EXDEV; }
    } two(ffs);
    MaildirWriter w2(FsyncMode::kOptimized, two);
    return w2.save(body, "X: 1\n", user, MailboxRequest{});
  }();
  if (fd >= 0) ::close(fd);
  EXPECT_TRUE(ffs.fired()) << op_name(c.op) << " was never called";
  ASSERT_FALSE(r) << op_name(c.op) << " " << std::strerror(c.err);
  EXPECT_EQ(r.error().kind, c.kind) << r.error().log_reason;
  EXPECT_EQ(r.error().sys_errno, c.err);
  EXPECT_FALSE(r.error().log_reason.empty());
  EXPECT_EQ(list_dir(root + "/new").size(), before) << op_name(c.op);
  EXPECT_TRUE(list_dir(root + "/tmp").empty()) << op_name(c.op);
  if (c.folder != nullptr) {
    const std::string dir = root + "/." + c.folder;
    EXPECT_TRUE(list_dir(dir + "/new").empty()) << op_name(c.op);
    EXPECT_TRUE(list_dir(dir + "/tmp").empty()) << op_name(c.op);
  }
}

using K = SaveError::Kind;
INSTANTIATE_TEST_SUITE_P(
    Syscalls, StorageFault,
    ::testing::Values(Case{Op::kOpenCreate, ENOSPC, 1, false, false, K::kTemp},
                      Case{Op::kOpenCreate, EDQUOT, 1, false, false, K::kQuotaExceeded},
                      Case{Op::kOpenCreate, EACCES, 1, false, false, K::kTemp},
                      Case{Op::kWrite, ENOSPC, 1, false, false, K::kTemp},
                      Case{Op::kWrite, EDQUOT, 1, false, false, K::kQuotaExceeded},
                      Case{Op::kWrite, EIO, 1, false, false, K::kTemp},  // headers + memory body: one write
                      Case{Op::kCopyRange, EIO, 1, false, true, K::kTemp},
                      Case{Op::kCopyRange, ENOSPC, 1, false, true, K::kTemp},
                      Case{Op::kPread, EIO, 1, false, true, K::kTemp},
                      Case{Op::kFsyncFile, EIO, 1, false, false, K::kTemp},
                      Case{Op::kFsyncFile, ENOSPC, 1, false, false, K::kTemp},
                      Case{Op::kFsyncDir, EIO, 1, false, false, K::kTemp},  // fsync(new/)
                      Case{Op::kClose, EIO, 1, false, false, K::kTemp},
                      Case{Op::kRename, EIO, 1, false, false, K::kTemp},
                      Case{Op::kRename, ENOSPC, 1, false, false, K::kTemp},
                      Case{Op::kFchown, EPERM, 1, false, false, K::kTemp},
                      Case{Op::kMkdir, EACCES, 1, true, false, K::kTemp},   // the mail root
                      Case{Op::kMkdir, ENOSPC, 2, true, false, K::kTemp},   // cur/
                      Case{Op::kMkdir, EDQUOT, 4, true, false, K::kQuotaExceeded},  // tmp/
                      Case{Op::kFsyncDir, EIO, 1, true, false, K::kTemp},  // parent after mkdir
                      // Opening an existing Maildir's new/ (the message is made anonymous in
                      // it; tmp/ is not opened unless O_TMPFILE is unsupported), stat'ing its root.
                      Case{Op::kOpenExisting, EIO, 1, false, false, K::kTemp, "new"},
                      Case{Op::kOpenExisting, EACCES, 1, false, false, K::kTemp, "new"},
                      Case{Op::kOpenExisting, EMFILE, 1, false, false, K::kTemp, "new"},
                      Case{Op::kFstat, EIO, 1, false, false, K::kTemp},
                      // A detail folder created on delivery: its mkdir and maildirfolder marker.
                      Case{Op::kMkdir, ENOSPC, 1, false, false, K::kTemp, ".Lists", "Lists"},
                      Case{Op::kMkdir, EDQUOT, 1, false, false, K::kQuotaExceeded, ".Lists", "Lists"},
                      Case{Op::kMkdir, EIO, 1, false, false, K::kTemp, "new", "Lists"},  // .Lists/new
                      Case{Op::kOpenCreate, ENOSPC, 1, false, false, K::kTemp, "maildirfolder", "Lists"},
                      Case{Op::kOpenCreate, EIO, 1, false, false, K::kTemp, "maildirfolder", "Lists"},
                      // mail_fsync = always: fsync(tmp/) after the rename into new/.
                      Case{Op::kFsyncDir, EIO, 1, false, false, K::kTemp, nullptr, nullptr, FsyncMode::kAlways},
                      Case{Op::kFsyncDir, ENOSPC, 1, false, false, K::kTemp, nullptr, nullptr,
                           FsyncMode::kAlways},
                      // A group-shared mail root (0770): the message file's chmod past the umask.
                      Case{Op::kFchmod, EIO, 1, false, false, K::kTemp, nullptr, nullptr,
                           FsyncMode::kOptimized, 0770},
                      Case{Op::kFchmod, EPERM, 1, false, false, K::kTemp, nullptr, nullptr,
                           FsyncMode::kOptimized, 0770}));

TEST(StorageFaultBatch, FailedLinkFailsOnlyThatRecipient) {
  testlib::TempDir a, b;
  FaultFs ffs;
  MaildirWriter writer(FsyncMode::kOptimized, ffs);
  UserTarget alice = make_user(a.str() + "/Maildir");
  UserTarget bob = make_user(b.str() + "/Maildir");
  std::vector<SaveTarget> targets = {{&alice, {}}, {&bob, {}}};
  ffs.arm(Op::kLink, EIO);
  auto rs = writer.save_batch(memory_body(kBody), "", targets);
  ASSERT_TRUE(rs[0]);
  ASSERT_FALSE(rs[1]);
  EXPECT_EQ(rs[1].error().kind, K::kTemp);
  EXPECT_TRUE(list_dir(b.str() + "/Maildir/new").empty());
  EXPECT_EQ(list_dir(a.str() + "/Maildir/new").size(), 1u);
}

TEST(StorageFaultBatch, LinkAcrossFilesystemsWritesOwnCopy) {
  testlib::TempDir a, b;
  FaultFs ffs;
  MaildirWriter writer(FsyncMode::kOptimized, ffs);
  UserTarget alice = make_user(a.str() + "/Maildir");
  UserTarget bob = make_user(b.str() + "/Maildir");
  std::vector<SaveTarget> targets = {{&alice, {}}, {&bob, {}}};
  ffs.arm(Op::kLink, EXDEV);
  auto rs = writer.save_batch(memory_body(kBody), "", targets);
  ASSERT_TRUE(rs[0] && rs[1]);
  EXPECT_FALSE(rs[1]->hard_link);
  EXPECT_EQ(testlib::read_file(rs[1]->path), kBody);
}

TEST(StorageFaultBatch, FailedNewDirFsyncRemovesTheVisibleEntry) {
  testlib::TempDir a, b;
  FaultFs ffs;
  MaildirWriter writer(FsyncMode::kOptimized, ffs);
  UserTarget alice = make_user(a.str() + "/Maildir");
  UserTarget bob = make_user(b.str() + "/Maildir");
  ASSERT_TRUE(writer.save(memory_body(kBody), "", alice, MailboxRequest{}));
  ASSERT_TRUE(writer.save(memory_body(kBody), "", bob, MailboxRequest{}));
  std::vector<SaveTarget> targets = {{&alice, {}}, {&bob, {}}};
  ffs.arm(Op::kFsyncDir, EIO, 2);  // bob's new/
  auto rs = writer.save_batch(memory_body(kBody), "", targets);
  ASSERT_TRUE(rs[0]);
  ASSERT_FALSE(rs[1]);
  EXPECT_EQ(list_dir(a.str() + "/Maildir/new").size(), 2u);
  EXPECT_EQ(list_dir(b.str() + "/Maildir/new").size(), 1u);
}

// Three or more new/ directories share one filesystem sync (decision 0009). When it fails,
// each directory gets its own fsync, which decides alone: here all succeed.
TEST(StorageFaultBatch, FailedSharedSyncFallsBackToEachDirectory) {
  testlib::TempDir a, b, c;
  FaultFs ffs;
  SharedSync shared;
  MaildirWriter writer(FsyncMode::kOptimized, ffs, CopyMode::kHardLink, shared);
  UserTarget alice = make_user(a.str() + "/Maildir"), bob = make_user(b.str() + "/Maildir"),
             carol = make_user(c.str() + "/Maildir");
  std::vector<SaveTarget> targets = {{&alice, {}}, {&bob, {}}, {&carol, {}}};
  ffs.arm(Op::kSyncfs, EIO);
  auto rs = writer.save_batch(memory_body(kBody), "", targets);
  EXPECT_TRUE(ffs.fired());
  for (auto& r : rs) ASSERT_TRUE(r) << r.error().log_reason;
  for (const auto* d : {&a, &b, &c}) EXPECT_EQ(list_dir(d->str() + "/Maildir/new").size(), 1u);
}

// FaultFs with syncfs always failing: one more fault on top of the armed one.
struct SyncfsAlwaysFails final : test::ForwardingFs {
  using ForwardingFs::ForwardingFs;
  int syncfs(int) override { return -EIO; }
};

// ... and when the fallback fsync of one directory fails too, only that recipient fails and
// its entry is gone; the others are saved.
TEST(StorageFaultBatch, FailedSharedSyncAndDirectoryFsyncFailOnlyThatRecipient) {
  testlib::TempDir a, b, c;
  FaultFs ffs;
  SyncfsAlwaysFails fs(ffs);
  SharedSync shared;
  MaildirWriter writer(FsyncMode::kOptimized, fs, CopyMode::kHardLink, shared);
  UserTarget alice = make_user(a.str() + "/Maildir"), bob = make_user(b.str() + "/Maildir"),
             carol = make_user(c.str() + "/Maildir");
  std::vector<SaveTarget> targets = {{&alice, {}}, {&bob, {}}, {&carol, {}}};
  for (auto* u : {&alice, &bob, &carol})  // the Maildirs exist: only the delivery's fsyncs count
    ASSERT_TRUE(MaildirWriter(FsyncMode::kNever).save(memory_body(kBody), "", *u, MailboxRequest{}));
  ffs.arm(Op::kFsyncDir, EIO, 2);  // the fallback's fsyncs run in target order: bob's new/
  auto rs = writer.save_batch(memory_body(kBody), "", targets);
  EXPECT_TRUE(ffs.fired());
  ASSERT_TRUE(rs[0]);
  ASSERT_FALSE(rs[1]);
  EXPECT_EQ(rs[1].error().kind, K::kTemp);
  ASSERT_TRUE(rs[2]);
  EXPECT_EQ(list_dir(a.str() + "/Maildir/new").size(), 2u);
  EXPECT_EQ(list_dir(b.str() + "/Maildir/new").size(), 1u);
  EXPECT_EQ(list_dir(c.str() + "/Maildir/new").size(), 2u);
}

TEST(StorageFaultSubscribe, FailedSubscribeStillDeliversWithWarning) {
  testlib::TempDir a;
  FaultFs ffs;
  MaildirWriter writer(FsyncMode::kOptimized, ffs);
  UserTarget alice = make_user(a.str() + "/Maildir");
  ASSERT_TRUE(writer.save(memory_body(kBody), "", alice, MailboxRequest{}));
  ffs.arm(Op::kRename, EIO);  // the lock → subscriptions rename
  auto r = writer.save(memory_body(kBody), "", alice, MailboxRequest{"Lists", MissingMailbox::kCreateAndSubscribe});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->warning.empty());
  EXPECT_EQ(list_dir(a.str() + "/Maildir/.Lists/new").size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(a.str() + "/Maildir/subscriptions.lock"));
}

TEST(ErrnoTable, Classification) {
  EXPECT_EQ(classify_errno(EDQUOT, "x").kind, K::kQuotaExceeded);
  EXPECT_EQ(classify_errno(EDQUOT, "x").enhanced, "5.2.2");
  // ENOSPC: Dovecot 2.3.19 answers 451 4.2.0 (docs/decisions/0006-enospc-reply.md).
  for (int e : {ENOSPC, EIO, EACCES, EPERM, EROFS, EMFILE, ENOENT, ELOOP}) {
    EXPECT_EQ(classify_errno(e, "x").kind, K::kTemp) << e;
    EXPECT_EQ(classify_errno(e, "x").enhanced, "4.2.0") << e;
  }
  EXPECT_EQ(classify_errno(EIO, "fsync(/m/new)").log_reason, "fsync(/m/new): " + std::string(std::strerror(EIO)));
}

}  // namespace
}  // namespace dovetail::storage
