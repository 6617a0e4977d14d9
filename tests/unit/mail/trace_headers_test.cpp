// Trace headers byte for byte against COMPAT.md's Dovecot transcripts (<SID>, <DATE> filled in).
#include "mail/trace_headers.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>
#include <utility>

#include "mail/address.hpp"

namespace dovetail::mail {
namespace {

constexpr std::time_t kNow = 1795469466;  // Mon, 23 Nov 2026 21:31:06 UTC
const std::string kDate = "Mon, 23 Nov 2026 21:31:06 +0000";
const std::string kSid = "Dnx1LhA5I2bPEgAAE3ygbw";

class TraceHeadersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    saved_tz_ = tz ? tz : "";
    had_tz_ = tz != nullptr;
    setenv("TZ", "UTC0", 1);
    tzset();
  }
  void TearDown() override {
    if (had_tz_)
      setenv("TZ", saved_tz_.c_str(), 1);
    else
      unsetenv("TZ");
    tzset();
  }
  std::string saved_tz_;
  bool had_tz_ = false;
};

Envelope make_envelope(std::string sender_local = "sender") {
  Envelope env;
  if (sender_local.empty()) {
    env.null_sender = true;
  } else {
    env.mail_from = {sender_local, "remote.example"};
  }
  env.session_id = kSid;
  env.transaction_id = kSid;
  env.client.lhlo = "client.test.example";
  env.client.remote_ip = "127.0.0.1";
  return env;
}

Recipient make_rcpt(std::string local, std::string orcpt = "") {
  Recipient r;
  r.address = {local, "test.example"};
  r.given = "<" + local + "@test.example>";
  r.orcpt = std::move(orcpt);
  r.id = kSid;
  return r;
}

struct Case {
  const char* name;
  std::string sender_local;   // "" = null sender
  std::string ip;             // "" with unix = unix socket
  bool unix_socket;
  std::string lhlo;
  bool single;                // exactly one local recipient
  std::string rcpt_local;
  std::string orcpt;
  DeliveryAddress mode;
  bool smtputf8;
  std::string transaction_id; // "" = kSid
  std::string expected;       // with "<DATE>" standing for kDate
};

std::string fill(std::string s) {
  for (size_t at; (at = s.find("<DATE>")) != std::string::npos;) s.replace(at, 6, kDate);
  for (size_t at; (at = s.find("<SID>")) != std::string::npos;) s.replace(at, 5, kSid);
  return s;
}

