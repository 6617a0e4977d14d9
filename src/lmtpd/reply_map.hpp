// reply_map.hpp — the ONE place where lmtpd turns outcomes into LMTP reply lines (STYLE.md).
//
// Purpose: deliver::Outcome -> smtp::Reply for RCPT and for each recipient after DATA, plus
// the daemon's own lines (too many connections, shutting down). Exact texts are Dovecot's
// (COMPAT.md): "250 2.0.0 <rcpt> <id> Saved", "550 5.1.1 <rcpt> User doesn't exist: <key>",
// "451 4.3.0 <rcpt> Temporary internal error", "451 4.2.0 <rcpt> Internal error occurred.
// Refer to server log for more information. [YYYY-MM-DD HH:MM:SS]", "552 5.2.2 <rcpt> Quota
// exceeded (mailbox for user is full)".
// Depends on: deliver (Outcome), smtp (Reply), mail. Error contract: total functions.
// Threading: pure, except that the 4.2.0 timestamp reads the clock.
#pragma once

#include <ctime>
#include <optional>
#include <string>

#include "deliver/outcome.hpp"
#include "mail/envelope.hpp"
#include "smtp/handler.hpp"

namespace dovetail::lmtpd {

// RCPT stage: nullopt (or Delivered) = accepted -> "250 2.1.5 OK".
smtp::Reply rcpt_reply(const mail::Recipient& rcpt, const std::optional<deliver::Outcome>& refusal);

// After DATA / BDAT LAST: the true outcome of one recipient.
smtp::Reply data_reply(const mail::Recipient& rcpt, const deliver::Outcome& outcome);

// Dovecot's "Internal error occurred. Refer to server log for more information. [<local time>]";
// a TempFail with an empty reason gets this text.
std::string internal_error_reason(std::time_t now);

// Daemon lines, complete with CRLF.
std::string too_many_connections_line(const std::string& hostname);  // 421 4.3.2
std::string shutting_down_line(const std::string& hostname);          // 421 4.3.2

}  // namespace dovetail::lmtpd
