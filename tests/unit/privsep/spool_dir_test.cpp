// spool_dir_for() runs as root in mail_temp_dir, a directory other users may write: the
// private spool directory must be changed through a descriptor, never by name again, or a
// symlink swapped in between the check and the chown hands root's chown to someone else.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "privsep/process_setup.hpp"
#include "testlib/temp_dir.hpp"

namespace dovetail::privsep {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kUser = 54321;

class SpoolDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (it chowns to another uid)";
    // mail_temp_dir that the user may not write: the private subdirectory is used.
    ::chmod(tmp_.str().c_str(), 0755);
    settings_.mail_temp_dir = tmp_.str();
    victim_ = tmp_.path() / "victim";
    fs::create_directory(victim_);
    ::chmod(victim_.c_str(), 0755);
  }
  struct stat victim_stat() const {
    struct stat st {};
    ::lstat(victim_.c_str(), &st);
    return st;
  }

  testlib::TempDir tmp_;
  config::Settings settings_;
  fs::path victim_;
  Identity who_{kUser, kUser, "racer"};
};

TEST_F(SpoolDirTest, CreatesAPrivateDirectoryOwnedByTheUser) {
  auto dir = spool_dir_for(settings_, who_);
  ASSERT_TRUE(dir) << dir.error().message;
  EXPECT_EQ(*dir, tmp_.str() + "/dovetail-spool.racer");
  struct stat st {};
  ASSERT_EQ(::lstat(dir->c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kUser);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST_F(SpoolDirTest, ASymlinkInPlaceIsRefused) {
  fs::create_directory_symlink(victim_, tmp_.path() / "dovetail-spool.racer");
  EXPECT_FALSE(spool_dir_for(settings_, who_));
  EXPECT_EQ(victim_stat().st_uid, 0u);
  EXPECT_EQ(victim_stat().st_mode & 07777, 0755u);
}

// Another user flips the name between the real directory and a symlink to a root-owned
// directory (renameat2 RENAME_EXCHANGE, atomic) as fast as it can while root prepares the
// spool directory again and again. Checking the name and then chowning the name loses this
// race now and then; acting on the opened descriptor never does.
TEST_F(SpoolDirTest, ASymlinkSwappedInCannotRedirectTheChown) {
  fs::path name = tmp_.path() / "dovetail-spool.racer";
  fs::path link = tmp_.path() / "link";
  fs::create_directory(name);
  fs::create_directory_symlink(victim_, link);
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    while (!stop.load(std::memory_order_relaxed))
      ::syscall(SYS_renameat2, AT_FDCWD, name.c_str(), AT_FDCWD, link.c_str(), RENAME_EXCHANGE);
  });
  for (int i = 0; i < 20000 && victim_stat().st_uid == 0; ++i) (void)spool_dir_for(settings_, who_);
  stop = true;
  swapper.join();
  EXPECT_EQ(victim_stat().st_uid, 0u) << "root's chown followed the swapped-in symlink";
  EXPECT_EQ(victim_stat().st_mode & 07777, 0755u);
}

}  // namespace
}  // namespace dovetail::privsep
