// DATA (RFC 5321 4.1.1.4, RFC 2033 4.2): 354, then the body until <CRLF>.<CRLF>; one reply
// per accepted recipient afterwards (from Handler::on_data).
#include "smtp/session_impl.hpp"

namespace dovetail::smtp {

// The order of the checks is Dovecot's (COMPAT.md "Command sequencing").
std::optional<Reply> ServerSession::Impl::data_command_refusal(bool is_bdat) const {
  // A failed chunk is reported first, even outside a transaction (Dovecot checks it first).
  if (chunk_failed) return Reply{503, "5.5.0", "Previous data chunk failed, issue RSET first"};
  if (!mail_given) return Reply{503, "5.5.0", "MAIL needed first"};
  if (!is_bdat && bdat_started) return Reply{503, "5.5.0", "Bad sequence of commands"};
  if (env.recipients.empty()) return Reply{503, "5.5.0", "No valid recipients"};
  return std::nullopt;
}

void ServerSession::Impl::cmd_data(std::string_view args) {
  if (!args.empty()) {
    reply(501, "5.5.4", "Invalid parameters");
    return;
  }
  if (auto r = data_command_refusal(/*is_bdat=*/false)) {
    reply(*r);
    return;
  }
  reply(354, "", "OK");
  begin_body();
  data_reader.start();
  mode = Mode::kData;
}

}  // namespace dovetail::smtp
