// RSET (RFC 5321 4.1.1.5): ends the transaction and Dovecot's failed-chunk state.
#include "smtp/session_impl.hpp"

namespace dovetail::smtp {

void ServerSession::Impl::cmd_rset(std::string_view args) {
  if (!args.empty()) {
    reply(501, "5.5.4", "Invalid parameters");
    return;
  }
  reset_transaction();
  chunk_failed = false;
  reply(250, "2.0.0", "OK");
}

}  // namespace dovetail::smtp
