#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "testlib/coarse_clock.hpp"
#include "testlib/temp_dir.hpp"
#include "userdb/user_db.hpp"

namespace dovetail::userdb {
namespace {

using testlib::TempDir;

std::unique_ptr<UserDb> make_db(std::vector<DbSpec> passdbs, std::vector<DbSpec> userdbs) {
  UserDbConfig cfg;
  cfg.passdbs = std::move(passdbs);
  cfg.userdbs = std::move(userdbs);
  auto db = UserDb::create(cfg);
  EXPECT_TRUE(db.has_value()) << (db ? "" : db.error().message);
  return db ? std::move(*db) : nullptr;
}

const char* kUsers =
    "# comment line\n"
    "\n"
    "alice@test.example:{PLAIN}pw:1001:1002::/home/alice::userdb_mail=maildir:~/Mail "
    "userdb_quota_rule=*:storage=1G userdb_sieve=file:~/sieve;active=~/.dovecot.sieve\n"
    "bob@test.example:{PLAIN}pw:1003:1003::/var/mail/%d/%n\n"
    "pat@test.example::1004:1004::/home/pat::proxy=y host=10.0.0.1 port=24 nopassword "
    "userdb_tag=%n-%d\n"
    "nouserdb@test.example:{PLAIN}pw\n"
    "root@test.example:{PLAIN}pw:0:0::/root\n"
    "empty@test.example::::::\n"
    "jörg@test.example:x:1005:1005::/home/jörg\r\n";

TEST(PasswdFile, FoundWithFieldsAndExtraFields) {
  TempDir dir;
  auto path = dir.write("users", kUsers);
  auto db = make_db({}, {{"passwd-file", path.string(), "", ""}});
  auto u = db->lookup_user("alice@test.example");
  ASSERT_TRUE(u.has_value()) << u.error().message;
  EXPECT_EQ(u->name, "alice@test.example");
  EXPECT_EQ(u->uid, 1001u);
  EXPECT_EQ(u->gid, 1002u);
  EXPECT_EQ(u->home, "/home/alice");
  EXPECT_EQ(u->mail, "maildir:~/Mail");  // ':' inside an extra field value survives
  EXPECT_EQ(u->quota_rule, "*:storage=1G");
  EXPECT_EQ(u->sieve, "file:~/sieve;active=~/.dovecot.sieve");

  // UTF-8 user and a CRLF line end.
  auto j = db->lookup_user("jörg@test.example");
  ASSERT_TRUE(j.has_value()) << j.error().message;
  EXPECT_EQ(j->home, "/home/jörg");

  // Empty uid/gid/home columns: unset, the daemon falls back to mail_uid/mail_gid/mail_home.
  auto e = db->lookup_user("empty@test.example");
  ASSERT_TRUE(e.has_value()) << e.error().message;
  EXPECT_FALSE(e->uid.has_value());
  EXPECT_FALSE(e->gid.has_value());
  EXPECT_EQ(e->home, "");
}

// A userdb_ field may repeat a column (userdb_home) or itself: the last value wins, whether the
// lookup merges the fields or passes them on untouched (no repeated key).
TEST(PasswdFile, RepeatedUserdbFieldsKeepTheLastValue) {
  TempDir dir;
  auto path = dir.write("users",
                        "rep@test.example::1001:1001::/home/a::userdb_home=/home/b userdb_mail=maildir:/x "
                        "userdb_mail=maildir:/y\n"
                        "plain@test.example::1002:1002::/home/p::userdb_mail=maildir:/p\n");
  auto db = make_db({}, {{"passwd-file", path.string(), "", ""}});
  for (bool now : {false, true}) {
    SCOPED_TRACE(now ? "lookup_user_now" : "lookup_user");
    auto r = db->lookup_user("rep@test.example");  // also loads the file for lookup_user_now
    if (now) {
      auto answer = db->lookup_user_now("rep@test.example");
      ASSERT_TRUE(answer.has_value());
      r = std::move(*answer);
    }
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->home, "/home/b");
    EXPECT_EQ(r->mail, "maildir:/y");
    EXPECT_EQ(r->uid, 1001u);
    auto p = db->lookup_user("plain@test.example");
    ASSERT_TRUE(p.has_value()) << p.error().message;
    EXPECT_EQ(p->home, "/home/p");
    EXPECT_EQ(p->mail, "maildir:/p");
  }
}

TEST(PasswdFile, UserdbIgnoresPassdbFieldsAndExpandsVariables) {
  TempDir dir;
  auto path = dir.write("users", kUsers);
  auto db = make_db({}, {{"passwd-file", path.string(), "", ""}});
  auto p = db->lookup_user("pat@test.example");
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->extra.count("proxy"), 0u);
  EXPECT_EQ(p->extra.count("host"), 0u);
  EXPECT_EQ(p->extra.at("tag"), "pat-test.example");
  // The home column is taken literally (Dovecot expands only extra field values).
  auto b = db->lookup_user("bob@test.example");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->home, "/var/mail/%d/%n");
}

