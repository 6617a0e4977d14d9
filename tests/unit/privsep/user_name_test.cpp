// acceptable_user_name(): the writer's first check on a lookup key from the network process.
#include <gtest/gtest.h>

#include <string>

#include "privsep/maildir_backend.hpp"

namespace dovetail::privsep {
namespace {

struct Case {
  std::string name;
  bool ok;
};

TEST(AcceptableUserName, Table) {
  const Case cases[] = {
      {"alice@test.example", true},
      {"alice", true},
      {"j\xc3\xb6rg@test.example", true},  // UTF-8 names are Dovecot-compatible
      {"first.last@sub.example.com", true},
      {"..alice@x", true},   // a name that merely starts with dots is no path step
      {"alice..@x", true},
      {"a@b@c", true},
      {"", false},
      {".", false},
      {"..", false},
      {"..@test.example", false},
      {".@test.example", false},
      {"x@..", false},
      {"x@.", false},
      {"x@..@y", false},
      {"../../evil@x", false},
      {"a/b@c", false},
      {"x@../evil", false},
      {"/etc@x", false},
      {std::string("a\0b@x", 5), false},
      {"bad\n@x", false},
      {"bad\x01@x", false},
      {"bad\x7f@x", false},
      {"tab\t@x", false},
  };
  for (const auto& c : cases) EXPECT_EQ(acceptable_user_name(c.name), c.ok) << "name: " << c.name;
}

}  // namespace
}  // namespace dovetail::privsep
