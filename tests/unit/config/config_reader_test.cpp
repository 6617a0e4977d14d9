// The Dovecot 2.3 grammar, table-driven: each row is a config as an admin writes it and the
// effective value Dovetail acts on. Every row is loaded from a real file in a temp dir.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "config/config.hpp"
#include "config/settings_table.hpp"
#include "testlib/temp_dir.hpp"

namespace dovetail::config {
namespace {

using testlib::TempDir;

std::string value_of(const Settings& s, std::string_view key) {
  const auto* row = find_row(settings_rows(), key);
  EXPECT_NE(row, nullptr) << key;
  return row ? format_row(s, *row) : "";
}

// The fixture every row may refer to.
void write_fixture(const TempDir& dir) {
  dir.write("secret.txt", "s3cret");
  dir.write("conf.d/10-a.conf", "recipient_delimiter = -\n");
  dir.write("conf.d/20-b.conf", "lmtp_proxy = yes\n");
  dir.write("conf.d/README", "this is not a config file = \n{\n");
  dir.write("sub/inner.conf", "!include ../conf.d/10-a.conf\n");
}

base::Result<ConfigPtr> load(const TempDir& dir, const std::string& text) {
  return load_config_file(dir.write("dovecot.conf", text).string());
}

struct GrammarCase {
  const char* feature;
  const char* conf;
  const char* key;
  const char* want;
};

const GrammarCase kGrammar[] = {
    {"plain key = value", "hostname = mx.example.org\n", "hostname", "mx.example.org"},
    {"no spaces around =", "hostname=mx.example.org\n", "hostname", "mx.example.org"},
    {"default when unset", "", "recipient_delimiter", "+"},
    {"comment line", "# hostname = a\nhostname = b\n", "hostname", "b"},
    {"indented comment", "   # hostname = a\n", "hostname", ""},
    {"trailing comment", "hostname = b # the MX name\n", "hostname", "b"},
    {"# glued to value is a comment too", "hostname = b#c\n", "hostname", "b"},
    {"double quotes keep spaces and #", "login_greeting = \"  hi # there \"\n", "login_greeting", "  hi # there "},
    {"single quotes", "login_greeting = 'a b'\n", "login_greeting", "a b"},
    {"backslash escape in quotes", "login_greeting = \"a\\\"b\"\n", "login_greeting", "a\"b"},
    {"unbalanced quote kept", "login_greeting = \"abc\n", "login_greeting", "\"abc"},
    {"empty value", "hostname = x\nhostname =\n", "hostname", ""},
    {"later assignment wins", "hostname = a\nhostname = b\n", "hostname", "b"},
    {"line continuation", "login_greeting = a \\\nb\n", "login_greeting", "a b"},
    {"CRLF line ends", "hostname = a\r\nmail_debug = yes\r\n", "mail_debug", "yes"},
    {"value from file", "ssl_key = <secret.txt\n", "ssl_key", "s3cret"},
    {"value from file, space after <", "ssl_key = < secret.txt\n", "ssl_key", "s3cret"},
    {"$key reference", "hostname = mx\npostmaster_address = $hostname\n", "postmaster_address", "mx"},
    {"$key references default", "hostname = $recipient_delimiter\n", "hostname", "+"},
    {"$key self-reference appends", "protocols = imap\nprotocols = $protocols lmtp\n", "protocols", "imap lmtp"},
    {"$ only whole words", "hostname = x$recipient_delimiter\n", "hostname", "x$recipient_delimiter"},
    {"quoted $ is literal", "hostname = \"$recipient_delimiter\"\n", "hostname", "$recipient_delimiter"},
    {"%variables stay templates", "mail_location = maildir:~/Maildir:INBOX=%h/in/%Lu\n", "mail_location",
     "maildir:~/Maildir:INBOX=%h/in/%Lu"},
    {"!include glob relative to file", "!include conf.d/*.conf\n", "recipient_delimiter", "-"},
    {"!include glob, every match", "!include conf.d/*.conf\n", "lmtp_proxy", "yes"},
    {"!include nested relative to includer", "!include sub/inner.conf\n", "recipient_delimiter", "-"},
    {"!include_try missing is fine", "!include_try nothere/*.conf\nhostname = a\n", "hostname", "a"},
    {"!include_try existing", "!include_try conf.d/10-a.conf\n", "recipient_delimiter", "-"},
    {"size value", "lmtp_max_mail_size = 10M\n", "lmtp_max_mail_size", "10 M"},
    {"size value k", "lmtp_spool_memory_limit = 100k\n", "lmtp_spool_memory_limit", "100 k"},
    {"time value", "lmtp_idle_timeout = 30 secs\n", "lmtp_idle_timeout", "30 secs"},
    {"time value h", "lmtp_data_timeout = 1h\n", "lmtp_data_timeout", "1 hours"},
    {"boolean", "lmtp_save_to_detail_mailbox = yes\n", "lmtp_save_to_detail_mailbox", "yes"},
    {"unsigned", "lmtp_user_concurrency_limit = 10\n", "lmtp_user_concurrency_limit", "10"},
    {"list", "protocols = imap   lmtp\n", "protocols", "imap lmtp"},
    {"enum", "mail_fsync = never\n", "mail_fsync", "never"},
    {"known-but-ignored key accepted", "imap_idle_notify_interval = 1 mins\nhostname = a\n", "hostname", "a"},
    {"plugin keys are free-form", "plugin {\n  anything_goes = 1\n}\nhostname = a\n", "hostname", "a"},
    {"section with quoted name", "namespace inbox {\n  mailbox \"Sent Messages\" {\n    special_use = \\Sent\n  }\n}\nhostname = a\n",
     "hostname", "a"},
};

TEST(ConfigReader, GrammarTable) {
  TempDir dir;
  write_fixture(dir);
  for (const auto& c : kGrammar) {
    auto cfg = load(dir, c.conf);
    ASSERT_TRUE(cfg) << c.feature << ": " << cfg.error().message;
    EXPECT_EQ(value_of(*(*cfg)->global(), c.key), c.want) << c.feature;
  }
}

TEST(ConfigReader, EnvReference) {
  TempDir dir;
  ::setenv("DOVETAIL_TEST_ENV", "from-env", 1);
  auto cfg = load(dir, "hostname = $ENV:DOVETAIL_TEST_ENV\n");
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ((*cfg)->global()->hostname, "from-env");
}

TEST(ConfigReader, LoadFromStringNamesItInMessages) {
  auto ok = load_config_string("hostname = a\n", "inline.conf");
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)->source_path(), "inline.conf");
  auto bad = load_config_string("hostname = a\nbogus_key = 1\n", "inline.conf");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, base::ErrorKind::kConfig);
  EXPECT_EQ(bad.error().message, "inline.conf:2: Unknown setting: bogus_key");
}

