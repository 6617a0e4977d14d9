#include "mail/address.hpp"

#include <gtest/gtest.h>

#include <utility>

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
      {"<alice@test-.example>", true, "alice", "test-.example", "alice@test-.example", 21},
      {"<a@my_host.example>", true, "a", "my_host.example", "a@my_host.example", 19},
      {"<a@[IPv6:::1]>", true, "a", "[IPv6:::1]", "a@[IPv6:::1]", 14},
      {"<a@[foo:bar]>", true, "a", "[foo:bar]", "a@[foo:bar]", 13},
      {"<\"\"@x>", true, "", "x", "\"\"@x", 6},
      // Errors, with Dovecot 2.3's texts for the same input (checked against a live Dovecot).
      {"alice@test.example", false, "Missing '<' at beginning of path", "", "", 0},
      {"", false, "Path is empty string", "", "", 0},
      {" <a@b>", false, "Missing '<' at beginning of path", "", "", 0},
      {"<>", false, "Null path not allowed", "", "", 0},
      {"<>x", false, "Null path not allowed", "", "", 0},
      {"<alice+foo bar@test.example>", false, "Missing '>' at end of path", "", "", 0},
      {"<a(b@x>", false, "Missing '>' at end of path", "", "", 0},
      {"<alice@test.example", false, "Missing '>' at end of path", "", "", 0},
      {"<a@b@c>", false, "Missing '>' at end of path", "", "", 0},
      {"<alice@>", false, "Missing domain after '@'", "", "", 0},
      {"<a@.x>", false, "Invalid domain", "", "", 0},
      {"<a@@x>", false, "Invalid domain", "", "", 0},
      {"<alice@test.example.>", false, "Invalid character in domain", "", "", 0},
      {"<alice@test..example>", false, "Empty sub-domain", "", "", 0},
      {"<<alice@x>>", false, "Invalid character in localpart", "", "", 0},
      {"<\"unterminated@x>", false, "Premature end of quoted string", "", "", 0},
      {"<\"a\tb\"@x>", false, "Invalid character in quoted string", "", "", 0},
      {"<\"a\\\x01\"@x>", false, "Invalid character after '\\' in quoted string", "", "", 0},
      {"<@x>", false, "Missing ':' at end of source route", "", "", 0},
      {"<@>", false, "Missing domain after '@' in source route", "", "", 0},
      {"<@a,b@x>", false, "Missing '@' after ',' in source route", "", "", 0},
      {"<@a:>", false, "Path only consists of source route", "", "", 0},
      {"<a@[1.2.3]>", false, "Invalid IPv4 address literal", "", "", 0},
      {"<a@[1.2.3.256]>", false, "Invalid IPv4 address literal", "", "", 0},
      {"<a@[1.2.3.4.5]>", false, "Invalid character in address literal", "", "", 0},
      {"<a@[]>", false, "Invalid address literal", "", "", 0},
      {"<a@[x]>", false, "Invalid address literal", "", "", 0},
      {"<a@[x:]>", false, "Empty address literal", "", "", 0},
      {"<a@[IPv6:zz]>", false, "Invalid IPv6 address literal", "", "", 0},
      {"<a@[1.2.3.4>", false, "Invalid character in address literal", "", "", 0},
      {"<a@[1.2.3.4", false, "Missing ']' at end of address literal", "", "", 0},
  };
  for (const auto& c : cases) {
    auto r = parse_path(c.in, PathKind::kForward);
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
  auto r = parse_path("<> BODY=7BIT", PathKind::kReverse);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->null_path);
  EXPECT_FALSE(r->broken);
  EXPECT_TRUE(r->address.empty());
  EXPECT_EQ(r->consumed, 2u);
}

// Dovecot's LMTP takes an unparsable but still bracketed reverse-path as the null sender
// (Return-Path: <>); without the shape, the parse error is the reply.
TEST(ParsePath, ReversePathBrokenIsNullSender) {
  struct Case {
    const char* in;
    size_t consumed;  // 0 = error
    const char* error;
  };
  const Case cases[] = {
      {"<sender@>", 9, ""},
      {"<sender>", 8, ""},
      {"<s@r..example>", 14, ""},
      {"<s@r.example.>", 14, ""},
      {"<a(b@r.example>", 15, ""},
      {"<@>", 3, ""},
      {"<@a.example>", 12, ""},
      {"<s@r@x> SIZE=1", 7, ""},
      {"<<s@r>>", 6, ""},  // consumed up to the first '>': the caller refuses the rest
      {"<a b@r.example>", 0, "Invalid character in localpart"},
      {"<s@r.ex ample>", 0, "Missing '>' at end of path"},
      {"<\"a\tb\"@r.example>", 0, "Invalid character in quoted string"},
      {"<\"ab@r.example>", 0, "Premature end of quoted string"},
      {"<s@r.example", 0, "Missing '>' at end of path"},
      {"s@r.example", 0, "Missing '<' at beginning of path"},
      {"", 0, "Path is empty string"},
  };
  for (const auto& c : cases) {
    auto r = parse_path(c.in, PathKind::kReverse);
    if (c.consumed == 0) {
      ASSERT_FALSE(r) << c.in;
      EXPECT_EQ(r.error().message, c.error) << c.in;
      continue;
    }
    ASSERT_TRUE(r) << c.in;
    EXPECT_TRUE(r->null_path) << c.in;
    EXPECT_TRUE(r->broken) << c.in;
    EXPECT_TRUE(r->address.empty()) << c.in;
    EXPECT_EQ(r->consumed, c.consumed) << c.in;
  }
  auto good = parse_path("<s@r.example>", PathKind::kReverse);
  ASSERT_TRUE(good);
  EXPECT_FALSE(good->broken);
  EXPECT_EQ(good->address.to_string(), "s@r.example");
}

TEST(HeloDomain, DovecotValidity) {
  const std::pair<const char*, const char*> cases[] = {  // nullptr = invalid
      {"client.test.example", "client.test.example"},
      {"x", "x"},
      {"my_host.example", "my_host.example"},
      {"-x.example", "-x.example"},
      {"a b", "a"},
      {"[127.0.0.1]", "[127.0.0.1]"},
      {"[IPv6:::1]", "[IPv6:::1]"},
      {"bad_name!", nullptr},
      {"h\xc3\xa9llo.example", nullptr},
      {"client.test.example.", nullptr},
      {"a..b", nullptr},
      {".a", nullptr},
      {"[1.2.3]", nullptr},
      {"a\tb", nullptr},
  };
  for (const auto& [arg, want] : cases) {
    auto d = helo_domain(arg);
    if (want == nullptr) {
      EXPECT_FALSE(d) << arg;
    } else {
      ASSERT_TRUE(d) << arg;
      EXPECT_EQ(*d, want);
    }
  }
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
