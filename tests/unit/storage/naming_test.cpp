// Names: mUTF-7, folder resolution (no filesystem), mail_location parsing, unique names.
#include <gtest/gtest.h>

#include <set>

#include "storage/folder_name.hpp"
#include "storage/mail_location.hpp"
#include "storage/mutf7.hpp"
#include "storage/unique_name.hpp"

namespace dovetail::storage {
namespace {

TEST(Mutf7, EncodesLikeDovecot) {
  struct Case {
    std::string in, out;
  } cases[] = {
      {"", ""},
      {"Lists", "Lists"},
      {"&", "&-"},
      {"&AOQ-", "&-AOQ-"},
      {"\xc3\xa4", "&AOQ-"},                 // ä
      {"\xc3\xa4&x", "&AOQ-&-x"},           // what doveadm made for "ä&x"
      {"Entw\xc3\xbc rfe", "Entw&APw- rfe"},
      {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "&ZeVnLIqe-"},  // 日本語 (RFC 3501 example)
      {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
       "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},  // RFC 3501 5.1.3 example
      {"\xf0\x9f\x98\x80", "&2D3eAA-"},     // U+1F600 → surrogate pair
      {"a\xc3\xa4" "b\xc3\xb6", "a&AOQ-b&APY-"},
  };
  for (const auto& c : cases) {
    auto r = utf8_to_mutf7(c.in);
    ASSERT_TRUE(r) << c.in;
    EXPECT_EQ(*r, c.out) << c.in;
  }
}

TEST(Mutf7, RejectsInvalidUtf8) {
  for (std::string bad : {"\xff", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\x80"}) {
    EXPECT_FALSE(utf8_to_mutf7(bad)) << bad;
  }
}

TEST(ResolveFolder, MaildirPlusPlus) {
  auto f = resolve_folder("Dots.in.name", Layout::kMaildirPlusPlus);
  EXPECT_FALSE(f.inbox);
  EXPECT_EQ(f.dir, ".Dots.in.name");
  EXPECT_EQ(f.subscription, "Dots\tin\tname");
  EXPECT_EQ(f.vname, "Dots.in.name");
  for (std::string bad : std::initializer_list<std::string>{"", "INBOX", "iNbOx", "..", ".", "x..y", "../../evil", "a/b", "~root", ".hidden", "a.",
                          "c\x01", "\xff", std::string(10240, 'x')}) {
    auto r = resolve_folder(bad, Layout::kMaildirPlusPlus);
    EXPECT_TRUE(r.inbox) << bad.substr(0, 20);
    EXPECT_EQ(r.vname, "INBOX");
    EXPECT_TRUE(r.dir.empty());
  }
}

TEST(ResolveFolder, LayoutFs) {
  auto f = resolve_folder("a/b.c", Layout::kFs);
  EXPECT_EQ(f.dir, "a/b.c");
  EXPECT_EQ(f.subscription, "a\tb.c");
  for (std::string bad : {"/abs", "a/", "a/./b", "a/../b", "..", "cur", "new", "tmp", "~x"}) {
    EXPECT_TRUE(resolve_folder(bad, Layout::kFs).inbox) << bad;
  }
  EXPECT_FALSE(resolve_folder("x/new", Layout::kFs).inbox);  // only the top level is INBOX's
}

TEST(MailLocation, Parses) {
  struct Case {
    std::string setting, root, inbox, control;
    Layout layout;
  } cases[] = {
      {"maildir:~/Maildir", "/home/a/Maildir", "/home/a/Maildir", "/home/a/Maildir", Layout::kMaildirPlusPlus},
      {"", "/home/a/Maildir", "/home/a/Maildir", "/home/a/Maildir", Layout::kMaildirPlusPlus},
      {"maildir:~/Maildir/", "/home/a/Maildir", "/home/a/Maildir", "/home/a/Maildir", Layout::kMaildirPlusPlus},
      {"maildir:/var/vmail/%d/%n:LAYOUT=fs", "/var/vmail/test.example/alice", "/var/vmail/test.example/alice",
       "/var/vmail/test.example/alice", Layout::kFs},
      {"maildir:~/M:INBOX=~/inbox:CONTROL=/ctl/%u:INDEX=MEMORY", "/home/a/M", "/home/a/inbox",
       "/ctl/alice@test.example", Layout::kMaildirPlusPlus},
      {"MAILDIR:~/M:layout=Maildir++", "/home/a/M", "/home/a/M", "/home/a/M", Layout::kMaildirPlusPlus},
      {"maildir:/m/a::b", "/m/a:b", "/m/a:b", "/m/a:b", Layout::kMaildirPlusPlus},
      {"maildir:%h/Mail", "/home/a/Mail", "/home/a/Mail", "/home/a/Mail", Layout::kMaildirPlusPlus},
      // Dovecot's offset/width forms: one-letter and hashed directory fan-out.
      {"maildir:/x/%d/%1n/%n", "/x/test.example/a/alice", "/x/test.example/a/alice",
       "/x/test.example/a/alice", Layout::kMaildirPlusPlus},
      {"maildir:/x/%Ld/%1.1Ln/%{user}:INBOX=/i/%2.256Hu", "/x/test.example/l/alice@test.example",
       "/i/f5", "/x/test.example/l/alice@test.example", Layout::kMaildirPlusPlus},
  };
  for (const auto& c : cases) {
    auto r = parse_mail_location(c.setting, "alice@test.example", "/home/a");
    ASSERT_TRUE(r) << c.setting << ": " << r.error().message;
    EXPECT_EQ(r->root, c.root) << c.setting;
    EXPECT_EQ(r->inbox, c.inbox) << c.setting;
    EXPECT_EQ(r->control, c.control) << c.setting;
    EXPECT_EQ(r->layout, c.layout) << c.setting;
  }
}

TEST(MailLocation, UserNameCannotAddOptions) {
  auto r = parse_mail_location("maildir:/var/vmail/%u", "x:INBOX=/etc", "/h");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->root, "/var/vmail/x:INBOX=/etc");
  EXPECT_EQ(r->inbox, r->root);
}

TEST(MailLocation, Errors) {
  EXPECT_EQ(parse_mail_location("mbox:~/mail", "a", "/h").error().kind, base::ErrorKind::kConfig);
  EXPECT_EQ(parse_mail_location("sdbox:~/mail", "a", "/h").error().kind, base::ErrorKind::kConfig);
  EXPECT_EQ(parse_mail_location("/just/a/path", "a", "/h").error().kind, base::ErrorKind::kConfig);
  EXPECT_EQ(parse_mail_location("maildir:~/M:LAYOUT=index", "a", "/h").error().kind, base::ErrorKind::kConfig);
  EXPECT_EQ(parse_mail_location("maildir:~/M:BOGUS=1", "a", "/h").error().kind, base::ErrorKind::kConfig);
  EXPECT_EQ(parse_mail_location("maildir:relative/M", "a", "/h").error().kind, base::ErrorKind::kConfig);
  EXPECT_EQ(parse_mail_location("maildir:~/M", "a", "").error().kind, base::ErrorKind::kTemporary);
}

// A ':' inside a braced variable belongs to it (Dovecot: `%{sha256:user}` in mail_location).
// The location is split before values are expanded, so a user name with a ':' stays part of
// the path and can never add an option (Dovecot expands first and splits the result).
TEST(MailLocation, ColonInsideABracedVariable) {
  auto r = parse_mail_location("maildir:/x/%{md5;truncate=8:user}/%n:INBOX=/i/%L{if;%d;eq;example.com;LOCAL;other}",
                               "alice@example.com", "/h");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->root, "/x/c1/alice");
  EXPECT_EQ(r->inbox, "/i/local");
  auto escaped = parse_mail_location("maildir:/x/%%{a:INBOX=/i}", "alice@example.com", "/h");
  ASSERT_TRUE(escaped) << escaped.error().message;  // "%%" is a literal '%': the ':' splits
  EXPECT_EQ(escaped->root, "/x/%{a");
  EXPECT_EQ(escaped->inbox, "/i}");
  auto hostile = parse_mail_location("maildir:/x/%n", "a:INBOX=/etc@example.com", "/h");
  ASSERT_TRUE(hostile) << hostile.error().message;
  EXPECT_EQ(hostile->root, "/x/a:INBOX=/etc");
  EXPECT_EQ(hostile->inbox, hostile->root);
}

TEST(MailLocation, AFailedFunctionIsTemporaryWithItsReason) {
  auto r = parse_mail_location("maildir:/x/%{md5;rounds=0:user}", "alice@example.com", "/h");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, base::ErrorKind::kTemporary);
  EXPECT_EQ(r.error().message,
            "mail_location: unknown variable %{md5;rounds=0:user} (Cannot parse hash arguments:rounds must be at least 1)");
}

// An unknown variable is a temporary failure (the recipient gets 451 4.3.0), never a path
// with the variable left out or spelled literally.
TEST(MailLocation, UnknownVariableIsTemporary) {
  for (const char* setting : {"maildir:/x/%z/%n", "maildir:/x/%{nosuch}", "maildir:~/M:INBOX=/i/%q",
                              "maildir:~/M:CONTROL=/c/%{md5::user}", "maildir:/x/%L"}) {
    auto r = parse_mail_location(setting, "alice@test.example", "/home/a");
    if (std::string_view(setting).ends_with("%L")) {  // lone trailing '%L': dropped, as Dovecot
      ASSERT_TRUE(r) << setting;
      continue;
    }
    ASSERT_FALSE(r) << setting << " -> " << r->root;
    EXPECT_EQ(r.error().kind, base::ErrorKind::kTemporary) << setting;
    EXPECT_NE(r.error().message.find("unknown variable"), std::string::npos) << r.error().message;
  }
}

TEST(UniqueName, IsStrictlyIncreasingAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(seen.insert(next_unique_base()).second);
}

TEST(UniqueName, WithSizes) {
  EXPECT_EQ(with_sizes("1.M2P3.h", 297, 307), "1.M2P3.h,S=297,W=307");
  EXPECT_EQ(crlf_size("a\nb\r\nc\n"), 9u);
  EXPECT_EQ(maildir_hostname().find('/'), std::string::npos);
  EXPECT_EQ(maildir_hostname().find(':'), std::string::npos);
}

}  // namespace
}  // namespace dovetail::storage
