#include "lmtpd/reply_map.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace dovetail::lmtpd {
namespace {

mail::Recipient rcpt(const std::string& given, const std::string& id) {
  mail::Recipient r;
  r.given = given;
  r.id = id;
  return r;
}

TEST(ReplyMap, DataOutcomes) {
  struct Case {
    deliver::Outcome outcome;
    std::string want;
  };
  auto r = rcpt("alice@test.example", "SID:R2");
  const Case cases[] = {
      {deliver::Delivered{"INBOX", ""}, "250 2.0.0 <alice@test.example> SID:R2 Saved\r\n"},
      {deliver::Delivered{"INBOX", "FIRST"}, "250 2.0.0 <alice@test.example> FIRST Saved\r\n"},
      {deliver::user_unknown("alice@test.example"),
       "550 5.1.1 <alice@test.example> User doesn't exist: alice@test.example\r\n"},
      {deliver::lookup_failed(), "451 4.3.0 <alice@test.example> Temporary internal error\r\n"},
      {deliver::PermFail{552, "5.2.2", "Quota exceeded (mailbox for user is full)"},
       "552 5.2.2 <alice@test.example> Quota exceeded (mailbox for user is full)\r\n"},
  };
  for (const auto& c : cases) EXPECT_EQ(data_reply(r, c.outcome).render(), c.want);
}

TEST(ReplyMap, InternalErrorCarriesTimestamp) {
  auto r = rcpt("erin@test.example", "SID");
  auto line = data_reply(r, deliver::TempFail{451, "4.2.0", ""}).render();
  EXPECT_TRUE(std::regex_match(
      line, std::regex(R"(451 4\.2\.0 <erin@test\.example> Internal error occurred\. Refer to server log )"
                       R"(for more information\. \[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]\r\n)")))
      << line;
}

TEST(ReplyMap, RcptOutcomes) {
  auto r = rcpt("nobody+x@test.example", "SID");
  EXPECT_EQ(rcpt_reply(r, std::nullopt).render(), "250 2.1.5 OK\r\n");
  EXPECT_EQ(rcpt_reply(r, deliver::user_unknown("nobody@test.example")).render(),
            "550 5.1.1 <nobody+x@test.example> User doesn't exist: nobody@test.example\r\n");
  EXPECT_EQ(rcpt_reply(r, deliver::lookup_failed()).render(),
            "451 4.3.0 <nobody+x@test.example> Temporary internal error\r\n");
}

TEST(ReplyMap, DaemonLines) {
  EXPECT_EQ(too_many_connections_line("mx.test.example"),
            "421 4.3.2 mx.test.example Too many connections\r\n");
  EXPECT_EQ(shutting_down_line("mx.test.example"), "421 4.3.2 mx.test.example Shutting down\r\n");
}

}  // namespace
}  // namespace dovetail::lmtpd
