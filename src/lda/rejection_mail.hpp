// rejection_mail.hpp — the mail dovecot-lda sends to the sender when it rejects a message
// permanently and -e was not given (an RFC 3798 MDN, "Rejected: <subject>", as Dovecot does).
// Submitted through `sendmail_path` with a null sender (`-f <>`), never to a null sender.
// Depends on: config settings, mail. Error contract: Status (a failure → exit 75, retry).
#pragma once

#include <string>

#include "base/result.hpp"
#include "config/settings.hpp"
#include "mail/envelope.hpp"
#include "mail/spool.hpp"

namespace dovetail::lda {

// The message text (without the submission), exposed for tests.
std::string rejection_message(const config::Settings& settings, const mail::Envelope& env,
                              const std::string& recipient, const std::string& reason,
                              const mail::Spool& original);

[[nodiscard]] base::Status send_rejection(const config::Settings& settings, const mail::Envelope& env,
                                          const std::string& recipient, const std::string& reason,
                                          const mail::Spool& original);

}  // namespace dovetail::lda
