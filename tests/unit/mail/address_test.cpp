#include "mail/address.hpp"

#include <gtest/gtest.h>

namespace dovetail::mail {
namespace {

struct PathCase {
  const char* in;
  bool ok;
  const char* local;   // or error text when !ok
  const char* domain;
  const char* rendered;
  size_t consumed;
};

TEST(ParsePath, Table) {
  const PathCase cases[] = {
      {"<alice@test.example>", true, "alice", "test.example", "alice@test.example", 20},
      {"<alice@test.example> SIZE=1", true, "alice", "test.example", "alice@test.example", 20},
      {"<ALICE@TEST.example>", true, "ALICE", "TEST.example", "ALICE@TEST.example", 20},
      {"<\"alice\"@x>", true, "alice", "x", "alice@x", 11},
      {"<\"a b\"@x>", true, "a b", "x", "\"a b\"@x", 9},
      {"<\"a\\\"b\"@x>", true, "a\"b", "x", "\"a\\\"b\"@x", 10},
      {"<alice+../../evil@test.example>", true, "alice+../../evil", "test.example",
       "\"alice+../../evil\"@test.example", 31},
      {"<alice+.hidden@test.example>", true, "alice+.hidden", "test.example", "alice+.hidden@test.example", 28},
      {"<alice+.@x>", true, "alice+.", "x", "\"alice+.\"@x", 11},
      {"<alice>", true, "alice", "", "alice", 7},
      {"<alice@[127.0.0.1]>", true, "alice", "[127.0.0.1]", "alice@[127.0.0.1]", 19},
      {"<@relay.example,@b.example:bob@x>", true, "bob", "x", "bob@x", 33},
      {"<jörg@test.example>", true, "jörg", "test.example", "jörg@test.example", 20},
      {"alice@test.example", false, "Missing '<' at beginning of path", "", "", 0},
      {"", false, "Missing '<' at beginning of path", "", "", 0},
      {" <a@b>", false, "Missing '<' at beginning of path", "", "", 0},
      {"<alice+foo bar@test.example>", false, "Missing '>' at end of path", "", "", 0},
      {"<alice@test.example", false, "Missing '>' at end of path", "", "", 0},
      {"<a@b@c>", false, "Missing '>' at end of path", "", "", 0},
      {"<alice@>", false, "Missing domain", "", "", 0},
      {"<a@.x>", false, "Invalid domain", "", "", 0},
      {"<\"unterminated@x>", false, "Missing '>' at end of path", "", "", 0},
      {"<@x>", false, "Invalid source route", "", "", 0},
  };
  for (const auto& c : cases) {
    auto r = parse_path(c.in);
    ASSERT_EQ(r.has_value(), c.ok) << c.in;
    if (!c.ok) {
      EXPECT_EQ(r.error().message, c.local) << c.in;
      EXPECT_EQ(r.error().kind, base::ErrorKind::kInvalidInput);
      continue;
    }
    EXPECT_FALSE(r->null_path);
    EXPECT_EQ(r->address.local, c.local) << c.in;
    EXPECT_EQ(r->address.domain, c.domain) << c.in;
    EXPECT_EQ(r->address.to_string(), c.rendered) << c.in;
    EXPECT_EQ(r->consumed, c.consumed) << c.in;
  }
}

TEST(ParsePath, NullPath) {
  auto r = parse_path("<> BODY=7BIT");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->null_path);
  EXPECT_TRUE(r->address.empty());
  EXPECT_EQ(r->consumed, 2u);
}

TEST(ParseMailbox, Table) {
  EXPECT_EQ(parse_mailbox("orig@remote.example")->to_string(), "orig@remote.example");
  EXPECT_EQ(parse_mailbox("\"x y\"@remote.example")->to_string(), "\"x y\"@remote.example");
  EXPECT_FALSE(parse_mailbox("orig"));
  EXPECT_FALSE(parse_mailbox("a@b c"));
  EXPECT_FALSE(parse_mailbox("a\r\nX: y@b"));
  EXPECT_FALSE(parse_mailbox(""));
}

TEST(Address, ToStringQuotesWhatNeedsQuoting) {
  const std::pair<Address, const char*> cases[] = {
      {{"alice", "x"}, "alice@x"},
      {{"a.b", "x"}, "a.b@x"},
      {{"a..b", "x"}, "\"a..b\"@x"},
      {{".a", "x"}, "\".a\"@x"},
      {{"", "x"}, "\"\"@x"},
      {{"a\\b", "x"}, "\"a\\\\b\"@x"},
      {{"a(b)", "x"}, "\"a(b)\"@x"},
      {{"alice", ""}, "alice"},
  };
  for (const auto& [a, want] : cases) EXPECT_EQ(a.to_string(), want);
}

TEST(Address, NonAscii) {
  EXPECT_TRUE(has_non_ascii(Address{"jörg", "x"}));
  EXPECT_TRUE(has_non_ascii(Address{"a", "bücher.example"}));
  EXPECT_FALSE(has_non_ascii(Address{"a", "b"}));
}

}  // namespace
}  // namespace dovetail::mail
