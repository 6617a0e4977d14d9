// The delivery engine end to end below the protocol: real temp Maildirs through storage,
// a table-driven userdb, captured log lines.
#include "deliver/engine.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <poll.h>

#include "deliver/transaction.hpp"
#include "testlib/temp_dir.hpp"

namespace dovetail::deliver {
namespace {

namespace fs = std::filesystem;

const std::string kSid = "Dnx1LhA5I2bPEgAAE3ygbw";
const std::string kBody =
    "From: <sender@remote.example>\nTo: <alice@test.example>\nSubject: hello\n"
    "Message-ID: <fixed-1@remote.example>\n\nHello world.\n";

// As root, storage fchown()s to the target and refuses uid 0; as non-root, the target
// must be the process's own ids. Either way these ids are valid for the tests.
uid_t test_uid() { return geteuid() == 0 ? 5000 : geteuid(); }
gid_t test_gid() { return geteuid() == 0 ? 5000 : getegid(); }

struct LogLine {
  base::log::Level level;
  std::string prefix;
  std::string message;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { settings_ = base_settings(); }

  config::Settings base_settings() const {
    config::Settings s;
    s.hostname = "mx.test.example";
    s.mail_location = "maildir:~/Maildir";
    s.first_valid_uid = std::min<unsigned>(500, test_uid());
    s.first_valid_gid = std::min<unsigned>(1, test_gid());
    s.mail_fsync = "never";  // the tests check content, not durability; keeps them fast
    return s;
  }

  std::string home_of(const std::string& user) const { return tmp_.str() + "/home/" + user; }
  fs::path maildir(const std::string& user) const { return fs::path(home_of(user)) / "Maildir"; }

  std::shared_ptr<const Engine> engine(std::shared_ptr<ConcurrencyLimiter> limiter = nullptr) {
    EngineDeps deps;
    deps.lookup_user = [this](std::string_view key) -> base::Result<userdb::User> {
      std::string k(key);
      if (k == "down@test.example") return base::fail(base::Error::temporary("db down"));
      if (k == "nohome@test.example") return userdb::User{k, test_uid(), test_gid(), ""};
      if (k == "fields@test.example") {  // ids from mail_uid/mail_gid, extra userdb fields
        userdb::User u{k, std::nullopt, std::nullopt, home_of(k)};
        u.extra["bucket"] = "b7";
        return u;
      }
      if (k == "lowuid@test.example") {
        userdb::User u{k, 100, test_gid(), home_of(k)};
        return u;
      }
      if (k == "alice@test.example" || k == "bob@test.example" ||
          k == "j\xc3\xb6rg@test.example") {
        userdb::User u{k, test_uid(), test_gid(), home_of(k)};
        return u;
      }
      return base::fail(base::Error::not_found("unknown user " + k));
    };
    deps.limiter = std::move(limiter);
    deps.clock = [] { return std::time_t{1795469466}; };
    deps.log = [this](base::log::Level level, std::string_view prefix, std::string_view msg) {
      std::lock_guard lock(log_mutex_);
      log_.push_back({level, std::string(prefix), std::string(msg)});
    };
    if (deps_hook_) deps_hook_(deps);
    auto e = Engine::create(std::make_shared<const config::Settings>(settings_), std::move(deps));
    EXPECT_TRUE(e.has_value()) << (e ? "" : e.error().message);
    return std::shared_ptr<const Engine>(std::move(*e));
  }

  mail::Envelope envelope() const {
    mail::Envelope env;
    env.mail_from = {"sender", "remote.example"};
    env.session_id = kSid;
    env.transaction_id = kSid;
    env.client.lhlo = "client.test.example";
    env.client.remote_ip = "127.0.0.1";
    return env;
  }

  static mail::Recipient rcpt(const std::string& local, unsigned index = 1,
                              const std::string& domain = "test.example") {
    mail::Recipient r;
    r.address = {local, domain};
    r.given = r.address.to_string();
    r.rcpt_index = index;
    r.id = index == 1 ? kSid : kSid + ":R" + std::to_string(index);
    return r;
  }

  std::unique_ptr<mail::Spool> spool(const std::string& body = kBody) const {
    auto s = std::make_unique<mail::Spool>(1 << 20, tmp_.str());
    EXPECT_TRUE(s->append(body).has_value());
    EXPECT_TRUE(s->finish().has_value());
    return s;
  }

