#include "storage/shared_sync.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace dovetail::storage {

SharedSync::~SharedSync() {
  for (auto& [dev, d] : devices_)
    if (d.keeper >= 0) ::close(d.keeper);
}

SharedSync& SharedSync::process() {
  // Never destroyed: writer threads may still sync while static destructors run at exit.
  static SharedSync* instance = new SharedSync();
  return *instance;
}

uint64_t SharedSync::syncs_run() const {
  std::lock_guard lock(mutex_);
  return syncs_run_;
}

int SharedSync::sync(Fs& fs, int dir_fd, dev_t dev) {
  std::unique_lock lock(mutex_);
  Device& d = devices_[dev];
  if (d.keeper < 0) {
    d.keeper = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    if (d.keeper < 0) return -errno;
  }
  // A sync already running may have passed our links: only one that starts later counts.
  const uint64_t need = d.started + 1;
  while (d.done < need) {
    if (d.running) {
      finished_.wait(lock);
      continue;
    }
    d.running = true;
    const uint64_t mine = ++d.started;
    const int keeper = d.keeper;
    lock.unlock();
    int r = fs.syncfs(keeper);
    if (r == 0) r = fs.fsync(keeper);  // the flush after syncfs's own metadata writes
    lock.lock();
    ++syncs_run_;
    d.running = false;
    d.done = mine;
    if (r < 0) {
      d.last_failed = mine;
      d.last_error = r;
    }
    finished_.notify_all();
  }
  // Any failure since our call may have been the write of our blocks: report it.
  return d.last_failed >= need ? d.last_error : 0;
}

}  // namespace dovetail::storage
