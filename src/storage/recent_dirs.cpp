#include "storage/recent_dirs.hpp"

#include <vector>

namespace dovetail::storage {

std::string RecentDirs::key(const std::string& root, uid_t uid, gid_t gid) {
  std::string k = std::to_string(uid);
  k += ':';
  k += std::to_string(gid);
  k += ':';
  k += root;
  return k;
}

std::optional<RecentDirs::Dir> RecentDirs::find(const std::string& root, uid_t uid, gid_t gid,
                                                Clock::time_point now) {
  const std::string k = key(root, uid, gid);
  Dir dir;
  {
    std::lock_guard lock(mutex_);
    auto it = slots_.find(k);
    if (it == slots_.end()) return std::nullopt;
    dir = it->second.dir;
    if (now - it->second.opened >= kLifetime) {
      slots_.erase(it);  // `dir` closes new/ after the lock, unless a delivery still holds it
      return std::nullopt;
    }
  }
  // A removed directory keeps no links: its descriptor must not take mail.
  struct stat st {};
  if (fs_->fstat(dir.neu->get(), &st) != 0 || st.st_nlink == 0) {
    std::lock_guard lock(mutex_);
    auto it = slots_.find(k);
    if (it != slots_.end() && it->second.dir.neu == dir.neu) slots_.erase(it);
    return std::nullopt;
  }
  return dir;
}

void RecentDirs::put(const std::string& root, uid_t uid, gid_t gid, Dir dir, Clock::time_point now) {
  std::vector<Slot> dropped;  // closed after the lock is released
  std::lock_guard lock(mutex_);
  if (slots_.size() >= kMaxEntries || now - last_sweep_ >= kLifetime) {
    last_sweep_ = now;
    for (auto it = slots_.begin(); it != slots_.end();) {
      if (now - it->second.opened >= kLifetime) {
        dropped.push_back(std::move(it->second));
        it = slots_.erase(it);
      } else {
        ++it;
      }
    }
    if (slots_.size() >= kMaxEntries) return;  // all young: this one is simply not kept
  }
  auto [it, fresh] = slots_.try_emplace(key(root, uid, gid));
  if (!fresh) dropped.push_back(std::move(it->second));  // a replaced entry, too, closes outside
  it->second = Slot{std::move(dir), now};
}

size_t RecentDirs::size() const {
  std::lock_guard lock(mutex_);
  return slots_.size();
}

RecentDirs& RecentDirs::process() {
  static RecentDirs* dirs = new RecentDirs(real_fs());  // never destroyed: threads may save at exit
  return *dirs;
}

}  // namespace dovetail::storage
