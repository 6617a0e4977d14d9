#include "privsep/process_setup.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "base/unique_fd.hpp"
#include "privsep/channel.hpp"
#include "privsep/credentials.hpp"
#include "privsep/wire.hpp"

namespace dovetail::privsep {
namespace {

// The writer gets its channels as fds 3, 4, ... (control first). They are first moved above
// that range so the dup2s in the child cannot overwrite one another.
base::Result<int> spawn_writer(std::vector<base::UniqueFd> child_ends, const std::string& config_path,
                               const std::string& config_digest) {
  int first = 3;
  int above = first + static_cast<int>(child_ends.size());
  std::vector<base::UniqueFd> high;
  for (auto& end : child_ends) {
    int fd = ::fcntl(end.get(), F_DUPFD_CLOEXEC, above);
    if (fd < 0) return base::fail(base::Error::from_errno(errno, "fcntl F_DUPFD (privileged writer)"));
    high.emplace_back(fd);
  }
  std::string exe = "/proc/self/exe";
  std::string fd_arg = std::to_string(first);
  std::string count_arg = std::to_string(high.size());
  pid_t pid = ::fork();
  if (pid < 0) return base::fail(base::Error::from_errno(errno, "fork (privileged writer)"));
  if (pid == 0) {
    // Only async-signal-safe calls until exec: the parent may have threads. dup2 clears
    // close-on-exec on the target; the high copies close at exec.
    for (size_t i = 0; i < high.size(); ++i)
      if (::dup2(high[i].get(), first + static_cast<int>(i)) < 0) ::_exit(127);
    // The writer keeps stdio and its channels, nothing else, whatever was or was not made
    // close-on-exec (a kernel without close_range(2), before 5.9, leaves that to the flag).
    ::close_range(static_cast<unsigned>(first) + static_cast<unsigned>(high.size()), ~0U, 0);
    const char* argv[] = {"dovetail",
                          "writer",
                          "--channel-fd", fd_arg.c_str(),
                          "--channels", count_arg.c_str(),
                          "--config-digest", config_digest.c_str(),
                          config_path.empty() ? nullptr : "-c", config_path.c_str(),
                          nullptr};
    ::execv(exe.c_str(), const_cast<char* const*>(argv));
    ::_exit(127);
  }
  return static_cast<int>(pid);
}

base::Status wait_until_ready(int sock) {
  pollfd pfd{sock, POLLIN, 0};
  int n;
  do {
    n = ::poll(&pfd, 1, 30000);
  } while (n < 0 && errno == EINTR);
  if (n == 0) return base::fail(base::Error::temporary("privileged writer did not start within 30 s"));
  auto got = recv_frame(sock);
  if (!got) return base::fail(base::Error::config("privileged writer failed to start (its error is above)"));
  if (got->fd.valid()) return base::fail(base::Error::internal("privileged writer sent a descriptor"));
  if (auto st = decode_ready(got->frame); !st) return base::fail(st.error());
  return {};
}

bool can_create_temp_files(const std::string& dir, const Identity& who) {
  ScopedFsIdentity as(who.uid, who.gid);
  if (!as.ok()) return false;
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

}  // namespace

// Bodies larger than lmtp_spool_memory_limit spill to an unlinked file in mail_temp_dir. A
// mail_temp_dir that only root or the mail user may write (common: Dovecot's lmtp writes it
// as root) gets a private subdirectory for the unprivileged network process.
base::Result<std::string> spool_dir_for(const config::Settings& s, const Identity& who) {
  std::string base = s.mail_temp_dir.empty() ? "/tmp" : s.mail_temp_dir;
  if (can_create_temp_files(base, who)) return base;
  std::string dir = base + "/dovetail-spool." + who.name;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return base::fail(base::Error::from_errno(errno, "mail_temp_dir: mkdir " + dir));
  // As root in a directory others may write (mail_temp_dir is often /tmp): act on the
  // directory we opened, never on the name again, so a symlink or a swapped entry cannot
  // make us chown something else. O_NOFOLLOW refuses a symlink in the last step.
  base::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ELOOP || errno == ENOTDIR)
      return base::fail(base::Error::config("mail_temp_dir: " + dir + " is not a directory"));
    return base::fail(base::Error::from_errno(errno, "mail_temp_dir: open " + dir));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISDIR(st.st_mode))
    return base::fail(base::Error::config("mail_temp_dir: " + dir + " is not a directory"));
  if (::fchown(fd.get(), who.uid, who.gid) != 0 || ::fchmod(fd.get(), 0700) != 0)
    return base::fail(base::Error::from_errno(errno, "mail_temp_dir: chown " + dir));
  if (!can_create_temp_files(dir, who))
    return base::fail(base::Error::config("mail_temp_dir: " + who.name + " cannot create files in " + dir));
  return dir;
}

