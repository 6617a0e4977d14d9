// maildir_writer.hpp — durable delivery of one message into Maildirs that Dovecot reads.
//
// Purpose: THE write path. save() takes (body, prepended header block, user target, mailbox)
// and is the single function that will move unchanged into the privileged helper process
// (issue 5); save_batch() is the same for N recipients of one message: the first copy is
// written, the others are hard-linked into their own new/ with their own unique names when
// they belong to the same uid/gid/mode and filesystem (else they get their own write).
// With CopyMode::kWriteEach (maildir_copy_with_hardlinks = no) every copy is written.
// Steps per copy (COMPAT.md item 9): create `tmp/<base>` with O_EXCL, write headers + body
// (copy_file_range/pread for a file-backed body: a big body never sits in RAM), fsync it
// (mail_fsync != never), rename to `new/<base>,S=<size>,W=<vsize>`, fsync new/ (!= never);
// only then is the target reported Saved. A delivery into kSharedSyncMinDirs or more new/
// directories on one filesystem replaces their fsyncs by one SharedSync (same guarantee;
// decision 0009). Missing Maildir directories (the root, cur/new/tmp, a folder with
// `maildirfolder`) are created on first delivery; the hot path does no directory scans and
// creates/deletes no extra files.
// Folders: MailboxRequest::name goes through resolve_folder() (invalid names → INBOX); a
// folder that does not exist is handled per MissingMailbox: Dovecot falls back to INBOX
// unless lda_mailbox_autocreate (verified against Dovecot 2.3.19: with the default
// lda_mailbox_autocreate=no, `user+Lists` is saved to INBOX and no `.Lists` is made).
// Error contract: per target a SaveError (storage/save_error.hpp); on any failure nothing
// is visible in new/ for that target and its tmp file is removed. No exceptions.
// Threading: a MaildirWriter is immutable after construction and may be shared by threads.
// Security: runs as root or as the target user. As root every created file and directory is
// fchown()ed to the target uid/gid and uid 0 is refused; as non-root, uid/gid must be the
// process's own. Below the mail root no symlink is followed (O_NOFOLLOW on each level).
#pragma once

#include <sys/types.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.hpp"
#include "base/result.hpp"
#include "mail/spool.hpp"
#include "storage/body.hpp"
#include "storage/fs.hpp"
#include "storage/mail_location.hpp"
#include "storage/recent_dirs.hpp"
#include "storage/save_error.hpp"
#include "storage/shared_sync.hpp"

namespace dovetail::storage {

enum class FsyncMode { kOptimized, kAlways, kNever };  // the mail_fsync setting

// maildir_copy_with_hardlinks: yes = kHardLink (Dovecot's default), no = kWriteEach.
enum class CopyMode { kHardLink, kWriteEach };

[[nodiscard]] base::Result<FsyncMode> parse_fsync_mode(std::string_view setting);

struct UserTarget {
  std::string user;  // for logs
  uid_t uid = 0;
  gid_t gid = 0;
  MailLocation location;
};

enum class MissingMailbox {
  kUseInbox,            // lda_mailbox_autocreate = no (Dovecot's default)
  kCreate,              // lda_mailbox_autocreate = yes
  kCreateAndSubscribe,  // ... and lda_mailbox_autosubscribe = yes
  kFail,                // report kMailboxNotFound (e.g. Sieve fileinto without :create)
};

struct MailboxRequest {
  std::string name;  // UTF-8 vname; "" or any case of INBOX = INBOX
  MissingMailbox if_missing = MissingMailbox::kUseInbox;
};

struct SaveTarget {
  const UserTarget* user = nullptr;
  MailboxRequest mailbox;
};

struct Saved {
  std::string mailbox;      // vname actually used: "INBOX" or the folder name
  std::string path;         // full path of the file in new/
  bool hard_link = false;   // linked to an earlier copy of this batch
  bool created_mailbox = false;
  std::string warning;      // e.g. autosubscribe failed; empty when none (log it)
};

using SaveResult = base::Expected<Saved, SaveError>;

// Who makes new files and directories the user's. kChownIfRoot: a root caller fchown()s each
// one (it created them as root). kCreatedAsOwner: the caller already acts as the user on
// the filesystem (the privileged writer's per-thread fsuid/fsgid), so the kernel made them
// the user's, in the user's group or a setgid directory's, as Dovecot's own files are.
enum class Ownership { kChownIfRoot, kCreatedAsOwner };

class MaildirWriter {
 public:
  explicit MaildirWriter(FsyncMode mode, Fs& fs = real_fs(), CopyMode copies = CopyMode::kHardLink,
                         SharedSync& shared_sync = SharedSync::process())
      : mode_(mode), copies_(copies), fs_(&fs), shared_sync_(&shared_sync) {}

  // From this many new/ directories on one filesystem, one delivery's links are made durable
  // by a shared filesystem sync instead of one fsync per directory (decision 0009).
  static constexpr size_t kSharedSyncMinDirs = 3;

  // `headers` are prepended verbatim (stored form: LF line endings).
  [[nodiscard]] SaveResult save(const mail::Spool& spool, std::string_view headers,
                                const UserTarget& user, const MailboxRequest& mailbox) const {
    return save(body_of(spool), headers, user, mailbox);
  }
  [[nodiscard]] SaveResult save(const Body& body, std::string_view headers, const UserTarget& user,
                                const MailboxRequest& mailbox) const;
  // One result per target, in order.
  [[nodiscard]] std::vector<SaveResult> save_batch(const Body& body, std::string_view headers,
                                                   std::span<const SaveTarget> targets) const;

  MaildirWriter& set_ownership(Ownership ownership) {
    ownership_ = ownership;
    return *this;
  }

  // Reuse INBOX new/ directories opened in the last second (storage/recent_dirs.hpp). Off
  // by default: a process that delivers once (the LDA) has nothing to reuse.
  MaildirWriter& set_recent_dirs(RecentDirs& recent) {
    recent_ = &recent;
    return *this;
  }

 private:
  FsyncMode mode_;
  Ownership ownership_ = Ownership::kChownIfRoot;
  CopyMode copies_;
  Fs* fs_;
  SharedSync* shared_sync_;
  RecentDirs* recent_ = nullptr;
};

}  // namespace dovetail::storage