TEST(PasswdFile, NotFoundCases) {
  TempDir dir;
  auto path = dir.write("users", kUsers);
  auto db = make_db({}, {{"passwd-file", path.string(), "", ""}});
  // Table: unknown, case differs (the key is exact), a passdb-only line, uid 0.
  for (const char* key : {"nobody@test.example", "Alice@test.example", "nouserdb@test.example",
                          "root@test.example", "", "# comment line"}) {
    auto u = db->lookup_user(key);
    ASSERT_FALSE(u.has_value()) << key;
    EXPECT_TRUE(is_unknown_user(u.error())) << key << ": " << u.error().message;
  }
}

TEST(PasswdFile, PassdbLookupGivesProxyFields) {
  TempDir dir;
  auto path = dir.write("users", kUsers);
  auto db = make_db({{"passwd-file", "scheme=PLAIN username_format=%u " + path.string(), "", ""}}, {});
  auto p = db->lookup_pass("pat@test.example");
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_TRUE(p->proxy);
  EXPECT_EQ(p->host, "10.0.0.1");
  EXPECT_EQ(p->port, 24u);
  EXPECT_EQ(p->protocol, "lmtp");
  EXPECT_TRUE(p->nopassword);
  EXPECT_EQ(p->userdb_fields.at("tag"), "pat-test.example");

  auto a = db->lookup_pass("alice@test.example");
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(a->proxy);
  EXPECT_EQ(a->password, "{PLAIN}pw");
  EXPECT_EQ(a->userdb_fields.at("mail"), "maildir:~/Mail");

  auto n = db->lookup_pass("nobody@test.example");
  ASSERT_FALSE(n.has_value());
  EXPECT_TRUE(is_unknown_user(n.error()));
}

TEST(PasswdFile, DefaultSchemeIsAddedToBarePasswords) {
  TempDir dir;
  auto path = dir.write("users", "a@x:secret:1000:1000::/h\nb@x:{SHA256}abc:1000:1000::/h\n");
  auto plain = make_db({{"passwd-file", "scheme=PLAIN " + path.string(), "", ""}}, {});
  EXPECT_EQ(plain->lookup_pass("a@x")->password, "{PLAIN}secret");
  EXPECT_EQ(plain->lookup_pass("b@x")->password, "{SHA256}abc");
  auto crypt = make_db({{"passwd-file", path.string(), "", ""}}, {});
  EXPECT_EQ(crypt->lookup_pass("a@x")->password, "{CRYPT}secret");
}

TEST(PasswdFile, InvalidProxyPortIsTemporary) {
  TempDir dir;
  auto path = dir.write("users", "a@x::::::: proxy=y host=h port=99999\nb@x::::::: proxy protocol=imap\n");
  auto db = make_db({{"passwd-file", path.string(), "", ""}}, {});
  for (const char* key : {"a@x", "b@x"}) {
    auto r = db->lookup_pass(key);
    ASSERT_FALSE(r.has_value()) << key;
    EXPECT_FALSE(is_unknown_user(r.error())) << key;
  }
}

TEST(PasswdFile, MissingFileIsTemporary) {
  TempDir dir;
  auto db = make_db({}, {{"passwd-file", (dir.path() / "no-such-file").string(), "", ""}});
  auto u = db->lookup_user("alice@test.example");
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().kind, base::ErrorKind::kTemporary) << u.error().message;
}

TEST(PasswdFile, UnreadableFileIsTemporary) {
  TempDir dir;
  // A directory where the file should be: open succeeds for root, reading does not.
  std::filesystem::create_directories(dir.path() / "users-dir");
  auto db = make_db({}, {{"passwd-file", (dir.path() / "users-dir").string(), "", ""}});
  auto u = db->lookup_user("alice@test.example");
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().kind, base::ErrorKind::kTemporary) << u.error().message;

  // Permission denied (only observable when not running as root).
  auto path = dir.write("users", kUsers);
  ::chmod(path.c_str(), 0);
  if (::geteuid() != 0) {
    auto db2 = make_db({}, {{"passwd-file", path.string(), "", ""}});
    auto u2 = db2->lookup_user("alice@test.example");
    ASSERT_FALSE(u2.has_value());
    EXPECT_EQ(u2.error().kind, base::ErrorKind::kTemporary);
  }
}

// The file is re-checked at most once per coarse second, as Dovecot does: a test that edits
// it waits for the next second before looking for the edit.
void next_second() { testlib::wait_for_next_coarse_second(); }

