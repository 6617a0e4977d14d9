#include "privsep/credentials.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <string>
#include <vector>

namespace dovetail::privsep {
namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

base::Result<Identity> lookup_system_user(const std::string& name) {
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  int rc = all_digits(name) ? ::getpwuid_r(static_cast<uid_t>(std::stoul(name)), &pw, buf.data(), buf.size(), &found)
                            : ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0) return base::fail(base::Error::from_errno(rc, "getpwnam(" + name + ")"));
  if (!found) {
    if (all_digits(name)) {
      uid_t uid = static_cast<uid_t>(std::stoul(name));
      return Identity{uid, static_cast<gid_t>(uid), name};
    }
    return base::fail(base::Error::not_found("unknown system user: " + name));
  }
  return Identity{pw.pw_uid, pw.pw_gid, pw.pw_name};
}

base::Result<gid_t> lookup_system_group(const std::string& name) {
  if (all_digits(name)) return static_cast<gid_t>(std::stoul(name));
  group gr{};
  group* found = nullptr;
  std::vector<char> buf(16384);
  int rc = ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found);
  if (rc != 0) return base::fail(base::Error::from_errno(rc, "getgrnam(" + name + ")"));
  if (!found) return base::fail(base::Error::not_found("unknown system group: " + name));
  return gr.gr_gid;
}

base::Status forbid_new_privileges() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return base::fail(base::Error::from_errno(errno, "PR_SET_NO_NEW_PRIVS"));
  return {};
}

namespace {

// geteuid() once, not once per delivery (ScopedFsIdentity): in this program only
// drop_privileges() changes the effective uid, and it forgets the value.
std::atomic<long> g_effective_uid{-1};

uid_t effective_uid() {
  long id = g_effective_uid.load(std::memory_order_relaxed);
  if (id < 0) {
    id = static_cast<long>(::geteuid());
    g_effective_uid.store(id, std::memory_order_relaxed);
  }
  return static_cast<uid_t>(id);
}

}  // namespace

base::Status drop_privileges(const Identity& to, NewPrivileges new_privs) {
  if (to.uid == 0) return base::fail(base::Error::config("refusing to run the network process as root"));
  g_effective_uid.store(-1, std::memory_order_relaxed);
  gid_t groups[1] = {to.gid};
  if (::setgroups(1, groups) != 0) return base::fail(base::Error::from_errno(errno, "setgroups"));
  if (::setresgid(to.gid, to.gid, to.gid) != 0) return base::fail(base::Error::from_errno(errno, "setresgid"));
  const int changed = ::setresuid(to.uid, to.uid, to.uid);
  g_effective_uid.store(-1, std::memory_order_relaxed);
  if (changed != 0) return base::fail(base::Error::from_errno(errno, "setresuid"));
  if (new_privs == NewPrivileges::kForbid) {
    if (auto st = forbid_new_privileges(); !st) return st;
  }
  // Verify instead of trusting: root must be out of reach now.
  if (::setuid(0) == 0 || ::seteuid(0) == 0) return base::fail(base::Error::internal("could regain root after dropping privileges"));
  gid_t now[2] = {};
  if (::getgroups(2, now) != 1 || now[0] != to.gid)
    return base::fail(base::Error::internal("supplementary groups left after dropping privileges"));
  auto caps = read_capabilities();
  if (!caps) return base::fail(caps.error());
  if (caps->effective != 0 || caps->permitted != 0)
    return base::fail(base::Error::internal("capabilities left after dropping privileges"));
  return {};
}

base::Status limit_writer_capabilities() {
  if (::geteuid() != 0) return {};
  for (int cap = 0; cap < 64; ++cap) {
    if (kWriterCapabilities & (1ULL << cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno == EINVAL) break;  // past CAP_LAST_CAP of this kernel
      return base::fail(base::Error::from_errno(errno, "PR_CAPBSET_DROP"));
    }
  }
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  data[0].effective = data[0].permitted = static_cast<uint32_t>(kWriterCapabilities);
  data[1].effective = data[1].permitted = static_cast<uint32_t>(kWriterCapabilities >> 32);
  if (::syscall(SYS_capset, &header, data) != 0) return base::fail(base::Error::from_errno(errno, "capset"));
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return base::fail(base::Error::from_errno(errno, "PR_SET_NO_NEW_PRIVS"));
  auto caps = read_capabilities();
  if (!caps) return base::fail(caps.error());
  if ((caps->effective | caps->permitted) & ~kWriterCapabilities)
    return base::fail(base::Error::internal("capabilities left beyond the writer's set"));
  return {};
}

