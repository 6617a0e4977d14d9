// UserDb::lookup_user_now: answered from memory where that is possible, nullopt (go to a
// worker thread) wherever a lookup would need I/O.
#include <gtest/gtest.h>

#include "testlib/temp_dir.hpp"
#include "userdb/user_db.hpp"

namespace dovetail::userdb {
namespace {

std::unique_ptr<UserDb> make_db(std::vector<DbSpec> passdbs, std::vector<DbSpec> userdbs) {
  UserDbConfig cfg;
  cfg.passdbs = std::move(passdbs);
  cfg.userdbs = std::move(userdbs);
  auto db = UserDb::create(cfg);
  EXPECT_TRUE(db.has_value()) << (db ? "" : db.error().message);
  return db ? std::move(*db) : nullptr;
}

TEST(LookupNow, StaticWithAllowAllUsersIsAnsweredFromMemory) {
  auto db = make_db({}, {{"static", "uid=5000 gid=5000 home=/m/%d/%n allow_all_users=yes", "", ""}});
  auto now = db->lookup_user_now("alice@x.example");
  ASSERT_TRUE(now.has_value());
  ASSERT_TRUE(now->has_value());
  EXPECT_EQ((*now)->uid, 5000u);
  EXPECT_EQ((*now)->home, "/m/x.example/alice");
}

TEST(LookupNow, StaticThatAsksThePassdbsWaits) {
  testlib::TempDir dir;
  auto path = dir.write("users", "alice@x::1001:1001::/home/alice\n");
  auto db = make_db({{"passwd-file", path.string(), "", ""}}, {{"static", "uid=5000 gid=5000", "", ""}});
  EXPECT_FALSE(db->lookup_user_now("alice@x").has_value());
}

TEST(LookupNow, IdsGivenAsNamesWait) {
  auto db = make_db({}, {{"static", "uid=vmail gid=vmail allow_all_users=yes", "", ""}});
  EXPECT_FALSE(db->lookup_user_now("alice@x").has_value());  // getpwnam would read files
}

TEST(LookupNow, PasswdFileOnlyAfterABlockingLookupCheckedTheFileThisSecond) {
  testlib::TempDir dir;
  auto path = dir.write("users", "alice@x::1001:1001::/home/alice\nnamed@x::vmail:vmail::/home/n\n");
  auto db = make_db({}, {{"passwd-file", path.string(), "", ""}});
  EXPECT_FALSE(db->lookup_user_now("alice@x").has_value());  // never read yet
  ASSERT_TRUE(db->lookup_user("alice@x"));                    // reads and stats the file
  auto now = db->lookup_user_now("alice@x");
  // The check is per coarse second: right after the blocking lookup it is almost always the
  // same second; if the clock ticked in between, waiting is the right answer too.
  if (now.has_value()) {
    ASSERT_TRUE(now->has_value());
    EXPECT_EQ((*now)->uid, 1001u);
    auto unknown = db->lookup_user_now("nobody@x");
    ASSERT_TRUE(unknown.has_value());
    ASSERT_FALSE(unknown->has_value());
    EXPECT_TRUE(is_unknown_user(unknown->error()));
  }
  ASSERT_TRUE(db->lookup_user("alice@x"));
  EXPECT_FALSE(db->lookup_user_now("named@x").has_value());  // uid as a name: getpwnam
}

TEST(LookupNow, TemplatedPasswdFilePathsWait) {
  testlib::TempDir dir;
  dir.write("x", "alice@x::1001:1001::/home/alice\n");
  auto db = make_db({}, {{"passwd-file", dir.str() + "/%d", "", ""}});
  ASSERT_TRUE(db->lookup_user("alice@x"));
  EXPECT_FALSE(db->lookup_user_now("alice@x").has_value());
}

}  // namespace
}  // namespace dovetail::userdb
