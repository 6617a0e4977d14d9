// The delivery log line: mail_log_prefix + deliver_log_format, and the header scan behind %m %s %f.
#include "deliver/delivery_log.hpp"

#include <gtest/gtest.h>

#include "config/settings.hpp"

namespace dovetail::deliver {
namespace {

TEST(MessageInfoTest, ScansFirstHeadersOnly) {
  struct Case {
    const char* name;
    std::string block;
    std::string msgid, subject, from;
  };
  const Case cases[] = {
      {"plain",
       "From: <sender@remote.example>\nTo: <alice@test.example>\nSubject: hello\n"
       "Message-ID: <fixed-1@remote.example>\n\nMessage-ID: <body@x>\n",
       "<fixed-1@remote.example>", "hello", "sender@remote.example"},
      {"case-insensitive names, CRLF, folded subject",
       "message-id:   <a@b>\r\nSUBJECT: one\r\n\ttwo\r\nfrom: Alice Example <alice@x.example>\r\n\r\n",
       "<a@b>", "one two", "alice@x.example"},
      {"missing message-id", "Subject: s\n\nbody", "unspecified", "s", ""},
      {"header only in body", "\nMessage-ID: <x@y>\n", "unspecified", "", ""},
      {"bare from with comment", "From: bob@b.example (Bob)\n\n", "unspecified", "",
       "bob@b.example"},
      {"control bytes sanitised", std::string("Subject: a\x01" "b\n\n"), "unspecified", "a?b", ""},
      {"first of two", "Subject: first\nSubject: second\n\n", "unspecified", "first", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    MessageInfo info = scan_message_info(c.block);
    EXPECT_EQ(info.message_id, c.msgid);
    EXPECT_EQ(info.subject, c.subject);
    EXPECT_EQ(info.from, c.from);
  }
}

TEST(MessageInfoTest, LongValuesAreCut) {
  std::string subject(300, 'x');
  MessageInfo info = scan_message_info("Subject: " + subject + "\n\n");
  EXPECT_EQ(info.subject, std::string(80, 'x') + "...");
}

TEST(MessageInfoTest, SanitizeCutsOnlyPastTheLimitAndMasksControlBytes) {
  EXPECT_EQ(sanitize("", 5), "");
  EXPECT_EQ(sanitize("12345", 5), "12345");  // exactly the limit: no "..."
  EXPECT_EQ(sanitize("123456", 5), "12345...");
  // 8-bit bytes are kept.
  EXPECT_EQ(sanitize(std::string("a\x00" "b\x1f" "c\x7f" "d\x80", 8), 80), "a?b?c?d\x80");
  EXPECT_EQ(sanitize(std::string("\t\r\n"), 2), "??...");
}

TEST(DeliveryLogTest, DefaultFormatsGiveDovecotsLine) {
  config::Settings defaults;
  std::string prefix = expand_log_prefix(
      defaults.mail_log_prefix, {"lmtp", "alice@test.example", "4242", "Dnx1LhA5I2bPEgAAE3ygbw"});
  EXPECT_EQ(prefix, "lmtp(alice@test.example)<4242><Dnx1LhA5I2bPEgAAE3ygbw>: ");
  MessageInfo info{"<fixed-1@remote.example>", "hello", "sender@remote.example"};
  std::string status = status_saved("INBOX");
  DeliveryLogVars vars;
  vars.message = &info;
  vars.status = status;
  EXPECT_EQ(expand_delivery_log(defaults.deliver_log_format, vars),
            "msgid=<fixed-1@remote.example>: saved mail to INBOX");
}

TEST(DeliveryLogTest, AllVariables) {
  MessageInfo info{"<m@x>", "subj", "f@x"};
  DeliveryLogVars vars;
  vars.message = &info;
  vars.status = "saved mail to Lists";
  vars.from_envelope = "sender@remote.example";
  vars.to_envelope = "alice+Lists@test.example";
  vars.size = 435;
  vars.vsize = 449;
  EXPECT_EQ(expand_delivery_log("%m|%s|%f|%e|%p|%w|%$|%{msgid}|%{size}|%{vsize}|%{to_envelope}|%%",
                                vars),
            "<m@x>|subj|f@x|sender@remote.example|435|449|saved mail to Lists|<m@x>|435|449|"
            "alice+Lists@test.example|%");
  EXPECT_EQ(status_save_failed("INBOX", "Internal error"), "save failed to INBOX: Internal error");
}

}  // namespace
}  // namespace dovetail::deliver
