#include "storage/save_error.hpp"

#include <cerrno>
#include <cstring>

namespace dovetail::storage {

SaveError classify_errno(int err, const std::string& what) {
  SaveError e;
  e.sys_errno = err;
  e.log_reason = what + ": " + std::strerror(err);
  switch (err) {
    case EDQUOT:
      e.kind = SaveError::Kind::kQuotaExceeded;
      e.enhanced = "5.2.2";
      break;
    case ENOSPC:  // mail system full (RFC 3463 X.3.1) — temporary, see header
      e.enhanced = "4.3.1";
      break;
    default:  // EIO, EACCES, EROFS, EMFILE, ...: temporary, details in the log
      break;
  }
  return e;
}

SaveError temp_error(std::string log_reason) {
  SaveError e;
  e.log_reason = std::move(log_reason);
  return e;
}

}  // namespace dovetail::storage
