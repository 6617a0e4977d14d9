// Behaviour of the Maildir writer as a mail reader sees it: names, sizes, contents,
// permissions, folders, hard links.
#include "storage/maildir_writer.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>
#include <set>

#include "storage/unique_name.hpp"
#include "storage_test_util.hpp"
#include "testlib/temp_dir.hpp"

namespace dovetail::storage {
namespace {

using test::list_dir;
using test::make_user;
using test::memory_body;
namespace fs = std::filesystem;

constexpr std::string_view kHeaders = "Return-Path: <s@remote.example>\nDelivered-To: alice@test.example\n";
constexpr std::string_view kBody = "Subject: hi\n\nHello world.\n";

struct Fixture : ::testing::Test {
  testlib::TempDir tmp;
  std::string root = tmp.str() + "/Maildir";
  MaildirWriter writer{FsyncMode::kOptimized};
};

TEST_F(Fixture, SavesToInboxWithDovecotNameAndSizes) {
  UserTarget user = make_user(root);
  auto r = writer.save(memory_body(kBody), kHeaders, user, MailboxRequest{});
  ASSERT_TRUE(r) << r.error().log_reason;
  EXPECT_EQ(r->mailbox, "INBOX");
  auto names = list_dir(root + "/new");
  ASSERT_EQ(names.size(), 1u);
  const std::string size = std::to_string(kHeaders.size() + kBody.size());
  const std::string vsize = std::to_string(kHeaders.size() + kBody.size() + 5);  // 5 LFs
  std::regex re("^[0-9]+\\.M[0-9]{1,6}P" + std::to_string(::getpid()) + "\\." +
                std::regex_replace(maildir_hostname(), std::regex("[.\\\\]"), "\\$&") + ",S=" + size +
                ",W=" + vsize + "$");
  EXPECT_TRUE(std::regex_match(names[0], re)) << names[0];
  EXPECT_EQ(testlib::read_file(root + "/new/" + names[0]), std::string(kHeaders) + std::string(kBody));
  EXPECT_EQ(r->path, root + "/new/" + names[0]);
  EXPECT_TRUE(list_dir(root + "/tmp").empty());
  EXPECT_TRUE(fs::is_directory(root + "/cur"));
}

TEST_F(Fixture, SizesCountLfAsCrlfAndKeepExistingCrlf) {
  struct Case {
    std::string headers, body;
    uint64_t s, w;
  } cases[] = {
      {"", "", 0, 0},
      {"A: b\n", "x", 6, 7},
      {"A: b\r\n", "x", 7, 7},          // a CRLF already counts two octets
      {"A: b\n\n", "l1\nl2\n\n", 13, 18},
      {"", "no newline", 10, 10},
      {"H: 1\r\nH: 2\n", "\n", 12, 14},  // mixed endings: only bare LFs grow
  };
  for (const auto& c : cases) {
    testlib::TempDir t;
    auto r = writer.save(memory_body(c.body), c.headers, make_user(t.str() + "/M"), MailboxRequest{});
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->path.ends_with(",S=" + std::to_string(c.s) + ",W=" + std::to_string(c.w))) << r->path;
    EXPECT_EQ(fs::file_size(r->path), c.s);
  }
}

TEST_F(Fixture, UniqueNamesDifferForBackToBackSaves) {
  UserTarget user = make_user(root);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(writer.save(memory_body("x\n"), "", user, MailboxRequest{}));
  EXPECT_EQ(list_dir(root + "/new").size(), 50u);
}

TEST_F(Fixture, FileBackedBodyIsCopied) {
  std::string big(3 * 1024 * 1024 + 17, 'a');
  for (size_t i = 100; i < big.size(); i += 100) big[i] = '\n';
  auto path = tmp.write("spool", big);
  int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ::lseek(fd, 12345, SEEK_SET);  // the writer must not depend on the fd's offset
  Body body;
  body.fd = fd;
  body.size = big.size();
  body.line_feeds = static_cast<uint64_t>(std::count(big.begin(), big.end(), '\n'));
  auto r = writer.save(body, "X: y\n", make_user(root), MailboxRequest{});
  ::close(fd);
  ASSERT_TRUE(r) << r.error().log_reason;
  EXPECT_EQ(testlib::read_file(r->path), "X: y\n" + big);
}

TEST_F(Fixture, PermissionsAndOwnership) {
  ::umask(022);
  auto r = writer.save(memory_body(kBody), kHeaders, make_user(root),
                       MailboxRequest{"Lists", MissingMailbox::kCreateAndSubscribe});
  ASSERT_TRUE(r) << r.error().log_reason;
  for (std::string d : {"", "/new", "/cur", "/tmp", "/.Lists", "/.Lists/new", "/.Lists/cur", "/.Lists/tmp"}) {
    struct stat st {};
    ASSERT_EQ(::stat((root + d).c_str(), &st), 0) << d;
    EXPECT_EQ(st.st_mode & 07777, 0700u) << d;
    EXPECT_EQ(st.st_uid, test::test_uid()) << d;
    EXPECT_EQ(st.st_gid, test::test_gid()) << d;
  }
  for (std::string f : {r->path, root + "/.Lists/maildirfolder", root + "/subscriptions"}) {
    struct stat st {};
    ASSERT_EQ(::stat(f.c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_mode & 07777, 0600u) << f;
    EXPECT_EQ(st.st_uid, test::test_uid()) << f;
  }
}

TEST_F(Fixture, ModesFollowAnExistingMailRoot) {
  fs::create_directories(root);
  ::chmod(root.c_str(), 0750);
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(root.c_str(), test::test_uid(), test::test_gid()), 0);
  }
  ::umask(0);
  auto r = writer.save(memory_body(kBody), "", make_user(root), MailboxRequest{});
  ::umask(022);
  ASSERT_TRUE(r);
  struct stat st {};
  ::stat((root + "/new").c_str(), &st);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  ::stat(r->path.c_str(), &st);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

// Dovecot's modes come from the mail root alone: a strict umask does not narrow them.
TEST_F(Fixture, ModesIgnoreTheProcessUmask) {
  fs::create_directories(root);
  ASSERT_EQ(::chmod(root.c_str(), 0770), 0);
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(root.c_str(), test::test_uid(), test::test_gid()), 0);
  }
  const mode_t old = ::umask(077);
  auto inbox = writer.save(memory_body(kBody), "", make_user(root), MailboxRequest{});
  auto r = writer.save(memory_body(kBody), "", make_user(root), MailboxRequest{"Lists", MissingMailbox::kCreateAndSubscribe});
  ::umask(old);
  ASSERT_TRUE(inbox) << inbox.error().log_reason;
  ASSERT_TRUE(r) << r.error().log_reason;
  for (std::string d : {"/new", "/cur", "/tmp", "/.Lists", "/.Lists/new", "/.Lists/cur", "/.Lists/tmp"}) {
    struct stat st {};
    ASSERT_EQ(::stat((root + d).c_str(), &st), 0) << d;
    EXPECT_EQ(st.st_mode & 07777, 0770u) << d;
  }
  for (std::string f : {inbox->path, r->path, root + "/.Lists/maildirfolder", root + "/subscriptions"}) {
    struct stat st {};
    ASSERT_EQ(::stat(f.c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_mode & 07777, 0660u) << f;
  }
}

