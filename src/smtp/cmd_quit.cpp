// QUIT (RFC 5321 4.1.1.10): 221, then the net layer closes after flushing.
#include "smtp/session_impl.hpp"

namespace dovetail::smtp {

void ServerSession::Impl::cmd_quit(std::string_view args) {
  if (!args.empty()) {
    reply(501, "5.5.4", "Invalid parameters");
    return;
  }
  close_with(221, "2.0.0", "Bye", "Logged out");
}

}  // namespace dovetail::smtp
