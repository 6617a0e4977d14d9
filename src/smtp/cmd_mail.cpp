// MAIL FROM (RFC 5321 4.1.1.2) with SIZE, BODY, RET, ENVID, SMTPUTF8. A UTF-8 reverse-path
// without SMTPUTF8 is accepted, as Dovecot accepts it (COMPAT.md quick reference).
#include "mail/address.hpp"
#include "smtp/command_line.hpp"
#include "smtp/params.hpp"
#include "smtp/session_impl.hpp"

namespace dovetail::smtp {

void ServerSession::Impl::cmd_mail(std::string_view args) {
  if (mail_given) {
    reply(503, "5.5.0", "MAIL already given");
    return;
  }
  if (!starts_with_nocase(args, "FROM:")) {
    reply(501, "5.5.4", "Invalid parameters");
    return;
  }
  std::string_view rest = args.substr(5);
  // Dovecot refuses white space between the colon and the path (no workaround enabled).
  if (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) {
    reply(501, "5.5.4", "Invalid FROM: Unexpected whitespace before path");
    return;
  }
  auto path = mail::parse_path(rest, mail::PathKind::kReverse);
  if (!path) {
    reply(501, "5.5.4", "Invalid FROM: " + path.error().message);
    return;
  }
  rest.remove_prefix(path->consumed);
  // Exactly one SP before the parameters; a second one makes an empty parameter.
  if (!rest.empty() && rest.front() != ' ') {
    reply(501, "5.5.4", "Invalid FROM: Invalid character in path");
    return;
  }
  if (!rest.empty()) rest.remove_prefix(1);
  mail::Envelope e;
  if (auto err = parse_mail_params(rest, cfg.max_mail_size, e.params)) {
    reply(*err);
    return;
  }
  e.null_sender = path->null_path;
  e.mail_from = std::move(path->address);
  e.session_id = session_id;
  e.client = client;
  // Dovecot: the first transaction's id is the session id, the n-th "<SID>:T<n>".
  unsigned t = transactions + 1;
  e.transaction_id = t == 1 ? session_id : session_id + ":T" + std::to_string(t);
  env = std::move(e);
  Reply r = handler.on_mail(env);
  if (r.positive()) {
    transactions = t;
    mail_given = true;
    rcpt_seq = 0;
  } else {
    env = mail::Envelope{};
  }
  reply(r);
}

}  // namespace dovetail::smtp
