// exit_map.hpp — the one place the LDA turns a delivery Outcome into an exit code.
//
// dovecot-lda's contract (sysexits.h): 0 delivered; 64 EX_USAGE; 67 EX_NOUSER unknown user;
// 75 EX_TEMPFAIL anything temporary (the MTA retries); 77 EX_NOPERM a permanent rejection
// when -e asked for errors on stderr instead of a rejection mail.
// Depends on: deliver. Threading: pure.
#pragma once

#include "deliver/outcome.hpp"

namespace dovetail::lda {

enum class RejectMode { kStderr, kMail };  // -e, or Dovecot's default rejection mail

int exit_code_for(const deliver::Outcome& outcome, RejectMode mode);

}  // namespace dovetail::lda