TEST(ConfigReader, ServicesAndListeners) {
  TempDir dir;
  auto cfg = load(dir, R"(service lmtp {
  user = vmail
  group = mail
  process_min_avail = 5
  process_limit = 20
  client_limit = 2
  executable = lmtp -L
  idle_kill = 2 mins
  inet_listener lmtp {
    address = 192.168.0.24 127.0.0.1 ::1
    port = 24
    haproxy = yes
  }
  unix_listener /var/spool/postfix/private/dovecot-lmtp {
    mode = 0600
    user = postfix
    group = postfix
  }
}
service lmtp {
  process_min_avail = 6
}
service imap-login {
  inet_listener imap {
    port = 0
  }
}
)");
  ASSERT_TRUE(cfg) << cfg.error().message;
  const Settings& s = *(*cfg)->global();
  const Service* lmtp = s.find_service("lmtp");
  ASSERT_NE(lmtp, nullptr);
  EXPECT_EQ(lmtp->user, "vmail");
  EXPECT_EQ(lmtp->group, "mail");
  EXPECT_EQ(lmtp->process_min_avail, 6u);  // repeated service blocks merge, later wins
  EXPECT_EQ(lmtp->process_limit, 20u);
  EXPECT_EQ(lmtp->client_limit, 2u);
  EXPECT_EQ(lmtp->executable, "lmtp -L");
  EXPECT_EQ(lmtp->idle_kill, std::chrono::minutes(2));
  ASSERT_EQ(lmtp->inet_listeners.size(), 1u);
  EXPECT_EQ(lmtp->inet_listeners[0].name, "lmtp");
  EXPECT_EQ(lmtp->inet_listeners[0].address, (std::vector<std::string>{"192.168.0.24", "127.0.0.1", "::1"}));
  EXPECT_EQ(lmtp->inet_listeners[0].port, 24u);
  EXPECT_TRUE(lmtp->inet_listeners[0].haproxy);
  // Dovecot's built-in `unix_listener lmtp { mode = 0666 }` stays; the new one is added.
  ASSERT_EQ(lmtp->unix_listeners.size(), 2u);
  EXPECT_EQ(lmtp->unix_listeners[0].path, "lmtp");
  EXPECT_EQ(lmtp->unix_listeners[0].mode, 0666u);
  EXPECT_EQ(lmtp->unix_listeners[1].path, "/var/spool/postfix/private/dovecot-lmtp");
  EXPECT_EQ(lmtp->unix_listeners[1].mode, 0600u);
  EXPECT_EQ(lmtp->unix_listeners[1].user, "postfix");
  EXPECT_NE(s.find_service("imap-login"), nullptr);
  const auto& ignored = (*cfg)->ignored_keys();
  EXPECT_NE(std::find(ignored.begin(), ignored.end(), "service/imap-login"), ignored.end());
}

