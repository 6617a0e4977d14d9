// writer_service.hpp — the privileged writer process's main loop.
//
// Purpose: the small process that keeps the right to write as any mail user. It serves a
// fixed set of channels (SEQPACKET sockets it was started with; it never accepts new ones):
// one thread per channel reads a DeliverRequest, runs it through a WriterBackend (which
// resolves the user ITSELF and writes under that user's fs credentials) and sends the
// DeliverReply on the same channel. One request is in flight per channel, so the network
// process's delivery thread that sent it is the only reader of the reply: no queue, no
// dispatcher thread on either side — two wake-ups per delivery, the minimum across a process
// boundary. It does nothing else: no network, no parsing beyond wire.hpp.
// Error contract: the first malformed frame on any channel shuts every channel down and the
// service returns non-zero: the network process sees the writer gone (451s, then exit 69).
// Threading: one thread per channel (the caller's thread only waits for them).
// Security: see docs/decisions/0003-privilege-separation.md.
#pragma once

#include <vector>

#include "base/unique_fd.hpp"
#include "privsep/wire.hpp"

namespace dovetail::privsep {

class WriterBackend {
 public:
  virtual ~WriterBackend() = default;
  // Thread-safe. body_fd is -1 when the body is inline in the request.
  virtual DeliverReply deliver(const DeliverRequest& request, int body_fd) = 0;
  // A kReload frame arrived (the daemon reloaded its config): re-read ours. The daemon sends
  // the frame on every channel; the first channel thread to see the n-th reload frame does it
  // (serialised), the others only wait for it, so a request sent on any channel after the
  // frame is served with the result. Deliveries already running finish with the old config.
  // Keeps the old config when the new one fails, or when the file does not hash to
  // config_digest (what the daemon read; "" = take whatever is there). May run beside
  // deliver() (thread-safe).
  virtual void reload(const std::string& config_digest) { (void)config_digest; }
};

// channels[0] gets the kReady frame. Returns 0 when the peer closed the channels in order,
// 1 on a protocol violation (or a channel error).
int run_writer_service(std::vector<base::UniqueFd> channels, WriterBackend& backend);

}  // namespace dovetail::privsep