TEST_F(Fixture, NonRootCannotWriteForAnotherUid) {
  if (::geteuid() == 0) GTEST_SKIP() << "runs as root: ownership is fchown()ed instead";
  UserTarget user = make_user(root);
  user.uid += 1;
  auto r = writer.save(memory_body(kBody), "", user, MailboxRequest{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, SaveError::Kind::kTemp);
  EXPECT_FALSE(fs::exists(root));
}

TEST_F(Fixture, RootRefusesUidZero) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  UserTarget user = make_user(root);
  user.uid = 0;
  auto r = writer.save(memory_body(kBody), "", user, MailboxRequest{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, SaveError::Kind::kTemp);
  EXPECT_FALSE(fs::exists(root));
}

// COMPAT.md "Subaddress" table (+ LAYOUT=fs and hostile names): with autocreate.
TEST_F(Fixture, DetailFolderTable) {
  struct Case {
    std::string name;
    std::string dir;  // relative to the root; "" = INBOX
  } cases[] = {
      {"Lists", ".Lists"},
      {"INBOX", ""},
      {"inbox", ""},
      {"InBoX", ""},
      {"", ""},
      {"+x", ".+x"},
      {"a+b", ".a+b"},
      {"Dots.in.name", ".Dots.in.name"},
      {"&AOQ-", ".&-AOQ-"},
      {"*", ".*"},
      {"%", ".%"},
      {"a%2fb", ".a%2fb"},
      {"\xc3\xa4", ".&AOQ-"},
      {"../../evil", ""},
      {"a/b", ""},
      {"..", ""},
      {".", ""},
      {"x..y", ""},
      {"~root", ""},
      {".hidden", ""},
      {"trailing.", ""},
      {"ctl\x01x", ""},
      {"tab\tx", ""},
      {"del\x7fx", ""},
      {"bad\xff", ""},
      {std::string(10 * 1024, 'a'), ""},
      {std::string(254, 'a'), "." + std::string(254, 'a')},
      {std::string(255, 'a'), ""},
  };
  for (const auto& c : cases) {
    testlib::TempDir t;
    std::string r0 = t.str() + "/Maildir";
    auto r = writer.save(memory_body(kBody), "", make_user(r0), MailboxRequest{c.name, MissingMailbox::kCreate});
    ASSERT_TRUE(r) << c.name;
    std::string dir = c.dir.empty() ? r0 : r0 + "/" + c.dir;
    EXPECT_EQ(list_dir(dir + "/new").size(), 1u) << "name '" << c.name.substr(0, 40) << "'";
    EXPECT_EQ(r->mailbox, c.dir.empty() ? "INBOX" : c.name);
    if (!c.dir.empty()) {
      EXPECT_TRUE(fs::exists(dir + "/maildirfolder"));
    }
    // Nothing anywhere outside the mail root.
    EXPECT_EQ(list_dir(t.path()), std::vector<std::string>{"Maildir"});
  }
}

TEST_F(Fixture, MissingFolderFallsBackToInboxByDefault) {
  auto r = writer.save(memory_body(kBody), "", make_user(root), MailboxRequest{"Lists"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->mailbox, "INBOX");
  EXPECT_FALSE(fs::exists(root + "/.Lists"));
  EXPECT_FALSE(fs::exists(root + "/subscriptions"));
  EXPECT_EQ(list_dir(root + "/new").size(), 1u);
}

TEST_F(Fixture, MissingFolderWithFailPolicyIsReported) {
  auto r = writer.save(memory_body(kBody), "", make_user(root), MailboxRequest{"Lists", MissingMailbox::kFail});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, SaveError::Kind::kMailboxNotFound);
  EXPECT_FALSE(fs::exists(root + "/.Lists"));
}

TEST_F(Fixture, ExistingFolderIsUsedWithoutAutocreate) {
  ASSERT_TRUE(writer.save(memory_body(kBody), "", make_user(root), MailboxRequest{"Lists", MissingMailbox::kCreate}));
  auto r = writer.save(memory_body(kBody), "", make_user(root), MailboxRequest{"Lists"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->mailbox, "Lists");
  EXPECT_FALSE(r->created_mailbox);
  EXPECT_EQ(list_dir(root + "/.Lists/new").size(), 2u);
}

TEST_F(Fixture, AutosubscribeWritesDovecotFormat) {
  UserTarget user = make_user(root);
  for (std::string name : {"Lists", "Dots.in.name", "\xc3\xa4&x", "Lists"}) {
    ASSERT_TRUE(writer.save(memory_body(kBody), "", user, MailboxRequest{name, MissingMailbox::kCreateAndSubscribe}));
  }
  EXPECT_EQ(testlib::read_file(root + "/subscriptions"), "V\t2\n\nLists\nDots\tin\tname\n&AOQ-&-x\n");
  EXPECT_FALSE(fs::exists(root + "/subscriptions.lock"));
}

TEST_F(Fixture, ControlDirHoldsSubscriptions) {
  UserTarget user = make_user(root);
  user.location.control = tmp.str() + "/control";
  ASSERT_TRUE(writer.save(memory_body(kBody), "", user, MailboxRequest{"Lists", MissingMailbox::kCreateAndSubscribe}));
  EXPECT_EQ(testlib::read_file(tmp.str() + "/control/subscriptions"), "V\t2\n\nLists\n");
  EXPECT_FALSE(fs::exists(root + "/subscriptions"));
}

TEST_F(Fixture, SeparateInboxPath) {
  UserTarget user = make_user(root);
  user.location.inbox = tmp.str() + "/inbox";
  ASSERT_TRUE(writer.save(memory_body(kBody), "", user, MailboxRequest{}));
  ASSERT_TRUE(writer.save(memory_body(kBody), "", user, MailboxRequest{"F", MissingMailbox::kCreate}));
  EXPECT_EQ(list_dir(tmp.str() + "/inbox/new").size(), 1u);
  EXPECT_EQ(list_dir(root + "/.F/new").size(), 1u);
}

TEST_F(Fixture, LayoutFs) {
  struct Case {
    std::string name, dir;
  } cases[] = {
      {"Lists", "Lists"}, {"a/b", "a/b"}, {"Dots.in", "Dots.in"}, {"&", "&-"},
      {"INBOX", ""},      {"../x", ""},   {"a/../b", ""},         {"a//b", ""},
      {".hidden", ""},    {"new", ""},    {"tmp", ""},            {"~root", ""},
  };
  for (const auto& c : cases) {
    testlib::TempDir t;
    std::string r0 = t.str() + "/Maildir";
    auto r = writer.save(memory_body(kBody), "", make_user(r0, Layout::kFs),
                         MailboxRequest{c.name, MissingMailbox::kCreateAndSubscribe});
    ASSERT_TRUE(r) << c.name;
    std::string dir = c.dir.empty() ? r0 : r0 + "/" + c.dir;
    EXPECT_EQ(list_dir(dir + "/new").size(), 1u) << c.name;
    EXPECT_FALSE(fs::exists(dir + "/maildirfolder")) << c.name;
    if (c.name == "a/b") {
      EXPECT_EQ(testlib::read_file(r0 + "/subscriptions"), "V\t2\n\na\tb\n");
    }
  }
}

TEST_F(Fixture, SymlinkedFolderIsNotFollowed) {
  ASSERT_TRUE(writer.save(memory_body(kBody), "", make_user(root), MailboxRequest{}));
  fs::create_directories(tmp.str() + "/elsewhere/new");
  fs::create_directory_symlink(tmp.str() + "/elsewhere", root + "/.Evil");
  auto r = writer.save(memory_body(kBody), "", make_user(root), MailboxRequest{"Evil", MissingMailbox::kCreate});
  EXPECT_FALSE(r);
  EXPECT_TRUE(list_dir(tmp.str() + "/elsewhere/new").empty());
}

TEST_F(Fixture, BatchHardLinksCopiesForSeveralRecipients) {
  testlib::TempDir t2;
  UserTarget alice = make_user(root);
  UserTarget bob = make_user(t2.str() + "/Maildir");
  std::vector<SaveTarget> targets = {
      {&alice, {}},
      {&bob, {}},
      {&alice, {"Lists", MissingMailbox::kCreate}},
  };
  auto rs = writer.save_batch(memory_body(kBody), kHeaders, targets);
  ASSERT_EQ(rs.size(), 3u);
  for (auto& r : rs) ASSERT_TRUE(r) << r.error().log_reason;
  EXPECT_FALSE(rs[0]->hard_link);
  EXPECT_TRUE(rs[1]->hard_link);
  EXPECT_TRUE(rs[2]->hard_link);
  struct stat a {}, b {}, c {};
  ::stat(rs[0]->path.c_str(), &a);
  ::stat(rs[1]->path.c_str(), &b);
  ::stat(rs[2]->path.c_str(), &c);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_ino, c.st_ino);
  EXPECT_EQ(a.st_nlink, 3u);
  EXPECT_NE(fs::path(rs[0]->path).filename(), fs::path(rs[2]->path).filename());
  EXPECT_EQ(testlib::read_file(rs[1]->path), std::string(kHeaders) + std::string(kBody));
}

// maildir_copy_with_hardlinks = no: every recipient gets its own file (own inode, one link).
TEST_F(Fixture, BatchWritesEachCopyWhenHardLinksAreOff) {
  MaildirWriter separate(FsyncMode::kOptimized, real_fs(), CopyMode::kWriteEach);
  testlib::TempDir t2;
  UserTarget alice = make_user(root);
  UserTarget bob = make_user(t2.str() + "/Maildir");
  std::vector<SaveTarget> targets = {
      {&alice, {}},
      {&bob, {}},
      {&alice, {"Lists", MissingMailbox::kCreate}},
  };
  auto rs = separate.save_batch(memory_body(kBody), kHeaders, targets);
  ASSERT_EQ(rs.size(), 3u);
  std::set<ino_t> inodes;
  for (auto& r : rs) {
    ASSERT_TRUE(r) << r.error().log_reason;
    EXPECT_FALSE(r->hard_link);
    struct stat st {};
    ASSERT_EQ(::stat(r->path.c_str(), &st), 0) << r->path;
    EXPECT_EQ(st.st_nlink, 1u) << r->path;
    inodes.insert(st.st_ino);
    EXPECT_EQ(testlib::read_file(r->path), std::string(kHeaders) + std::string(kBody));
  }
  EXPECT_EQ(inodes.size(), 3u);
  for (const auto& dir : {root + "/tmp", t2.str() + "/Maildir/tmp", root + "/.Lists/tmp"})
    EXPECT_TRUE(list_dir(dir).empty()) << dir;
}

TEST_F(Fixture, BatchWritesSeparateCopiesForDifferentOwners) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to write for two uids";
  testlib::TempDir t2;
  UserTarget alice = make_user(root);
  UserTarget bob = make_user(t2.str() + "/Maildir");
  bob.uid = 65533;
  std::vector<SaveTarget> targets = {{&alice, {}}, {&bob, {}}};
  auto rs = writer.save_batch(memory_body(kBody), kHeaders, targets);
  ASSERT_TRUE(rs[0] && rs[1]);
  EXPECT_FALSE(rs[1]->hard_link);
  struct stat b {};
  ::stat(rs[1]->path.c_str(), &b);
  EXPECT_EQ(b.st_uid, 65533u);
  EXPECT_EQ(b.st_nlink, 1u);
}