  // Runs a whole transaction: RCPTs (accepted ones go into the envelope), then DATA.
  struct Run {
    std::vector<std::optional<Outcome>> rcpt_refusals;
    std::vector<Outcome> outcomes;
  };
  Run run(const std::vector<mail::Recipient>& rcpts, mail::Envelope env) {
    Transaction txn(engine());
    Run out;
    for (const auto& r : rcpts) {
      auto refusal = txn.add_recipient(env, r);
      if (!refusal) env.recipients.push_back(r);
      out.rcpt_refusals.push_back(std::move(refusal));
    }
    auto body = spool();
    out.outcomes = txn.deliver(env, *body);
    return out;
  }

  static std::vector<fs::path> files_in(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }

  // Every regular file under the temp dir except the spool's, to prove nothing escaped.
  std::vector<std::string> all_message_files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(tmp_.path()))
      if (e.is_regular_file() && e.path().parent_path().filename() == "new")
        out.push_back(fs::relative(e.path(), tmp_.path()).parent_path().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  bool logged(base::log::Level level, const std::string& needle) {
    std::lock_guard lock(log_mutex_);
    return std::any_of(log_.begin(), log_.end(), [&](const LogLine& l) {
      return l.level == level && (l.prefix + l.message).find(needle) != std::string::npos;
    });
  }

  testlib::TempDir tmp_;
  config::Settings settings_;
  std::function<void(EngineDeps&)> deps_hook_;  // adjusts the deps engine() builds
  std::mutex log_mutex_;
  std::vector<LogLine> log_;
};

// Pins the local timezone for the Received date and restores it afterwards.
class ScopedTz {
 public:
  explicit ScopedTz(const char* tz) {
    if (const char* old = std::getenv("TZ")) saved_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~ScopedTz() {
    if (saved_)
      setenv("TZ", saved_->c_str(), 1);
    else
      unsetenv("TZ");
    tzset();
  }

 private:
  std::optional<std::string> saved_;
};

TEST_F(EngineTest, SingleRecipientGetsTraceHeadersAndLogLine) {
  ScopedTz utc("UTC0");
  Run r = run({rcpt("alice")}, envelope());
  ASSERT_FALSE(r.rcpt_refusals[0].has_value());
  ASSERT_EQ(r.outcomes.size(), 1u);
  auto* d = std::get_if<Delivered>(&r.outcomes[0]);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->mailbox, "INBOX");
  EXPECT_EQ(d->id, kSid);
  auto files = files_in(maildir("alice@test.example") / "new");
  ASSERT_EQ(files.size(), 1u);
  const std::string expected =
      "Return-Path: <sender@remote.example>\n"
      "Delivered-To: alice@test.example\n"
      "Received: from client.test.example ([127.0.0.1])\n"
      "\tby mx.test.example with LMTP\n"
      "\tid " + kSid + "\n"
      "\t(envelope-from <sender@remote.example>)\n"
      "\tfor <alice@test.example>; Mon, 23 Nov 2026 21:31:06 +0000\n" + kBody;
  EXPECT_EQ(testlib::read_file(files[0]), expected);
  // Maildir name carries S= and W= of what was stored (COMPAT item 9).
  const std::string name = files[0].filename().string();
  EXPECT_NE(name.find(",S=" + std::to_string(expected.size()) + ",W="), std::string::npos) << name;
  struct stat st {};
  ASSERT_EQ(stat(files[0].c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, test_uid());
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  const std::string want_prefix =
      "lmtp(alice@test.example)<" + std::to_string(getpid()) + "><" + kSid + ">: ";
  std::lock_guard lock(log_mutex_);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_EQ(log_[0].level, base::log::Level::kInfo);
  EXPECT_EQ(log_[0].prefix, want_prefix);
  EXPECT_EQ(log_[0].message, "msgid=<fixed-1@remote.example>: saved mail to INBOX");
}

TEST_F(EngineTest, DeliverLogFormatVariables) {
  settings_.deliver_log_format = "msgid=%m from=<%f> size=%p vsize=%w subject=%s: %$";
  Run r = run({rcpt("alice")}, envelope());
  ASSERT_TRUE(is_delivered(r.outcomes[0]));
  auto files = files_in(maildir("alice@test.example") / "new");
  ASSERT_EQ(files.size(), 1u);
  const std::string stored = testlib::read_file(files[0]);
  const auto lfs = std::count(stored.begin(), stored.end(), '\n');
  EXPECT_TRUE(logged(base::log::Level::kInfo,
                     "msgid=<fixed-1@remote.example> from=<sender@remote.example> size=" +
                         std::to_string(stored.size()) +
                         " vsize=" + std::to_string(stored.size() + lfs) +
                         " subject=hello: saved mail to INBOX"));
}

// COMPAT.md "Subaddress" table, plus the issue's hostile details: with
// lmtp_save_to_detail_mailbox + lda_mailbox_autocreate, each ends in the listed folder.
TEST_F(EngineTest, SubaddressTablePutsEachDetailInTheRightFolder) {
  settings_.lmtp_save_to_detail_mailbox = true;
  settings_.lda_mailbox_autocreate = true;
  struct Case {
    std::string local;
    std::string dir;  // relative to Maildir; "" = INBOX
    std::string vname;
  };
  const Case cases[] = {
      {"alice+Lists", ".Lists", "Lists"},
      {"alice+INBOX", "", "INBOX"},
      {"alice+inbox", "", "INBOX"},
      {"alice+", "", "INBOX"},
      {"alice++x", ".+x", "+x"},
      {"alice+a+b", ".a+b", "a+b"},
      {"alice+Dots.in.name", ".Dots.in.name", "Dots.in.name"},
      {"alice+&AOQ-", ".&-AOQ-", "&AOQ-"},
      {"alice+*", ".*", "*"},
      {"alice+%", ".%", "%"},
      {"alice+a%2fb", ".a%2fb", "a%2fb"},
      {"alice+../../evil", "", "INBOX"},
      {"alice+a/b", "", "INBOX"},
      {"alice+..", "", "INBOX"},
      {"alice+.", "", "INBOX"},
      {"alice+x..y", "", "INBOX"},
      {"alice+~root", "", "INBOX"},
      {"alice+.hidden", "", "INBOX"},
      {"alice+a\x01" "b", "", "INBOX"},
      {"alice+tab\there", "", "INBOX"},
      {"alice+" + std::string(10 * 1024, 'x'), "", "INBOX"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.local.substr(0, 40));
    fs::remove_all(tmp_.path() / "home");
    Run r = run({rcpt(c.local)}, envelope());
    ASSERT_FALSE(r.rcpt_refusals[0].has_value());
    auto* d = std::get_if<Delivered>(&r.outcomes[0]);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->mailbox, c.vname);
    const fs::path dir = c.dir.empty() ? maildir("alice@test.example")
                                       : maildir("alice@test.example") / c.dir;
    EXPECT_EQ(files_in(dir / "new").size(), 1u);
    if (!c.dir.empty()) {
      EXPECT_TRUE(fs::exists(dir / "maildirfolder"));
      EXPECT_TRUE(files_in(maildir("alice@test.example") / "new").empty());
    }
    // Exactly one message file exists anywhere below the temp dir: nothing escaped.
    const std::string want = fs::relative(dir / "new", tmp_.path()).string();
    EXPECT_EQ(all_message_files(), std::vector<std::string>{want});
  }
}

TEST_F(EngineTest, DetailFolderFallsBackToInboxWithoutAutocreate) {
  settings_.lmtp_save_to_detail_mailbox = true;
  settings_.lda_mailbox_autocreate = false;
  Run r = run({rcpt("alice+Lists")}, envelope());
  auto* d = std::get_if<Delivered>(&r.outcomes[0]);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->mailbox, "INBOX");
  EXPECT_EQ(files_in(maildir("alice@test.example") / "new").size(), 1u);
  EXPECT_FALSE(fs::exists(maildir("alice@test.example") / ".Lists"));
}

TEST_F(EngineTest, DetailIgnoredWithoutSaveToDetailMailbox) {
  Run r = run({rcpt("alice+Lists")}, envelope());
  auto* d = std::get_if<Delivered>(&r.outcomes[0]);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->mailbox, "INBOX");
}

