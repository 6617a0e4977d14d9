// STARTTLS (RFC 3207). TLS lives in the net room; until it is wired, a configured server
// advertises it but answers 454 (temporary) rather than pretend.
#include "smtp/session_impl.hpp"

namespace dovetail::smtp {

void ServerSession::Impl::cmd_starttls(std::string_view args) {
  if (!cfg.ssl_configured) {
    reply(502, "5.5.1", "TLS support is not enabled.");
    return;
  }
  if (!args.empty()) {
    reply(501, "5.5.4", "Invalid parameters");
    return;
  }
  reply(454, "4.7.0", "TLS not available due to temporary reason");
}

}  // namespace dovetail::smtp
