// make_engine: the engines of every settings snapshot of a process share ONE concurrency
// limiter, whatever lmtp_user_concurrency_limit each snapshot says (a SIGHUP reload that
// changes the limit, or a local/remote filter with its own limit, must not restart the counts).
#include "deliver/engine_factory.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <variant>

#include "testlib/temp_dir.hpp"

namespace dovetail::deliver {
namespace {

// As root a mail uid must not be 0; otherwise it must be our own (engine_test.cpp does the same).
uid_t test_uid() { return ::geteuid() == 0 ? 5000 : ::geteuid(); }
gid_t test_gid() { return ::geteuid() == 0 ? 5000 : ::getegid(); }

config::SettingsPtr settings_with_limit(const testlib::TempDir& dir, unsigned limit) {
  auto users = dir.write("users", "alice@test.example::" + std::to_string(test_uid()) + ":" +
                                      std::to_string(test_gid()) + "::" + dir.str() + "/alice::\n");
  config::Settings s;
  s.hostname = "mx.test.example";
  s.mail_location = "maildir:~/Maildir";
  s.first_valid_uid = 1;
  s.first_valid_gid = 1;
  s.lmtp_user_concurrency_limit = limit;
  config::AuthDb db;
  db.driver = "passwd-file";
  db.args = "username_format=%u " + users.string();
  s.userdbs.push_back(db);
  return std::make_shared<const config::Settings>(s);
}

bool accepted(const Resolution& r) { return std::holds_alternative<ResolvedRecipient>(r); }

Resolution rcpt_alice(const Engine& e) {
  mail::Recipient r;
  r.address = {"alice", "test.example"};
  r.given = r.address.to_string();
  r.id = "t";
  return e.resolve(mail::Envelope{}, r);
}

TEST(EngineFactoryTest, EnginesWithDifferentLimitsShareTheCounts) {
  testlib::TempDir dir;
  auto first = make_engine(settings_with_limit(dir, 2), "lmtp");
  ASSERT_TRUE(first) << first.error().message;
  std::vector<Resolution> held;
  held.push_back(rcpt_alice(**first));
  held.push_back(rcpt_alice(**first));
  ASSERT_TRUE(std::all_of(held.begin(), held.end(), accepted));
  EXPECT_FALSE(accepted(rcpt_alice(**first)));

  struct Case {
    unsigned limit;
    bool one_more;  // with two deliveries of alice already in flight
  };
  for (Case c : {Case{3, true}, Case{2, false}, Case{1, false}, Case{0, true}}) {
    SCOPED_TRACE("limit " + std::to_string(c.limit));
    auto next = make_engine(settings_with_limit(dir, c.limit), "lmtp", (*first)->limiter());
    ASSERT_TRUE(next) << next.error().message;
    EXPECT_EQ((*next)->limiter(), (*first)->limiter()) << "one limiter per process";
    Resolution r = rcpt_alice(**next);
    EXPECT_EQ(accepted(r), c.one_more);
    EXPECT_EQ((*first)->limiter()->in_flight("alice@test.example"), c.one_more ? 3u : 2u);
  }
  held.clear();
  EXPECT_EQ((*first)->limiter()->in_flight("alice@test.example"), 0u);
}

}  // namespace
}  // namespace dovetail::deliver

namespace dovetail::deliver {
namespace {

mail::Recipient rcpt(std::string local) {
  mail::Recipient r;
  r.address = {std::move(local), "test.example"};
  r.given = r.address.to_string();
  r.id = "t";
  return r;
}

// resolve_now answers exactly as resolve does when it can, and holds the same slot.
TEST(EngineResolveNow, SameAnswerAsResolveAndTheSameSlot) {
  testlib::TempDir dir;
  auto engine = make_engine(settings_with_limit(dir, 1), "lmtp");
  ASSERT_TRUE(engine) << engine.error().message;
  ASSERT_TRUE(accepted((*engine)->resolve(mail::Envelope{}, rcpt("alice"))));  // file read, slot freed
  auto now = (*engine)->resolve_now(mail::Envelope{}, rcpt("alice"));
  if (!now) GTEST_SKIP() << "the coarse second ticked between the two lookups";
  ASSERT_TRUE(accepted(*now));
  EXPECT_EQ((*engine)->limiter()->in_flight("alice@test.example"), 1u);
  auto second = (*engine)->resolve_now(mail::Envelope{}, rcpt("alice"));
  if (second) {
    EXPECT_FALSE(accepted(*second)) << "lmtp_user_concurrency_limit = 1 also holds inline";
  }
  auto unknown = (*engine)->resolve_now(mail::Envelope{}, rcpt("nobody"));
  if (unknown) {
    EXPECT_TRUE(std::holds_alternative<PermFail>(*unknown));
  }
}

TEST(EngineResolveNow, LmtpProxyNeedsThePassdbSoItWaits) {
  testlib::TempDir dir;
  auto base = settings_with_limit(dir, 0);
  auto s = std::make_shared<config::Settings>(*base);
  s->lmtp_proxy = true;
  auto engine = make_engine(s, "lmtp");
  ASSERT_TRUE(engine) << engine.error().message;
  (void)(*engine)->resolve(mail::Envelope{}, rcpt("alice"));
  EXPECT_FALSE((*engine)->resolve_now(mail::Envelope{}, rcpt("alice")).has_value());
}

}  // namespace
}  // namespace dovetail::deliver
