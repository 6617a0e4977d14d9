// shared_sync.hpp — one filesystem-wide sync shared by the deliveries waiting for it.
//
// Purpose: a message for many recipients is linked into many new/ directories, and each
// directory's fsync is its own chain of waits (the directory block, its inode, a cache
// flush: ~3 context switches, ~10 µs each on these guests). Past a few directories one
// syncfs(2) of the whole filesystem costs less, and concurrent deliveries can share it: a
// caller waits for a sync that *started after it called* (its links are then covered) and
// either runs it itself or sleeps while another caller runs it (decision 0009).
// One sync = syncfs(fd) then fsync(fd) on a directory kept open per filesystem. The fsync
// is for the cache flush: on journal-less ext4 syncfs flushes the device *before* it
// writes the metadata blocks (inode tables, directory blocks), so without a later flush
// those sit in the disk's volatile cache; any fsync there ends with a flush. Journaled
// filesystems (ext4, XFS, btrfs) commit with a flush inside syncfs and the fsync is cheap.
// Errors: syncfs reports writeback errors seen on the filesystem since the kept fd's last
// sync (Linux ≥ 5.8); a caller gets a failure if ANY sync between its call and its return
// failed — it then falls back to its own per-directory fsyncs, which name the culprit.
// The kept descriptor (a dup of the first caller's directory fd, one per st_dev) lives as
// long as the SharedSync: the process-wide one keeps the mail filesystem busy for umount
// while Dovetail runs, as Dovecot's open index files do.
// Depends on: storage/fs.hpp, std. Threading: all members are thread-safe.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>

#include "storage/fs.hpp"

namespace dovetail::storage {

class SharedSync {
 public:
  SharedSync() = default;
  ~SharedSync();
  SharedSync(const SharedSync&) = delete;
  SharedSync& operator=(const SharedSync&) = delete;

  // Makes everything written on dir_fd's filesystem (st_dev `dev`) before this call durable.
  // 0, or -errno of a failed sync. fs runs the syscalls when this caller leads the sync.
  int sync(Fs& fs, int dir_fd, dev_t dev);

  // Syncs actually run (not calls): tests and the benchmark notes read it.
  uint64_t syncs_run() const;

  // The one the Maildir writer uses unless given another.
  static SharedSync& process();

 private:
  struct Device {
    int keeper = -1;            // dup of the first directory fd seen on this filesystem
    uint64_t started = 0;       // syncs begun
    uint64_t done = 0;          // syncs finished (they run one at a time, in order)
    uint64_t last_failed = 0;   // the latest finished sync that failed (0: none)
    int last_error = 0;
    bool running = false;
  };
  mutable std::mutex mutex_;
  std::condition_variable finished_;
  std::map<dev_t, Device> devices_;
  uint64_t syncs_run_ = 0;
};

}  // namespace dovetail::storage
