#include "lmtpd/listeners.hpp"

#include <gtest/gtest.h>

namespace dovetail::lmtpd {
namespace {

config::Settings with_service(config::Service svc) {
  config::Settings s;
  s.base_dir = "/run/dt";
  s.protocols = {"lmtp"};
  s.services = {std::move(svc)};
  return s;
}

std::vector<std::string> described(const std::vector<net::ListenSpec>& v) {
  std::vector<std::string> out;
  for (const auto& s : v) out.push_back(s.describe());
  return out;
}

TEST(ListenersFromSettings, Table) {
  struct Case {
    const char* name;
    config::Service service;
    std::vector<std::string> want;
  };
  config::Service two;
  two.name = "lmtp";
  two.inet_listeners = {{"lmtp", {"127.0.0.1", "::1"}, 24}, {"lmtp2", {"*"}, 2424}};
  config::Service none;
  none.name = "lmtp";
  config::Service any;
  any.name = "lmtp";
  any.inet_listeners = {{"lmtp", {}, 24}};
  config::Service socks;
  socks.name = "lmtp";
  socks.unix_listeners = {{"lmtp", 0666, "", ""},
                          {"/var/spool/postfix/private/dovecot-lmtp", 0600, "", ""}};
  const Case cases[] = {
      {"two inet listeners", two,
       {"127.0.0.1:24", "[::1]:24", "0.0.0.0:2424", "unix:/run/dt/lmtp"}},
      {"default unix listener", none, {"unix:/run/dt/lmtp"}},
      {"empty address = * and ::", any, {"0.0.0.0:24", "[::]:24", "unix:/run/dt/lmtp"}},
      {"absolute and relative unix paths", socks,
       {"unix:/run/dt/lmtp", "unix:/var/spool/postfix/private/dovecot-lmtp"}},
  };
  for (const auto& c : cases) {
    auto r = listeners_from_settings(with_service(c.service));
    ASSERT_TRUE(r.has_value()) << c.name << ": " << r.error().message;
    EXPECT_EQ(described(*r), c.want) << c.name;
  }
}

TEST(ListenersFromSettings, UnixListenerAttributes) {
  config::Service svc;
  svc.name = "lmtp";
  svc.unix_listeners = {{"private/lmtp", 0660, "postfix", "mail"}};
  auto r = listeners_from_settings(with_service(svc));
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].path, "/run/dt/private/lmtp");
  EXPECT_EQ((*r)[0].mode, 0660u);
  EXPECT_EQ((*r)[0].user, "postfix");
  EXPECT_EQ((*r)[0].group, "mail");
  EXPECT_EQ((*r)[1].path, "/run/dt/lmtp");  // the default one is still there
  EXPECT_EQ((*r)[1].mode, 0666u);
}

TEST(ListenersFromSettings, EmptyAddressUsesTopLevelListen) {
  config::Service svc;
  svc.name = "lmtp";
  svc.inet_listeners = {{"lmtp", {}, 24}, {"other", {"::1"}, 25}};
  auto r = listeners_from_settings(with_service(svc), "127.0.0.1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(described(*r), (std::vector<std::string>{"127.0.0.1:24", "[::1]:25", "unix:/run/dt/lmtp"}));
}

// Dovecot starts no lmtp service without lmtp in protocols; serve must not idle with nothing.
TEST(ListenersFromSettings, NoLmtpProtocolIsAnError) {
  config::Service svc;
  svc.name = "lmtp";
  svc.inet_listeners = {{"lmtp", {"127.0.0.1"}, 24}};
  for (auto service : {svc, config::Service{.name = "lmtp"}}) {
    auto s = with_service(service);
    s.protocols = {"imap", "pop3"};
    s.origin["protocols"] = "d.conf:3";
    auto r = listeners_from_settings(s);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, base::ErrorKind::kConfig);
    EXPECT_EQ(r.error().message,
              "d.conf:3: protocols = imap pop3: lmtp is not listed, so dovetail serve would have no "
              "listener (add it: protocols = $protocols lmtp)");
  }
}

// Errors name the file:line of the assignment at fault (InetListener::origin, or `listen`'s
// for a listener without address).
TEST(ListenersFromSettings, ErrorsCarryFileAndLine) {
  struct Case {
    const char* name;
    config::InetListener inet;
    std::string listen;
    std::string want;
  };
  const Case cases[] = {
      {"invalid port", {"lmtp", {"127.0.0.1"}, 70000, false, false, {{"port", "d.conf:5"}, {"address", "d.conf:4"}}},
       "*, ::", "d.conf:5: service lmtp inet_listener lmtp: invalid port 70000"},
      {"invalid address", {"lmtp", {"mail.example.com"}, 24, false, false, {{"port", "d.conf:5"}, {"address", "d.conf:4"}}},
       "*, ::", "d.conf:4: service lmtp inet_listener lmtp: "},
      {"invalid listen", {"lmtp", {}, 24, false, false, {{"port", "d.conf:9"}}},
       "nowhere", "d.conf:1: service lmtp inet_listener lmtp: "},
  };
  for (const auto& c : cases) {
    config::Service svc;
    svc.name = "lmtp";
    svc.inet_listeners = {c.inet};
    auto s = with_service(svc);
    s.origin["listen"] = "d.conf:1";
    auto r = listeners_from_settings(s, c.listen);
    ASSERT_FALSE(r.has_value()) << c.name;
    EXPECT_EQ(r.error().kind, base::ErrorKind::kConfig) << c.name;
    EXPECT_TRUE(r.error().message.starts_with(c.want)) << c.name << ": " << r.error().message;
  }
}

TEST(ListenersFromSettings, Errors) {
  config::Service bad;
  bad.name = "lmtp";
  bad.inet_listeners = {{"lmtp", {"mail.example.com"}, 24}};
  auto r = listeners_from_settings(with_service(bad));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, base::ErrorKind::kConfig);
  EXPECT_NE(r.error().message.find("mail.example.com"), std::string::npos);

  config::Service dup;
  dup.name = "lmtp";
  dup.inet_listeners = {{"a", {"127.0.0.1"}, 24}, {"b", {"127.0.0.1"}, 24}};
  auto d = listeners_from_settings(with_service(dup));
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.error().message.find("127.0.0.1:24"), std::string::npos);
}

}  // namespace
}  // namespace dovetail::lmtpd
