// message_input.hpp — reads the LDA's message (stdin or -p FILE) into a Spool.
//
// Like dovecot-lda: a leading mbox "From " separator line is dropped, CRLF becomes LF (the
// stored form, as over LMTP), bytes are otherwise kept verbatim; the spool spills to a temp
// file past its memory limit, so a large message never sits in RAM.
// Depends on: mail, base. Error contract: I/O errors as Result (→ exit 75).
#pragma once

#include <string>

#include "base/result.hpp"
#include "mail/spool.hpp"

namespace dovetail::lda {

[[nodiscard]] base::Status read_message(int fd, mail::Spool& spool);

// The address in the message's first Return-Path header, "" when none (for -f's default).
std::string return_path_of(const mail::Spool& spool);

}  // namespace dovetail::lda
