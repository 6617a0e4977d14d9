// Runs against a real PostgreSQL server that the test starts itself (testlib/postgres_server).
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "testlib/postgres_server.hpp"
#include "testlib/temp_dir.hpp"
#include "userdb/sql_connection.hpp"
#include "userdb/sql_driver.hpp"
#include "userdb/user_db.hpp"

namespace dovetail::userdb {
namespace {

using testlib::PostgresServer;
using testlib::TempDir;

const char* kSchema =
    "CREATE TABLE users (username TEXT, domain TEXT, password TEXT, home TEXT, uid INTEGER,"
    " gid INTEGER, mail TEXT, quota_rule TEXT, proxy TEXT, host TEXT, port INTEGER);"
    "INSERT INTO users VALUES ('alice','test.example','{PLAIN}pw','/home/alice',1001,1001,"
    " 'maildir:~/Maildir','*:storage=1G',NULL,NULL,NULL),"
    " ('pat','test.example','secret','/home/pat',1002,1002,NULL,NULL,'y','10.0.0.1',24),"
    " ('o''brien','test.example','x','/home/obrien',1003,1003,NULL,NULL,NULL,NULL,NULL),"
    " ('back\\slash','test.example','x','/home/bs',1004,1004,NULL,NULL,NULL,NULL,NULL);";

class SqlPgsql : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    server_ = PostgresServer::create(&error).release();
    ASSERT_NE(server_, nullptr) << "cannot start PostgreSQL: " << error;
    ASSERT_TRUE(server_->psql("postgres", "CREATE DATABASE mail")) << server_->error();
    ASSERT_TRUE(server_->psql("mail", kSchema)) << server_->error();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(server_, nullptr); }

  std::unique_ptr<UserDb> make_db(const std::string& connect) {
    auto conf = dir_.write("dovecot-sql.conf.ext",
                           "driver = pgsql\n"
                           "connect = " + connect + "\n"
                           "default_pass_scheme = PLAIN\n"
                           "password_query = SELECT username, domain, password, proxy, host, port, \\\n"
                           "  mail AS userdb_mail FROM users WHERE username = '%n' AND domain = '%d'\n"
                           "user_query = SELECT home, uid, gid, mail, quota_rule FROM users \\\n"
                           "  WHERE username = '%n' AND domain = '%d'\n");
    UserDbConfig cfg;
    cfg.passdbs.push_back({"sql", conf.string(), "", ""});
    cfg.userdbs.push_back({"sql", conf.string(), "", ""});
    auto db = UserDb::create(cfg);
    EXPECT_TRUE(db.has_value()) << db.error().message;
    return db ? std::move(*db) : nullptr;
  }

  // Scenarios: each test process starts its own server (initdb takes seconds), so the
  // scenarios share two tests instead of one server start each.
  void FoundOverTcpAndUnixSocket();
  void PasswordQueryGivesProxyFields();
  void NotFoundAndHostileKeys();
  void ServerDownIsTemporaryThenRecovers();
  void RestartWhileIdleIsInvisible();
  void QueryErrorIsTemporary();
  void ConcurrentLookupsShareASmallPool();
  void LockedTableIsTemporaryWithinTheDeadline();

  static PostgresServer* server_;
  TempDir dir_;
};

PostgresServer* SqlPgsql::server_ = nullptr;

void SqlPgsql::FoundOverTcpAndUnixSocket() {
  for (const std::string& connect :
       {server_->conninfo("mail") + " maxconns=2",
        "host=" + server_->socket_dir() + " port=" + std::to_string(server_->port()) +
            " dbname=mail user=postgres"}) {
    auto db = make_db(connect);
    auto u = db->lookup_user("alice@test.example");
    ASSERT_TRUE(u.has_value()) << connect << ": " << u.error().message;
    EXPECT_EQ(u->uid, 1001u);
    EXPECT_EQ(u->gid, 1001u);
    EXPECT_EQ(u->home, "/home/alice");
    EXPECT_EQ(u->mail, "maildir:~/Maildir");
    EXPECT_EQ(u->quota_rule, "*:storage=1G");
    EXPECT_EQ(db->lookup_user("pat@test.example")->mail, "");  // NULL column left out
    EXPECT_EQ(db->lookup_user("o'brien@test.example")->home, "/home/obrien");
    EXPECT_EQ(db->lookup_user("back\\slash@test.example")->home, "/home/bs");
  }
}

void SqlPgsql::PasswordQueryGivesProxyFields() {
  auto db = make_db(server_->conninfo("mail"));
  auto p = db->lookup_pass("pat@test.example");
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_TRUE(p->proxy);
  EXPECT_EQ(p->host, "10.0.0.1");
  EXPECT_EQ(p->port, 24u);
  EXPECT_EQ(p->password, "{PLAIN}secret");
  auto a = db->lookup_pass("alice@test.example");
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(a->proxy);
  EXPECT_EQ(a->userdb_fields.at("mail"), "maildir:~/Maildir");
}

void SqlPgsql::NotFoundAndHostileKeys() {
  auto db = make_db(server_->conninfo("mail"));
  for (const char* key : {"nobody@test.example", "alice@other.example",
                          "a'; drop table users; --@test.example", "a'; drop table users; --",
                          "x' OR '1'='1@test.example", "alice\\'; drop table users; --@test.example",
                          "alice' --@test.example"}) {
    auto u = db->lookup_user(key);
    ASSERT_FALSE(u.has_value()) << key;
    EXPECT_TRUE(is_unknown_user(u.error())) << key << ": " << u.error().message;
    auto p = db->lookup_pass(key);
    ASSERT_FALSE(p.has_value()) << key;
    EXPECT_TRUE(is_unknown_user(p.error())) << key << ": " << p.error().message;
  }
  std::string out;
  ASSERT_TRUE(server_->psql("mail", "SELECT count(*) FROM users", &out)) << server_->error();
  EXPECT_NE(out.find("4"), std::string::npos) << out;
}