const char* describe(PrivilegeMode mode) {
  switch (mode) {
    case PrivilegeMode::kUnprivileged: return "unprivileged (delivering as this user)";
    case PrivilegeMode::kSingleUid: return "single uid (service lmtp user)";
    case PrivilegeMode::kWriterProcess: return "privilege-separated (network process + privileged writer)";
  }
  return "?";
}

base::Result<PrivilegeSetup> enter_privilege_mode(const config::Settings& s, const std::string& config_path,
                                                  const std::string& config_digest, unsigned delivery_channels) {
  PrivilegeSetup out;
  if (::geteuid() != 0) {
    out.mode = PrivilegeMode::kUnprivileged;
    auto me = lookup_system_user(std::to_string(::geteuid()));
    out.network_user = me ? me->name : std::to_string(::geteuid());
    return out;
  }
  const config::Service* svc = s.find_service("lmtp");
  if (svc && !svc->user.empty()) {
    auto who = lookup_system_user(svc->user);
    if (!who) return base::fail(base::Error::config("service lmtp { user = " + svc->user + " }: " + who.error().message));
    if (!svc->group.empty()) {
      auto gid = lookup_system_group(svc->group);
      if (!gid) return base::fail(base::Error::config("service lmtp { group = " + svc->group + " }: " + gid.error().message));
      who->gid = *gid;
    }
    auto spool = spool_dir_for(s, *who);
    if (!spool) return base::fail(spool.error());
    out.spool_dir = *spool;
    if (auto st = drop_privileges(*who); !st) return base::fail(st.error());
    out.mode = PrivilegeMode::kSingleUid;
    out.network_user = who->name;
    return out;
  }

  // Channel 0 is the control channel; 1..n carry deliveries, one in flight each.
  std::vector<base::UniqueFd> ours, theirs;
  for (unsigned i = 0; i <= std::max(1u, delivery_channels); ++i) {
    auto pair = make_channel_pair();
    if (!pair) return base::fail(pair.error());
    ours.push_back(std::move(pair->first));
    theirs.push_back(std::move(pair->second));
  }
  auto pid = spawn_writer(std::move(theirs), config_path, config_digest);
  if (!pid) return base::fail(pid.error());
  out.writer_pid = *pid;
  // Serve only once the writer has loaded the config and built its userdb: a writer that
  // cannot start is a start-up error here, not a stream of 451s later.
  if (auto ready = wait_until_ready(ours[0].get()); !ready) return base::fail(ready.error());

  auto who = lookup_system_user(s.default_internal_user);
  if (!who) who = lookup_system_user("nobody");
  if (!who) return base::fail(base::Error::config("default_internal_user " + s.default_internal_user + ": " + who.error().message));
  auto spool = spool_dir_for(s, *who);
  if (!spool) return base::fail(spool.error());
  out.spool_dir = *spool;
  if (auto st = drop_privileges(*who); !st) return base::fail(st.error());
  out.mode = PrivilegeMode::kWriterProcess;
  out.network_user = who->name;
  base::UniqueFd control = std::move(ours[0]);
  ours.erase(ours.begin());
  out.writer = std::make_shared<WriterClient>(std::move(control), std::move(ours));
  return out;
}

}  // namespace dovetail::privsep
