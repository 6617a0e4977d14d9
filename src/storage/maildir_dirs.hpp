// maildir_dirs.hpp — opening (and on first use creating) the directories of one Maildir.
//
// Purpose: the writer's directory work, kept apart so the save path reads as a list of steps.
// Everything goes through Fs; below the configured mail root each level is opened with
// O_NOFOLLOW, so a symlink planted inside a user's Maildir cannot redirect a root-run writer.
// Created directories get Perms::dir_mode and, when Perms::chown, the user's uid/gid; the
// parent is fsynced after a mkdir (unless mail_fsync=never) so a new folder is durable too.
// Depends on: storage/fs, storage/save_error. Error contract: SaveError via classify_errno;
// a missing level is reported with sys_errno == ENOENT and no side effects.
// Threading: stateless functions. Security: see above; paths come from resolve_folder().
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/expected.hpp"
#include "storage/fs.hpp"
#include "storage/save_error.hpp"

namespace dovetail::storage {

struct Perms {
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t dir_mode = 0700;
  mode_t file_mode = 0600;
  gid_t creator_gid = 0;    // the group new entries get outside a setgid directory
  bool chown = false;       // process is root: fchown everything it creates to uid/gid
  bool sync_dirs = true;    // fsync a parent after creating an entry in it
};

using DirResult = base::Expected<FsFd, SaveError>;

// Gives a file just created on `fd` exactly perms.file_mode, whatever the process umask
// took away (Dovecot's modes come from the mail root alone). -errno or 0. The private
// default (0600) costs no call: a umask leaves the owner's bits alone.
[[nodiscard]] int apply_file_mode(Fs& fs, int fd, const Perms& perms);

// Opens the absolute directory `path`, creating missing levels (mkdir -p). `created` tells
// whether the last level was created now.
DirResult open_or_create_path(Fs& fs, const std::string& path, const Perms& perms, bool* created);

// Opens `rel` ('/'-separated levels, none `..`) below `dir`, level by level with O_NOFOLLOW.
// With `create`, missing levels are made.
DirResult open_below(Fs& fs, int dir, std::string_view rel, const std::string& what,
                     const Perms& perms, bool create);

// Creates a file with O_EXCL (for `maildirfolder`); EEXIST is success.
base::Expected<void, SaveError> create_marker_file(Fs& fs, int dir, const char* name,
                                                   const std::string& what, const Perms& perms);

}  // namespace dovetail::storage