void SqlPgsql::ServerDownIsTemporaryThenRecovers() {
  auto db = make_db(server_->conninfo("mail") + " maxconns=2");
  ASSERT_TRUE(db->lookup_user("alice@test.example").has_value());  // pool holds a connection

  ASSERT_TRUE(server_->stop()) << server_->error();
  for (const char* key : {"alice@test.example", "nobody@test.example"}) {
    auto u = db->lookup_user(key);
    ASSERT_FALSE(u.has_value()) << key;
    EXPECT_EQ(u.error().kind, base::ErrorKind::kTemporary) << key << ": " << u.error().message;
    auto p = db->lookup_pass(key);
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().kind, base::ErrorKind::kTemporary);
  }
  ASSERT_TRUE(server_->start()) << server_->error();
  auto u = db->lookup_user("alice@test.example");
  ASSERT_TRUE(u.has_value()) << u.error().message;
  EXPECT_EQ(u->uid, 1001u);
  EXPECT_TRUE(is_unknown_user(db->lookup_user("nobody@test.example").error()));
}

void SqlPgsql::RestartWhileIdleIsInvisible() {
  auto db = make_db(server_->conninfo("mail"));
  ASSERT_TRUE(db->lookup_user("alice@test.example").has_value());
  ASSERT_TRUE(server_->stop()) << server_->error();
  ASSERT_TRUE(server_->start()) << server_->error();
  // The pooled connection is dead; the lookup reconnects and answers on the first try.
  auto u = db->lookup_user("alice@test.example");
  ASSERT_TRUE(u.has_value()) << u.error().message;
}

void SqlPgsql::QueryErrorIsTemporary() {
  auto conf = dir_.write("bad.conf", "driver = pgsql\nconnect = " + server_->conninfo("mail") +
                                         "\nuser_query = SELECT nosuchcolumn FROM users WHERE username = '%n'\n");
  UserDbConfig cfg;
  cfg.userdbs.push_back({"sql", conf.string(), "", ""});
  auto db = UserDb::create(cfg);
  ASSERT_TRUE(db.has_value());
  auto u = (*db)->lookup_user("alice@test.example");
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().kind, base::ErrorKind::kTemporary) << u.error().message;
}

void SqlPgsql::ConcurrentLookupsShareASmallPool() {
  auto db = make_db(server_->conninfo("mail") + " maxconns=2");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        bool want = (i + t) % 2 == 0;
        auto u = db->lookup_user(want ? "alice@test.example" : "nobody@test.example");
        if (u.has_value() != want || (!want && !is_unknown_user(u.error()))) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

// A server that accepts the query but never answers it (LOCK TABLE in another session):
// every lookup — the one waiting on the lock and the ones waiting for the only pooled
// connection — ends with a temporary failure, and the driver recovers after the unlock.
void SqlPgsql::LockedTableIsTemporaryWithinTheDeadline() {
  SqlConfig cfg;
  cfg.driver = "pgsql";
  cfg.connect = server_->conninfo("mail") + " maxconns=1";
  cfg.user_query = "SELECT home, uid, gid FROM users WHERE username = '%n' AND domain = '%d'";
  cfg.lookup_timeout = std::chrono::seconds(1);
  auto driver = SqlDriver::create(Role::kUserdb, cfg);
  ASSERT_TRUE(driver.has_value()) << driver.error().message;
  const LookupRequest alice{"alice@test.example", "lmtp"};
  ASSERT_TRUE((*driver)->lookup(alice).has_value());  // the pool holds a live connection

  auto far = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  auto locker = make_pgsql_connection(server_->conninfo("mail"), std::chrono::minutes(1));
  ASSERT_TRUE(locker->connect(far));
  auto locked = locker->query("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; SELECT 1 AS locked", 1, far);
  ASSERT_TRUE(locked.has_value()) << locked.error().message;

  std::vector<base::Result<Fields>> results(3, base::fail(base::Error::internal("not run")));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i)
    threads.emplace_back([&, i] { results[i] = (*driver)->lookup(alice); });
  for (auto& t : threads) t.join();
  auto unlocked = locker->query("ROLLBACK; SELECT 1 AS unlocked", 1, far);
  ASSERT_TRUE(unlocked.has_value()) << unlocked.error().message;
  for (const auto& r : results) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, base::ErrorKind::kTemporary) << r.error().message;
  }
  auto after = (*driver)->lookup(alice);
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_EQ(*find_field(*after, "uid"), "1001");
}

// ASSERTs inside a scenario return from it; HasFatalFailure() stops the rest.
#define RUN_SCENARIO(name)             \
  do {                                 \
    SCOPED_TRACE(#name);               \
    name();                            \
    if (HasFatalFailure()) return;     \
  } while (0)

TEST_F(SqlPgsql, Lookups) {
  RUN_SCENARIO(FoundOverTcpAndUnixSocket);
  RUN_SCENARIO(PasswordQueryGivesProxyFields);
  RUN_SCENARIO(NotFoundAndHostileKeys);
  RUN_SCENARIO(QueryErrorIsTemporary);
  RUN_SCENARIO(ConcurrentLookupsShareASmallPool);
  RUN_SCENARIO(LockedTableIsTemporaryWithinTheDeadline);
}

TEST_F(SqlPgsql, ServerStoppedAndRestarted) {
  RUN_SCENARIO(ServerDownIsTemporaryThenRecovers);
  RUN_SCENARIO(RestartWhileIdleIsInvisible);
}

}  // namespace
}  // namespace dovetail::userdb
