#include "net/listen_spec.hpp"

#include <gtest/gtest.h>

namespace dovetail::net {
namespace {

struct Case {
  std::vector<std::string> in;
  std::vector<std::string> want;
};

TEST(ExpandInetAddresses, Table) {
  const Case cases[] = {
      {{}, {"0.0.0.0", "::"}},
      {{"*"}, {"0.0.0.0"}},
      {{"::"}, {"::"}},
      {{"*", "::"}, {"0.0.0.0", "::"}},
      {{"*, ::"}, {"0.0.0.0", "::"}},
      {{"192.168.0.24 127.0.0.1 ::1"}, {"192.168.0.24", "127.0.0.1", "::1"}},
      {{"[::1]"}, {"::1"}},
      {{"localhost"}, {"127.0.0.1", "::1"}},
      {{"127.0.0.1", "127.0.0.1"}, {"127.0.0.1"}},
      {{"fe80::1", "10.0.0.1"}, {"fe80::1", "10.0.0.1"}},
  };
  for (const auto& c : cases) {
    auto r = expand_inet_addresses(c.in);
    ASSERT_TRUE(r.has_value()) << (c.in.empty() ? "(empty)" : c.in[0]);
    EXPECT_EQ(*r, c.want) << (c.in.empty() ? "(empty)" : c.in[0]);
  }
}

TEST(ExpandInetAddresses, RejectsNonNumeric) {
  for (const char* bad : {"mail.example.com", "1.2.3.4.5", "::g", "[::1", "300.1.1.1"}) {
    auto r = expand_inet_addresses({bad});
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().kind, base::ErrorKind::kInvalidInput);
    EXPECT_NE(r.error().message.find("invalid listener address"), std::string::npos);
  }
}

TEST(ResolveUnixPath, RelativeToBaseDir) {
  EXPECT_EQ(resolve_unix_path("/run/dovecot", "lmtp"), "/run/dovecot/lmtp");
  EXPECT_EQ(resolve_unix_path("/run/dovecot/", "lmtp"), "/run/dovecot/lmtp");
  EXPECT_EQ(resolve_unix_path("/run/dovecot", "/var/spool/postfix/private/dovecot-lmtp"),
            "/var/spool/postfix/private/dovecot-lmtp");
  EXPECT_EQ(resolve_unix_path("/run/dovecot", "sub/lmtp"), "/run/dovecot/sub/lmtp");
}

TEST(ListenSpecDescribe, Forms) {
  ListenSpec v4{ListenSpec::Kind::kInet, "lmtp", "127.0.0.1", 2424};
  ListenSpec v6{ListenSpec::Kind::kInet, "lmtp", "::1", 24};
  ListenSpec ux;
  ux.kind = ListenSpec::Kind::kUnix;
  ux.path = "/run/x/lmtp";
  EXPECT_EQ(v4.describe(), "127.0.0.1:2424");
  EXPECT_EQ(v6.describe(), "[::1]:24");
  EXPECT_EQ(ux.describe(), "unix:/run/x/lmtp");
}

}  // namespace
}  // namespace dovetail::net