TEST_F(EngineTest, AutosubscribeWritesSubscriptions) {
  settings_.lmtp_save_to_detail_mailbox = true;
  settings_.lda_mailbox_autocreate = true;
  settings_.lda_mailbox_autosubscribe = true;
  Run r = run({rcpt("alice+Lists")}, envelope());
  ASSERT_TRUE(is_delivered(r.outcomes[0]));
  EXPECT_NE(testlib::read_file(maildir("alice@test.example") / "subscriptions").find("Lists"),
            std::string::npos);
}

// COMPAT item 7 + the multi-recipient transcript: alice twice is stored once and both get
// the first id; alice+Sub is its own copy; with >1 recipient there is no Delivered-To.
TEST_F(EngineTest, DuplicateRecipientStoredOnceWithFirstId) {
  settings_.lmtp_save_to_detail_mailbox = true;
  settings_.lda_mailbox_autocreate = true;
  Run r = run({rcpt("alice", 1), rcpt("bob", 2), rcpt("alice", 3), rcpt("alice+Sub", 4)},
              envelope());
  ASSERT_EQ(r.outcomes.size(), 4u);
  for (const auto& o : r.outcomes) ASSERT_TRUE(is_delivered(o));
  EXPECT_EQ(std::get<Delivered>(r.outcomes[0]).id, kSid);
  EXPECT_EQ(std::get<Delivered>(r.outcomes[1]).id, kSid + ":R2");
  EXPECT_EQ(std::get<Delivered>(r.outcomes[2]).id, kSid);  // the first one's id
  EXPECT_EQ(std::get<Delivered>(r.outcomes[3]).id, kSid + ":R4");
  auto inbox = files_in(maildir("alice@test.example") / "new");
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(files_in(maildir("alice@test.example") / ".Sub" / "new").size(), 1u);
  EXPECT_EQ(files_in(maildir("bob@test.example") / "new").size(), 1u);
  const std::string stored = testlib::read_file(inbox[0]);
  EXPECT_EQ(stored.find("Delivered-To:"), std::string::npos);
  EXPECT_NE(stored.find("(envelope-from <sender@remote.example>); "), std::string::npos);
}

