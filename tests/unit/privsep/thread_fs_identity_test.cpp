// ThreadFsIdentity, as the privileged writer's threads use it: what a thread creates belongs
// to whom it became; it keeps that identity until asked for another; no supplementary group
// of one user is left for the next; root again when asked; other threads untouched.
// Needs root (skipped otherwise): the switches are real setfsuid/setfsgid calls.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "privsep/credentials.hpp"
#include "testlib/temp_dir.hpp"

namespace dovetail::privsep {
namespace {

struct FsStatus {
  uid_t fsuid = 0;
  gid_t fsgid = 0;
  std::string groups;  // the "Groups:" line's value, trimmed
};

// This thread's credentials from /proc (the 4th Uid/Gid field is the filesystem id).
FsStatus thread_status() {
  std::ifstream in("/proc/thread-self/status");
  FsStatus s;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    unsigned long a = 0, b = 0, c = 0, d = 0;
    if (key == "Uid:" && (fields >> a >> b >> c >> d)) s.fsuid = static_cast<uid_t>(d);
    if (key == "Gid:" && (fields >> a >> b >> c >> d)) s.fsgid = static_cast<gid_t>(d);
    if (key == "Groups:") {
      std::string rest;
      std::getline(fields, rest);
      auto first = rest.find_first_not_of(" \t");
      s.groups = first == std::string::npos ? "" : rest.substr(first);
      while (!s.groups.empty() && (s.groups.back() == ' ' || s.groups.back() == '\t')) s.groups.pop_back();
    }
  }
  return s;
}

// Creates `path` and returns its owner.
std::pair<uid_t, gid_t> create_owner(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  EXPECT_GE(fd, 0) << path;
  struct stat st {};
  if (fd >= 0) {
    ::fstat(fd, &st);
    ::close(fd);
  }
  return {st.st_uid, st.st_gid};
}

TEST(ThreadFsIdentity, OwnersFollowTheIdentityAndNothingCarriesOver) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  testlib::TempDir tmp;
  ASSERT_EQ(::chmod(tmp.str().c_str(), 0777), 0);
  const uid_t u1 = 4201, u2 = 4202;
  const gid_t g1 = 4301, g2 = 4302;
  std::thread([&] {
    // Root with a supplementary group, as a writer thread may start: it must not follow
    // the thread into a user's identity.
    gid_t extra[1] = {4999};
    ASSERT_EQ(::syscall(SYS_setgroups, 1, extra), 0);
    ASSERT_EQ(thread_status().groups, "4999");
    ASSERT_TRUE(ThreadFsIdentity::become(u1, g1));
    FsStatus s = thread_status();
    EXPECT_EQ(s.fsuid, u1);
    EXPECT_EQ(s.fsgid, g1);
    EXPECT_EQ(s.groups, "") << "no supplementary group: fsgid alone is the user's group";
    EXPECT_EQ(create_owner(tmp.str() + "/a"), std::make_pair(u1, g1));
    ASSERT_TRUE(ThreadFsIdentity::become(u1, g1)) << "the same identity again";
    EXPECT_EQ(create_owner(tmp.str() + "/b"), std::make_pair(u1, g1)) << "kept between writes";

    ASSERT_TRUE(ThreadFsIdentity::become(u2, g2));
    s = thread_status();
    EXPECT_EQ(s.fsuid, u2);
    EXPECT_EQ(s.fsgid, g2);
    EXPECT_EQ(s.groups, "") << "nothing of the first user's groups";
    EXPECT_EQ(create_owner(tmp.str() + "/c"), std::make_pair(u2, g2));

    ThreadFsIdentity::become_root();
    s = thread_status();
    EXPECT_EQ(s.fsuid, 0u);
    EXPECT_EQ(s.fsgid, 0u);
    EXPECT_EQ(create_owner(tmp.str() + "/d"), std::make_pair(uid_t{0}, gid_t{0}));
    ASSERT_TRUE(ThreadFsIdentity::become(u1, g1)) << "and a user again after root";
    EXPECT_EQ(create_owner(tmp.str() + "/e"), std::make_pair(u1, g1));
    ThreadFsIdentity::become_root();
  }).join();
  FsStatus main = thread_status();
  EXPECT_EQ(main.fsuid, 0u) << "other threads keep their own identity";
  EXPECT_EQ(create_owner(tmp.str() + "/f").first, 0u);
}

TEST(ThreadFsIdentity, ScopedIdentityEndsAsRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  testlib::TempDir tmp;
  ASSERT_EQ(::chmod(tmp.str().c_str(), 0777), 0);
  std::thread([&] {
    {
      ScopedFsIdentity as(4201, 4301);
      ASSERT_TRUE(as.ok());
      EXPECT_EQ(create_owner(tmp.str() + "/a"), std::make_pair(uid_t{4201}, gid_t{4301}));
    }
    EXPECT_EQ(thread_status().fsuid, 0u);
    EXPECT_EQ(create_owner(tmp.str() + "/b").first, 0u);
  }).join();
}

}  // namespace
}  // namespace dovetail::privsep