base::Result<CapabilityState> read_capabilities() {
  std::ifstream in("/proc/self/status");
  if (!in) return base::fail(base::Error::temporary("cannot read /proc/self/status"));
  CapabilityState state;
  std::string line;
  while (std::getline(in, line)) {
    auto parse = [&](const char* key, unsigned long long& out) {
      std::string_view v(line);
      if (!v.starts_with(key)) return;
      v.remove_prefix(std::string_view(key).size());
      while (!v.empty() && (v.front() == '\t' || v.front() == ' ')) v.remove_prefix(1);
      std::from_chars(v.data(), v.data() + v.size(), out, 16);
    };
    parse("CapEff:", state.effective);
    parse("CapPrm:", state.permitted);
  }
  return state;
}

namespace {

// The writer switches identity for deliveries; these spare it most of the system calls.
// * The thread's filesystem identity is remembered: a delivery for the identity it already
//   has switches nothing (one mail uid for everyone, the common virtual-user setup, then
//   costs no call at all), and it goes back to root only when something needs root.
// * A thread's supplementary group list is emptied before its first switch and stays empty:
//   fsgid alone gives the mail user's group, and a list left from one user would give the
//   next user that user's group.
// * setfsuid/setfsgid report the previous id, not success, so a switch is read back. It can
//   only fail for a thread without CAP_SETUID/CAP_SETGID, which never changes in the writer
//   once it serves: one verified switch per thread stands for the later ones. Every switch
//   to a user starts from root, as the verified one did.
// All of this holds only while the process is root, which every call checks (a daemon that
// dropped privileges after a switch must not trust it): effective_uid() is read afresh
// after drop_privileges().
thread_local bool t_groups_empty = false;
thread_local bool t_switch_verified = false;
thread_local uid_t t_fs_uid = 0;
thread_local gid_t t_fs_gid = 0;

}  // namespace

bool ThreadFsIdentity::become(uid_t uid, gid_t gid) {
  const uid_t euid = effective_uid();
  if (euid != 0) return uid == euid;  // unprivileged: we can only ever be ourselves
  if (t_fs_uid == uid && t_fs_gid == gid) return true;
  become_root();
  // Raw syscalls: per-thread credentials (glibc's wrappers broadcast to all threads).
  if (!t_groups_empty) {
    if (::syscall(SYS_setgroups, 0, nullptr) != 0) return false;
    t_groups_empty = true;
  }
  ::setfsgid(gid);
  ::setfsuid(uid);
  t_fs_uid = uid;
  t_fs_gid = gid;
  if (t_switch_verified) return true;
  const bool ok = static_cast<uid_t>(::setfsuid(static_cast<uid_t>(-1))) == uid &&
                  static_cast<gid_t>(::setfsgid(static_cast<gid_t>(-1))) == gid;
  if (!ok) {
    become_root();  // whatever half happened: root is what the thread asks for next
    return false;
  }
  t_switch_verified = true;
  return true;
}

void ThreadFsIdentity::become_root() {
  if (t_fs_uid == 0 && t_fs_gid == 0) return;
  if (effective_uid() != 0) return;
  ::setfsuid(0);
  ::setfsgid(0);
  t_fs_uid = 0;
  t_fs_gid = 0;
}

ScopedFsIdentity::ScopedFsIdentity(uid_t uid, gid_t gid) {
  ok_ = ThreadFsIdentity::become(uid, gid);
  switched_ = ok_;
}

ScopedFsIdentity::~ScopedFsIdentity() {
  if (switched_) ThreadFsIdentity::become_root();
}

}  // namespace dovetail::privsep
