#include "mail/spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "mail/line_feeds.hpp"

namespace dovetail::mail {

Spool::Spool(uint64_t memory_limit, std::string temp_dir)
    : memory_limit_(memory_limit), temp_dir_(std::move(temp_dir)) {}

namespace {

base::Status write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return base::fail(base::Error::from_errno(errno, "spool write"));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

}  // namespace

base::Status Spool::spill() {
  // O_TMPFILE: the file never has a name, so nothing is left behind on a crash; fall back to
  // mkstemp + unlink where the filesystem lacks it (EOPNOTSUPP/EISDIR on old kernels).
  int fd = ::open(temp_dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
      return base::fail(base::Error::from_errno(errno, "spool open " + temp_dir_));
    std::string tmpl = temp_dir_ + "/dovetail-spool.XXXXXX";
    fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0) return base::fail(base::Error::from_errno(errno, "spool mkstemp " + temp_dir_));
    ::unlink(tmpl.c_str());
  }
  base::UniqueFd owned(fd);
  if (auto s = write_all(fd, memory_); !s) return s;
  fd_ = std::move(owned);
  std::string().swap(memory_);
  return {};
}

base::Status Spool::append(std::string_view bytes) {
  if (bytes.empty()) return {};
  if (!fd_.valid() && memory_.size() + bytes.size() > memory_limit_) {
    if (auto s = spill(); !s) return s;
  }
  if (fd_.valid()) {
    if (auto s = write_all(fd_.get(), bytes); !s) return s;
  } else {
    memory_.append(bytes);
  }
  size_ += bytes.size();
  lfs_ += count_lf_not_after_cr(bytes, last_cr_);
  last_cr_ = bytes.back() == '\r';
  return {};
}

base::Status Spool::finish() {
  // Nothing is buffered in user space; the fd is read with pread, so no flush is needed.
  // fsync is the storage room's job on the final Maildir file, not the spool's.
  return {};
}

base::Result<size_t> Spool::read_at(uint64_t offset, char* out, size_t len) const {
  if (offset >= size_ || len == 0) return size_t{0};
  if (!fd_.valid()) {
    size_t n = std::min<uint64_t>(len, size_ - offset);
    std::memcpy(out, memory_.data() + offset, n);
    return n;
  }
  for (;;) {
    ssize_t n = ::pread(fd_.get(), out, len, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return base::fail(base::Error::from_errno(errno, "spool read"));
    }
    return static_cast<size_t>(n);
  }
}

void Spool::clear() {
  fd_.reset();
  std::string().swap(memory_);
  size_ = 0;
  lfs_ = 0;
  last_cr_ = false;
}

}  // namespace dovetail::mail
