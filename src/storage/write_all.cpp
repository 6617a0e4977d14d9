#include "storage/write_all.hpp"

#include <cerrno>
#include <cstdint>

namespace dovetail::storage {

base::Expected<void, SaveError> write_all(Fs& fs, int fd, const char* data, size_t len, const std::string& what) {
  while (len > 0) {
    int64_t n = fs.write(fd, data, len);
    if (n == 0) n = -EIO;
    if (n < 0) return base::Unexpected<SaveError>(classify_errno(static_cast<int>(-n), "write(" + what + ")"));
    data += n;
    len -= static_cast<size_t>(n);
  }
  return {};
}

}  // namespace dovetail::storage