TEST_F(TraceHeadersTest, MatchesDovecotTranscripts) {
  const Case cases[] = {
      {"ipv4_single", "sender", "127.0.0.1", false, "client.test.example", true, "alice", "",
       DeliveryAddress::kFinal, false, "",
       "Return-Path: <sender@remote.example>\n"
       "Delivered-To: alice@test.example\n"
       "Received: from client.test.example ([127.0.0.1])\n"
       "\tby mx.test.example with LMTP\n"
       "\tid <SID>\n"
       "\t(envelope-from <sender@remote.example>)\n"
       "\tfor <alice@test.example>; <DATE>\n"},
      {"ipv6_single", "sender", "::1", false, "client.test.example", true, "alice", "",
       DeliveryAddress::kFinal, false, "",
       "Return-Path: <sender@remote.example>\n"
       "Delivered-To: alice@test.example\n"
       "Received: from client.test.example ([::1])\n"
       "\tby mx.test.example with LMTP\n"
       "\tid <SID>\n"
       "\t(envelope-from <sender@remote.example>)\n"
       "\tfor <alice@test.example>; <DATE>\n"},
      {"unix_socket", "sender", "", true, "client.test.example", true, "alice", "",
       DeliveryAddress::kFinal, false, "",
       "Return-Path: <sender@remote.example>\n"
       "Delivered-To: alice@test.example\n"
       "Received: from client.test.example\n"
       "\tby mx.test.example with LMTP\n"
       "\tid <SID>\n"
       "\t(envelope-from <sender@remote.example>)\n"
       "\tfor <alice@test.example>; <DATE>\n"},
      {"several_recipients", "sender", "127.0.0.1", false, "client.test.example", false, "alice",
       "", DeliveryAddress::kFinal, false, "",
       "Return-Path: <sender@remote.example>\n"
       "Received: from client.test.example ([127.0.0.1])\n"
       "\tby mx.test.example with LMTP\n"
       "\tid <SID>\n"
       "\t(envelope-from <sender@remote.example>); <DATE>\n"},
      {"null_sender", "", "127.0.0.1", false, "client.test.example", true, "alice", "",
       DeliveryAddress::kFinal, false, "",
       "Return-Path: <>\n"
       "Delivered-To: alice@test.example\n"
       "Received: from client.test.example ([127.0.0.1])\n"
       "\tby mx.test.example with LMTP\n"
       "\tid <SID>\n"
       "\t(envelope-from <>)\n"
       "\tfor <alice@test.example>; <DATE>\n"},
      {"final_ignores_orcpt", "sender", "127.0.0.1", false, "client.test.example", true, "alice+d",
       "orcpt@else.example", DeliveryAddress::kFinal, false, "",
       "Return-Path: <sender@remote.example>\n"
       "Delivered-To: alice+d@test.example\n"
       "Received: from client.test.example ([127.0.0.1])\n"
       "\tby mx.test.example with LMTP\n"
       "\tid <SID>\n"
       "\t(envelope-from <sender@remote.example>)\n"
       "\tfor <alice+d@test.example>; <DATE>\n"},
      {"original_with_orcpt", "sender", "127.0.0.1", false, "client.test.example", true,
       "alice+d", "orcpt@else.example", DeliveryAddress::kOriginal, false, "",
       "Return-Path: <sender@remote.example>\n"
       "Delivered-To: orcpt@else.example\n"
       "Received: from client.test.example ([127.0.0.1])\n"
       "\tby mx.test.example with LMTP\n"
       "\tid <SID>\n"
       "\t(envelope-from <sender@remote.example>)\n"
       "\tfor <orcpt@else.example>; <DATE>\n"},
      {"original_without_orcpt", "sender", "127.0.0.1", false, "client.test.example", true,
       "alice+e", "", DeliveryAddress::kOriginal, false, "Dnx1LhA5I2bPEgAAE3ygbw:T2",
       "Return-Path: <sender@remote.example>\n"
       "Received: from client.test.example ([127.0.0.1])\n"
       "\tby mx.test.example with LMTP\n"
       "\tid <SID>:T2\n"
       "\t(envelope-from <sender@remote.example>)\n"
       "\tfor <alice+e@test.example>; <DATE>\n"},
      {"original_xtext_decoded_orcpt", "sender", "127.0.0.1", false, "client.test.example", true,
       "alice+f", "orig+x@remote.example", DeliveryAddress::kOriginal, false, "",
       "Return-Path: <sender@remote.example>\n"
       "Delivered-To: orig+x@remote.example\n"
       "Received: from client.test.example ([127.0.0.1])\n"
       "\tby mx.test.example with LMTP\n"
       "\tid <SID>\n"
       "\t(envelope-from <sender@remote.example>)\n"
       "\tfor <orig+x@remote.example>; <DATE>\n"},
      {"none_with_orcpt", "sender", "127.0.0.1", false, "client.test.example", true, "alice+d",
       "orcpt@else.example", DeliveryAddress::kNone, false, "",
       "Return-Path: <sender@remote.example>\n"
       "Received: from client.test.example ([127.0.0.1])\n"
       "\tby mx.test.example with LMTP\n"
       "\tid <SID>\n"
       "\t(envelope-from <sender@remote.example>); <DATE>\n"},
      {"none_without_orcpt", "sender", "127.0.0.1", false, "client.test.example", true, "alice+e",
       "", DeliveryAddress::kNone, false, "Dnx1LhA5I2bPEgAAE3ygbw:T2",
       "Return-Path: <sender@remote.example>\n"
       "Received: from client.test.example ([127.0.0.1])\n"
       "\tby mx.test.example with LMTP\n"
       "\tid <SID>:T2\n"
       "\t(envelope-from <sender@remote.example>); <DATE>\n"},
      {"smtputf8", "sender", "127.0.0.1", false, "client.test.example", true, "j\xc3\xb6rg", "",
       DeliveryAddress::kFinal, true, "",
       "Return-Path: <sender@remote.example>\n"
       "Delivered-To: j\xc3\xb6rg@test.example\n"
       "Received: from client.test.example ([127.0.0.1])\n"
       "\tby mx.test.example with UTF8LMTP\n"
       "\tid <SID>\n"
       "\t(envelope-from <sender@remote.example>)\n"
       "\tfor <j\xc3\xb6rg@test.example>; <DATE>\n"},
      {"no_lhlo", "sender", "127.0.0.1", false, "", false, "alice", "", DeliveryAddress::kFinal,
       false, "",
       "Return-Path: <sender@remote.example>\n"
       "Received: from unknown ([127.0.0.1])\n"
       "\tby mx.test.example with LMTP\n"
       "\tid <SID>\n"
       "\t(envelope-from <sender@remote.example>); <DATE>\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Envelope env = make_envelope(c.sender_local);
    env.client.remote_ip = c.ip;
    env.client.unix_socket = c.unix_socket;
    env.client.lhlo = c.lhlo;
    env.params.smtputf8 = c.smtputf8;
    if (!c.transaction_id.empty()) env.transaction_id = c.transaction_id;
    Recipient rcpt = make_rcpt(c.rcpt_local, c.orcpt);
    env.recipients.push_back(rcpt);
    TraceRequest req;
    req.envelope = &env;
    req.single_recipient = c.single ? &env.recipients.front() : nullptr;
    req.hostname = "mx.test.example";
    req.delivery_address = c.mode;
    req.now = kNow;
    EXPECT_EQ(trace_headers(req), fill(c.expected));
  }
}

// The LHLO name reaches Received only through helo_domain(), as in Dovecot: an invalid name
// is "from unknown", a valid one is kept as given (case too), an argument after SP dropped.
TEST_F(TraceHeadersTest, ReceivedFromUsesOnlyAValidLhloDomain) {
  const std::pair<const char*, const char*> cases[] = {
      {"bad_name!", "unknown"},
      {"h\xc3\xa9llo.example", "unknown"},
      {"client.test.example.", "unknown"},
      {"a..b", "unknown"},
      {"CLIENT.Test.Example", "CLIENT.Test.Example"},
      {"my_host.example", "my_host.example"},
      {"[127.0.0.1]", "[127.0.0.1]"},
      {"[IPv6:::1]", "[IPv6:::1]"},
      {"a b", "a"},
  };
  for (const auto& [arg, from] : cases) {
    Envelope env = make_envelope();
    env.client.remote_ip = "127.0.0.1";
    env.client.lhlo = helo_domain(arg).value_or("");
    TraceRequest req;
    req.envelope = &env;
    req.hostname = "mx.test.example";
    req.now = kNow;
    std::string want = std::string("Received: from ") + from + " ([127.0.0.1])\n";
    EXPECT_NE(received_header(req).find(want), std::string::npos) << arg << "\n" << received_header(req);
  }
}

TEST_F(TraceHeadersTest, ReceivedCanBeTurnedOff) {
  Envelope env = make_envelope();
  env.recipients.push_back(make_rcpt("alice"));
  TraceRequest req{&env, &env.recipients.front(), "mx.test.example", DeliveryAddress::kFinal,
                   false, kNow};
  EXPECT_EQ(trace_headers(req),
            "Return-Path: <sender@remote.example>\nDelivered-To: alice@test.example\n");
}

TEST_F(TraceHeadersTest, DatePrintsLocalOffsetLikeDovecot) {
  struct DateCase {
    const char* tz;
    std::time_t t;
    const char* expected;
  };
  const DateCase cases[] = {
      {"UTC0", kNow, "Mon, 23 Nov 2026 21:31:06 +0000"},
      {"CET-1", kNow, "Mon, 23 Nov 2026 22:31:06 +0100"},
      {"EST5", kNow, "Mon, 23 Nov 2026 16:31:06 -0500"},
      {"IST-5:30", kNow, "Tue, 24 Nov 2026 03:01:06 +0530"},
      {"UTC0", 1772700000, "Thu, 05 Mar 2026 08:40:00 +0000"},  // two-digit day
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.tz);
    setenv("TZ", c.tz, 1);
    tzset();
    EXPECT_EQ(rfc5322_date(c.t), c.expected);
  }
}

TEST(DeliveryAddressTest, ParsesTheThreeValues) {
  EXPECT_EQ(parse_delivery_address("final").value(), DeliveryAddress::kFinal);
  EXPECT_EQ(parse_delivery_address("original").value(), DeliveryAddress::kOriginal);
  EXPECT_EQ(parse_delivery_address("none").value(), DeliveryAddress::kNone);
  auto bad = parse_delivery_address("both");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().kind, base::ErrorKind::kConfig);
}

}  // namespace
}  // namespace dovetail::mail
