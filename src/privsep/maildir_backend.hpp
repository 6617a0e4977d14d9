// maildir_backend.hpp — what the privileged writer does with one DeliverRequest.
//
// Purpose: for each target, resolve the user BY NAME with the writer's own userdb (the
// network process never chooses uid, gid or path), check first_valid_uid & co. (in
// deliver::Engine::resolve), then write under that user's filesystem identity
// (ScopedFsIdentity) with storage::MaildirWriter — hard links within one uid/gid group.
// Error contract: one TargetResult per target; unknown users are kPermFail, anything else
// unclassified kTempFail. Threading: thread-safe (the engine and writer are).
// Security: a user name with '/', a control byte or a "." / ".." part between '@'s is
// refused before any lookup: a userdb that accepts any name (static with allow_all_users)
// would otherwise expand it into mail_location's %u/%n/%d and walk out of the mail root.
// Folder names are validated by storage (hostile names → INBOX); the kernel enforces the
// user's own permissions on every path.
#pragma once

#include <memory>
#include <mutex>
#include <string_view>

#include "deliver/engine.hpp"
#include "privsep/writer_service.hpp"
#include "storage/maildir_writer.hpp"

namespace dovetail::privsep {

class MaildirBackend : public WriterBackend {
 public:
  MaildirBackend(std::shared_ptr<const deliver::Engine> resolver, storage::FsyncMode fsync);
  DeliverReply deliver(const DeliverRequest& request, int body_fd) override;
  // A reloaded config: later deliveries resolve and write with these; running ones finish
  // with the snapshot they took.
  void replace(std::shared_ptr<const deliver::Engine> resolver, storage::FsyncMode fsync);

 private:
  mutable std::mutex mutex_;  // guards the two members below (a snapshot per delivery)
  std::shared_ptr<const deliver::Engine> resolver_;
  storage::FsyncMode fsync_;
};

// Whether the writer accepts `user` as a lookup key at all (see Security above).
[[nodiscard]] bool acceptable_user_name(std::string_view user);

}  // namespace dovetail::privsep
