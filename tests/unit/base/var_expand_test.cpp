#include "base/var_expand.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/digest.hpp"

namespace dovetail::base {
namespace {

struct Case {
  const char* tmpl;
  const char* want;
};

void expect_all(const VarTable& vars, std::initializer_list<Case> cases) {
  for (const auto& c : cases) {
    auto r = var_expand(c.tmpl, vars);
    EXPECT_EQ(r.text, c.want) << c.tmpl;
    EXPECT_TRUE(r.unknown.empty()) << c.tmpl;
  }
}

TEST(VarExpand, UserVariablesAndLongNames) {
  expect_all(user_vars("Alice@Example.COM", "/home/alice"),
             {
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
                 {"trailing%", "trailing"},  // Dovecot drops a lone trailing '%'
                 {"trailing%L", "trailing"},
             });
}

// Dovecot's own vectors (src/lib/test-var-expand.c, test_var_expand_ranges).
TEST(VarExpand, DovecotRanges) {
  expect_all({{'v', "", "value1234"}}, {
                                           {"%v", "value1234"},
                                           {"%3v", "val"},
                                           {"%3.2v", "ue"},
                                           {"%3.-2v", "ue12"},
                                           {"%-3.2v", "23"},
                                           {"%0.-1v", "value123"},
                                           {"%-4.-1v", "123"},
                                           {"%20.2v", ""},         // positive offset past the end
                                           {"%-20.2v", "va"},      // negative one: from the start
                                           {"%0.-20v", "value1234"},  // Dovecot appends it all
                                       });
}

// The documented examples of the Dovecot 2.3 "Config Variables" page.
TEST(VarExpand, DocumentedOffsetWidthAndPadding) {
  expect_all(user_vars("alice@dom.example", "/h"), {
                                                       {"%2u", "al"},
                                                       {"%2.1u", "i"},
                                                       {"%0.-2n", "ali"},
                                                       {"/x/%d/%1n/%n", "/x/dom.example/a/alice"},
                                                       {"%1.1n/%2n", "l/al"},
                                                       {"%1Ln", "a"},  // width before modifiers (%L1n is the unknown key 1)
                                                   });
  for (auto [uid, two, padded] : {std::tuple{"1", "1", "0001"}, std::tuple{"1000", "00", "1000"},
                                  std::tuple{"12345", "45", "12345"}}) {
    VarTable vars{{'i', "uid", uid}};
    EXPECT_EQ(var_expand("%-2.2i", vars).text, two) << uid;  // "UID mod 100"
    EXPECT_EQ(var_expand("%04i", vars).text, padded) << uid;
  }
}

TEST(VarExpand, Modifiers) {
  expect_all({{'v', "value", "a\"b'c\\d"},
              {'n', "num", "1234"},
              {'b', "bad", "12x"},
              {'s', "sub", "sub.domain.org"},
              {'t', "trail", "x y \t\n"},
              {'r', "rev", "abc"}},
             {
                 {"%Ev", "a\\\"b\\'c\\\\d"},
                 {"%Xn", "4d2"},
                 {"%Xb", "0"},  // not a number: 0, as Dovecot
                 {"%Rr", "cba"},
                 {"%Ds", "sub,dc=domain,dc=org"},
                 {"%Tt", "x y"},
                 {"%URr", "CBA"},
                 {"%RUr", "CBA"},
                 {"%2Rr", "cb"},  // substring after the modifiers
             });
}

// Dovecot's vectors (test_var_expand_builtin, test_var_expand_hashing).
TEST(VarExpand, HashesMatchDovecot) {
  VarTable vars{{'v', "", "value"}, {'w', "", "value2"}, {'\0', "value", "example"}};
  expect_all(vars, {
                       {"%50Hv", "1f"},
                       {"%50Hw", "2e"},
                       {"%50Nv", "25"},
                       {"%50Nw", "e"},
                       {"%4.50Nw", "000e"},  // the offset pads the hash
                       {"%M{value}", "1a79a4d60de6718e8e5b326e338ae533"},
                   });
}

TEST(VarExpand, Builtins) {
  ::setenv("DOVETAIL_VAR_TEST", "baR", 1);
  expect_all({}, {
                     {"a%{env:DOVETAIL_VAR_TEST}b", "abaRb"},
                     {"a%{env:DOVETAIL_VAR_UNSET_X}b", "ab"},
                 });
  EXPECT_EQ(var_expand("%{pid}", VarRefs{}).text, std::to_string(::getpid()));
  EXPECT_EQ(var_expand("%{uid}/%{gid}", VarRefs{}).text,
            std::to_string(::geteuid()) + "/" + std::to_string(::getegid()));
  ::setenv("DOVECOT_HOSTNAME", "mx1", 1);
  EXPECT_EQ(var_expand("%{hostname}", VarRefs{}).text, "mx1");
  ::unsetenv("DOVECOT_HOSTNAME");
}

// %{userdb:NAME}: a table entry of that name, else "" (never unknown); :DEFAULT when absent.
TEST(VarExpand, UserdbFields) {
  VarTable vars = user_vars("alice@d", "/h");
  vars.push_back({'\0', "userdb:bucket", "b7"});
  vars.push_back({'\0', "userdb:empty", ""});
  expect_all(vars, {
                       {"%{userdb:bucket}", "b7"},
                       {"%{userdb:bucket:other}", "b7"},
                       {"%{userdb:nosuch}", ""},
                       {"%{userdb:nosuch:dflt}", "dflt"},
                       {"%{userdb:empty:dflt}", ""},  // present but empty: not the default
                       {"%U{userdb:bucket}", "B7"},
                       {"%{md5:userdb:bucket}", "d8708ecb9a1e7ba172c83d8360c57e7d"},
                   });
}

TEST(VarExpand, UnknownIsReportedAsDovecotWritesIt) {
  auto r = var_expand("a%zb%{nope}c%{nonexistent:default}", user_vars("u", "/h"));
  EXPECT_EQ(r.text, "aUNSUPPORTED_VARIABLE_zbUNSUPPORTED_VARIABLE_nopecUNSUPPORTED_VARIABLE_nonexistent");
  EXPECT_EQ(r.unknown, (std::vector<std::string>{"z", "nope", "nonexistent"}));
  // Without a closing brace, '{' is a one-letter key (unknown) and the rest is literal.
  auto open = var_expand("x%{user", user_vars("u", "/h"));
  EXPECT_EQ(open.text, "xUNSUPPORTED_VARIABLE_{user");
  EXPECT_EQ(open.unknown, (std::vector<std::string>{"{"}));
}

TEST(VarExpand, HostileShapesDoNotOverflow) {
  auto vars = user_vars("alice@d", "/h");
  EXPECT_EQ(var_expand("%99999999999999999999n", vars).text, "alice");
  EXPECT_EQ(var_expand("%-99999999999999999999.1n", vars).text, "a");
  EXPECT_EQ(var_expand("%LULULULULULULn", vars).unknown.size(), 1u);  // 10 modifiers at most
}

TEST(Md5, Rfc1321Vectors) {
  const Case cases[] = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"},
  };
  for (const auto& c : cases) EXPECT_EQ(md5_hex(c.tmpl), c.want) << c.tmpl;
}

TEST(ExpandHome, Tilde) {
  EXPECT_EQ(expand_home("~/Maildir", "/home/a"), "/home/a/Maildir");
  EXPECT_EQ(expand_home("~", "/home/a"), "/home/a");
  EXPECT_EQ(expand_home("/var/mail", "/home/a"), "/var/mail");
}

}  // namespace
}  // namespace dovetail::base
