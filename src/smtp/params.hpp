// params.hpp — MAIL and RCPT parameters (RFC 5321 4.1.2 esmtp-param) for the extensions
// Dovetail advertises: SIZE (RFC 1870), BODY (RFC 6152), DSN RET/ENVID/NOTIFY/ORCPT
// (RFC 3461), SMTPUTF8 (RFC 6531).
//
// Purpose: one place that knows which keywords exist and what each error is called, with
// Dovecot's wording where Dovecot has one ("555 5.5.4 Unsupported parameters",
// "501 5.5.4 Invalid addr-type for ORCPT= parameter").
// Depends on: mail, smtp/handler.hpp (Reply). Error contract: the refusal Reply, or nullopt.
// Security: ORCPT is decoded and then must parse as a mailbox, so xtext cannot smuggle CR/LF
// into the Delivered-To/Received headers built from it.
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "mail/envelope.hpp"
#include "smtp/handler.hpp"

namespace dovetail::smtp {

// `params` is the text after the path and its one SP. max_mail_size 0 = SIZE is
// not advertised, so SIZE= is an unsupported parameter.
std::optional<Reply> parse_mail_params(std::string_view params, uint64_t max_mail_size,
                                       mail::MailParams& out);
std::optional<Reply> parse_rcpt_params(std::string_view params, mail::Recipient& out);

}  // namespace dovetail::smtp
