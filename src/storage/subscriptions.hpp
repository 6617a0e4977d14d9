// subscriptions.hpp — adding a name to Dovecot 2.3's `subscriptions` file.
//
// Format (as `doveadm mailbox subscribe` writes it): the header line "V\t2", an empty line,
// then one mailbox per line, mUTF-7 encoded, hierarchy levels separated by '\t'.
// Concurrency: the same dotlock Dovecot uses — create `subscriptions.lock` with O_EXCL,
// write the whole new content into it, fsync, rename it over `subscriptions`; a lock older
// than 30 s is considered stale and replaced. Readers therefore never see a half file.
// Depends on: storage/fs, storage/maildir_dirs (Perms). Error contract: SaveError; callers
// treat a failed subscribe as a warning (Dovecot ignores it too: the mail is saved).
// Threading: safe across processes via the lock file.
#pragma once

#include <string>
#include <string_view>

#include "storage/maildir_dirs.hpp"

namespace dovetail::storage {

// No-op when `name` is already listed.
base::Expected<void, SaveError> add_subscription(Fs& fs, int control_dir, const std::string& control_path,
                                                 std::string_view name, const Perms& perms);

}  // namespace dovetail::storage
