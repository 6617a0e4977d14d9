// fs.hpp — the filesystem seam: every syscall the Maildir writer makes goes through `Fs`.
//
// Purpose: the writer is tested against real files, and fault injection (ENOSPC, EDQUOT, EIO
// on fsync, a failed rename/link/mkdir...) wraps RealFs in a test double without touching
// the writer. Calls are *at-style (relative to an open directory fd) so the writer can walk
// a user's Maildir with O_NOFOLLOW and never be redirected by a planted symlink.
// Depends on: std, POSIX. Error contract: kernel style — a result >= 0 is success, a negative
// value is -errno. No exceptions, no logging.
// Threading: RealFs is stateless and may be shared by threads; test doubles decide themselves.
// Security: none by itself; callers pass O_NOFOLLOW / O_EXCL where it matters.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace dovetail::storage {

class Fs {
 public:
  virtual ~Fs() = default;
  virtual int open_at(int dir_fd, const char* path, int flags, mode_t mode) = 0;  // fd or -errno
  virtual int mkdir_at(int dir_fd, const char* path, mode_t mode) = 0;
  virtual int rename_at(int old_dir, const char* old_path, int new_dir, const char* new_path) = 0;
  virtual int link_at(int old_dir, const char* old_path, int new_dir, const char* new_path) = 0;
  // Names an anonymous file (open_at with O_TMPFILE) new_path in new_dir.
  virtual int link_file(int fd, int new_dir, const char* new_path) = 0;
  virtual int unlink_at(int dir_fd, const char* path) = 0;
  virtual int64_t write(int fd, const void* data, size_t len) = 0;  // bytes or -errno
  virtual int64_t pread(int fd, void* out, size_t len, uint64_t offset) = 0;
  // copy_file_range from in_fd at in_offset to out_fd's current position.
  virtual int64_t copy_range(int in_fd, uint64_t in_offset, int out_fd, size_t len) = 0;
  virtual int fsync(int fd) = 0;
  // syncfs(2): writes back everything dirty on fd's filesystem (see shared_sync.hpp).
  virtual int syncfs(int fd) = 0;
  virtual int fchown(int fd, uid_t uid, gid_t gid) = 0;
  virtual int fchmod(int fd, mode_t mode) = 0;
  virtual int fstat(int fd, struct stat* out) = 0;
  // fstatat(2) following symlinks, as open_at without O_NOFOLLOW does. 0 or -errno.
  virtual int stat_at(int dir_fd, const char* path, struct stat* out) = 0;
  virtual int close(int fd) = 0;
  // The type of fd's filesystem (fstatfs f_type, e.g. EXT4_SUPER_MAGIC) or -errno.
  virtual int64_t fs_type(int fd) = 0;
  // Turns O_DIRECT on or off for an open file (fcntl F_SETFL); -EINVAL where unsupported.
  virtual int set_direct_io(int fd, bool on) = 0;
};

// Plain syscalls, EINTR retried.
class RealFs final : public Fs {
 public:
  int open_at(int dir_fd, const char* path, int flags, mode_t mode) override;
  int mkdir_at(int dir_fd, const char* path, mode_t mode) override;
  int rename_at(int old_dir, const char* old_path, int new_dir, const char* new_path) override;
  int link_at(int old_dir, const char* old_path, int new_dir, const char* new_path) override;
  int link_file(int fd, int new_dir, const char* new_path) override;
  int unlink_at(int dir_fd, const char* path) override;
  int64_t write(int fd, const void* data, size_t len) override;
  int64_t pread(int fd, void* out, size_t len, uint64_t offset) override;
  int64_t copy_range(int in_fd, uint64_t in_offset, int out_fd, size_t len) override;
  int fsync(int fd) override;
  int syncfs(int fd) override;
  int fchown(int fd, uid_t uid, gid_t gid) override;
  int fchmod(int fd, mode_t mode) override;
  int fstat(int fd, struct stat* out) override;
  int stat_at(int dir_fd, const char* path, struct stat* out) override;
  int close(int fd) override;
  int64_t fs_type(int fd) override;
  int set_direct_io(int fd, bool on) override;
};

// The process-wide RealFs.
Fs& real_fs();

// Owns an fd opened through an Fs and closes it through the same Fs.
class FsFd {
 public:
  FsFd() = default;
  FsFd(Fs& fs, int fd) : fs_(&fs), fd_(fd) {}
  FsFd(const FsFd&) = delete;
  FsFd& operator=(const FsFd&) = delete;
  FsFd(FsFd&& o) noexcept : fs_(o.fs_), fd_(o.fd_) { o.fd_ = -1; }
  FsFd& operator=(FsFd&& o) noexcept {
    if (this != &o) {
      reset();
      fs_ = o.fs_;
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  ~FsFd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset() {
    if (fd_ >= 0 && fs_ != nullptr) fs_->close(fd_);
    fd_ = -1;
  }

 private:
  Fs* fs_ = nullptr;
  int fd_ = -1;
};

}  // namespace dovetail::storage
