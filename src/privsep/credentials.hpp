// credentials.hpp — giving up root for good, and borrowing a mail user's identity per thread.
//
// Purpose:
//  * drop_privileges(): the network process becomes `user` completely — supplementary groups,
//    real/effective/saved uid and gid, no capabilities, no_new_privs — and checks that root
//    cannot be regained (setuid(0) must fail).
//  * ThreadFsIdentity / ScopedFsIdentity: the privileged writer thread's filesystem identity
//    (fsuid/fsgid; supplementary groups emptied) becomes the mail user's for its writes, so
//    the kernel, not our code, refuses paths that user cannot write. Linux fsuid/fsgid are
//    per thread; supplementary groups are set with the raw syscall so glibc does not
//    broadcast them to every thread (it does for setgroups(3)).
// Error contract: Result/Status; a failed drop is fatal for the daemon (caller exits).
// Security: this file is the whole privilege story of the daemon; keep it small.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/result.hpp"

namespace dovetail::privsep {

struct Identity {
  uid_t uid;
  gid_t gid;
  std::string name;
};

// Looks a system user up by name or number (getpwnam_r / getpwuid_r).
[[nodiscard]] base::Result<Identity> lookup_system_user(const std::string& name_or_uid);
// Looks a group up by name or number.
[[nodiscard]] base::Result<gid_t> lookup_system_group(const std::string& name_or_gid);

// kForbid also sets PR_SET_NO_NEW_PRIVS (the daemon). The LDA uses kAllow: after the drop it
// may run sendmail_path for a rejection mail, and Postfix's sendmail hands mail to the setgid
// postdrop, which no_new_privs would break (dovecot-lda does not set it either).
enum class NewPrivileges { kForbid, kAllow };
[[nodiscard]] base::Status drop_privileges(const Identity& to, NewPrivileges new_privs = NewPrivileges::kForbid);

// PR_SET_NO_NEW_PRIVS for the calling thread and every thread it creates afterwards. The
// flag is per thread: the daemon sets it on its main thread before any thread starts, so the
// event and blocking-pool threads inherit it (setting it at the drop covered only one thread).
[[nodiscard]] base::Status forbid_new_privileges();

// The privileged writer keeps uid 0 but only the capabilities writing as other users needs:
// CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID (reading its
// config/userdb; inactive while a thread's fsuid is a mail user), CAP_SETGID, CAP_SETUID
// (setfsuid/setfsgid/setgroups). Everything else (ptrace, modules, mounts, raw sockets, ...)
// leaves the bounding, permitted, effective, inheritable and ambient sets, and no_new_privs
// is set. Capabilities are per thread: call before any thread starts. No-op when not root.
inline constexpr unsigned long long kWriterCapabilities = 0xdf;  // bits 0-4, 6, 7
[[nodiscard]] base::Status limit_writer_capabilities();

// Capability sets of this process from /proc/self/status (CapEff, CapPrm), for checks/tests.
struct CapabilityState {
  unsigned long long effective = 0;
  unsigned long long permitted = 0;
};
[[nodiscard]] base::Result<CapabilityState> read_capabilities();

// The calling thread's filesystem identity (fsuid/fsgid, supplementary groups emptied),
// switched only when it changes: the privileged writer's threads keep a mail user's identity
// from one delivery to the next and go back to root only for what needs root (userdb files,
// the config). become(): true when the thread now writes as uid/gid (unprivileged: only
// when that is who the process is). Per thread; no lock.
class ThreadFsIdentity {
 public:
  [[nodiscard]] static bool become(uid_t uid, gid_t gid);
  static void become_root();
};

// become() for one scope, then root again.
class ScopedFsIdentity {
 public:
  ScopedFsIdentity(uid_t uid, gid_t gid);
  ~ScopedFsIdentity();
  ScopedFsIdentity(const ScopedFsIdentity&) = delete;
  ScopedFsIdentity& operator=(const ScopedFsIdentity&) = delete;
  bool ok() const { return ok_; }

 private:
  bool ok_ = false;
  bool switched_ = false;
};

}  // namespace dovetail::privsep
