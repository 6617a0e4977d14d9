// recent_dirs.hpp — INBOX new/ directories opened in the last second, kept open for reuse.
//
// Purpose: the hot path opened the same few new/ directories again for every delivery: a
// stat(2) of the Maildir root (its modes are the new file's) and an open(2) of root/new, two
// walks of a 6–8 component path and a close(2). Under r10 (16 sessions × 10 recipients)
// those three calls were 14 % of the privileged writer's CPU (perf, 2026-12-04), more than
// the hard link itself. A hit here costs one fstat(2) of the kept descriptor instead.
// What a hit may miss, and why that is acceptable: an entry lives at most kLifetime. A
// Maildir removed in that time is noticed (its new/ has no links left: the entry is dropped
// and the path walked again); a Maildir *renamed* in that second still receives into the
// renamed directory, and a changed mode of the root applies up to a second late. Both are
// the window any delivery has between its open and its link, widened to one second — the
// same second in which the passwd-file userdb may still answer from its cached copy.
// Keys hold the uid/gid the directory was opened as: one user's entry never serves another.
// Depends on: storage/fs.hpp, std. Threading: all members are thread-safe; a returned
// descriptor stays open while its holder keeps the shared_ptr, even after eviction.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "storage/fs.hpp"

namespace dovetail::storage {

class RecentDirs {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr Clock::duration kLifetime = std::chrono::seconds(1);
  // Kept descriptors are bounded: expired entries are swept by the first put() of each
  // lifetime, so what stays open is the Maildirs delivered to in the last second or two,
  // and never more than this many.
  static constexpr size_t kMaxEntries = 256;

  struct Dir {
    std::shared_ptr<const FsFd> neu;  // root/new, open O_RDONLY | O_DIRECTORY
    struct stat root {};              // the Maildir root as stat'ed when new/ was opened
  };

  explicit RecentDirs(Fs& fs) : fs_(&fs) {}
  RecentDirs(const RecentDirs&) = delete;
  RecentDirs& operator=(const RecentDirs&) = delete;

  // The entry for `root` opened as uid/gid, if it is younger than kLifetime and its new/
  // still exists (one fstat). nullopt: walk the path and put() what was opened.
  std::optional<Dir> find(const std::string& root, uid_t uid, gid_t gid, Clock::time_point now);
  void put(const std::string& root, uid_t uid, gid_t gid, Dir dir, Clock::time_point now);

  size_t size() const;

  // The one the privileged writer and the daemon's in-process writer share.
  static RecentDirs& process();

 private:
  struct Slot {
    Dir dir;
    Clock::time_point opened;
  };
  static std::string key(const std::string& root, uid_t uid, gid_t gid);

  Fs* fs_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Slot> slots_;
  Clock::time_point last_sweep_{};
};

}  // namespace dovetail::storage