// Several recipients with identical header bytes and ids share one inode (hard links).
TEST_F(EngineTest, SeveralRecipientsAreHardLinked) {
  Run r = run({rcpt("alice", 1), rcpt("bob", 2)}, envelope());
  ASSERT_TRUE(is_delivered(r.outcomes[0]));
  ASSERT_TRUE(is_delivered(r.outcomes[1]));
  auto a = files_in(maildir("alice@test.example") / "new");
  auto b = files_in(maildir("bob@test.example") / "new");
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  struct stat sa {}, sb {};
  ASSERT_EQ(stat(a[0].c_str(), &sa), 0);
  ASSERT_EQ(stat(b[0].c_str(), &sb), 0);
  EXPECT_EQ(sa.st_ino, sb.st_ino);
  EXPECT_EQ(testlib::read_file(a[0]), testlib::read_file(b[0]));
}

TEST_F(EngineTest, RcptRefusals) {
  struct Case {
    const char* name;
    mail::Recipient rcpt;
    int code;
    std::string enhanced;
    std::string reason;
  };
  const Case cases[] = {
      {"unknown", rcpt("nobody"), 550, "5.1.1", "User doesn't exist: nobody@test.example"},
      {"unknown with detail", rcpt("nobody+x"), 550, "5.1.1",
       "User doesn't exist: nobody@test.example"},
      {"no domain", rcpt("alice", 1, ""), 550, "5.1.1", "User doesn't exist: alice"},
      {"backend down", rcpt("down"), 451, "4.3.0", "Temporary internal error"},
      {"uid below first_valid_uid", rcpt("lowuid"), 451, "4.3.0", "Temporary internal error"},
  };
  settings_.first_valid_uid = std::max<unsigned>(101, settings_.first_valid_uid);
  if (test_uid() < 101) GTEST_SKIP() << "needs a test uid >= 101";
  auto e = engine();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Resolution res = e->resolve(envelope(), c.rcpt);
    if (c.code >= 500) {
      auto* p = std::get_if<PermFail>(&res);
      ASSERT_NE(p, nullptr);
      EXPECT_EQ(p->code, c.code);
      EXPECT_EQ(p->enhanced, c.enhanced);
      EXPECT_EQ(p->reason, c.reason);
    } else {
      auto* t = std::get_if<TempFail>(&res);
      ASSERT_NE(t, nullptr);
      EXPECT_EQ(t->code, c.code);
      EXPECT_EQ(t->enhanced, c.enhanced);
      EXPECT_EQ(t->reason, c.reason);
    }
  }
  // The uid violation is logged to the error log naming the setting.
  EXPECT_TRUE(logged(base::log::Level::kError, "first_valid_uid"));
  EXPECT_TRUE(logged(base::log::Level::kError, "lmtp(lowuid@test.example)"));
  EXPECT_TRUE(logged(base::log::Level::kError, "db down"));
}

