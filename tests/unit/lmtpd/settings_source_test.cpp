// SettingsSource refuses, with file:line and before anything binds, a config that parses but
// cannot be served: a bad listener port or address, or `protocols` without lmtp. SIGHUP's
// reload() refuses the same and keeps the old config.
#include "lmtpd/settings_source.hpp"

#include <gtest/gtest.h>

#include "testlib/temp_dir.hpp"

namespace dovetail::lmtpd {
namespace {

using testlib::TempDir;

TEST(SettingsSource, UnservableConfigsAreErrorsWithFileAndLine) {
  struct Case {
    const char* name;
    const char* conf;
    const char* want;  // after "<path>:"
  };
  const Case cases[] = {
      {"invalid port", "protocols = lmtp\nservice lmtp {\n  inet_listener lmtp {\n    address = 127.0.0.1\n    port = 70000\n  }\n}\n",
       "5: service lmtp inet_listener lmtp: invalid port 70000"},
      {"invalid address", "protocols = lmtp\nservice lmtp {\n  inet_listener lmtp {\n    address = 127.0.0.300\n    port = 24\n  }\n}\n",
       "4: service lmtp inet_listener lmtp: "},
      {"invalid listen", "listen = mx.example.com\nprotocols = lmtp\nservice lmtp {\n  inet_listener lmtp {\n    port = 24\n  }\n}\n",
       "1: service lmtp inet_listener lmtp: "},
      {"protocols without lmtp", "\nprotocols = imap pop3\n",
       "2: protocols = imap pop3: lmtp is not listed"},
  };
  for (const auto& c : cases) {
    TempDir dir;
    dir.write("run/.keep", "");
    auto path = dir.write("d.conf", std::string("base_dir = ") + dir.str() + "/run\n" + c.conf);
    auto r = SettingsSource::load(path.string());
    ASSERT_FALSE(r.has_value()) << c.name;
    EXPECT_EQ(r.error().kind, base::ErrorKind::kConfig) << c.name;
    // base_dir takes line 1 of the file, so the case's line numbers shift by one.
    const std::string line_text = c.want;
    const auto colon = line_text.find(':');
    const std::string want = path.string() + ":" + std::to_string(std::stoi(line_text.substr(0, colon)) + 1) +
                             line_text.substr(colon);
    EXPECT_TRUE(r.error().message.starts_with(want)) << c.name << "\n  got:  " << r.error().message
                                                     << "\n  want: " << want;
  }
}

TEST(SettingsSource, ReloadRefusesUnservableConfigAndKeepsTheOld) {
  TempDir dir;
  auto path = dir.write("d.conf", "protocols = lmtp\nbase_dir = " + dir.str() + "\nhostname = one\n");
  auto src = SettingsSource::load(path.string());
  ASSERT_TRUE(src.has_value()) << src.error().message;
  dir.write("d.conf", "protocols = imap\nbase_dir = " + dir.str() + "\nhostname = two\n");
  auto st = (*src)->reload();
  ASSERT_FALSE(st.has_value());
  EXPECT_TRUE(st.error().message.starts_with(path.string() + ":1: protocols = imap")) << st.error().message;
  EXPECT_EQ((*src)->lmtp()->hostname, "one");
}

}  // namespace
}  // namespace dovetail::lmtpd
