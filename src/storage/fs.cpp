#include "storage/fs.hpp"

#include <fcntl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>

namespace dovetail::storage {

namespace {
template <class F>
auto retry(F f) -> decltype(f()) {
  for (;;) {
    auto r = f();
    if (r >= 0) return r;
    if (errno != EINTR) return -errno;
  }
}
}  // namespace

int RealFs::open_at(int dir_fd, const char* path, int flags, mode_t mode) {
  return retry([&] { return ::openat(dir_fd, path, flags, mode); });
}
int RealFs::mkdir_at(int dir_fd, const char* path, mode_t mode) {
  return retry([&] { return ::mkdirat(dir_fd, path, mode); });
}
int RealFs::rename_at(int old_dir, const char* old_path, int new_dir, const char* new_path) {
  return retry([&] { return ::renameat(old_dir, old_path, new_dir, new_path); });
}
int RealFs::link_at(int old_dir, const char* old_path, int new_dir, const char* new_path) {
  return retry([&] { return ::linkat(old_dir, old_path, new_dir, new_path, 0); });
}
int RealFs::link_file(int fd, int new_dir, const char* new_path) {
  // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH on kernels before 6.10; the /proc path does not.
  // A process refused once is refused every time (the privileged writer's capabilities are
  // fixed at its start), so after the /proc path worked it goes there first: one linkat per
  // delivery instead of two. Should /proc vanish, AT_EMPTY_PATH is tried again.
  static std::atomic<bool> proc_first{false};
  auto via_proc = [&] {
    char proc[32];
    std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    return retry([&] { return ::linkat(AT_FDCWD, proc, new_dir, new_path, AT_SYMLINK_FOLLOW); });
  };
  if (proc_first.load(std::memory_order_relaxed)) {
    int r = via_proc();
    if (r != -ENOENT) return r;
  }
  int r = retry([&] { return ::linkat(fd, "", new_dir, new_path, AT_EMPTY_PATH); });
  if (r != -ENOENT && r != -EPERM) return r;
  r = via_proc();
  if (r == 0) proc_first.store(true, std::memory_order_relaxed);
  return r;
}
int RealFs::unlink_at(int dir_fd, const char* path) {
  return retry([&] { return ::unlinkat(dir_fd, path, 0); });
}
int64_t RealFs::write(int fd, const void* data, size_t len) {
  return retry([&] { return static_cast<int64_t>(::write(fd, data, len)); });
}
int64_t RealFs::pread(int fd, void* out, size_t len, uint64_t offset) {
  return retry([&] { return static_cast<int64_t>(::pread(fd, out, len, static_cast<off_t>(offset))); });
}
int64_t RealFs::copy_range(int in_fd, uint64_t in_offset, int out_fd, size_t len) {
  return retry([&] {
    auto off = static_cast<off_t>(in_offset);
    return static_cast<int64_t>(::copy_file_range(in_fd, &off, out_fd, nullptr, len, 0));
  });
}
int RealFs::fsync(int fd) {
  return retry([&] { return ::fsync(fd); });
}
int RealFs::syncfs(int fd) {
  return retry([&] { return ::syncfs(fd); });
}

int RealFs::fchown(int fd, uid_t uid, gid_t gid) {
  return retry([&] { return ::fchown(fd, uid, gid); });
}
int RealFs::fchmod(int fd, mode_t mode) {
  return retry([&] { return ::fchmod(fd, mode); });
}
int RealFs::fstat(int fd, struct stat* out) {
  return retry([&] { return ::fstat(fd, out); });
}
int RealFs::stat_at(int dir_fd, const char* path, struct stat* out) {
  return retry([&] { return ::fstatat(dir_fd, path, out, 0); });
}
int RealFs::close(int fd) {
  // Why no EINTR retry: on Linux the fd is gone even when close() reports EINTR.
  return ::close(fd) == 0 ? 0 : -errno;
}

int64_t RealFs::fs_type(int fd) {
  struct statfs st {};
  if (int r = retry([&] { return ::fstatfs(fd, &st); }); r < 0) return r;
  return static_cast<int64_t>(st.f_type);
}

int RealFs::set_direct_io(int fd, bool on) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return -errno;
  flags = on ? (flags | O_DIRECT) : (flags & ~O_DIRECT);
  return ::fcntl(fd, F_SETFL, flags) == 0 ? 0 : -errno;
}

Fs& real_fs() {
  static RealFs fs;
  return fs;
}

}  // namespace dovetail::storage
