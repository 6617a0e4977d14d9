// VRFY (RFC 5321 4.1.1.6): never confirms a user (no address harvesting); 252 as Dovecot.
#include "smtp/session_impl.hpp"

namespace dovetail::smtp {

void ServerSession::Impl::cmd_vrfy(std::string_view args) {
  std::string value, error;
  if (args.empty()) {
    reply(501, "5.5.4", "Invalid parameters");
    return;
  }
  if (!parse_smtp_string(args, value, error)) {
    reply(501, "5.5.4", "Invalid string parameter: " + error);
    return;
  }
  reply(252, "2.3.3", "Try RCPT instead");
}

}  // namespace dovetail::smtp
