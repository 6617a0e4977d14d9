#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "testlib/temp_dir.hpp"
#include "userdb/sql_driver.hpp"
#include "userdb/user_db.hpp"

namespace dovetail::userdb {
namespace {

using testlib::TempDir;

void exec_sql(const std::string& db_path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_close(db);
}

const char* kSchema =
    "CREATE TABLE users (username TEXT, domain TEXT, password TEXT, home TEXT, uid INTEGER,"
    " gid INTEGER, mail TEXT, quota_rule TEXT, proxy TEXT, host TEXT, port INTEGER);"
    "INSERT INTO users VALUES ('alice','test.example','{PLAIN}pw','/home/alice',1001,1001,"
    " 'maildir:~/Maildir','*:storage=1G',NULL,NULL,NULL);"
    "INSERT INTO users VALUES ('pat','test.example','secret','/home/pat',1002,1002,NULL,NULL,"
    " 'y','10.0.0.1',24);"
    "INSERT INTO users VALUES ('o''brien','test.example','x','/home/obrien',1003,1003,NULL,NULL,"
    " NULL,NULL,NULL);";

struct Fixture {
  TempDir dir;
  std::string db_path = (dir.path() / "users.db").string();
  std::string conf_path;
  std::unique_ptr<UserDb> db;

  explicit Fixture(bool create_db = true) {
    if (create_db) exec_sql(db_path, kSchema);
    conf_path = dir.write("dovecot-sql.conf.ext",
                          "driver = sqlite\n"
                          "connect = " + db_path + "\n"
                          "default_pass_scheme = PLAIN\n"
                          "password_query = SELECT username, domain, password, proxy, host, port, \\\n"
                          "  mail AS userdb_mail FROM users WHERE username = '%n' AND domain = '%d'\n"
                          "user_query = SELECT home, uid, gid, mail, quota_rule FROM users \\\n"
                          "  WHERE username = '%n' AND domain = '%d'\n")
                    .string();
    UserDbConfig cfg;
    cfg.passdbs.push_back({"sql", conf_path, "", ""});
    cfg.userdbs.push_back({"sql", conf_path, "", ""});
    auto made = UserDb::create(cfg);
    EXPECT_TRUE(made.has_value()) << made.error().message;
    if (made) db = std::move(*made);
  }
};

TEST(SqlSqlite, FoundMapsColumnsToFields) {
  Fixture f;
  auto u = f.db->lookup_user("alice@test.example");
  ASSERT_TRUE(u.has_value()) << u.error().message;
  EXPECT_EQ(u->uid, 1001u);
  EXPECT_EQ(u->gid, 1001u);
  EXPECT_EQ(u->home, "/home/alice");
  EXPECT_EQ(u->mail, "maildir:~/Maildir");
  EXPECT_EQ(u->quota_rule, "*:storage=1G");
  // NULL columns are left out, not turned into empty values.
  auto p = f.db->lookup_user("pat@test.example");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->mail, "");
  // A quote inside the key is escaped, so it matches the row that really has one.
  auto o = f.db->lookup_user("o'brien@test.example");
  ASSERT_TRUE(o.has_value()) << o.error().message;
  EXPECT_EQ(o->home, "/home/obrien");
}

TEST(SqlSqlite, PasswordQueryGivesProxyAndUserdbFields) {
  Fixture f;
  auto p = f.db->lookup_pass("pat@test.example");
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_TRUE(p->proxy);
  EXPECT_EQ(p->host, "10.0.0.1");
  EXPECT_EQ(p->port, 24u);
  EXPECT_EQ(p->password, "{PLAIN}secret");
  auto a = f.db->lookup_pass("alice@test.example");
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(a->proxy);
  EXPECT_EQ(a->password, "{PLAIN}pw");
  EXPECT_EQ(a->userdb_fields.at("mail"), "maildir:~/Maildir");
  EXPECT_EQ(a->name, "alice@test.example");
}

TEST(SqlSqlite, NotFoundAndHostileKeys) {
  Fixture f;
  for (const char* key : {"nobody@test.example", "alice@other.example", "alice",
                          "a'; drop table users; --@test.example", "a'; drop table users; --",
                          "x' OR '1'='1@test.example", "alice' --@test.example",
                          "alice\\'@test.example"}) {
    auto u = f.db->lookup_user(key);
    ASSERT_FALSE(u.has_value()) << key;
    EXPECT_TRUE(is_unknown_user(u.error())) << key << ": " << u.error().message;
    auto p = f.db->lookup_pass(key);
    ASSERT_FALSE(p.has_value()) << key;
    EXPECT_TRUE(is_unknown_user(p.error())) << key << ": " << p.error().message;
  }
  // The table survived.
  EXPECT_TRUE(f.db->lookup_user("alice@test.example").has_value());
}

TEST(SqlSqlite, MissingDatabaseIsTemporaryAndRecovers) {
  Fixture f(/*create_db=*/false);
  auto u = f.db->lookup_user("alice@test.example");
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().kind, base::ErrorKind::kTemporary) << u.error().message;
  EXPECT_FALSE(std::filesystem::exists(f.db_path)) << "a lookup must never create the database";
  exec_sql(f.db_path, kSchema);
  EXPECT_TRUE(f.db->lookup_user("alice@test.example").has_value());
}

