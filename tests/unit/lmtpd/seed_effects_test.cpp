// The seed document's snippets (lmtp_server.rst) where they take effect in the daemon: the
// listeners serve opens and the log paths `executable = lmtp -L` selects. (config's
// SeedDocument test checks that each snippet parses and is acted on or listed as ignored.)
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "lmtpd/listeners.hpp"
#include "lmtpd/log_setup.hpp"

namespace dovetail::lmtpd {
namespace {

std::vector<std::string> described(const std::vector<net::ListenSpec>& v) {
  std::vector<std::string> out;
  for (const auto& s : v) out.push_back(s.describe());
  return out;
}

TEST(SeedEffects, ListenersSnippetOpensTheseListeners) {
  auto cfg = config::load_config_string(R"(base_dir = /run/dt
# add lmtp to protocols, otherwise its listeners are ignored
protocols = imap pop3 lmtp

service lmtp {
   inet_listener lmtp {
      address = 192.168.0.24 127.0.0.1 ::1
      port = 24
   }

   unix_listener lmtp {
      #mode = 0666
   }
}
)",
                                        "seed.conf");
  ASSERT_TRUE(cfg) << cfg.error().message;
  auto specs = listeners_from_settings(*(*cfg)->resolve({"lmtp", "", ""}), (*cfg)->global()->listen);
  ASSERT_TRUE(specs) << specs.error().message;
  EXPECT_EQ(described(*specs),
            (std::vector<std::string>{"192.168.0.24:24", "127.0.0.1:24", "[::1]:24", "unix:/run/dt/lmtp"}));
  EXPECT_EQ(specs->back().mode, 0666u);  // Dovecot's built-in mode for the lmtp socket
}

TEST(SeedEffects, LoggingSnippetSendsDeliveryLogToTheProtocolPath) {
  const char* logging = R"(log_path = /var/log/dovecot.log
service lmtp {
   executable = lmtp -L
}
protocol lmtp {
   info_log_path = /var/log/dovecot-lmtp.log
}
)";
  auto cfg = config::load_config_string(logging, "seed.conf");
  ASSERT_TRUE(cfg) << cfg.error().message;
  auto lc = log_config_for(*(*cfg)->resolve({"lmtp", "", ""}), *(*cfg)->global());
  EXPECT_EQ(lc.info_log_path, "/var/log/dovecot-lmtp.log");
  // Without -L the global paths apply, as in Dovecot.
  std::string no_l = logging;
  no_l.replace(no_l.find("lmtp -L"), 7, "lmtp");
  auto cfg2 = config::load_config_string(no_l, "seed.conf");
  ASSERT_TRUE(cfg2);
  EXPECT_NE(log_config_for(*(*cfg2)->resolve({"lmtp", "", ""}), *(*cfg2)->global()).info_log_path,
            "/var/log/dovecot-lmtp.log");
}

}  // namespace
}  // namespace dovetail::lmtpd
