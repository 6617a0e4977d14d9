// maildir_backend.hpp — what the privileged writer does with one DeliverRequest.
//
// Purpose: for each target, resolve the user BY NAME with the writer's own userdb (the
// network process never chooses uid, gid or path), check first_valid_uid & co. (in
// deliver::Engine::resolve), then write under that user's filesystem identity
// (ScopedFsIdentity) with storage::MaildirWriter — hard links within one uid/gid group.
// Error contract: one TargetResult per target; unknown users are kPermFail, anything else
// unclassified kTempFail. Threading: thread-safe (the engine and writer are).
// Security: folder names are validated by storage (hostile names → INBOX); the kernel
// enforces the user's own permissions on every path.
#pragma once

#include <memory>

#include "deliver/engine.hpp"
#include "privsep/writer_service.hpp"
#include "storage/maildir_writer.hpp"

namespace dovetail::privsep {

class MaildirBackend : public WriterBackend {
 public:
  MaildirBackend(std::shared_ptr<const deliver::Engine> resolver, storage::FsyncMode fsync);
  DeliverReply deliver(const DeliverRequest& request, int body_fd) override;

 private:
  std::shared_ptr<const deliver::Engine> resolver_;
  storage::FsyncMode fsync_;
};

}  // namespace dovetail::privsep
