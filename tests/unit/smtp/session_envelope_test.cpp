// What the session hands the Handler for inputs Dovecot treats specially: an unparsable but
// bracketed reverse-path becomes the null sender, and only a valid LHLO domain is kept for
// the Received header (an invalid one is "from unknown").
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "session_driver.hpp"

namespace dovetail::smtp::test {
namespace {

TEST(SessionEnvelope, BrokenReversePathIsNullSender) {
  const std::pair<const char*, bool> cases[] = {
      {"<sender@remote.example>", false}, {"<sender@>", true}, {"<sender>", true},
      {"<a(b@r.example>", true},          {"<>", true},
  };
  for (const auto& [path, null_sender] : cases) {
    RunResult r(FakeHandler::Mode::kSync);
    run_script(r, std::string("MAIL FROM:") + path + "\r\n", Feed::kWhole);
    ASSERT_EQ(r.handler.mails.size(), 1u) << path << r.output;
    EXPECT_EQ(r.handler.mails[0].null_sender, null_sender) << path;
    if (null_sender) {
      EXPECT_TRUE(r.handler.mails[0].mail_from.empty()) << path;
    }
  }
}

TEST(SessionEnvelope, OnlyAValidLhloDomainIsKept) {
  const std::pair<const char*, const char*> cases[] = {
      {"client.test.example", "client.test.example"},
      {"CLIENT.Test.Example", "CLIENT.Test.Example"},
      {"[127.0.0.1]", "[127.0.0.1]"},
      {"a b", "a"},
      {"bad_name!", ""},
      {"h\xc3\xa9llo.example", ""},
      {"client.test.example.", ""},
  };
  for (const auto& [name, kept] : cases) {
    RunResult r(FakeHandler::Mode::kSync);
    run_script(r, std::string("LHLO ") + name + "\r\nMAIL FROM:<s@r.example>\r\n", Feed::kWhole);
    ASSERT_EQ(r.handler.mails.size(), 1u) << name << r.output;
    EXPECT_EQ(r.handler.mails[0].client.lhlo, kept) << name;
  }
}

}  // namespace
}  // namespace dovetail::smtp::test