// A %variable auth_username_format names that does not exist defers the recipient (Dovecot
// fails the lookup as internal), instead of asking the userdb for a key without it.
TEST_F(EngineTest, UnknownVariableInAuthUsernameFormatDefers) {
  settings_.auth_username_format = "%Lz";
  auto e = engine();
  Resolution res = e->resolve(envelope(), rcpt("alice"));
  auto* t = std::get_if<TempFail>(&res);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->code, 451);
  EXPECT_EQ(t->enhanced, "4.3.0");
  EXPECT_TRUE(logged(base::log::Level::kError, "auth_username_format '%Lz': unknown variable %z"));
}

// A %variable Dovecot does not know in mail_location or mail_home defers the recipient
// (451 4.3.0) instead of building a path without it; Dovecot's offset/width forms work.
TEST_F(EngineTest, MailLocationVariables) {
  struct Case {
    const char* mail_location;
    const char* mail_home;
    const char* user;
    const char* want_root;  // "" = deferred
  };
  const std::string t = tmp_.str();
  const Case cases[] = {
      {"maildir:/x/%d/%z/%n", "", "alice", ""},
      {"maildir:/x/%{nosuch}", "", "alice", ""},
      {"maildir:~/Maildir", "/h/%z/%n", "nohome", ""},
      {"maildir:/x/%d/%1n/%n", "", "alice", "/x/test.example/a/alice"},
      {"maildir:~/M", "/h/%2.1n/%n", "nohome", "/h/h/nohome/M"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.mail_location);
    settings_.mail_location = c.mail_location;
    settings_.mail_home = c.mail_home;
    Resolution res = engine()->resolve(envelope(), rcpt(c.user));
    if (*c.want_root == '\0') {
      auto* tf = std::get_if<TempFail>(&res);
      ASSERT_NE(tf, nullptr);
      EXPECT_EQ(tf->code, 451);
      EXPECT_EQ(tf->enhanced, "4.3.0");
      EXPECT_TRUE(logged(base::log::Level::kError, "unknown variable"));
    } else {
      auto* ok = std::get_if<ResolvedRecipient>(&res);
      ASSERT_NE(ok, nullptr);
      EXPECT_EQ(ok->target.location.root, c.want_root);
    }
  }
}

// Dovecot's mail user variables are the user's: %i/%{uid}/%{gid} the ids the mail is written
// as, %s the service, %{userdb:...} the userdb answer. Never the process's own ids (the
// privileged writer runs as root).
TEST_F(EngineTest, MailUserVariablesAreTheUsers) {
  settings_.mail_uid = std::to_string(test_uid());
  settings_.mail_gid = std::to_string(test_gid());
  const std::string ids = std::to_string(test_uid()) + "/" + std::to_string(test_gid());
  struct Case {
    const char* mail_location;
    const char* mail_home;
    const char* user;
    std::string want_root;
  };
  const Case cases[] = {
      {"maildir:/x/%i/%{gid}/%n", "", "alice", "/x/" + ids + "/alice"},
      {"maildir:/x/%{uid}/%{gid}/%n", "", "fields", "/x/" + ids + "/fields"},
      {"maildir:/x/%s/%{service}/%{auth_user}", "", "alice", "/x/lmtp/lmtp/alice@test.example"},
      // Dovecot 2.3.19: maildir:/m/%{auth_username}/%{auth_domain} -> /m/user1/example.test
      {"maildir:/x/%{auth_username}/%{auth_domain}", "", "alice", "/x/alice/test.example"},
      {"maildir:/x/%{userdb:bucket}/%{userdb:nosuch}/%{userdb:nosuch:dflt}/%{userdb:bucket:dflt}", "", "fields",
       "/x/b7//dflt/b7"},
      {"maildir:/x/%{userdb:home}", "", "alice", "/x/" + home_of("alice@test.example")},
      {"maildir:~/M", "/h/%i/%n", "nohome", "/h/" + std::to_string(test_uid()) + "/nohome/M"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.mail_location);
    settings_.mail_location = c.mail_location;
    settings_.mail_home = c.mail_home;
    Resolution res = engine()->resolve(envelope(), rcpt(c.user));
    auto* ok = std::get_if<ResolvedRecipient>(&res);
    ASSERT_NE(ok, nullptr) << (log_.empty() ? std::string() : log_.back().message);
    EXPECT_EQ(ok->target.location.root, c.want_root);
  }
}

