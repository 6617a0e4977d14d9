// save_error.hpp — the storage outcome vocabulary and THE errno → outcome table.
//
// Purpose: every storage failure becomes a SaveError with a kind the application edge maps
// to a reply (lmtpd/reply_map: kTemp → `451 4.2.0 <rcpt> Internal error occurred. Refer to
// server log for more information. [date]`, kQuotaExceeded → `552 5.2.2 <rcpt> Quota
// exceeded (mailbox for user is full)`, kPerm → 5xx with `enhanced`). `log_reason` is for
// the server log only, never for the wire (it names paths).
// ENOSPC is an ordinary temporary failure with 4.2.0, exactly Dovecot 2.3.19's observed
// `451 4.2.0 <rcpt> Internal error occurred...` (docs/decisions/0006-enospc-reply.md).
// Only EDQUOT (the user's own filesystem quota) is a quota outcome.
// Depends on: std only. Threading: plain values.
#pragma once

#include <string>

namespace dovetail::storage {

struct SaveError {
  enum class Kind {
    kTemp,             // retry later (the default for anything not classified)
    kPerm,             // will not succeed on retry; `log_reason` states why
    kQuotaExceeded,    // the user's quota is full (EDQUOT, later maildirsize quota)
    kMailboxNotFound,  // MissingMailbox::kFail and the folder does not exist
  };
  Kind kind = Kind::kTemp;
  std::string enhanced = "4.2.0";  // RFC 3463 code suggested for the reply
  std::string log_reason;          // "open(/path/tmp/x): No space left on device"
  int sys_errno = 0;               // errno that caused it, 0 when none
};

// The one errno table. `what` names the operation and path for the log.
SaveError classify_errno(int err, const std::string& what);

SaveError temp_error(std::string log_reason);

}  // namespace dovetail::storage
