// What an admin sees when a config is wrong: every message starts with "file:line: ".
#include <gtest/gtest.h>

#include "config/config.hpp"
#include "testlib/temp_dir.hpp"

namespace dovetail::config {
namespace {

using testlib::TempDir;

struct ErrorCase {
  const char* what;
  const char* conf;
  const char* message;  // after "<dir>/"
};

const ErrorCase kErrors[] = {
    {"unknown key", "hostname = a\nsql_password = x\n", "dovecot.conf:2: Unknown setting: sql_password"},
    {"unknown key in service", "service lmtp {\n  nosuch = 1\n}\n", "dovecot.conf:2: Unknown setting: nosuch"},
    {"unknown key in listener", "service lmtp {\n  inet_listener lmtp {\n    portt = 24\n  }\n}\n",
     "dovecot.conf:3: Unknown setting: portt"},
    {"unknown section", "nosuch {\n}\n", "dovecot.conf:1: Unknown section: nosuch"},
    {"listener outside service", "inet_listener x {\n}\n", "dovecot.conf:1: Unknown section: inet_listener"},
    {"service without name", "service {\n}\n", "dovecot.conf:1: service is missing name"},
    {"missing close brace", "hostname = a\nservice lmtp {\n  user = x\n", "dovecot.conf:2: Missing '}'"},
    {"unexpected close brace", "service lmtp {\n}\n}\n", "dovecot.conf:3: Unexpected '}'"},
    {"bare word", "hostname\n", "dovecot.conf:1: Expecting '='"},
    {"garbage after brace", "service lmtp { user = x\n", "dovecot.conf:1: Garbage after '{'"},
    {"missing key", "= value\n", "dovecot.conf:1: Missing key name ('=' at the beginning of line)"},
    {"bad boolean", "mail_debug = maybe\n", "dovecot.conf:1: Invalid boolean value: maybe (use yes or no)"},
    {"bad number", "\n\nfirst_valid_uid = abc\n", "dovecot.conf:3: Invalid number abc: Not a valid number"},
    {"bad enum mail_fsync", "mail_fsync = sometimes\n", "dovecot.conf:1: Invalid value: sometimes"},
    {"bad enum delivery address", "lmtp_hdr_delivery_address = bogus\n", "dovecot.conf:1: Invalid value: bogus"},
    {"bad size", "lmtp_max_mail_size = 10 X\n", "dovecot.conf:1: Invalid size: 10 X"},
    {"bad time", "lmtp_idle_timeout = soon\n", "dovecot.conf:1: Invalid time interval: soon"},
    {"bad port", "service lmtp {\n  inet_listener lmtp {\n    port = x\n  }\n}\n",
     "dovecot.conf:3: Invalid number x: Not a valid number"},
    {"bad mode", "service lmtp {\n  unix_listener lmtp {\n    mode = 0999\n  }\n}\n",
     "dovecot.conf:3: Invalid number 0999: Not a valid octal number"},
    {"unknown variable", "hostname = $nosuch\n", "dovecot.conf:1: Unknown variable: $nosuch"},
    {"missing include", "\n!include nothere.conf\n", "dovecot.conf:2: !include nothere.conf: No matches"},
    {"missing <file", "hostname = <nothere.txt\n",
     "dovecot.conf:1: hostname: Can't open file nothere.txt: No such file or directory"},
    {"nested protocol", "protocol lmtp {\n  protocol imap {\n  }\n}\n",
     "dovecot.conf:2: Nested protocol { protocol { .. } } block not allowed"},
    {"local inside protocol", "protocol lmtp {\n  local 1.2.3.4 {\n  }\n}\n",
     "dovecot.conf:2: protocol { local { .. } } not allowed (use local { protocol { .. } } instead)"},
    {"bad network", "local 1.2.3.4/33 {\n}\n", "dovecot.conf:1: Invalid network mask: 1.2.3.4/33"},
    {"filter inside section", "service lmtp {\n  protocol lmtp {\n  }\n}\n",
     "dovecot.conf:2: protocol { } block not allowed inside service { }"},
    {"bad value inside filter", "protocol lmtp {\n  mail_debug = perhaps\n}\n",
     "dovecot.conf:2: Invalid boolean value: perhaps (use yes or no)"},
    {"duplicate named passdb", "passdb a {\n  driver = static\n}\npassdb a {\n}\n",
     "dovecot.conf:4: passdb/a already exists"},
    {"error inside included file", "!include conf.d/bad.conf\n", "conf.d/bad.conf:2: Unknown setting: nope"},
};

TEST(ConfigErrors, MessagesCarryFileAndLine) {
  TempDir dir;
  dir.write("conf.d/bad.conf", "hostname = a\nnope = 1\n");
  for (const auto& c : kErrors) {
    auto cfg = load_config_file(dir.write("dovecot.conf", c.conf).string());
    ASSERT_FALSE(cfg) << c.what;
    EXPECT_EQ(cfg.error().kind, base::ErrorKind::kConfig) << c.what;
    EXPECT_EQ(cfg.error().message, dir.str() + "/" + c.message) << c.what;
  }
}

TEST(ConfigErrors, IncludeCycleIsAnError) {
  TempDir dir;
  dir.write("a.conf", "hostname = a\n!include b.conf\n");
  dir.write("b.conf", "\n!include a.conf\n");
  auto cfg = load_config_file(dir.write("dovecot.conf", "!include a.conf\n").string());
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.error().message.find(dir.str() + "/b.conf:2: Recursive include file: "), std::string::npos)
      << cfg.error().message;
  // A file including itself through a glob.
  auto self = load_config_file(dir.write("self.conf", "!include *.conf\n").string());
  ASSERT_FALSE(self);
  EXPECT_NE(self.error().message.find("Recursive include file"), std::string::npos) << self.error().message;
}

TEST(ConfigErrors, MissingFileIsAConfigError) {
  auto cfg = load_config_file("/nonexistent/dovetail.conf");
  ASSERT_FALSE(cfg);
  EXPECT_EQ(cfg.error().kind, base::ErrorKind::kConfig);
  EXPECT_EQ(cfg.error().message.rfind("/nonexistent/dovetail.conf:0: ", 0), 0u) << cfg.error().message;
}

TEST(ConfigErrors, CrossKeyCheck) {
  auto cfg = load_config_string("first_valid_uid = 1000\nlast_valid_uid = 10\n", "c.conf");
  ASSERT_FALSE(cfg);
  EXPECT_EQ(cfg.error().message, "c.conf: first_valid_uid is larger than last_valid_uid");
  auto db = load_config_string("passdb {\n  args = x\n}\n", "d.conf");
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().message, "d.conf: passdb is missing driver");
}

TEST(ConfigErrors, UnreadableTlsFileIsAWarningNotFatal) {
  auto cfg = load_config_string("ssl_cert = </nonexistent/cert.pem\n", "t.conf");
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ((*cfg)->global()->ssl_cert, "");
  ASSERT_EQ((*cfg)->warnings().size(), 1u);
  EXPECT_EQ((*cfg)->warnings()[0].rfind("t.conf:1: ssl_cert: Can't open file /nonexistent/cert.pem", 0), 0u);
}

}  // namespace
}  // namespace dovetail::config
