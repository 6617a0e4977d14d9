// handler.hpp — the only thing an LMTP application implements (STYLE.md: Dovecot's
// lmtp over a generic SMTP server library).
//
// Purpose: the sans-I/O ServerSession calls these when a command passed the protocol checks.
// on_mail is synchronous (nothing to wait for); on_rcpt and on_data are asynchronous: the
// handler calls `done` exactly once, later, ON THE THREAD THAT DRIVES THE SESSION (the net
// layer guarantees that by posting the completion to the connection's executor). Until then
// the session processes no further pipelined command (they wait in order, RFC 2920).
// Lifetime: the Envelope/Recipient/Spool references are valid until `done` is called (do not
// touch them afterwards). The Spool lives in the session, so the net layer must keep the
// session alive while waiting(); a completion arriving after the session is gone is ignored,
// and a second call of `done` is ignored.
// Depends on: mail, base. Error contract: the handler answers with Reply values; it never
// throws into the session.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "mail/envelope.hpp"
#include "mail/spool.hpp"

namespace dovetail::smtp {

// One SMTP reply line: "<code> <enhanced> <text>" (enhanced may be empty, e.g. 501 Missing hostname).
struct Reply {
  int code = 250;
  std::string enhanced;  // "2.1.5"
  std::string text;      // "OK"
  std::string render() const;  // "250 2.1.5 OK\r\n"
  bool positive() const { return code >= 200 && code < 400; }
};

class Handler {
 public:
  virtual ~Handler() = default;

  // MAIL FROM passed syntax checks (and SIZE against the limit). Return 250 2.1.0 OK or a refusal.
  virtual Reply on_mail(const mail::Envelope& env) = 0;

  // RCPT TO passed syntax checks. `rcpt.id` and `rcpt.rcpt_index` are filled. done(reply):
  // a 2xx reply accepts the recipient (it is appended to env.recipients by the session).
  virtual void on_rcpt(const mail::Envelope& env, const mail::Recipient& rcpt,
                       std::function<void(Reply)> done) = 0;

  // The body is complete and finish()ed (never called for a body over SIZE or after a spool
  // I/O error: the session answers those itself). done(replies) with exactly one reply per accepted
  // recipient, in env.recipients order, each the true outcome for that recipient.
  virtual void on_data(const mail::Envelope& env, mail::Spool& spool,
                       std::function<void(std::vector<Reply>)> done) = 0;

  // The transaction ended without DATA (RSET, LHLO, disconnect) or after it.
  virtual void on_reset() = 0;
};

}  // namespace dovetail::smtp
