#include <gtest/gtest.h>

#include "testlib/coarse_clock.hpp"
#include "testlib/temp_dir.hpp"
#include "userdb/user_db.hpp"

namespace dovetail::userdb {
namespace {

using testlib::TempDir;

base::Result<std::unique_ptr<UserDb>> make(std::vector<DbSpec> passdbs, std::vector<DbSpec> userdbs) {
  UserDbConfig cfg;
  cfg.passdbs = std::move(passdbs);
  cfg.userdbs = std::move(userdbs);
  return UserDb::create(cfg);
}

TEST(Static, AllowAllUsersFindsAnyoneWithExpandedFields) {
  auto db = make({}, {{"static", "uid=1000 gid=1000 home=/var/mail/%d/%n mail=maildir:~/M "
                                 "allow_all_users=yes", "", ""}});
  ASSERT_TRUE(db.has_value()) << db.error().message;
  auto u = (*db)->lookup_user("anyone@test.example");
  ASSERT_TRUE(u.has_value()) << u.error().message;
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 1000u);
  EXPECT_EQ(u->home, "/var/mail/test.example/anyone");
  EXPECT_EQ(u->mail, "maildir:~/M");
  EXPECT_EQ(u->extra.count("allow_all_users"), 0u);
}

// A template naming a variable Dovecot does not know (%z) fails the lookup temporarily in
// every place a template is expanded, as Dovecot's "Failed to expand ..." does: never a
// path, key or field with the variable replaced by text (which could be "user unknown" or
// a directory no reader uses).
TEST(Templates, UnknownVariableIsTemporaryEverywhere) {
  TempDir dir;
  auto users = dir.write("users", "alice@x:{PLAIN}pw:1000:1000::/home/alice::userdb_mail=maildir:/m/%z\n"
                                  "bob@x:{PLAIN}pw:1000:1000::/home/bob::\n");
  dir.write("x", "bob@x:{PLAIN}pw:1000:1000::/home/bob::\n");
  const std::string d = dir.str();
  struct Case {
    const char* name;
    std::vector<DbSpec> passdbs, userdbs;
    const char* user;
  } cases[] = {
      {"passwd-file path", {}, {{"passwd-file", d + "/%z"}}, "bob@x"},
      {"passwd-file username_format", {}, {{"passwd-file", "username_format=%z " + users.string()}}, "bob@x"},
      {"passwd-file userdb_ extra field", {}, {{"passwd-file", users.string()}}, "alice@x"},
      {"static args", {}, {{"static", "uid=1000 gid=1000 home=/h/%z allow_all_users=yes"}}, "bob@x"},
      {"default_fields", {}, {{"passwd-file", users.string(), "mail=maildir:/m/%{nosuch}"}}, "bob@x"},
      {"override_fields", {}, {{"passwd-file", users.string(), "", "home=/h/%Lz"}}, "bob@x"},
      {"passdb extra field", {{"passwd-file", users.string()}}, {{"static", "uid=1000 gid=1000"}}, "alice@x"},
  };
  for (const auto& c : cases) {
    auto db = make(c.passdbs, c.userdbs);
    ASSERT_TRUE(db.has_value()) << c.name << ": " << db.error().message;
    auto u = (*db)->lookup_user(c.user);
    ASSERT_FALSE(u.has_value()) << c.name;
    EXPECT_EQ(u.error().kind, base::ErrorKind::kTemporary) << c.name << ": " << u.error().message;
    EXPECT_NE(u.error().message.find("unknown variable"), std::string::npos) << c.name << ": " << u.error().message;
  }
}

TEST(Static, UidAndGidByName) {
  auto db = make({}, {{"static", "uid=root gid=root allow_all_users=yes", "", ""}});
  ASSERT_TRUE(db.has_value());
  auto u = (*db)->lookup_user("x");
  ASSERT_TRUE(u.has_value()) << u.error().message;
  EXPECT_EQ(u->uid, 0u);
  EXPECT_EQ(u->gid, 0u);
  // An unknown name is an admin error: temporary, never "user unknown".
  auto bad = make({}, {{"static", "uid=no-such-user-dovetail allow_all_users=yes", "", ""}});
  auto r = (*bad)->lookup_user("x");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, base::ErrorKind::kTemporary);
}

TEST(Static, WithoutAllowAllUsersThePassdbDecides) {
  TempDir dir;
  auto path = dir.write("users", "alice@x:{PLAIN}pw\n");
  auto db = make({{"passwd-file", path.string(), "", ""}},
                 {{"static", "uid=1000 gid=1000 home=/home/%u", "", ""}});
  ASSERT_TRUE(db.has_value()) << db.error().message;
  auto a = (*db)->lookup_user("alice@x");
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_EQ(a->home, "/home/alice@x");
  auto b = (*db)->lookup_user("bob@x");
  ASSERT_FALSE(b.has_value());
  EXPECT_TRUE(is_unknown_user(b.error()));

  // passdb backend down → temporary, not unknown (noticed within a second, as in Dovecot).
  std::filesystem::remove(path);
  testlib::wait_for_next_coarse_second();
  auto c = (*db)->lookup_user("alice@x");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().kind, base::ErrorKind::kTemporary);
}