TEST(ConfigReader, DefaultLmtpServiceWithoutConfig) {
  auto cfg = load_config_string("", "empty.conf");
  ASSERT_TRUE(cfg);
  const Service* lmtp = (*cfg)->global()->find_service("lmtp");
  ASSERT_NE(lmtp, nullptr);
  ASSERT_EQ(lmtp->unix_listeners.size(), 1u);
  EXPECT_EQ(lmtp->unix_listeners[0].path, "lmtp");
  EXPECT_EQ(lmtp->unix_listeners[0].mode, 0666u);
  EXPECT_TRUE(lmtp->inet_listeners.empty());
}

TEST(ConfigReader, AuthDatabasesKeepOrderAndPluginIsAMap) {
  auto cfg = load_config_string(R"(passdb {
  driver = passwd-file
  args = scheme=CRYPT username_format=%u /etc/dovecot/users
}
passdb {
  driver = static
  args = nopassword=y
  skip = authenticated
}
userdb {
  driver = passwd-file
  args = username_format=%u /etc/dovecot/users
  default_fields = uid=vmail gid=vmail home=/var/vmail/%d/%n
  override_fields = mail=maildir:~/Maildir
}
userdb named {
  driver = static
  args = uid=vmail gid=vmail home=/var/vmail/%d/%n allow_all_users=yes
  result_success = continue-ok
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
  quota = maildir:User quota
}
plugin {
  quota_rule = *:storage=1G
}
)", "auth.conf");
  ASSERT_TRUE(cfg) << cfg.error().message;
  const Settings& s = *(*cfg)->global();
  ASSERT_EQ(s.passdbs.size(), 2u);
  EXPECT_EQ(s.passdbs[0].driver, "passwd-file");
  EXPECT_EQ(s.passdbs[0].args, "scheme=CRYPT username_format=%u /etc/dovecot/users");
  EXPECT_EQ(s.passdbs[1].driver, "static");
  EXPECT_EQ(s.passdbs[1].skip, "authenticated");
  ASSERT_EQ(s.userdbs.size(), 2u);
  EXPECT_EQ(s.userdbs[0].default_fields, "uid=vmail gid=vmail home=/var/vmail/%d/%n");
  EXPECT_EQ(s.userdbs[0].override_fields, "mail=maildir:~/Maildir");
  EXPECT_EQ(s.userdbs[1].name, "named");
  EXPECT_EQ(s.userdbs[1].result_success, "continue-ok");
  EXPECT_EQ(s.userdbs[1].result_failure, "continue");
  EXPECT_EQ(s.plugin.at("sieve"), "file:~/sieve;active=~/.dovecot.sieve");
  EXPECT_EQ(s.plugin.at("quota"), "maildir:User quota");
  EXPECT_EQ(s.plugin.at("quota_rule"), "*:storage=1G");
}