TEST_F(EngineTest, CaseOfTheAddressIsFoldedForLookup) {
  auto e = engine();
  Resolution res = e->resolve(envelope(), rcpt("ALICE", 1, "TEST.EXAMPLE"));
  auto* ok = std::get_if<ResolvedRecipient>(&res);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->user.name, "alice@test.example");
}

// lmtp_user_concurrency_limit across two threads (two connections on two workers).
TEST_F(EngineTest, ConcurrencyLimitAcrossThreads) {
  settings_.lmtp_user_concurrency_limit = 1;
  auto e = engine();
  std::optional<Resolution> first;
  std::thread([&] { first = e->resolve(envelope(), rcpt("alice")); }).join();
  ASSERT_TRUE(std::holds_alternative<ResolvedRecipient>(*first));

  std::optional<Resolution> second;
  std::thread([&] { second = e->resolve(envelope(), rcpt("alice")); }).join();
  auto* refused = std::get_if<TempFail>(&*second);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->code, 451);
  EXPECT_EQ(refused->enhanced, "4.3.0");
  EXPECT_EQ(refused->reason, "Too many concurrent deliveries for user");

  // Another user is not affected.
  std::thread([&] {
    EXPECT_TRUE(std::holds_alternative<ResolvedRecipient>(e->resolve(envelope(), rcpt("bob"))));
  }).join();

  first.reset();  // the first transaction ended: its slot is free again
  std::thread([&] { second = e->resolve(envelope(), rcpt("alice")); }).join();
  EXPECT_TRUE(std::holds_alternative<ResolvedRecipient>(*second));
}

// The same address twice in one transaction must not hit the limit against itself.
TEST_F(EngineTest, RepeatedRcptSharesTheSlot) {
  settings_.lmtp_user_concurrency_limit = 1;
  Run r = run({rcpt("alice", 1), rcpt("alice", 2)}, envelope());
  EXPECT_FALSE(r.rcpt_refusals[0].has_value());
  EXPECT_FALSE(r.rcpt_refusals[1].has_value());
  ASSERT_EQ(r.outcomes.size(), 2u);
  EXPECT_TRUE(is_delivered(r.outcomes[1]));
  EXPECT_EQ(files_in(maildir("alice@test.example") / "new").size(), 1u);
}

// The by-name path (LDA -d, privileged writer) never takes a slot: the limit is LMTP's.
TEST_F(EngineTest, ByNameResolveIsNotCounted) {
  settings_.lmtp_user_concurrency_limit = 1;
  auto e = engine();
  ResolveOptions by_name;
  by_name.user = "alice@test.example";
  Resolution a = e->resolve(envelope(), rcpt("alice"), by_name);
  Resolution b = e->resolve(envelope(), rcpt("alice"), by_name);
  EXPECT_TRUE(std::holds_alternative<ResolvedRecipient>(a));
  EXPECT_TRUE(std::holds_alternative<ResolvedRecipient>(b));
  EXPECT_EQ(e->limiter()->in_flight("alice@test.example"), 0u);
}

TEST_F(EngineTest, TransactionResetReleasesSlots) {
  settings_.lmtp_user_concurrency_limit = 1;
  auto e = engine();
  Transaction a(e), b(e);
  auto env = envelope();
  EXPECT_FALSE(a.add_recipient(env, rcpt("alice")).has_value());
  EXPECT_TRUE(b.add_recipient(env, rcpt("alice")).has_value());
  a.reset();
  EXPECT_FALSE(b.add_recipient(env, rcpt("alice")).has_value());
}