TEST(Static, WithoutAllowAllUsersAndNoPassdbIsAConfigError) {
  auto db = make({}, {{"static", "uid=1000 gid=1000", "", ""}});
  ASSERT_FALSE(db.has_value());
  EXPECT_EQ(db.error().kind, base::ErrorKind::kConfig);
}

TEST(Static, PassdbRoleRoutesEveryUserToAProxy) {
  auto db = make({{"static", "proxy=y host=10.0.0.9 port=2424 protocol=smtp nopassword=y", "", ""}}, {});
  ASSERT_TRUE(db.has_value());
  auto p = (*db)->lookup_pass("whoever@x");
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_TRUE(p->proxy);
  EXPECT_EQ(p->host, "10.0.0.9");
  EXPECT_EQ(p->port, 2424u);
  EXPECT_EQ(p->protocol, "smtp");
  EXPECT_EQ(p->name, "whoever@x");
}

TEST(Chain, FirstFoundWinsNotFoundContinues) {
  TempDir dir;
  auto first = dir.write("first", "alice@x::1001:1001::/first\n");
  auto second = dir.write("second", "alice@x::2001:2001::/second\nbob@x::2002:2002::/second\n");
  auto db = make({}, {{"passwd-file", first.string(), "", ""}, {"passwd-file", second.string(), "", ""}});
  ASSERT_TRUE(db.has_value());
  EXPECT_EQ((*db)->lookup_user("alice@x")->home, "/first");
  EXPECT_EQ((*db)->lookup_user("bob@x")->home, "/second");
  EXPECT_TRUE(is_unknown_user((*db)->lookup_user("carol@x").error()));
}

TEST(Chain, TemporaryFailureTaintsALaterNotFound) {
  TempDir dir;
  auto second = dir.write("second", "bob@x::2002:2002::/second\n");
  auto db = make({}, {{"passwd-file", (dir.path() / "missing").string(), "", ""},
                      {"passwd-file", second.string(), "", ""}});
  ASSERT_TRUE(db.has_value());
  // Found in the healthy db: fine.
  EXPECT_TRUE((*db)->lookup_user("bob@x").has_value());
  // Not found anywhere, but the first db could not answer: temporary.
  auto c = (*db)->lookup_user("carol@x");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().kind, base::ErrorKind::kTemporary);
}

TEST(Chain, DefaultAndOverrideFields) {
  TempDir dir;
  auto path = dir.write("users", "alice@x::1001:1001::/home/alice::userdb_mail=maildir:~/A\n"
                                 "bob@x::1002:1002::/home/bob\n");
  auto db = make({}, {{"passwd-file", path.string(), "mail=maildir:%h/Default quota_rule=*:storage=1M",
                       "quota_rule=*:storage=5M"}});
  ASSERT_TRUE(db.has_value());
  auto a = (*db)->lookup_user("alice@x");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->mail, "maildir:~/A");          // the db's own field beats the default
  EXPECT_EQ(a->quota_rule, "*:storage=5M");   // override beats everything
  auto b = (*db)->lookup_user("bob@x");
  EXPECT_EQ(b->mail, "maildir:/home/bob/Default");
}

TEST(Chain, UserFieldRenames) {
  auto db = make({}, {{"static", "uid=1000 gid=1000 user=%n allow_all_users=yes", "", ""}});
  ASSERT_TRUE(db.has_value());
  EXPECT_EQ((*db)->lookup_user("alice@x")->name, "alice");
}