TEST_F(Fixture, BatchReportsEachTargetOnItsOwn) {
  UserTarget alice = make_user(root);
  UserTarget broken = make_user("/proc/self/no-such-dir/Maildir");
  std::vector<SaveTarget> targets = {{&broken, {}}, {&alice, {}}};
  auto rs = writer.save_batch(memory_body(kBody), kHeaders, targets);
  EXPECT_FALSE(rs[0]);
  ASSERT_TRUE(rs[1]);
  EXPECT_FALSE(rs[1]->hard_link);
}

TEST(FsyncMode, Parses) {
  EXPECT_EQ(*parse_fsync_mode("optimized"), FsyncMode::kOptimized);
  EXPECT_EQ(*parse_fsync_mode("always"), FsyncMode::kAlways);
  EXPECT_EQ(*parse_fsync_mode("never"), FsyncMode::kNever);
  EXPECT_FALSE(parse_fsync_mode("sometimes"));
}

}  // namespace
}  // namespace dovetail::storage

namespace dovetail::storage {
namespace {

// The real mail::Spool, in memory and spilled to a file, through save(spool, ...).
TEST(SpoolSave, MemoryAndSpilledSpoolsStoreTheSameBytes) {
  testlib::TempDir tmp;
  std::string body = "Subject: spool\n\n";
  for (int i = 0; i < 5000; ++i) body += "spool line " + std::to_string(i) + "\n";
  MaildirWriter writer(FsyncMode::kOptimized);
  for (uint64_t limit : {uint64_t{1} << 30, uint64_t{1024}}) {
    mail::Spool spool(limit, tmp.str());
    ASSERT_TRUE(spool.append(body));
    ASSERT_TRUE(spool.finish());
    EXPECT_EQ(spool.in_memory(), limit > body.size());
    testlib::TempDir t;
    auto r = writer.save(spool, "X-A: b\n", test::make_user(t.str() + "/Maildir"), MailboxRequest{});
    ASSERT_TRUE(r) << r.error().log_reason;
    EXPECT_EQ(testlib::read_file(r->path), "X-A: b\n" + body);
    const std::string all = "X-A: b\n" + body;
    EXPECT_TRUE(r->path.ends_with(",S=" + std::to_string(all.size()) + ",W=" + std::to_string(crlf_size(all))));
  }
}

}  // namespace
}  // namespace dovetail::storage
