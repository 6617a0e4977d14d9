#include "mail/xtext.hpp"

#include <gtest/gtest.h>

#include "mail/utf8.hpp"

namespace dovetail::mail {
namespace {

TEST(Xtext, Decode) {
  const std::pair<const char*, const char*> ok[] = {
      {"abc", "abc"},
      {"orig+2Bx@remote.example", "orig+x@remote.example"},
      {"a+3Db", "a=b"},
      {"+2b", "+"},
      {"", ""},
  };
  for (const auto& [in, want] : ok) {
    auto r = xtext_decode(in);
    ASSERT_TRUE(r) << in;
    EXPECT_EQ(*r, want);
  }
  const std::pair<const char*, const char*> bad[] = {
      {"a+2", "Invalid hexchar after '+' in xtext"},
      {"a+", "Invalid hexchar after '+' in xtext"},
      {"a+zz", "Invalid hexchar after '+' in xtext"},
      {"a=b", "Invalid character in xtext"},
      {"a b", "Invalid character in xtext"},
      {"\xc3\xa4", "Invalid character in xtext"},
  };
  for (const auto& [in, want] : bad) {
    auto r = xtext_decode(in);
    ASSERT_FALSE(r) << in;
    EXPECT_EQ(r.error().message, want);
  }
}

TEST(Xtext, Utf8AddrXtext) {
  EXPECT_EQ(*utf8_addr_xtext_decode("j\\x{F6}rg@x"), "jörg@x");
  EXPECT_EQ(*utf8_addr_xtext_decode("a+2Bb"), "a+b");
  EXPECT_FALSE(utf8_addr_xtext_decode("\\x{D800}"));
  EXPECT_FALSE(utf8_addr_xtext_decode("\\x{}"));
  EXPECT_FALSE(utf8_addr_xtext_decode("\\x{110000}"));
}

TEST(Utf8, Validation) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("jörg \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc0\x80"));          // overlong NUL
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // truncated
}

}  // namespace
}  // namespace dovetail::mail
