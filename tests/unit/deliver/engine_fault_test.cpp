// A storage failure becomes the right Outcome for the recipient, and its real reason reaches
// the error log: anything not classified is 451 4.2.0, EDQUOT is 552 5.2.2 (452 4.2.2 with
// quota_full_tempfail), and nothing becomes visible in new/.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include <cerrno>
#include <filesystem>

#include "deliver/engine.hpp"
#include "deliver/transaction.hpp"
#include "testlib/temp_dir.hpp"

namespace dovetail::deliver {
namespace {

namespace fs = std::filesystem;

// Delegates to the real filesystem; fails every call of one kind with a chosen errno.
class FailingFs final : public storage::Fs {
 public:
  enum class Op { kNone, kOpen, kWrite, kFsync, kRename };
  FailingFs(Op op, int err) : op_(op), err_(err) {}
  int open_at(int d, const char* p, int f, mode_t m) override {
    // Only files in tmp/ fail, so directories can still be opened and created.
    if (op_ == Op::kOpen && (((f & O_CREAT) && (f & O_EXCL)) || (f & O_TMPFILE) == O_TMPFILE)) return -err_;
    return real().open_at(d, p, f, m);
  }
  int mkdir_at(int d, const char* p, mode_t m) override { return real().mkdir_at(d, p, m); }
  int rename_at(int a, const char* b, int c, const char* e) override {
    if (op_ == Op::kRename) return -err_;
    return real().rename_at(a, b, c, e);
  }
  int link_at(int a, const char* b, int c, const char* e) override {
    if (op_ == Op::kRename) return -err_;
    return real().link_at(a, b, c, e);
  }
  int link_file(int fd, int c, const char* e) override {
    if (op_ == Op::kRename) return -err_;
    return real().link_file(fd, c, e);
  }
  int unlink_at(int d, const char* p) override { return real().unlink_at(d, p); }
  int64_t write(int fd, const void* data, size_t len) override {
    if (op_ == Op::kWrite) return -err_;
    return real().write(fd, data, len);
  }
  int64_t pread(int fd, void* out, size_t len, uint64_t off) override {
    return real().pread(fd, out, len, off);
  }
  int64_t copy_range(int in, uint64_t off, int out, size_t len) override {
    if (op_ == Op::kWrite) return -err_;
    return real().copy_range(in, off, out, len);
  }
  int fsync(int fd) override {
    if (op_ == Op::kFsync) return -err_;
    return real().fsync(fd);
  }
  int syncfs(int fd) override {
    if (op_ == Op::kFsync) return -err_;
    return real().syncfs(fd);
  }
  int fchown(int fd, uid_t u, gid_t g) override { return real().fchown(fd, u, g); }
  int fchmod(int fd, mode_t m) override { return real().fchmod(fd, m); }
  int fstat(int fd, struct stat* st) override { return real().fstat(fd, st); }
  int stat_at(int d, const char* p, struct stat* st) override { return real().stat_at(d, p, st); }
  int close(int fd) override { return real().close(fd); }
  int64_t fs_type(int fd) override { return real().fs_type(fd); }
  int set_direct_io(int fd, bool on) override { return real().set_direct_io(fd, on); }

 private:
  static storage::Fs& real() { return storage::real_fs(); }
  Op op_;
  int err_;
};

uid_t test_uid() { return geteuid() == 0 ? 5000 : geteuid(); }
gid_t test_gid() { return geteuid() == 0 ? 5000 : getegid(); }

TEST(EngineFaultTest, StorageErrorsMapToOutcomes) {
  struct Case {
    const char* name;
    FailingFs::Op op;
    int err;
    bool quota_full_tempfail;
    bool temp;
    int code;
    std::string enhanced;
    std::string reason_prefix;
  };
  const std::string internal = "Internal error occurred. Refer to server log for more information. [";
  const std::string quota = "Quota exceeded (mailbox for user is full)";
  const Case cases[] = {
      {"EIO on fsync", FailingFs::Op::kFsync, EIO, false, true, 451, "4.2.0", internal},
      // a full disk: Dovecot's own 451 4.2.0 (docs/decisions/0006-enospc-reply.md).
      {"ENOSPC on write", FailingFs::Op::kWrite, ENOSPC, false, true, 451, "4.2.0", internal},
      {"failed rename", FailingFs::Op::kRename, EIO, false, true, 451, "4.2.0", internal},
      {"EACCES on open", FailingFs::Op::kOpen, EACCES, false, true, 451, "4.2.0", internal},
      {"EDQUOT", FailingFs::Op::kWrite, EDQUOT, false, false, 552, "5.2.2", quota},
      {"EDQUOT, quota_full_tempfail", FailingFs::Op::kWrite, EDQUOT, true, true, 452, "4.2.2",
       quota},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    testlib::TempDir tmp;
    config::Settings s;
    s.hostname = "mx.test.example";
    s.mail_location = "maildir:~/Maildir";
    s.first_valid_uid = std::min<unsigned>(500, test_uid());
    s.first_valid_gid = 0;
    s.mail_fsync = "always";
    s.quota_full_tempfail = c.quota_full_tempfail;
    FailingFs failing(c.op, c.err);
    std::vector<std::string> errors;
    EngineDeps deps;
    const std::string home = tmp.str() + "/alice";
    deps.lookup_user = [&](std::string_view key) -> base::Result<userdb::User> {
      return userdb::User{std::string(key), test_uid(), test_gid(), home};
    };
    deps.fs = &failing;
    deps.log = [&](base::log::Level level, std::string_view prefix, std::string_view msg) {
      if (level == base::log::Level::kError) errors.push_back(std::string(prefix) + std::string(msg));
    };
    auto engine = Engine::create(std::make_shared<const config::Settings>(s), deps);
    ASSERT_TRUE(engine.has_value());
    Transaction txn(std::shared_ptr<const Engine>(std::move(*engine)));
    mail::Envelope env;
    env.mail_from = {"sender", "remote.example"};
    env.session_id = env.transaction_id = "SID";
    mail::Recipient r;
    r.address = {"alice", "test.example"};
    r.id = "SID";
    ASSERT_FALSE(txn.add_recipient(env, r).has_value());
    env.recipients.push_back(r);
    mail::Spool spool(1 << 20, tmp.str());
    ASSERT_TRUE(spool.append("Subject: x\n\nbody\n").has_value());
    ASSERT_TRUE(spool.finish().has_value());
    auto outcomes = txn.deliver(env, spool);
    ASSERT_EQ(outcomes.size(), 1u);
    int code = 0;
    std::string enhanced, reason;
    std::visit(
        [&](const auto& o) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(o)>, Delivered>) {
            code = o.code;
            enhanced = o.enhanced;
            reason = o.reason;
          }
        },
        outcomes[0]);
    EXPECT_EQ(std::holds_alternative<TempFail>(outcomes[0]), c.temp);
    EXPECT_EQ(code, c.code);
    EXPECT_EQ(enhanced, c.enhanced);
    EXPECT_TRUE(reason.starts_with(c.reason_prefix)) << reason;
    // The error log has the real cause (errno text), with the user's prefix.
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("lmtp(alice@test.example)"), std::string::npos) << errors[0];
    EXPECT_NE(errors[0].find("save failed to INBOX: "), std::string::npos) << errors[0];
    EXPECT_NE(errors[0].find(std::strerror(c.err)), std::string::npos) << errors[0];
    // Nothing visible in new/.
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(home, ec))
      EXPECT_NE(e.path().parent_path().filename(), "new") << e.path();
  }
}

}  // namespace
}  // namespace dovetail::deliver