TEST(Chain, EmptyChainsAndUnknownDrivers) {
  auto db = make({}, {});
  ASSERT_TRUE(db.has_value());
  EXPECT_TRUE(is_unknown_user((*db)->lookup_user("a@x").error()));
  EXPECT_TRUE(is_unknown_user((*db)->lookup_pass("a@x").error()));
  auto bad = make({}, {{"ldap", "/etc/dovecot/ldap.conf", "", ""}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().kind, base::ErrorKind::kConfig);
}

TEST(UsernameFormat, Table) {
  struct Case {
    const char* user;
    const char* format;
    const char* want;
  } cases[] = {
      {"Alice@Test.Example", "%Lu", "alice@test.example"},
      {"Alice@Test.Example", "%u", "Alice@Test.Example"},
      {"Alice@Test.Example", "%n", "Alice"},
      {"Alice@Test.Example", "%Ln", "alice"},
      {"Alice@Test.Example", "%Ld", "test.example"},
      {"Alice@Test.Example", "%n@mail.%d", "Alice@mail.Test.Example"},
      {"Alice@Test.Example", "", "Alice@Test.Example"},
      {"Alice", "%Lu", "alice"},
      {"Alice", "%d", ""},
      {"JÖRG@x", "%Lu", "jÖrg@x"},  // ASCII-only lowering, as Dovecot's %L
  };
  for (const auto& c : cases) EXPECT_EQ(format_username(c.user, c.format), c.want) << c.format;
}

TEST(UsernameFormat, LookupUsesTheFormattedKey) {
  TempDir dir;
  auto path = dir.write("users", "alice@test.example::1001:1001::/h\n");
  auto db = make({}, {{"passwd-file", path.string(), "", ""}});
  ASSERT_TRUE(db.has_value());
  EXPECT_TRUE((*db)->lookup_user(format_username("Alice@Test.EXAMPLE", "%Lu")).has_value());
  EXPECT_FALSE((*db)->lookup_user(format_username("Alice@Test.EXAMPLE", "%u")).has_value());
  // %n drops the domain: the file must then be keyed by the bare name.
  auto path2 = dir.write("users2", "alice::1001:1001::/h\n");
  auto db2 = make({}, {{"passwd-file", path2.string(), "", ""}});
  EXPECT_TRUE((*db2)->lookup_user(format_username("alice@test.example", "%n")).has_value());
}

}  // namespace
}  // namespace dovetail::userdb

namespace dovetail::userdb {
namespace {

TEST(SystemDrivers, PasswdUserdbFindsSystemUsers) {
  auto db = make({}, {{"passwd", "", "", ""}});
  ASSERT_TRUE(db.has_value()) << db.error().message;
  auto root = (*db)->lookup_user("root");
  ASSERT_TRUE(root.has_value()) << root.error().message;
  EXPECT_EQ(root->uid, 0u);
  EXPECT_EQ(root->gid, 0u);
  EXPECT_EQ(root->home, "/root");
  for (const char* key : {"no-such-user-dovetail", "root@test.example", ""}) {
    auto u = (*db)->lookup_user(key);
    ASSERT_FALSE(u.has_value()) << key;
    EXPECT_TRUE(is_unknown_user(u.error())) << key;
  }
}

TEST(SystemDrivers, PamPassdbCannotAnswerLookups) {
  // Debian's default: passdb pam + userdb passwd. LMTP never needs pam unless it asks the
  // passdb (lmtp_proxy, static userdb without allow_all_users): then Dovecot fails temporarily.
  auto db = make({{"pam", "", "", ""}}, {{"static", "uid=1000 gid=1000 home=/h/%u", "", ""}});
  ASSERT_TRUE(db.has_value()) << db.error().message;
  auto p = (*db)->lookup_pass("root");
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().kind, base::ErrorKind::kTemporary);
  auto u = (*db)->lookup_user("root");
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().kind, base::ErrorKind::kTemporary);
  // pam as userdb is not a thing.
  EXPECT_FALSE(make({}, {{"pam", "", "", ""}}).has_value());
}

TEST(SystemDrivers, PrefetchUserdbDefersToTheNextOne) {
  TempDir dir;
  auto path = dir.write("users", "alice@x::1001:1001::/home/alice\n");
  auto db = make({}, {{"prefetch", "", "", ""}, {"passwd-file", path.string(), "", ""}});
  ASSERT_TRUE(db.has_value()) << db.error().message;
  EXPECT_EQ((*db)->lookup_user("alice@x")->uid, 1001u);
  EXPECT_TRUE(is_unknown_user((*db)->lookup_user("bob@x").error()));
  auto only = make({}, {{"prefetch", "", "", ""}});
  ASSERT_TRUE(only.has_value());
  EXPECT_EQ((*only)->lookup_user("alice@x").error().kind, base::ErrorKind::kTemporary);
}

}  // namespace
}  // namespace dovetail::userdb

