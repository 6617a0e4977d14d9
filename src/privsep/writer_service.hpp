// writer_service.hpp — the privileged writer process's main loop.
//
// Purpose: the small process that keeps the right to write as any mail user. It reads
// DeliverRequests from its channel, runs each on a worker thread through a WriterBackend
// (which resolves the user ITSELF and writes under that user's fs credentials), and sends
// the DeliverReply. It does nothing else: no network, no parsing beyond wire.hpp.
// Error contract: the first malformed frame ends the loop (returns non-zero): the channel is
// dead and the network process fails its pending deliveries with 451.
// Threading: one reader (the caller's thread) + `threads` workers.
// Security: see docs/decisions/0003-privilege-separation.md.
#pragma once

#include "base/unique_fd.hpp"
#include "privsep/wire.hpp"

namespace dovetail::privsep {

class WriterBackend {
 public:
  virtual ~WriterBackend() = default;
  // Thread-safe. body_fd is -1 when the body is inline in the request.
  virtual DeliverReply deliver(const DeliverRequest& request, int body_fd) = 0;
  // A kReload frame arrived (the daemon reloaded its config): re-read ours. Called on the
  // reader thread between two requests, so later requests see the result; deliveries already
  // running finish with the old config. Keeps the old config when the new one fails.
  virtual void reload() {}
};

// Returns 0 when the peer closed the channel in order, 1 on a protocol violation.
int run_writer_service(base::UniqueFd sock, WriterBackend& backend, unsigned threads);

}  // namespace dovetail::privsep
