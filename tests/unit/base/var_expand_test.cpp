#include "base/var_expand.hpp"

#include <gtest/gtest.h>

namespace dovetail::base {
namespace {

struct Case {
  const char* tmpl;
  const char* want;
};

TEST(VarExpand, Table) {
  auto vars = user_vars("Alice@Example.COM", "/home/alice");
  const Case cases[] = {
      {"%u", "Alice@Example.COM"},
      {"%Lu", "alice@example.com"},
      {"%Uu", "ALICE@EXAMPLE.COM"},
      {"%n", "Alice"},
      {"%d", "Example.COM"},
      {"%Ld/%Ln/Maildir", "example.com/alice/Maildir"},
      {"%{user}", "Alice@Example.COM"},
      {"%L{user}", "alice@example.com"},
      {"%{home}/x", "/home/alice/x"},
      {"100%%", "100%"},
      {"plain", "plain"},
      {"trailing%", "trailing%"},
  };
  for (const auto& c : cases) EXPECT_EQ(var_expand(c.tmpl, vars).text, c.want) << c.tmpl;
}

TEST(VarExpand, UnknownIsReportedAndEmpty) {
  auto r = var_expand("a%zb%{nope}c", user_vars("u", "/h"));
  EXPECT_EQ(r.text, "abc");
  ASSERT_EQ(r.unknown.size(), 2u);
  EXPECT_EQ(r.unknown[0], "z");
  EXPECT_EQ(r.unknown[1], "nope");
}

TEST(VarExpand, UnterminatedBraceKeptVerbatim) {
  EXPECT_EQ(var_expand("x%{user", user_vars("u", "/h")).text, "x%{user");
}

TEST(ExpandHome, Tilde) {
  EXPECT_EQ(expand_home("~/Maildir", "/home/a"), "/home/a/Maildir");
  EXPECT_EQ(expand_home("~", "/home/a"), "/home/a");
  EXPECT_EQ(expand_home("/var/mail", "/home/a"), "/var/mail");
}

}  // namespace
}  // namespace dovetail::base