TEST(PasswdFile, ReloadsAfterChangeAndAfterReplace) {
  TempDir dir;
  auto path = dir.write("users", "alice@x::1001:1001::/home/alice\n");
  auto db = make_db({}, {{"passwd-file", path.string(), "", ""}});
  EXPECT_TRUE(db->lookup_user("alice@x").has_value());
  EXPECT_FALSE(db->lookup_user("bob@x").has_value());

  // Edited in place (appended).
  { std::ofstream(path, std::ios::app) << "bob@x::1002:1002::/home/bob\n"; }
  next_second();
  auto bob = db->lookup_user("bob@x");
  ASSERT_TRUE(bob.has_value()) << bob.error().message;
  EXPECT_EQ(bob->uid, 1002u);

  // Replaced atomically by rename, same size as before: the inode tells.
  auto tmp = dir.write("users.new", "alice@x::2001:2001::/home/alice\nbob@x::1002:1002::/home/bob\n");
  std::filesystem::rename(tmp, path);
  next_second();
  auto alice = db->lookup_user("alice@x");
  ASSERT_TRUE(alice.has_value());
  EXPECT_EQ(alice->uid, 2001u);

  // Deleted: temporary; back again: found.
  std::filesystem::remove(path);
  next_second();
  EXPECT_EQ(db->lookup_user("alice@x").error().kind, base::ErrorKind::kTemporary);
  dir.write("users", "alice@x::3001:3001::/home/alice\n");
  EXPECT_EQ(db->lookup_user("alice@x")->uid, 3001u);  // a failed check is not cached
}

// Within one second the file is not looked at again: an edit shows only in the next one.
TEST(PasswdFile, ChecksTheFileAtMostOncePerSecond) {
  TempDir dir;
  auto path = dir.write("users", "alice@x::1001:1001::/home/alice\n");
  auto db = make_db({}, {{"passwd-file", path.string(), "", ""}});
  next_second();
  EXPECT_EQ(db->lookup_user("alice@x")->uid, 1001u);
  auto tmp = dir.write("users.new", "alice@x::2001:2001::/home/alice\n");
  std::filesystem::rename(tmp, path);
  auto same_second = db->lookup_user("alice@x");
  next_second();
  auto next = db->lookup_user("alice@x");
  ASSERT_TRUE(same_second.has_value());
  ASSERT_TRUE(next.has_value());
  // The first lookup ran within ~20 ms of a second boundary, so the second one did too.
  EXPECT_EQ(same_second->uid, 1001u);
  EXPECT_EQ(next->uid, 2001u);
}

TEST(PasswdFile, PathVariablesSelectTheFile) {
  TempDir dir;
  dir.write("domains/test.example", "alice::1001:1001::/home/alice\n");
  dir.write("domains/other.example", "alice::2001:2001::/home/alice2\n");
  std::string args = "username_format=%n " + (dir.path() / "domains" / "%d").string();
  auto db = make_db({}, {{"passwd-file", args, "", ""}});

  auto a = db->lookup_user("alice@test.example");
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_EQ(a->uid, 1001u);
  EXPECT_EQ(db->lookup_user("alice@other.example")->uid, 2001u);
  EXPECT_EQ(db->lookup_user("ALICE@other.example").error().kind, base::ErrorKind::kNotFound);

  // A domain without a file is an unknown user (Dovecot), not a temporary failure.
  // Hostile domains cannot leave the directory: '/' cuts the value, '.'/'..' name nothing.
  for (const char* key : {"alice@nowhere.example", "alice", "alice@..", "alice@.",
                          "alice@../domains/test.example", "alice@/etc/passwd"}) {
    auto u = db->lookup_user(key);
    ASSERT_FALSE(u.has_value()) << key;
    EXPECT_EQ(u.error().kind, base::ErrorKind::kNotFound) << key << ": " << u.error().message;
  }

  // The directory itself missing is a broken setup: temporary.
  auto broken = make_db({}, {{"passwd-file", (dir.path() / "gone" / "%d").string(), "", ""}});
  EXPECT_EQ(broken->lookup_user("alice@test.example").error().kind, base::ErrorKind::kTemporary);
}

TEST(PasswdFile, ConcurrentLookupsDuringAtomicReplaces) {
  TempDir dir;
  auto path = dir.write("users", "alice@x::1001:1001::/home/alice\n");
  auto db = make_db({}, {{"passwd-file", path.string(), "", ""}});
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0}, lookups{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto u = db->lookup_user("alice@x");
        if (!u.has_value() || u->home != "/home/alice") ++wrong;
        ++lookups;
      }
    });
  }
  for (int i = 0; i < 100; ++i) {
    std::string users = "alice@x::1001:1001::/home/alice\n";
    for (int j = 0; j < i; ++j) users += "user" + std::to_string(j) + "@x::1001:1001::/h\n";
    auto tmp = dir.write("users.tmp", users);
    std::filesystem::rename(tmp, path);
  }
  while (lookups.load() < 100) std::this_thread::yield();
  stop = true;
  for (auto& th : readers) th.join();
  EXPECT_EQ(wrong.load(), 0);
  next_second();
  EXPECT_TRUE(db->lookup_user("user98@x").has_value());
}

TEST(PasswdFile, BadArgsAreConfigErrors) {
  for (const char* args : {"", "scheme=PLAIN", "/a /b", "bogus=1 /etc/users"}) {
    UserDbConfig cfg;
    cfg.userdbs.push_back({"passwd-file", args, "", ""});
    auto db = UserDb::create(cfg);
    ASSERT_FALSE(db.has_value()) << args;
    EXPECT_EQ(db.error().kind, base::ErrorKind::kConfig);
  }
}

}  // namespace
}  // namespace dovetail::userdb
