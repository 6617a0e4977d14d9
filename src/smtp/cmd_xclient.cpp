// XCLIENT (Postfix extension): only for login_trusted_networks; not implemented for them yet.
#include "smtp/session_impl.hpp"

namespace dovetail::smtp {

void ServerSession::Impl::cmd_xclient(std::string_view /*args*/) {
  if (!cfg.xclient_trusted) {
    reply(550, "5.7.14", "You are not from trusted IP");
    return;
  }
  reply(502, "5.5.1", "XCLIENT is not supported");
}

}  // namespace dovetail::smtp
