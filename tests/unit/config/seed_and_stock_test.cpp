// Real-world configs: every snippet of the seed document (lmtp_server.rst) loads, reaches
// Settings, and is either acted on or listed as ignored (never silently dropped); Debian's
// stock /etc/dovecot tree loads whole, and our defaults are Dovecot's.
// The effects themselves are tested where they happen: listeners and `-L` log paths in
// tests/unit/lmtpd/seed_effects_test.cpp, detail mailboxes, delimiters and lmtp_proxy's
// deferral end to end in tests/integration.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>

#include "config/config.hpp"
#include "config/dovecot_keys.hpp"
#include "config/settings_table.hpp"
#include "testlib/temp_dir.hpp"

namespace dovetail::config {
namespace {

using testlib::TempDir;

TEST(SeedDocument, EverySnippetLoadsAndIsActedOnOrListedAsIgnored) {
  struct Snippet {
    const char* section;
    const char* conf;
    std::function<void(const Settings&)> verify;
    std::vector<std::string> not_acted_on = {};  // exactly Config::ignored_keys()
    size_t warnings = 0;                         // lmtp_proxy = yes warns that it only defers
  };
  const Snippet snippets[] = {
      {"Listeners", R"(# add lmtp to protocols, otherwise its listeners are ignored
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
       [](const Settings& s) {
         EXPECT_EQ(s.protocols, (std::vector<std::string>{"imap", "pop3", "lmtp"}));
         const Service* lmtp = s.find_service("lmtp");
         ASSERT_NE(lmtp, nullptr);
         ASSERT_EQ(lmtp->inet_listeners.size(), 1u);
         EXPECT_EQ(lmtp->inet_listeners[0].address, (std::vector<std::string>{"192.168.0.24", "127.0.0.1", "::1"}));
         EXPECT_EQ(lmtp->inet_listeners[0].port, 24u);
         ASSERT_EQ(lmtp->unix_listeners.size(), 1u);
         EXPECT_EQ(lmtp->unix_listeners[0].path, "lmtp");
         EXPECT_EQ(lmtp->unix_listeners[0].mode, 0666u);
       }},
      {"Security", "service lmtp {\n   user = vmail\n}\n",
       [](const Settings& s) { EXPECT_EQ(s.find_service("lmtp")->user, "vmail"); }},
      // Acted on only as far as is safe: proxy=y recipients are deferred (451), see docs.
      {"LMTP Proxying", "lmtp_proxy = yes\n", [](const Settings& s) { EXPECT_TRUE(s.lmtp_proxy); }, {}, 1},
      // No worker processes or threads to pre-start: every thread starts with the daemon.
      {"Performance", "service lmtp {\n   process_min_avail = 5\n}\n",
       [](const Settings& s) { EXPECT_EQ(s.find_service("lmtp")->process_min_avail, 5u); },
       {"service/lmtp/process_min_avail"}},
      {"Logging", R"(service lmtp {
   executable = lmtp -L
}
protocol lmtp {
   info_log_path = /var/log/dovecot-lmtp.log
}
)",
       [](const Settings& s) {
         EXPECT_EQ(s.find_service("lmtp")->executable, "lmtp -L");
         EXPECT_EQ(s.info_log_path, "/var/log/dovecot-lmtp.log");  // s is the lmtp snapshot
       }},
      // No quota yet (Dovecot without its quota plugin checks nothing either).
      {"Plugins", "lmtp_rcpt_check_quota = yes\n", [](const Settings& s) { EXPECT_TRUE(s.lmtp_rcpt_check_quota); },
       {"lmtp_rcpt_check_quota"}},
      {"Address extension", "lmtp_save_to_detail_mailbox = yes\nrecipient_delimiter = +\n",
       [](const Settings& s) {
         EXPECT_TRUE(s.lmtp_save_to_detail_mailbox);
         EXPECT_EQ(s.recipient_delimiter, "+");
       }},
      {"Envelope Addresses", "lda_original_recipient_header = X-Original-To\nrecipient_delimiter = +-\n",
       [](const Settings& s) {
         EXPECT_EQ(s.lda_original_recipient_header, "X-Original-To");
         EXPECT_EQ(s.recipient_delimiter, "+-");
       }},
  };
  for (const auto& sn : snippets) {
    SCOPED_TRACE(sn.section);
    auto cfg = load_config_string(sn.conf, "seed.conf");
    ASSERT_TRUE(cfg) << cfg.error().message;
    sn.verify(*(*cfg)->resolve(Filter{}));
    EXPECT_EQ((*cfg)->ignored_keys(), sn.not_acted_on);
    EXPECT_EQ((*cfg)->warnings().size(), sn.warnings);
  }
  // The info_log_path of the Logging snippet applies to lmtp connections only.
  auto cfg = load_config_string(snippets[4].conf, "seed.conf");
  ASSERT_TRUE(cfg);
  EXPECT_EQ((*cfg)->resolve({"lda", "", ""})->info_log_path, "");
}