namespace dovetail::userdb {
namespace {

DbSpec spec(const std::string& driver, const std::string& args, const std::string& skip = "",
            const std::string& success = "", const std::string& failure = "",
            const std::string& internalfail = "") {
  DbSpec s{driver, args, "", ""};
  s.skip = skip;
  s.result_success = success;
  s.result_failure = failure;
  s.result_internalfail = internalfail;
  return s;
}

TEST(ChainRules, ContinueOkMergesFieldsOfBothDbs) {
  TempDir dir;
  auto path = dir.write("users", "alice@x::1001:1001::/home/alice\n");
  auto db = make({}, {spec("passwd-file", path.string(), "", "continue-ok"),
                      spec("static", "mail=maildir:~/Merged gid=2000 allow_all_users=yes")});
  ASSERT_TRUE(db.has_value()) << db.error().message;
  auto a = (*db)->lookup_user("alice@x");
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_EQ(a->uid, 1001u);
  EXPECT_EQ(a->gid, 2000u);  // a later db overrides
  EXPECT_EQ(a->home, "/home/alice");
  EXPECT_EQ(a->mail, "maildir:~/Merged");
}

TEST(ChainRules, SkipFoundAndNotFound) {
  TempDir dir;
  auto path = dir.write("users", "alice@x::1001:1001::/home/alice\n");
  // skip=found: alice found by the first db (continue-ok), so the static db is skipped.
  auto found = make({}, {spec("passwd-file", path.string(), "", "continue-ok"),
                         spec("static", "mail=maildir:~/S allow_all_users=yes", "found")});
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ((*found)->lookup_user("alice@x")->mail, "");
  EXPECT_EQ((*found)->lookup_user("bob@x")->mail, "maildir:~/S");
  // skip=notfound: bob was not found, so the static db is skipped too: unknown.
  auto notfound = make({}, {spec("passwd-file", path.string()),
                            spec("static", "mail=maildir:~/S allow_all_users=yes", "notfound")});
  ASSERT_TRUE(notfound.has_value());
  EXPECT_TRUE(is_unknown_user((*notfound)->lookup_user("bob@x").error()));
}

TEST(ChainRules, ReturnFailStopsTheChain) {
  TempDir dir;
  auto path = dir.write("users", "alice@x::1001:1001::/home/alice\n");
  auto db = make({}, {spec("passwd-file", path.string(), "", "", "return-fail"),
                      spec("static", "uid=1 allow_all_users=yes")});
  ASSERT_TRUE(db.has_value());
  EXPECT_TRUE(is_unknown_user((*db)->lookup_user("bob@x").error()));
  // An internal failure stopped by return-fail stays temporary.
  auto down = make({}, {spec("passwd-file", (dir.path() / "gone").string(), "", "", "", "return-fail"),
                        spec("static", "uid=1 allow_all_users=yes")});
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ((*down)->lookup_user("bob@x").error().kind, base::ErrorKind::kTemporary);
  // With the default (continue) the static db answers despite the broken first db.
  auto cont = make({}, {spec("passwd-file", (dir.path() / "gone").string()),
                        spec("static", "uid=1 allow_all_users=yes")});
  EXPECT_TRUE((*cont)->lookup_user("bob@x").has_value());
}

TEST(ChainRules, PassdbSkipNamesAndInvalidValues) {
  EXPECT_TRUE(make({spec("static", "nopassword", "authenticated")}, {}).has_value());
  EXPECT_TRUE(make({spec("static", "nopassword", "unauthenticated")}, {}).has_value());
  for (const DbSpec& bad : {spec("static", "x", "found"), spec("static", "x", "", "maybe"),
                            spec("static", "x", "", "", "return-ko"),
                            spec("static", "x", "", "", "", "retry")}) {
    auto db = make({bad}, {});
    ASSERT_FALSE(db.has_value());
    EXPECT_EQ(db.error().kind, base::ErrorKind::kConfig);
  }
  EXPECT_FALSE(make({}, {spec("static", "allow_all_users=yes", "authenticated")}).has_value());
}

}  // namespace
}  // namespace dovetail::userdb

namespace dovetail::userdb {
namespace {

TEST(PassdbFields, UserUsernameAndDomainRename) {
  struct Case {
    const char* args;
    const char* want;
  } cases[] = {
      {"nopassword", "alice@x.example"},
      {"user=bob@y.example", "bob@y.example"},
      {"username=bob", "bob@x.example"},
      {"username=bob@z.example", "bob@z.example"},
      {"domain=y.example", "alice@y.example"},
      {"username=bob domain=y.example", "bob@y.example"},
      {"destuser=carol@backend.example", "alice@x.example"},
  };
  for (const auto& c : cases) {
    auto db = make({{"static", c.args, "", ""}}, {});
    ASSERT_TRUE(db.has_value()) << c.args;
    auto p = (*db)->lookup_pass("alice@x.example");
    ASSERT_TRUE(p.has_value()) << c.args;
    EXPECT_EQ(p->name, c.want) << c.args;
  }
  auto db = make({{"static", "destuser=carol@backend.example proxy_timeout=5", "", ""}}, {});
  auto p = (*db)->lookup_pass("alice@x.example");
  EXPECT_EQ(p->destuser, "carol@backend.example");
  EXPECT_EQ(p->extra.at("proxy_timeout"), "5");
}

}  // namespace
}  // namespace dovetail::userdb