TEST(ConfigReader, FiltersResolvePerConnection) {
  auto cfg = load_config_string(R"(recipient_delimiter = +
hostname = global
protocol lmtp {
  hostname = lmtp-host
  plugin {
    sieve_extensions = +vacation-seconds
  }
}
protocol lda {
  hostname = lda-host
}
local 10.0.0.0/8 {
  lmtp_proxy = yes
  protocol lmtp {
    recipient_delimiter = -
  }
}
remote 192.168.1.1 {
  hostname = from-remote
}
local 10.1.0.0/16 {
  hostname = local16
}
remote 2001:db8::/32 {
  hostname = v6
}
)", "filters.conf");
  ASSERT_TRUE(cfg) << cfg.error().message;
  struct Case { Filter filter; const char* hostname; const char* delimiter; bool proxy; };
  const Case cases[] = {
      {{"lmtp", "", ""}, "lmtp-host", "+", false},
      {{"lda", "", ""}, "lda-host", "+", false},
      {{"imap", "", ""}, "global", "+", false},
      {{"lmtp", "10.2.3.4", ""}, "lmtp-host", "-", true},
      {{"lda", "10.2.3.4", ""}, "lda-host", "+", true},
      {{"lmtp", "10.1.2.3", ""}, "local16", "-", true},         // /16 beats /8 and protocol
      {{"lmtp", "", "192.168.1.1"}, "from-remote", "+", false},  // remote beats protocol
      {{"lmtp", "", "192.168.1.2"}, "lmtp-host", "+", false},
      {{"lmtp", "", "2001:db8::5"}, "v6", "+", false},
      {{"lmtp", "", "::ffff:192.168.1.1"}, "from-remote", "+", false},  // v4-mapped peer
      {{"lmtp", "11.0.0.1", "not-an-ip"}, "lmtp-host", "+", false},
  };
  for (const auto& c : cases) {
    SettingsPtr s = (*cfg)->resolve(c.filter);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->hostname, c.hostname) << c.filter.protocol << " " << c.filter.local_ip << " " << c.filter.remote_ip;
    EXPECT_EQ(s->recipient_delimiter, c.delimiter) << c.filter.local_ip;
    EXPECT_EQ(s->lmtp_proxy, c.proxy) << c.filter.local_ip;
  }
  EXPECT_EQ((*cfg)->resolve({"lmtp", "", ""})->plugin.at("sieve_extensions"), "+vacation-seconds");
  EXPECT_EQ((*cfg)->global()->hostname, "global");
  // Same matching blocks -> the very same immutable snapshot (cheap per connection).
  EXPECT_EQ((*cfg)->resolve({"lmtp", "10.9.9.9", "1.2.3.4"}).get(), (*cfg)->resolve({"lmtp", "10.2.2.2", ""}).get());
}

TEST(ConfigReader, LocalNameBlocksLoadButNeverMatchLmtp) {
  auto cfg = load_config_string(
      "hostname = global\nlocal_name imap.example.org {\n  hostname = sni\n}\n"
      "local 10.0.0.0/8 {\n  local_name mx.example.org {\n    hostname = sni2\n  }\n}\n",
      "sni.conf");
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ((*cfg)->resolve({"lmtp", "10.0.0.1", "10.0.0.2"})->hostname, "global");
}

TEST(ConfigReader, SelfReferenceInsideFilterSeesGlobalValue) {
  auto cfg = load_config_string("protocols = imap\nprotocol lmtp {\n  protocols = $protocols lmtp\n}\n", "p.conf");
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ((*cfg)->resolve({"lmtp", "", ""})->protocols, (std::vector<std::string>{"imap", "lmtp"}));
  EXPECT_EQ((*cfg)->global()->protocols, (std::vector<std::string>{"imap"}));
}

TEST(ConfigReader, TenThousandLineConfigLoads) {
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    text += "# block " + std::to_string(i) + "\n";
    text += "hostname = host" + std::to_string(i) + ".example\n";
    text += "plugin {\n  key" + std::to_string(i) + " = value " + std::to_string(i) + "\n}\n";
  }
  int lines = 0;
  for (char ch : text) lines += ch == '\n';
  ASSERT_GE(lines, 10000);
  auto start = std::chrono::steady_clock::now();
  auto cfg = load_config_string(text, "big.conf");
  auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  ASSERT_TRUE(cfg) << cfg.error().message;
  std::printf("[ info ] %d-line config loaded in %.3f ms\n", lines, static_cast<double>(took.count()) / 1000.0);
  EXPECT_EQ((*cfg)->global()->hostname, "host1999.example");
  EXPECT_EQ((*cfg)->global()->plugin.size(), 2000u);
}

