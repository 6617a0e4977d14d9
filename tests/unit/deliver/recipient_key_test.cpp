// recipient_delimiter is a set of characters; the detail starts after the first one found.
#include "deliver/recipient_key.hpp"

#include <gtest/gtest.h>

namespace dovetail::deliver {
namespace {

TEST(RecipientKeyTest, SplitsAtFirstDelimiterOfTheSet) {
  struct Case {
    std::string local, domain, delimiters, format;
    std::string username, detail, key;
    bool had_delimiter;
  };
  const Case cases[] = {
      {"alice", "test.example", "+", "%Lu", "alice@test.example", "", "alice@test.example", false},
      {"alice+Lists", "test.example", "+", "%Lu", "alice@test.example", "Lists",
       "alice@test.example", true},
      {"alice+", "test.example", "+", "%Lu", "alice@test.example", "", "alice@test.example", true},
      {"alice++x", "test.example", "+", "%Lu", "alice@test.example", "+x", "alice@test.example",
       true},
      {"alice+a+b", "test.example", "+", "%Lu", "alice@test.example", "a+b",
       "alice@test.example", true},
      {"alice-x+y", "test.example", "+-", "%Lu", "alice@test.example", "x+y",
       "alice@test.example", true},
      {"alice+x-y", "test.example", "+-", "%Lu", "alice@test.example", "x-y",
       "alice@test.example", true},
      {"alice+x", "test.example", "", "%Lu", "alice+x@test.example", "", "alice+x@test.example",
       false},
      {"ALICE+Sub", "Test.Example", "+", "%Lu", "ALICE@Test.Example", "Sub",
       "alice@test.example", true},
      {"ALICE", "Test.Example", "+", "%u", "ALICE@Test.Example", "", "ALICE@Test.Example", false},
      {"Alice", "test.example", "+", "%Ln", "Alice@test.example", "", "alice", false},
      {"nobody+x", "test.example", "+", "%Lu", "nobody@test.example", "x", "nobody@test.example",
       true},
      {"alice", "", "+", "%Lu", "alice", "", "alice", false},
      {"alice+../../evil", "test.example", "+", "%Lu", "alice@test.example", "../../evil",
       "alice@test.example", true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.local + "@" + c.domain + " delims=" + c.delimiters);
    RecipientKey k = recipient_key({c.local, c.domain}, c.delimiters, c.format);
    EXPECT_EQ(k.username, c.username);
    EXPECT_EQ(k.detail, c.detail);
    EXPECT_EQ(k.key, c.key);
    EXPECT_EQ(k.had_delimiter, c.had_delimiter);
  }
}

}  // namespace
}  // namespace dovetail::deliver
