// LHLO (RFC 2033 4.1): optional in Dovecot; resets the transaction; lists the service
// extensions alphabetically, as Dovecot does (COMPAT.md "Beyond Dovecot").
#include "mail/address.hpp"
#include "smtp/session_impl.hpp"

namespace dovetail::smtp {

void ServerSession::Impl::cmd_lhlo(std::string_view args) {
  if (args.empty()) {
    reply(501, "", "Missing hostname");  // Dovecot's only reply without an enhanced code
    return;
  }
  reset_transaction();
  chunk_failed = false;
  // Dovecot keeps only a valid domain; an invalid one is written as "from unknown".
  client.lhlo = mail::helo_domain(args).value_or(std::string());
  greeted = true;
  std::vector<std::string> caps = {"8BITMIME", "CHUNKING", "DSN", "ENHANCEDSTATUSCODES", "PIPELINING"};
  if (cfg.max_mail_size != 0) caps.push_back("SIZE " + std::to_string(cfg.max_mail_size));
  caps.push_back("SMTPUTF8");
  if (cfg.ssl_configured) caps.push_back("STARTTLS");
  out += "250-" + cfg.hostname + "\r\n";
  for (size_t i = 0; i < caps.size(); ++i) out += (i + 1 < caps.size() ? "250-" : "250 ") + caps[i] + "\r\n";
}

}  // namespace dovetail::smtp
