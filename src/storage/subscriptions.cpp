#include "storage/subscriptions.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <thread>

namespace dovetail::storage {

namespace {

constexpr const char* kFile = "subscriptions";
constexpr const char* kLock = "subscriptions.lock";
constexpr int kLockAttempts = 200;      // x 10 ms
constexpr time_t kStaleLockSecs = 30;

base::Unexpected<SaveError> fail_errno(int neg, const std::string& what) {
  return base::Unexpected<SaveError>(classify_errno(-neg, what));
}

// Whole file, or empty when missing.
base::Expected<std::string, SaveError> read_all(Fs& fs, int dir, const std::string& what) {
  int fd = fs.open_at(dir, kFile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd == -ENOENT) return std::string();
  if (fd < 0) return fail_errno(fd, "open(" + what + ")");
  FsFd file(fs, fd);
  std::string out;
  char buf[8192];
  for (;;) {
    int64_t n = fs.pread(fd, buf, sizeof buf, out.size());
    if (n < 0) return fail_errno(static_cast<int>(n), "read(" + what + ")");
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

bool lists(std::string_view content, std::string_view name) {
  size_t pos = 0;
  while (pos < content.size()) {
    auto nl = content.find('\n', pos);
    auto line = content.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (line == name) return true;
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return false;
}

}  // namespace

base::Expected<void, SaveError> add_subscription(Fs& fs, int control_dir, const std::string& control_path,
                                                 std::string_view name, const Perms& perms) {
  const std::string what = control_path + "/" + kFile;
  const std::string lock_what = control_path + "/" + kLock;
  int lock_fd = -1;
  for (int attempt = 0; attempt < kLockAttempts; ++attempt) {
    lock_fd = fs.open_at(control_dir, kLock, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                         perms.file_mode);
    if (lock_fd != -EEXIST) break;
    int old = fs.open_at(control_dir, kLock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (old >= 0) {
      struct stat st {};
      bool stale = fs.fstat(old, &st) == 0 && st.st_mtime + kStaleLockSecs < ::time(nullptr);
      fs.close(old);
      if (stale) {
        fs.unlink_at(control_dir, kLock);
        continue;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (lock_fd < 0) return fail_errno(lock_fd == -EEXIST ? -ETIMEDOUT : lock_fd, "lock(" + lock_what + ")");
  FsFd lock(fs, lock_fd);
  auto abandon = [&](base::Unexpected<SaveError> err) {
    lock.reset();
    fs.unlink_at(control_dir, kLock);
    return err;
  };
  auto current = read_all(fs, control_dir, what);
  if (!current) return abandon(base::Unexpected<SaveError>(current.error()));
  if (lists(*current, name)) {
    lock.reset();
    fs.unlink_at(control_dir, kLock);
    return {};
  }
  std::string content = current->empty() ? std::string("V\t2\n\n") : *current;
  if (!content.empty() && content.back() != '\n') content += '\n';
  content += name;
  content += '\n';
  if (perms.chown) {
    if (int c = fs.fchown(lock_fd, perms.uid, perms.gid); c < 0) return abandon(fail_errno(c, "fchown(" + lock_what + ")"));
  }
  if (int m = apply_file_mode(fs, lock_fd, perms); m < 0) return abandon(fail_errno(m, "chmod(" + lock_what + ")"));
  size_t off = 0;
  while (off < content.size()) {
    int64_t n = fs.write(lock_fd, content.data() + off, content.size() - off);
    if (n < 0) return abandon(fail_errno(static_cast<int>(n), "write(" + lock_what + ")"));
    off += static_cast<size_t>(n);
  }
  if (perms.sync_dirs) {
    if (int s = fs.fsync(lock_fd); s < 0) return abandon(fail_errno(s, "fsync(" + lock_what + ")"));
  }
  if (int r = fs.rename_at(control_dir, kLock, control_dir, kFile); r < 0) {
    return abandon(fail_errno(r, "rename(" + lock_what + ")"));
  }
  return {};
}

}  // namespace dovetail::storage