// The LDA path: -d user (no split/format), -m mailbox, no LHLO/IP, same code.
TEST_F(EngineTest, LdaStylePathUsesSameEngine) {
  settings_.lda_mailbox_autocreate = true;
  auto e = engine();
  Transaction txn(e);
  mail::Envelope env = envelope();
  env.client = {};
  env.client.unix_socket = true;
  mail::Recipient r = rcpt("alice");
  ResolveOptions opts;
  opts.user = "alice@test.example";
  ASSERT_FALSE(txn.add_recipient(env, r, opts).has_value());
  env.recipients.push_back(r);
  txn.set_mailbox("Work");
  auto body = spool();
  auto outcomes = txn.deliver(env, *body);
  ASSERT_EQ(outcomes.size(), 1u);
  auto* d = std::get_if<Delivered>(&outcomes[0]);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->mailbox, "Work");
  auto files = files_in(maildir("alice@test.example") / ".Work" / "new");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_NE(testlib::read_file(files[0]).find("Received: from unknown\n"), std::string::npos);
}

TEST_F(EngineTest, NullSenderAndOriginalDeliveryAddress) {
  settings_.lmtp_hdr_delivery_address = "original";
  mail::Envelope env = envelope();
  env.null_sender = true;
  env.mail_from = {};
  mail::Recipient r = rcpt("alice");
  r.orcpt = "orig+x@remote.example";
  Run out = run({r}, env);
  ASSERT_TRUE(is_delivered(out.outcomes[0]));
  auto files = files_in(maildir("alice@test.example") / "new");
  ASSERT_EQ(files.size(), 1u);
  const std::string stored = testlib::read_file(files[0]);
  EXPECT_TRUE(stored.starts_with("Return-Path: <>\nDelivered-To: orig+x@remote.example\n"));
  EXPECT_NE(stored.find("\t(envelope-from <>)\n\tfor <orig+x@remote.example>; "),
            std::string::npos);
}

// lda_original_recipient_header names the header the original recipient is read from (for
// Sieve's envelope "to", COMPAT item 17); without it ORCPT, then the RCPT address.
TEST_F(EngineTest, OriginalRecipientComesFromTheNamedHeader) {
  settings_.mail_debug = true;
  struct Case {
    std::string header_setting;
    std::string orcpt;
    std::string want;
  };
  const Case cases[] = {
      {"X-Original-To", "orcpt@else.example", "orig@elsewhere.example"},
      {"X-Missing-Header", "orcpt@else.example", "orcpt@else.example"},
      {"", "", "alice@test.example"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.header_setting);
    settings_.lda_original_recipient_header = c.header_setting;
    auto e = engine();
    Transaction txn(e);
    mail::Envelope env = envelope();
    mail::Recipient r = rcpt("alice");
    r.orcpt = c.orcpt;
    ASSERT_FALSE(txn.add_recipient(env, r).has_value());
    env.recipients.push_back(r);
    auto body = spool("X-Original-To: Orig <orig@elsewhere.example>\n" + kBody);
    ASSERT_TRUE(is_delivered(txn.deliver(env, *body)[0]));
    EXPECT_TRUE(logged(base::log::Level::kDebug, "original recipient " + c.want + ","));
  }
}

TEST_F(EngineTest, BadSettingsAreRefusedAtCreate) {
  settings_.lmtp_hdr_delivery_address = "sometimes";
  EngineDeps deps;
  deps.lookup_user = [](std::string_view) -> base::Result<userdb::User> {
    return base::fail(base::Error::not_found("x"));
  };
  auto e = Engine::create(std::make_shared<const config::Settings>(settings_), deps);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().kind, base::ErrorKind::kConfig);
}

