// process_setup.hpp — choosing and entering the daemon's privilege mode after listeners are
// bound (docs/decisions/0003-privilege-separation.md):
//   * not root                       → deliver as ourselves (nothing to do);
//   * root, service lmtp { user = X } → drop to X for good (single-uid mode);
//   * root, no service user          → start the privileged writer (`dovetail writer`, a fresh
//     exec of this binary holding one end of 1 + delivery_channels SEQPACKET socketpairs as
//     fds 3, 4, ...: the control channel, then one per delivery in flight), then drop to
//     default_internal_user (falling back to `nobody`).
// Error contract: any failure is fatal for start-up (the caller exits non-zero).
// Threading: call before the event threads start serving. The writer is started with
// fork+exec and nothing but dup2/exec in between, so it is safe even with threads running.
#pragma once

#include <memory>
#include <string>

#include "base/result.hpp"
#include "config/settings.hpp"
#include "privsep/credentials.hpp"
#include "privsep/writer_client.hpp"

namespace dovetail::privsep {

enum class PrivilegeMode { kUnprivileged, kSingleUid, kWriterProcess };

struct PrivilegeSetup {
  PrivilegeMode mode = PrivilegeMode::kUnprivileged;
  std::string network_user;               // who the network process is now
  std::shared_ptr<WriterClient> writer;   // set in kWriterProcess mode
  int writer_pid = -1;
  // Where the network process spools message bodies: mail_temp_dir when it may write there,
  // else a private `<mail_temp_dir>/dovetail-spool.<user>` (0700) made for it before the drop.
  std::string spool_dir;
};

// config_path "" = the embedded default (the writer loads the same one). config_digest: what
// the daemon read (config::Config::digest()); the writer refuses to start on other bytes.
// delivery_channels: how many deliveries may be in the writer at once (the daemon passes its
// blocking-pool size).
[[nodiscard]] base::Result<PrivilegeSetup> enter_privilege_mode(const config::Settings& lmtp_settings,
                                                                const std::string& config_path,
                                                                const std::string& config_digest,
                                                                unsigned delivery_channels = 64);

const char* describe(PrivilegeMode mode);

// Where `who` will spool bodies (see PrivilegeSetup::spool_dir); runs as root before the drop.
// Security: mail_temp_dir may be writable by others (/tmp): the private directory is
// opened O_NOFOLLOW and changed through its descriptor (fchown/fchmod), so swapping a symlink
// in under the name cannot redirect the chown. Exposed for tests.
[[nodiscard]] base::Result<std::string> spool_dir_for(const config::Settings& s, const Identity& who);

}  // namespace dovetail::privsep
