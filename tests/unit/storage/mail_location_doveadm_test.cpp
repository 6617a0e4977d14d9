// Differential test: mail_location templates expanded by Dovetail and by Dovecot itself.
// For each template, `doveadm mailbox path INBOX` (Dovecot 2.3, USER/HOME from the
// environment, mail_location = maildir:/dt-test/<template> in its config file) prints where
// Dovecot would deliver; parse_mail_location must give the same root, or fail where Dovecot
// refuses the expansion. Skipped without doveadm or root (doveadm must drop to a mail uid).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "storage/mail_location.hpp"
#include "testlib/temp_dir.hpp"

namespace dovetail::storage {
namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Dovecot's answer: the path, or nullopt when it refused to expand the template.
std::optional<std::string> dovecot_root(const std::string& conf) {
  const std::string cmd = "USER=alice@example.com HOME=/tmp/h /usr/bin/doveadm -c " + shell_quote(conf) +
                          " -o mail_uid=65534 -o mail_gid=65534 mailbox path INBOX 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = ::pclose(p);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

TEST(MailLocationDoveadm, TemplatesExpandAsDovecotExpandsThem) {
  if (::access("/usr/bin/doveadm", X_OK) != 0) GTEST_SKIP() << "doveadm not installed";
  if (::geteuid() != 0) GTEST_SKIP() << "doveadm must run as root to drop to a mail uid";
  testlib::TempDir tmp;
  const char* templates[] = {
      "%n/%d", "%Ln/%2.1n", "%256Nu", "%2.256Hu", "%Mu", "%{user}", "%{md5:user}", "%{sha1:user}",
      "%{sha256:user}", "%{sha512:username}", "%{sha3-256:domain}", "%{md5;rounds=3:user}",
      "%{md5;salt=%d:user}", "%{md5;salt=a,rounds=3:user}", "%{md5;truncate=7:user}",
      "%{sha256;truncate=12:username}", "%{sha1;format=base64,truncate=20:user}",
      "%{sha1;format=hexuc:user}", "%U{md5:user}", "%4{md5:user}", "%2.3{md5:user}",
      "%{md5:home}", "%d/%{md5;truncate=8:username}/%n", "%{if;%d;eq;example.com;local;other}/%n",
      "%{if;%n;ne;alice;x;y}", "%{if;%{if;%n;eq;alice;a;b};eq;a;IN;%Uu}", "%{if;10;<;9;yes;no}",
      "%{if;%n;*;a?ice;y;n}", "%{if;%n;~;^(al|bo)ice$;y;n}", "%{if;a;eq;b;y}/z", "%{if;a;eq;a;y:z;n}",
      "%{if;%n;eq;alice;%{md5;truncate=8:user};n}",
      // refused by both
      "%{md5;rounds=0:user}", "%{md5;format=bad:user}", "%{md5:nosuch}", "%{sha224:user}",
      "%{if;abc;==;0;y;n}", "%{if;a;eq;a}", "%{if;a;xx;a;y;n}", "%{if;%n;~;(;y;n}", "%z",
  };
  int compared = 0;
  for (const std::string t : templates) {
    const std::string location = "maildir:/dt-test/" + t;
    const auto conf = tmp.write("dovecot.conf", "ssl = no\nlog_path = /dev/null\nmail_location = " + location + "\n");
    const auto want = dovecot_root(conf.string());
    const auto got = parse_mail_location(location, "alice@example.com", "/tmp/h");
    if (want) {
      ASSERT_TRUE(got) << t << ": Dovecot gives " << *want << ", Dovetail fails: " << got.error().message;
      EXPECT_EQ(got->root, *want) << t;
    } else {
      EXPECT_FALSE(got) << t << ": Dovecot refuses it, Dovetail gives " << got->root;
    }
    ++compared;
  }
  EXPECT_EQ(compared, static_cast<int>(std::size(templates)));
}

}  // namespace
}  // namespace dovetail::storage
