// RCPT TO (RFC 5321 4.1.1.3) with DSN NOTIFY/ORCPT. Asynchronous: the handler looks the
// user up; later pipelined commands wait (RFC 2920 3.1: replies in command order).
#include "mail/address.hpp"
#include "smtp/command_line.hpp"
#include "smtp/params.hpp"
#include "smtp/session_impl.hpp"

namespace dovetail::smtp {

void ServerSession::Impl::cmd_rcpt(std::string_view args) {
  if (!mail_given) {
    reply(503, "5.5.0", "MAIL needed first");
    return;
  }
  if (!starts_with_nocase(args, "TO:")) {
    reply(501, "5.5.4", "Invalid parameters");
    return;
  }
  std::string_view rest = args.substr(3);
  // Dovecot refuses white space between the colon and the path (no workaround enabled).
  if (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) {
    reply(501, "5.5.4", "Invalid TO: Unexpected whitespace before path");
    return;
  }
  auto path = mail::parse_path(rest, mail::PathKind::kForward);
  if (!path) {
    reply(501, "5.5.4", "Invalid TO: " + path.error().message);
    return;
  }
  rest.remove_prefix(path->consumed);
  // Exactly one SP before the parameters; a second one makes an empty parameter.
  if (!rest.empty() && rest.front() != ' ') {
    reply(501, "5.5.4", "Invalid TO: Invalid character in path");
    return;
  }
  if (!rest.empty()) rest.remove_prefix(1);
  // RFC 6531 3.5: a UTF-8 mailbox needs the SMTPUTF8 MAIL parameter.
  if (!env.params.smtputf8 && mail::has_non_ascii(path->address)) {
    reply(553, "5.6.7", "Non-ASCII address not permitted without SMTPUTF8");
    return;
  }
  mail::Recipient rc;
  if (auto err = parse_rcpt_params(rest, rc)) {
    reply(*err);
    return;
  }
  if (env.recipients.size() >= cfg.max_recipients) {
    reply(452, "4.5.3", "Too many recipients");
    return;
  }
  rc.address = std::move(path->address);
  rc.given = rc.address.to_string();
  rc.rcpt_index = ++rcpt_seq;
  rc.id = recipient_id(rc.rcpt_index);
  pending_rcpt = std::move(rc);

  waiting = true;
  uint64_t token = ++call_token;
  std::weak_ptr<Impl*> weak = self;
  handler.on_rcpt(env, pending_rcpt, [weak, token](Reply r) {
    auto p = weak.lock();
    if (!p) return;
    Impl* s = *p;
    if (!s->waiting || token != s->call_token) return;  // "exactly once": ignore repeats
    s->waiting = false;
    if (s->closed) {
      s->reset_transaction();  // disconnected or timed out meanwhile
    } else {
      if (r.positive()) s->env.recipients.push_back(std::move(s->pending_rcpt));
      s->reply(r);
    }
    s->completed();
  });
}

}  // namespace dovetail::smtp
