#include "bare_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace dovetail::bench {
namespace {

constexpr size_t kBlock = 4096;
constexpr size_t kSpoolBatch = 64 * 1024;  // Dovetail's BodyWriter flushes this much at a time
constexpr size_t kChunk = 256 * 1024;      // Dovetail's writer reads and writes this much at a time
constexpr size_t kDirectFrom = 16 * 1024;  // Dovetail's O_DIRECT threshold (decision 0010)

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Whole blocks with O_DIRECT (p must be 4096-aligned), the tail through the page cache.
bool write_blocks_then_tail(int fd, const char* p, size_t n, bool& direct) {
  const size_t blocks = n & ~(kBlock - 1);
  if (blocks > 0) {
    if (!direct && ::fcntl(fd, F_SETFL, O_DIRECT) != 0) return false;
    direct = true;
    for (size_t off = 0; off < blocks; off += kChunk)
      if (!write_all(fd, p + off, std::min(kChunk, blocks - off))) return false;
  }
  if (blocks == n) return true;
  if (direct && ::fcntl(fd, F_SETFL, 0) != 0) return false;
  direct = false;
  return write_all(fd, p + blocks, n - blocks);
}

}  // namespace

void Body::Free::operator()(char* p) const { std::free(p); }

Body::Body(Body&& other) noexcept : policy_(nullptr) { *this = std::move(other); }

Body& Body::operator=(Body&& other) noexcept {
  std::swap(policy_, other.policy_);
  std::swap(data_, other.data_);
  std::swap(size_, other.size_);
  std::swap(capacity_, other.capacity_);
  std::swap(spool_fd_, other.spool_fd_);
  std::swap(spooled_, other.spooled_);
  return *this;
}

Body::~Body() { drop_spool(); }

void Body::append(const char* p, size_t n) {
  if (size_ + n > capacity_) {
    const size_t cap = std::max<size_t>(capacity_ ? capacity_ * 2 : kSpoolBatch, (size_ + n + kBlock - 1) & ~(kBlock - 1));
    std::unique_ptr<char, Free> bigger(static_cast<char*>(std::aligned_alloc(kBlock, cap)));
    if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = cap;
  }
  std::memcpy(data_.get() + size_, p, n);
  size_ += n;
  if (policy_ != nullptr && policy_->over > 0 && (spool_fd_ >= 0 ? size_ >= kSpoolBatch : size_ > policy_->over))
    spill();
}

void Body::drop_tail(size_t n) {
  const size_t from_memory = std::min(n, size_);
  size_ -= from_memory;
  spooled_ -= std::min(spooled_, n - from_memory);
}

void Body::clear() {
  size_ = 0;
  drop_spool();
}

void Body::spill() {
  if (spool_fd_ < 0) spool_fd_ = ::open(policy_->dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (spool_fd_ < 0) return;  // stays in memory: what is stored is the same
  if (::pwrite(spool_fd_, data_.get(), size_, static_cast<off_t>(spooled_)) == static_cast<ssize_t>(size_)) {
    spooled_ += size_;
    size_ = 0;
  }
}

void Body::drop_spool() {
  if (spool_fd_ >= 0) ::close(spool_fd_);
  spool_fd_ = -1;
  spooled_ = 0;
}

MaildirStore::~MaildirStore() {
  for (auto& [name, fd] : new_dirs_) ::close(fd);
}

int MaildirStore::new_dir(const std::string& mailbox) {
  std::lock_guard lock(mutex_);
  auto it = new_dirs_.find(mailbox);
  if (it != new_dirs_.end()) return it->second;
  std::string path;
  for (const std::string& part :
       {mailbox.substr(0, mailbox.find('/')), mailbox, mailbox + "/Maildir", mailbox + "/Maildir/new"}) {
    path = root_ + "/" + part;
    ::mkdir(path.c_str(), 0700);
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) new_dirs_.emplace(mailbox, fd);
  return fd;
}

bool MaildirStore::store(const std::vector<std::string>& mailboxes, const Body& body) {
  if (mailboxes.empty()) return true;
  std::vector<int> dirs;
  for (const auto& m : mailboxes) {
    const int d = new_dir(m);
    if (d < 0) return false;
    dirs.push_back(d);
  }
  const int fd = ::openat(dirs[0], ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = true;
  bool direct = false;
  if (body.spool_fd_ >= 0) {
    // Back out of the spool a chunk at a time, as Dovetail's writer reads it; what is still
    // in memory joins the spool first.
    ok = ::pwrite(body.spool_fd_, body.data_.get(), body.size_, static_cast<off_t>(body.spooled_)) ==
         static_cast<ssize_t>(body.size_);
    thread_local std::unique_ptr<char, Body::Free> chunk(static_cast<char*>(std::aligned_alloc(kBlock, kChunk)));
    for (size_t off = 0; ok && off < body.size(); off += kChunk) {
      const size_t n = std::min(kChunk, body.size() - off);
      ok = ::pread(body.spool_fd_, chunk.get(), n, static_cast<off_t>(off)) == static_cast<ssize_t>(n) &&
           write_blocks_then_tail(fd, chunk.get(), n, direct);
    }
  } else if (body.size_ >= kDirectFrom) {
    ok = write_blocks_then_tail(fd, body.data_.get(), body.size_, direct);
  } else {
    ok = write_all(fd, body.data_.get(), body.size_);
  }
  ok = ok && ::fsync(fd) == 0;
  const std::string name = std::to_string(seq_.fetch_add(1)) + ".bare";
  for (const int d : dirs) ok = ok && ::linkat(fd, "", d, name.c_str(), AT_EMPTY_PATH) == 0;
  ok = ::close(fd) == 0 && ok;
  for (const int d : dirs) ok = ok && ::fsync(d) == 0;
  return ok;
}

}  // namespace dovetail::bench