TEST(SqlSqlite, QueryErrorIsTemporary) {
  Fixture f;
  exec_sql(f.db_path, "DROP TABLE users;");
  auto u = f.db->lookup_user("alice@test.example");
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().kind, base::ErrorKind::kTemporary) << u.error().message;
}

TEST(SqlSqlite, ConcurrentLookups) {
  Fixture f;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        bool want = (i + t) % 2 == 0;
        auto u = f.db->lookup_user(want ? "alice@test.example" : "nobody@test.example");
        if (u.has_value() != want || (!want && !is_unknown_user(u.error()))) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

// The lookup deadline (SqlConfig::lookup_timeout): a query that would run forever and a
// writer that never lets go of the database both end in a temporary failure.
TEST(SqlSqlite, LookupDeadlineGivesTemporaryFailure) {
  Fixture f;
  struct Case {
    const char* name;
    const char* user_query;
    bool hold_write_lock;
  } cases[] = {
      {"endless query",
       "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
       "SELECT home, uid, gid FROM users, c WHERE username = '%n' AND x < 0",
       false},
      {"exclusive lock held by a writer", "SELECT home, uid, gid FROM users WHERE username = '%n'", true},
  };
  for (const auto& c : cases) {
    SqlConfig cfg;
    cfg.driver = "sqlite";
    cfg.connect = f.db_path;
    cfg.user_query = c.user_query;
    cfg.lookup_timeout = std::chrono::milliseconds(300);
    auto driver = SqlDriver::create(Role::kUserdb, cfg);
    ASSERT_TRUE(driver.has_value()) << driver.error().message;
    sqlite3* writer = nullptr;
    if (c.hold_write_lock) {
      ASSERT_EQ(sqlite3_open(f.db_path.c_str(), &writer), SQLITE_OK);
      ASSERT_EQ(sqlite3_exec(writer, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
    }
    auto r = (*driver)->lookup({"alice@test.example", "lmtp"});
    if (writer) {
      sqlite3_exec(writer, "ROLLBACK", nullptr, nullptr, nullptr);
      sqlite3_close(writer);
    }
    ASSERT_FALSE(r.has_value()) << c.name;
    EXPECT_EQ(r.error().kind, base::ErrorKind::kTemporary) << c.name << ": " << r.error().message;
    if (c.hold_write_lock) {  // the same driver answers again once the lock is gone
      auto again = (*driver)->lookup({"alice@test.example", "lmtp"});
      EXPECT_TRUE(again.has_value()) << (again ? "" : again.error().message);
    }
  }
}

}  // namespace
}  // namespace dovetail::userdb
