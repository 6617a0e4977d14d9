#include "privsep/process_setup.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include <string>

#include "base/log.hpp"
#include "privsep/channel.hpp"
#include "privsep/credentials.hpp"
#include "privsep/wire.hpp"

namespace dovetail::privsep {
namespace {

base::Result<int> spawn_writer(base::UniqueFd child_end, const std::string& config_path) {
  std::string exe = "/proc/self/exe";
  std::string fd_arg = "3";
  pid_t pid = ::fork();
  if (pid < 0) return base::fail(base::Error::from_errno(errno, "fork (privileged writer)"));
  if (pid == 0) {
    // Only async-signal-safe calls until exec: the parent may have threads.
    if (::dup2(child_end.get(), 3) < 0) ::_exit(127);
    const char* argv[] = {"dovetail", "writer", "--channel-fd", fd_arg.c_str(),
                          config_path.empty() ? nullptr : "-c", config_path.c_str(), nullptr};
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

}  // namespace

const char* describe(PrivilegeMode mode) {
  switch (mode) {
    case PrivilegeMode::kUnprivileged: return "unprivileged (delivering as this user)";
    case PrivilegeMode::kSingleUid: return "single uid (service lmtp user)";
    case PrivilegeMode::kWriterProcess: return "privilege-separated (network process + privileged writer)";
  }
  return "?";
}

base::Result<PrivilegeSetup> enter_privilege_mode(const config::Settings& s, const std::string& config_path) {
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
    if (auto st = drop_privileges(*who); !st) return base::fail(st.error());
    out.mode = PrivilegeMode::kSingleUid;
    out.network_user = who->name;
    return out;
  }

  auto pair = make_channel_pair();
  if (!pair) return base::fail(pair.error());
  auto pid = spawn_writer(std::move(pair->second), config_path);
  if (!pid) return base::fail(pid.error());
  out.writer_pid = *pid;
  // Serve only once the writer has loaded the config and built its userdb: a writer that
  // cannot start is a start-up error here, not a stream of 451s later.
  if (auto ready = wait_until_ready(pair->first.get()); !ready) return base::fail(ready.error());

  auto who = lookup_system_user(s.default_internal_user);
  if (!who) who = lookup_system_user("nobody");
  if (!who) return base::fail(base::Error::config("default_internal_user " + s.default_internal_user + ": " + who.error().message));
  if (auto st = drop_privileges(*who); !st) return base::fail(st.error());
  out.mode = PrivilegeMode::kWriterProcess;
  out.network_user = who->name;
  out.writer = std::make_shared<WriterClient>(std::move(pair->first));
  return out;
}

}  // namespace dovetail::privsep
