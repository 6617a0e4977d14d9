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
    default:  // ENOSPC, EIO, EACCES, EROFS, EMFILE, ...: temporary 4.2.0, details in the log
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
