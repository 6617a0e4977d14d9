#include "storage/direct_write.hpp"

#include <linux/magic.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "storage/write_all.hpp"

namespace dovetail::storage {
namespace {

using Fail = base::Unexpected<SaveError>;

Fail fail_errno(int64_t neg, const std::string& what) { return Fail(classify_errno(static_cast<int>(-neg), what)); }

char* thread_buffer() {
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  thread_local std::unique_ptr<char, Free> buf;
  if (!buf) buf.reset(static_cast<char*>(std::aligned_alloc(kDirectAlign, kDirectChunk)));  // again after a failure
  return buf.get();
}

// Copies octets [pos, pos + len) of headers + body into out.
base::Expected<void, SaveError> gather(Fs& fs, std::string_view headers, const Body& body, uint64_t pos, char* out,
                                       size_t len, const std::string& what) {
  while (len > 0) {
    if (pos < headers.size()) {
      size_t k = std::min<uint64_t>(len, headers.size() - pos);
      std::memcpy(out, headers.data() + pos, k);
      out += k, pos += k, len -= k;
      continue;
    }
    const uint64_t at = pos - headers.size();
    if (body.fd < 0) {
      std::memcpy(out, body.memory.data() + at, len);
      return {};
    }
    int64_t n = fs.pread(body.fd, out, len, at);
    if (n < 0) return fail_errno(n, "read(spool for " + what + ")");
    if (n == 0) return fail_errno(-EIO, "read(spool for " + what + "): shorter than its size");
    out += n, pos += static_cast<uint64_t>(n), len -= static_cast<size_t>(n);
  }
  return {};
}

}  // namespace

bool direct_write_suits(Fs& fs, int fd, uint64_t size) {
  if (size < kDirectMinSize) return false;
  const int64_t type = fs.fs_type(fd);
  return type == EXT4_SUPER_MAGIC || type == XFS_SUPER_MAGIC;
}

base::Expected<void, SaveError> write_direct(Fs& fs, int fd, std::string_view headers, const Body& body,
                                             const std::string& what) {
  const uint64_t total = headers.size() + body.size;
  char* buf = thread_buffer();
  // 256 KiB not to be had is the same temporary failure as any other ENOMEM on this path.
  if (buf == nullptr) return fail_errno(-ENOMEM, "buffer for " + what);
  bool direct = fs.set_direct_io(fd, true) == 0;
  auto go_buffered = [&]() -> base::Expected<void, SaveError> {
    direct = false;
    if (int r = fs.set_direct_io(fd, false); r < 0) return fail_errno(r, "fcntl(" + what + ", no O_DIRECT)");
    return {};
  };
  for (uint64_t pos = 0; pos < total;) {
    const size_t fill = static_cast<size_t>(std::min<uint64_t>(kDirectChunk, total - pos));
    if (auto g = gather(fs, headers, body, pos, buf, fill, what); !g) return g;
    size_t done = 0;
    const size_t aligned = fill & ~(kDirectAlign - 1);
    if (direct && aligned > 0) {
      int64_t n = fs.write(fd, buf, aligned);
      if (n < 0 && n != -EINVAL) return fail_errno(n, "write(" + what + ", O_DIRECT)");
      // EINVAL: this filesystem or file refuses the direct write after all (nothing was
      // written); a short write leaves the offset unaligned. The rest goes buffered.
      if (n > 0) done = static_cast<size_t>(n);
      if (n < 0 || done < aligned) {
        if (auto b = go_buffered(); !b) return b;
      }
    }
    if (done < fill) {
      if (direct) {
        if (auto b = go_buffered(); !b) return b;
      }
      if (auto w = write_all(fs, fd, buf + done, fill - done, what); !w) return w;
    }
    pos += fill;
  }
  return {};
}

}  // namespace dovetail::storage