// The privileged writer compares digests to know it read the bytes the daemon validated
// (privsep/writer_command.cpp): equal bytes, equal digest; a change in ANY file read — an
// !include'd one or a `key = <file` — gives another.
TEST(ConfigReader, DigestCoversEveryFileRead) {
  TempDir dir;
  dir.write("conf.d/10-a.conf", "recipient_delimiter = -\n");
  dir.write("secret.txt", "one");
  const std::string text = "!include conf.d/*.conf\npostmaster_address = <secret.txt\n";
  auto first = load(dir, text);
  ASSERT_TRUE(first) << first.error().message;
  const std::string d1 = (*first)->digest();
  EXPECT_EQ(d1.size(), 64u);
  EXPECT_EQ(d1.find_first_not_of("0123456789abcdef"), std::string::npos) << d1;
  auto again = load(dir, text);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->digest(), d1);

  dir.write("conf.d/10-a.conf", "recipient_delimiter = +\n");
  auto include_changed = load(dir, text);
  ASSERT_TRUE(include_changed);
  EXPECT_NE((*include_changed)->digest(), d1);

  dir.write("conf.d/10-a.conf", "recipient_delimiter = -\n");
  dir.write("secret.txt", "two");
  auto value_file_changed = load(dir, text);
  ASSERT_TRUE(value_file_changed);
  EXPECT_NE((*value_file_changed)->digest(), d1);

  dir.write("secret.txt", "one");
  auto top_changed = load(dir, text + "# a comment\n");
  ASSERT_TRUE(top_changed);
  EXPECT_NE((*top_changed)->digest(), d1);
  auto back = load(dir, text);
  ASSERT_TRUE(back);
  EXPECT_EQ((*back)->digest(), d1);
}

// The format, pinned: tests in Python compute it for a one-file config.
TEST(ConfigReader, DigestOfAStringIsSha256OfNameAndBytes) {
  auto cfg = load_config_string("", "x");
  ASSERT_TRUE(cfg);
  // sha256("1:x0:")
  EXPECT_EQ((*cfg)->digest(), "178af0ec716dee7fdfffeadcdc403ed4bb613fb89a462a1bdc752d254cfaf677");
}

TEST(ConfigReader, EmbeddedDefault) {
  for (bool root : {false, true}) {
    std::string text = embedded_default_config(root);
    auto cfg = load_config_string(text, std::string(kEmbeddedConfigName));
    ASSERT_TRUE(cfg) << cfg.error().message << "\n" << text;
    const Settings& s = *(*cfg)->global();
    EXPECT_EQ(s.protocols, std::vector<std::string>{"lmtp"});
    EXPECT_EQ(s.base_dir, std::string(DOVETAIL_CHECKOUT_DIR) + "/var/run");
    EXPECT_EQ(s.mail_location, "maildir:" + std::string(DOVETAIL_CHECKOUT_DIR) + "/var/mail/%d/%n/Maildir");
    EXPECT_EQ(s.log_path, "/dev/stderr");
    EXPECT_EQ(s.hostname, "");
    const Service* lmtp = s.find_service("lmtp");
    ASSERT_NE(lmtp, nullptr);
    ASSERT_EQ(lmtp->inet_listeners.size(), 1u);
    EXPECT_EQ(lmtp->inet_listeners[0].address, std::vector<std::string>{"127.0.0.1"});
    EXPECT_EQ(lmtp->inet_listeners[0].port, 2424u);
    ASSERT_EQ(lmtp->unix_listeners.size(), 1u);
    EXPECT_EQ(lmtp->unix_listeners[0].mode, 0666u);
    ASSERT_EQ(s.userdbs.size(), 1u);
    EXPECT_EQ(s.userdbs[0].driver, "static");
    EXPECT_EQ(s.userdbs[0].args, "allow_all_users=yes");
    EXPECT_EQ(s.mail_uid, root ? "dovetail" : "");
    EXPECT_EQ(s.mail_gid, root ? "dovetail" : "");
    EXPECT_TRUE((*cfg)->ignored_keys().empty());
  }
}

}  // namespace
}  // namespace dovetail::config
