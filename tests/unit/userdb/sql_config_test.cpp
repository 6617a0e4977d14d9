#include <gtest/gtest.h>

#include "userdb/sql_config.hpp"
#include "userdb/sql_driver.hpp"

namespace dovetail::userdb {
namespace {

TEST(SqlConfig, DovecotFileSyntax) {
  const char* text =
      "# dovecot-sql.conf.ext\n"
      "driver = pgsql\n"
      "connect = host=localhost dbname=mails user=admin password=pass # trailing comment\n"
      "default_pass_scheme = SHA512-CRYPT\n"
      "\n"
      "password_query = \\\n"
      "  SELECT username, domain, password \\\n"
      "  FROM users WHERE username = '%n' AND domain = '%d'\n"
      "user_query = SELECT home, 'a#b' AS tag FROM users WHERE userid = '%u'  \n"
      "iterate_query = \"SELECT username AS user FROM users\"\n"
      "update_query = UPDATE users SET password = '%w'\n";
  auto cfg = parse_sql_config(text, "test.conf");
  ASSERT_TRUE(cfg.has_value()) << cfg.error().message;
  EXPECT_EQ(cfg->driver, "pgsql");
  EXPECT_EQ(cfg->connect, "host=localhost dbname=mails user=admin password=pass");
  EXPECT_EQ(cfg->default_pass_scheme, "SHA512-CRYPT");
  EXPECT_EQ(cfg->password_query,
            "SELECT username, domain, password FROM users WHERE username = '%n' AND domain = '%d'");
  EXPECT_EQ(cfg->user_query, "SELECT home, 'a#b' AS tag FROM users WHERE userid = '%u'");
  EXPECT_EQ(cfg->iterate_query, "SELECT username AS user FROM users");
}

TEST(SqlConfig, DefaultsAreDovecots) {
  auto cfg = parse_sql_config("driver = sqlite\nconnect = /var/lib/users.db\n", "x");
  ASSERT_TRUE(cfg.has_value());
  EXPECT_EQ(cfg->user_query, "SELECT home, uid, gid FROM users WHERE username = '%n' AND domain = '%d'");
  EXPECT_EQ(cfg->default_pass_scheme, "MD5");
}

TEST(SqlConfig, ErrorsNameFileAndLine) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"driver = mysql\nconnect = x\n", "x.conf:1: unsupported SQL driver 'mysql'"},
      {"driver = sqlite\nconnect = x\nbogus = 1\n", "x.conf:3: unknown setting: bogus"},
      {"driver = sqlite\nno equals sign\n", "x.conf:2: expected 'key = value'"},
      {"connect = x\n", "x.conf: driver not set"},
      {"driver = sqlite\n", "x.conf: connect not set"},
  };
  for (const auto& c : cases) {
    auto cfg = parse_sql_config(c.text, "x.conf");
    ASSERT_FALSE(cfg.has_value()) << c.text;
    EXPECT_EQ(cfg.error().kind, base::ErrorKind::kConfig);
    EXPECT_NE(cfg.error().message.find(c.want), std::string::npos) << cfg.error().message;
  }
  auto missing = read_sql_config("/nonexistent/dovecot-sql.conf.ext");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().kind, base::ErrorKind::kConfig);
}

TEST(SqlConfig, MaxconnsIsDovecotsNotLibpqs) {
  size_t n = 5;
  EXPECT_EQ(strip_maxconns("host=db maxconns=2 dbname=mail", &n), "host=db dbname=mail");
  EXPECT_EQ(n, 2u);
  n = 5;
  EXPECT_EQ(strip_maxconns("host=db password='a b maxconns=9'", &n), "host=db password='a b maxconns=9'");
  EXPECT_EQ(n, 5u);
}

}  // namespace
}  // namespace dovetail::userdb
