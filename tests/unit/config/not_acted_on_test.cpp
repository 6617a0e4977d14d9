// Honest settings: a key Dovetail parses but does not act on is listed as ignored (the list
// `dovetail config -n` prints and `serve` warns about), a key it acts on is not, and
// lmtp_proxy = yes (which only defers) warns once with its file:line.
#include <gtest/gtest.h>

#include <algorithm>

#include "config/config.hpp"
#include "config/settings_table.hpp"
#include "testlib/temp_dir.hpp"

namespace dovetail::config {
namespace {

using testlib::TempDir;

TEST(NotActedOn, IgnoredListIsExactPerKey) {
  struct Case {
    const char* conf;
    std::vector<std::string> ignored;
  };
  const Case cases[] = {
      // used: an inet_listener without address binds to it (lmtpd/listeners.cpp)
      {"listen = 127.0.0.1\n", {}},
      {"lmtp_save_to_detail_mailbox = yes\nrecipient_delimiter = +-\n", {}},
      {"lmtp_proxy = yes\n", {}},  // acted on: proxy=y recipients are deferred
      {"lmtp_rcpt_check_quota = yes\n", {"lmtp_rcpt_check_quota"}},
      {"login_trusted_networks = 10.0.0.0/8\n", {"login_trusted_networks"}},
      {"lmtp_client_workarounds = whitespace-before-path\n", {"lmtp_client_workarounds"}},
      {"state_dir = /var/lib/x\n", {"state_dir"}},
      {"ssl = no\nssl_cert = x\nssl_key = y\n", {"ssl", "ssl_cert", "ssl_key"}},
      {"submission_host = smtp:25\nlmtp_address_translate = %n\n", {"submission_host", "lmtp_address_translate"}},
      {"maildir_copy_with_hardlinks = no\n", {}},
      {"service lmtp {\n  process_min_avail = 5\n  idle_kill = 2 mins\n  process_limit = 3\n}\n",
       {"service/lmtp/process_min_avail", "service/lmtp/idle_kill"}},
      {"service lmtp {\n  executable = lmtp -L\n  user = vmail\n  client_limit = 4\n}\n", {}},
      {"service lmtp {\n  inet_listener lmtp {\n    port = 24\n    ssl = yes\n    haproxy = yes\n  }\n}\n",
       {"service/lmtp/inet_listener/lmtp/ssl", "service/lmtp/inet_listener/lmtp/haproxy"}},
      {"passdb {\n  driver = static\n  deny = yes\n}\n", {"passdb/deny"}},
      {"protocol lmtp {\n  lmtp_rcpt_check_quota = yes\n}\n", {"lmtp_rcpt_check_quota"}},
      {"imap_idle_notify_interval = 1 mins\n", {"imap_idle_notify_interval"}},
  };
  for (const auto& c : cases) {
    auto cfg = load_config_string(c.conf, "t.conf");
    ASSERT_TRUE(cfg) << c.conf << cfg.error().message;
    EXPECT_EQ((*cfg)->ignored_keys(), c.ignored) << c.conf;
  }
}

// The marks themselves: exactly these keys have no effect yet. A change here must come with
// the code that acts on the key (or stops acting on it) and with docs/config.md.
TEST(NotActedOn, TableMarks) {
  std::vector<std::string> marked;
  for (const auto& r : settings_rows())
    if (r.no_effect) marked.emplace_back(r.name);
  for (const auto& r : service_rows())
    if (r.no_effect) marked.push_back("service/" + std::string(r.name));
  for (const auto& r : inet_listener_rows())
    if (r.no_effect) marked.push_back("inet_listener/" + std::string(r.name));
  for (const auto& r : unix_listener_rows())
    if (r.no_effect) marked.push_back("unix_listener/" + std::string(r.name));
  for (const auto& r : authdb_rows())
    if (r.no_effect) marked.push_back("db/" + std::string(r.name));
  std::sort(marked.begin(), marked.end());
  const std::vector<std::string> want = {
      "auth_debug", "db/deny", "db/master", "db/name", "db/pass", "default_login_user",
      "inet_listener/haproxy", "inet_listener/ssl", "lmtp_address_translate", "lmtp_client_workarounds",
      "lmtp_proxy_rawlog_dir", "lmtp_rcpt_check_quota", "login_trusted_networks", "mail_access_groups",
      "mail_privileged_group", "service/idle_kill",
      "service/process_min_avail", "ssl", "ssl_cert", "ssl_key", "state_dir", "submission_host",
      "verbose_proctitle"};
  EXPECT_EQ(marked, want);
}

TEST(NotActedOn, LmtpProxyWarnsOnceWithFileAndLine) {
  struct Case {
    const char* conf;
    std::vector<std::string> warnings;
  };
  const Case cases[] = {
      {"lmtp_proxy = no\n", {}},
      {"\nlmtp_proxy = yes\nprotocol lmtp {\n  lmtp_proxy = yes\n}\n",
       {"p.conf:2: lmtp_proxy = yes: proxying is not implemented yet; a recipient whose passdb answer has "
        "proxy=y gets 451 4.3.0 (the MTA retries), all others are delivered locally"}},
      {"remote 10.0.0.0/8 {\n  lmtp_proxy = yes\n}\n",
       {"p.conf:2: lmtp_proxy = yes: proxying is not implemented yet; a recipient whose passdb answer has "
        "proxy=y gets 451 4.3.0 (the MTA retries), all others are delivered locally"}},
  };
  for (const auto& c : cases) {
    auto cfg = load_config_string(c.conf, "p.conf");
    ASSERT_TRUE(cfg) << cfg.error().message;
    EXPECT_EQ((*cfg)->warnings(), c.warnings) << c.conf;
  }
}

// Errors found after parsing (serve's listeners) need the line of the assignment at fault.
TEST(NotActedOn, OriginsRemembered) {
  TempDir dir;
  dir.write("conf.d/10-listen.conf", "listen = 10.1.2.3\n");
  auto path = dir.write("d.conf",
                        "protocols = lmtp\n!include conf.d/*.conf\nservice lmtp {\n  inet_listener lmtp {\n"
                        "    port = 70000\n    address = nowhere\n  }\n}\n");
  auto cfg = load_config_file(path.string());
  ASSERT_TRUE(cfg) << cfg.error().message;
  const Settings& s = *(*cfg)->global();
  EXPECT_EQ(s.origin.at("protocols"), path.string() + ":1");
  EXPECT_EQ(s.origin.at("listen"), (dir.path() / "conf.d/10-listen.conf").string() + ":1");
  EXPECT_EQ(s.listen, "10.1.2.3");
  const InetListener& l = s.find_service("lmtp")->inet_listeners.at(0);
  EXPECT_EQ(l.origin.at("port"), path.string() + ":5");
  EXPECT_EQ(l.origin.at("address"), path.string() + ":6");
  EXPECT_EQ(s.origin.count("hostname"), 0u);
}

}  // namespace
}  // namespace dovetail::config
