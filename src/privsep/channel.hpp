// channel.hpp — one SOCK_SEQPACKET socketpair end carrying wire.hpp frames plus an optional fd.
//
// Purpose: SEQPACKET keeps record boundaries, so a frame and the descriptor sent with it
// (SCM_RIGHTS) arrive together or not at all; a truncated record (MSG_TRUNC), more than one
// descriptor, or a descriptor that is not a regular file is an error. Blocking I/O: used by
// the writer process and by the network process's delivery threads, never on an event thread
// (which uses try_recv_frame). Blocking even on a non-blocking socket (it then waits in poll()).
// Depends on: base. Threading: any thread; a record is sent and received whole, so several
// senders on one socket need no lock (each reader gets whole records).
// Security: received descriptors are checked with fstat (S_ISREG) and opened O_CLOEXEC.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace dovetail::privsep {

struct Received {
  std::string frame;
  base::UniqueFd fd;  // invalid when none was attached
};

// A connected SOCK_SEQPACKET pair, both ends close-on-exec.
[[nodiscard]] base::Result<std::pair<base::UniqueFd, base::UniqueFd>> make_channel_pair();

// Sends one frame, attaching `fd` when >= 0.
[[nodiscard]] base::Status send_frame(int sock, std::string_view frame, int fd = -1);

// Receives one frame. An orderly shutdown by the peer is an error of kind kNotFound.
[[nodiscard]] base::Result<Received> recv_frame(int sock);

// recv_frame() that never waits: nullopt when no frame has arrived yet. For an event thread
// woken by the socket's readiness, which may be stale: reading is the only true test.
[[nodiscard]] base::Result<std::optional<Received>> try_recv_frame(int sock);

}  // namespace dovetail::privsep
