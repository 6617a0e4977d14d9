#include "deliver/template_check.hpp"

#include <gtest/gtest.h>

namespace dovetail::deliver {
namespace {

std::vector<std::string> check(const std::string& mail_location, const std::string& mail_home = "") {
  config::Settings s;
  s.mail_location = mail_location;
  s.mail_home = mail_home;
  s.origin["mail_location"] = "/etc/dovecot/conf.d/10-mail.conf:30";
  s.origin["mail_home"] = "/etc/dovecot/conf.d/10-mail.conf:31";
  return check_path_templates(s, "lmtp");
}

TEST(TemplateCheck, UnknownVariableIsNamedWithFileAndLine) {
  auto w = check("maildir:/var/vmail/%d/%z/%n");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0],
            "/etc/dovecot/conf.d/10-mail.conf:30: mail_location: unknown variable %z: every recipient it applies to "
            "is deferred (451 4.3.0)");
  w = check("maildir:~/Maildir", "/home/%d/%{nosuch}");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].rfind("/etc/dovecot/conf.d/10-mail.conf:31: mail_home: unknown variable %{nosuch}", 0), 0u) << w[0];
}

TEST(TemplateCheck, ABrokenFunctionIsReportedWithItsReason) {
  auto w = check("maildir:/v/%{md5;rounds=0:user}");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("rounds must be at least 1"), std::string::npos) << w[0];
  EXPECT_EQ(check("maildir:/v/%{if;%n;xx;a;b;c}").size(), 1u);
  EXPECT_EQ(check("maildir:/v/%{if;%n;~;(;b;c}").size(), 1u);
}

TEST(TemplateCheck, TemplatesEveryUserCanExpandAreQuiet) {
  for (const char* ok : {"maildir:~/Maildir", "maildir:/v/%d/%1n/%n", "maildir:/v/%i/%{gid}/%s/%{auth_user}",
                         "maildir:/v/%{userdb:bucket}/%n", "maildir:/v/%{sha256;truncate=8:user}/%n:INBOX=/i/%u",
                         "maildir:/v/%{if;%d;eq;x;a;b}/%n", "maildir:/v/%{env:NOT_SET_HERE}%n"})
    EXPECT_TRUE(check(ok).empty()) << ok;
  // Depends on the user's values: left to delivery time.
  EXPECT_TRUE(check("maildir:/v/%{if;%{userdb:n};>;5;a;b}").empty());
  EXPECT_TRUE(check("maildir:~/Maildir", "/home/%d/%n").empty());
}

}  // namespace
}  // namespace dovetail::deliver