TEST(DebianStockConfig, LoadsWholeAndListsIgnoredKeys) {
  const std::filesystem::path etc = "/etc/dovecot";
  if (!std::filesystem::exists(etc / "dovecot.conf")) GTEST_SKIP() << "dovecot-core is not installed";
  TempDir dir;
  std::filesystem::copy(etc, dir.path() / "dovecot",
                        std::filesystem::copy_options::recursive | std::filesystem::copy_options::skip_symlinks);
  auto cfg = load_config_file((dir.path() / "dovecot" / "dovecot.conf").string());
  ASSERT_TRUE(cfg) << cfg.error().message;
  const Settings& s = *(*cfg)->resolve(Filter{});
  EXPECT_EQ(s.mail_location, "mbox:~/mail:INBOX=/var/mail/%u");
  EXPECT_EQ(s.mail_privileged_group, "mail");
  ASSERT_FALSE(s.passdbs.empty());
  EXPECT_EQ(s.passdbs[0].driver, "pam");
  ASSERT_FALSE(s.userdbs.empty());
  EXPECT_EQ(s.userdbs[0].driver, "passwd");
  if (std::filesystem::exists("/usr/share/dovecot/protocols.d/lmtpd.protocol")) {
    EXPECT_EQ(s.protocols, std::vector<std::string>{"lmtp"});  // protocols = $protocols lmtp
  }
  const auto& ignored = (*cfg)->ignored_keys();
  ASSERT_FALSE(ignored.empty());
  std::string list;
  for (const auto& k : ignored) list += "  " + k + "\n";
  std::printf("[ info ] Debian stock config: %zu ignored keys/sections:\n%s", ignored.size(), list.c_str());
  for (const char* k : {"auth_mechanisms", "namespace/inbox", "service/imap-login"})
    EXPECT_NE(std::find(ignored.begin(), ignored.end(), k), ignored.end()) << k;
}

TEST(DovecotKeys, TableDefaultsAreDovecots) {
  // Dovetail deliberately differs here (documented in docs/config.md): protocols keeps
  // upstream's default, the greeting is upstream's text, and an empty postmaster_address means
  // Dovecot's "postmaster@<recipient domain or hostname>".
  const std::set<std::string_view> differs = {"protocols", "login_greeting", "postmaster_address"};
  const Settings d;
  for (const auto& row : settings_rows()) {
    const DovecotKey* k = find_dovecot_setting(row.name);
    if (!k) continue;  // Dovetail's own key
    if (differs.count(row.name)) continue;
    EXPECT_EQ(format_row(d, row), normalize(row_kind(row), k->default_value)) << row.name;
  }
  EXPECT_NE(find_dovecot_setting("imap_idle_notify_interval"), nullptr);
  EXPECT_EQ(find_dovecot_setting("sql_password"), nullptr);
  EXPECT_NE(find_dovecot_section_key("service", "process_min_avail"), nullptr);
  EXPECT_NE(find_dovecot_section_key("inet_listener", "haproxy"), nullptr);
  EXPECT_NE(find_dovecot_section_key("passdb", "override_fields"), nullptr);
}

}  // namespace
}  // namespace dovetail::config
