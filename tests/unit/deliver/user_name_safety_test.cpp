// is_safe_user_name(): the names that may be expanded into Maildir paths.
#include <gtest/gtest.h>

#include "deliver/recipient_key.hpp"

namespace dovetail::deliver {
namespace {

TEST(UserNameSafety, Table) {
  struct Case {
    const char* name;
    bool ok;
  };
  const Case cases[] = {
      {"alice@test.example", true},
      {"jörg@test.example", true},
      {"alice", true},
      {"a.b@c.d", true},
      {"x@[127.0.0.1]", true},
      {"..x@test.example", true},  // a dot run inside a name is not a path step
      {"", false},
      {"../../../../tmp/evil@test.example", false},
      {"a/b@test.example", false},
      {"alice@../x", false},
      {"..@test.example", false},
      {".@test.example", false},
      {"alice@..", false},
      {"tab\there@x", false},
      {"nl\n@x", false},
      {"del\x7f@x", false},
  };
  for (const auto& c : cases) EXPECT_EQ(is_safe_user_name(c.name), c.ok) << c.name;
}

}  // namespace
}  // namespace dovetail::deliver