// A save that completes elsewhere (the privileged writer's channel, here a pipe the test
// writes to): readable only once the "writer" answered.
class PipeSave final : public StoreInFlight {
 public:
  PipeSave(std::vector<storage::SaveResult> results) : results_(std::move(results)) {
    EXPECT_EQ(::pipe(fds_), 0);
  }
  ~PipeSave() override {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  int fd() const override { return fds_[0]; }
  void answer() { EXPECT_EQ(::write(fds_[1], "x", 1), 1); }
  std::vector<storage::SaveResult> finish() override {
    char c;
    EXPECT_EQ(::read(fds_[0], &c, 1), 1);
    return std::move(results_);
  }
  std::optional<std::vector<storage::SaveResult>> try_finish() override {
    pollfd p{fds_[0], POLLIN, 0};
    if (::poll(&p, 1, 0) == 0) return std::nullopt;
    return finish();
  }

 private:
  int fds_[2];
  std::vector<storage::SaveResult> results_;
};

// deliver_begin() + finish() answer exactly what deliver() answers through the same store:
// outcomes per recipient (a repeated recipient shares the first's), one log line each.
TEST_F(EngineTest, DeliverBeginFinishesLikeDeliver) {
  std::vector<std::string> seen_keys;
  PipeSave* started = nullptr;
  auto results_for = [](std::span<const storage::SaveTarget> targets) {
    std::vector<storage::SaveResult> out;
    for (size_t i = 0; i < targets.size(); ++i) {
      if (i == 1) {
        out.emplace_back(base::Unexpected<storage::SaveError>(storage::temp_error("disk on fire")));
        continue;
      }
      storage::Saved saved;
      saved.mailbox = "INBOX";
      out.emplace_back(std::move(saved));
    }
    return out;
  };
  deps_hook_ = [&](EngineDeps& deps) {
    deps.store = [&](const storage::Body&, std::string_view, std::span<const storage::SaveTarget> targets,
                     std::span<const std::string>) { return results_for(targets); };
  };
  auto env = envelope();
  Transaction txn(engine());
  for (auto r : {rcpt("alice", 1), rcpt("bob", 2), rcpt("alice", 3)}) {
    ASSERT_FALSE(txn.add_recipient(env, r));
    env.recipients.push_back(r);
  }
  auto body = spool();
  auto sync = txn.deliver(env, *body);

  deps_hook_ = [&](EngineDeps& deps) {
    deps.store = [&](const storage::Body&, std::string_view, std::span<const storage::SaveTarget> targets,
                     std::span<const std::string>) { return results_for(targets); };
    deps.store_begin = [&](const storage::Body&, std::string_view, std::span<const storage::SaveTarget> targets,
                           std::span<const std::string> keys) -> std::unique_ptr<StoreInFlight> {
      seen_keys.assign(keys.begin(), keys.end());
      auto save = std::make_unique<PipeSave>(results_for(targets));
      started = save.get();
      return save;
    };
  };
  Transaction async_txn(engine());
  auto env2 = envelope();
  for (auto r : {rcpt("alice", 1), rcpt("bob", 2), rcpt("alice", 3)}) {
    ASSERT_FALSE(async_txn.add_recipient(env2, r));
    env2.recipients.push_back(r);
  }
  auto flight = async_txn.deliver_begin(env2, *body);
  ASSERT_TRUE(flight);
  ASSERT_NE(started, nullptr);
  EXPECT_EQ(seen_keys, (std::vector<std::string>{"alice@test.example", "bob@test.example"}))
      << "two unique recipients reach the store";
  pollfd p{flight->fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0) << "nothing to read before the writer answered";
  EXPECT_FALSE(flight->try_finish()) << "a stale wake-up finds no answer and consumes nothing";
  started->answer();
  EXPECT_EQ(::poll(&p, 1, 1000), 1);
  auto finished = flight->try_finish();
  ASSERT_TRUE(finished) << "the answer has arrived";
  auto outcomes = std::move(*finished);
  ASSERT_EQ(outcomes.size(), 3u);
  ASSERT_EQ(sync.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(outcomes[i].index(), sync[i].index()) << i;
  EXPECT_TRUE(std::holds_alternative<Delivered>(outcomes[0]));
  EXPECT_TRUE(std::holds_alternative<TempFail>(outcomes[1]));
  EXPECT_TRUE(std::holds_alternative<Delivered>(outcomes[2])) << "the repeat answers like the first";
  EXPECT_TRUE(logged(base::log::Level::kError, "disk on fire"));
}

// No store_begin, or one that cannot start now: the caller must use deliver().
TEST_F(EngineTest, DeliverBeginDeclinesWhenTheSaveCannotStart) {
  for (bool have_begin : {false, true}) {
    deps_hook_ = [&](EngineDeps& deps) {
      if (have_begin)
        deps.store_begin = [](const storage::Body&, std::string_view, std::span<const storage::SaveTarget>,
                              std::span<const std::string>) { return std::unique_ptr<StoreInFlight>(); };
    };
    auto env = envelope();
    Transaction txn(engine());
    ASSERT_FALSE(txn.add_recipient(env, rcpt("alice")));
    env.recipients.push_back(rcpt("alice"));
    auto body = spool();
    EXPECT_FALSE(txn.deliver_begin(env, *body)) << have_begin;
    auto outcomes = txn.deliver(env, *body);
    ASSERT_EQ(outcomes.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<Delivered>(outcomes[0])) << "the blocking path still delivers";
  }
}

}  // namespace
}  // namespace dovetail::deliver
