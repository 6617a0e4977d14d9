// Hostile clients and the session's contract with the net layer and the handler:
// garbage, disconnects mid-DATA/BDAT, SIZE over the limit, a 64 MiB body streamed through
// a small spool, backpressure while the handler works, timeouts, limits.
#include <gtest/gtest.h>

#include <random>

#include "session_driver.hpp"

namespace dovetail::smtp::test {
namespace {

struct Live {
  FakeHandler handler;
  ServerSession session;
  std::string output;
  explicit Live(FakeHandler::Mode m = FakeHandler::Mode::kSync, SessionConfig cfg = test_config())
      : handler(m), session(cfg, mail::ClientInfo{}, "SID", handler) {
    session.start();
    output = session.take_output();
  }
  std::string send(std::string_view bytes) {
    session.feed(bytes);
    while (handler.run_pending() > 0) {
    }
    return session.take_output();
  }
};

const char* kTx = "MAIL FROM:<s@remote.example>\r\nRCPT TO:<alice@test.example>\r\n";

bool well_formed_replies(const std::string& out) {
  size_t pos = 0;
  while (pos < out.size()) {
    size_t end = out.find("\r\n", pos);
    if (end == std::string::npos || end - pos < 4) return false;
    for (size_t i = 0; i < 3; ++i)
      if (out[pos + i] < '0' || out[pos + i] > '9') return false;
    if (out[pos + 3] != ' ' && out[pos + 3] != '-') return false;
    if (out.substr(pos, end - pos).find_first_of("\r\n") != std::string::npos) return false;
    pos = end + 2;
  }
  return true;
}

TEST(SessionHostile, BinaryGarbageGetsWellFormedRepliesAndTheLimit) {
  std::mt19937 rng(42);
  for (int round = 0; round < 20; ++round) {
    Live l;
    std::string junk(100000, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    std::string out = l.output + l.send(junk);
    EXPECT_TRUE(well_formed_replies(out)) << round;
    EXPECT_TRUE(l.session.should_close()) << round;  // random bytes are invalid commands
    EXPECT_EQ(l.handler.bodies.size(), 0u);
  }
}

TEST(SessionHostile, DisconnectMidData) {
  Live l;
  l.send(std::string(kTx) + "DATA\r\nSubject: half\r\n\r\nbody without end");
  EXPECT_TRUE(l.session.in_data());
  l.session.on_eof();
  EXPECT_TRUE(l.session.should_close());
  EXPECT_EQ(l.handler.bodies.size(), 0u);
  EXPECT_EQ(l.handler.resets, 1);
  EXPECT_EQ(l.send("\r\n.\r\n"), "");  // nothing after EOF
}

TEST(SessionHostile, DisconnectMidBdatChunkAndBetweenChunks) {
  {
    Live l;
    EXPECT_EQ(l.send(std::string(kTx) + "BDAT 100\r\n0123456789"),
              "250 2.1.0 OK\r\n250 2.1.5 OK\r\n");
    EXPECT_TRUE(l.session.in_data());
    l.session.on_eof();
    EXPECT_EQ(l.handler.bodies.size(), 0u);
    EXPECT_EQ(l.handler.resets, 1);
  }
  {
    Live l;
    EXPECT_EQ(l.send(std::string(kTx) + "BDAT 3\r\nabc"), "250 2.1.0 OK\r\n250 2.1.5 OK\r\n250 2.0.0 Added 3 octets\r\n");
    EXPECT_FALSE(l.session.in_data());
    l.session.on_eof();
    EXPECT_EQ(l.handler.bodies.size(), 0u);
    EXPECT_EQ(l.handler.resets, 1);
  }
}

TEST(SessionHostile, SizeOverLimitInDataStoresNothingAndContinues) {
  SessionConfig cfg = test_config();
  cfg.max_mail_size = 10;
  Live l(FakeHandler::Mode::kSync, cfg);
  std::string out = l.send(std::string(kTx) + "RCPT TO:<bob@test.example>\r\nDATA\r\n0123456789X\r\n.\r\n");
  EXPECT_EQ(out,
            "250 2.1.0 OK\r\n250 2.1.5 OK\r\n250 2.1.5 OK\r\n354 OK\r\n"
            "552 5.3.4 <alice@test.example> Message size exceeds fixed maximum message size\r\n"
            "552 5.3.4 <bob@test.example> Message size exceeds fixed maximum message size\r\n");
  EXPECT_EQ(l.handler.bodies.size(), 0u);
  // Exactly the limit (8 octets + CRLF = 10) goes through, in a new transaction.
  out = l.send(std::string(kTx) + "DATA\r\n01234567\r\n.\r\n");
  EXPECT_EQ(out, "250 2.1.0 OK\r\n250 2.1.5 OK\r\n354 OK\r\n250 2.0.0 <alice@test.example> SID:T2 Saved\r\n");
  ASSERT_EQ(l.handler.bodies.size(), 1u);
  EXPECT_EQ(l.handler.bodies[0].content, "01234567\n");
}

TEST(SessionHostile, SizeOverLimitInBdat) {
  SessionConfig cfg = test_config();
  cfg.max_mail_size = 10;
  {
    Live l(FakeHandler::Mode::kSync, cfg);
    std::string out = l.send(std::string(kTx) + "BDAT 6\r\n012345BDAT 5 LAST\r\n6789X");
    EXPECT_EQ(out,
              "250 2.1.0 OK\r\n250 2.1.5 OK\r\n250 2.0.0 Added 6 octets\r\n"
              "552 5.3.4 <alice@test.example> Message size exceeds fixed maximum message size\r\n");
    EXPECT_EQ(l.handler.bodies.size(), 0u);
    EXPECT_EQ(l.send("NOOP\r\n"), "250 2.0.0 OK\r\n");
  }
  {
    Live l(FakeHandler::Mode::kSync, cfg);
    std::string out = l.send(std::string(kTx) + "BDAT 11\r\n0123456789XBDAT 0 LAST\r\nRSET\r\n");
    EXPECT_EQ(out,
              "250 2.1.0 OK\r\n250 2.1.5 OK\r\n"
              "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
              "503 5.5.0 Previous data chunk failed, issue RSET first\r\n250 2.0.0 OK\r\n");
    EXPECT_EQ(l.handler.bodies.size(), 0u);
  }
}

TEST(SessionHostile, SixtyFourMiBBodyIsStreamedNotHeld) {
  SessionConfig cfg = test_config();
  cfg.spool_memory_limit = 256 * 1024;
  cfg.max_mail_size = 0;  // unlimited
  Live l(FakeHandler::Mode::kSync, cfg);
  l.send(std::string(kTx) + "DATA\r\n");
  std::string line(78, 'x');
  line += "\r\n";
  std::string chunk;
  while (chunk.size() < 64 * 1024) chunk += line;
  uint64_t sent = 0;
  const uint64_t target = 64ull << 20;
  while (sent < target) {
    l.send(chunk);
    sent += chunk.size();
    EXPECT_TRUE(l.session.in_data());
  }
  EXPECT_EQ(l.send(".\r\n"), "250 2.0.0 <alice@test.example> SID Saved\r\n");
  ASSERT_EQ(l.handler.bodies.size(), 1u);
  const auto& b = l.handler.bodies[0];
  EXPECT_FALSE(b.in_memory);
  uint64_t lines = sent / line.size();
  EXPECT_EQ(b.size, lines * 79);
  EXPECT_EQ(b.line_feeds, lines);
  EXPECT_EQ(b.read_back, b.size);
}

TEST(SessionHostile, SpoolInMemoryBelowTheLimit) {
  Live l;
  l.send(std::string(kTx) + "DATA\r\nhello\r\n.\r\n");
  ASSERT_EQ(l.handler.bodies.size(), 1u);
  EXPECT_TRUE(l.handler.bodies[0].in_memory);
}

TEST(SessionHostile, PipelinedEverythingWaitsForTheHandlerInOrder) {
  FakeHandler h(FakeHandler::Mode::kAsync);
  SessionConfig cfg = test_config();
  cfg.max_buffered_input = 32;
  ServerSession s(cfg, mail::ClientInfo{}, "SID", h);
  int wakeups = 0;
  s.set_wakeup([&] { ++wakeups; });
  s.start();
  s.feed(std::string(kTx) + "RCPT TO:<bob@test.example>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n");
  EXPECT_TRUE(s.waiting());
  EXPECT_EQ(s.take_output(), "220 mx.test.example Dovecot (Debian) ready.\r\n250 2.1.0 OK\r\n");
  EXPECT_FALSE(s.wants_input());  // more than 32 octets wait behind the handler
  ASSERT_TRUE(h.has_pending());
  // One completion at a time: each one lets exactly the next command through.
  h.run_pending();
  EXPECT_EQ(wakeups, 3);  // alice, bob, DATA
  EXPECT_EQ(s.take_output(),
            "250 2.1.5 OK\r\n250 2.1.5 OK\r\n354 OK\r\n"
            "250 2.0.0 <alice@test.example> SID Saved\r\n250 2.0.0 <bob@test.example> SID:R2 Saved\r\n"
            "221 2.0.0 Bye\r\n");
  EXPECT_TRUE(s.should_close());
  EXPECT_FALSE(s.wants_input());
}

TEST(SessionHostile, TimeoutClosesWith421) {
  Live l;
  l.send(kTx);
  l.session.on_timeout();
  EXPECT_EQ(l.session.take_output(), "421 4.4.2 mx.test.example Disconnected for inactivity\r\n");
  EXPECT_TRUE(l.session.should_close());
  EXPECT_EQ(l.handler.resets, 1);
}

TEST(SessionHostile, MaxRecipients) {
  SessionConfig cfg = test_config();
  cfg.max_recipients = 2;
  Live l(FakeHandler::Mode::kSync, cfg);
  std::string out = l.send(
      "MAIL FROM:<s@x>\r\nRCPT TO:<nobody@test.example>\r\nRCPT TO:<alice@test.example>\r\n"
      "RCPT TO:<bob@test.example>\r\nRCPT TO:<erin@test.example>\r\n");
  EXPECT_EQ(out,
            "250 2.1.0 OK\r\n550 5.1.1 <nobody@test.example> User doesn't exist: nobody@test.example\r\n"
            "250 2.1.5 OK\r\n250 2.1.5 OK\r\n452 4.5.3 Too many recipients\r\n");
}

TEST(SessionHostile, DestroyedSessionIgnoresLateCompletion) {
  FakeHandler h(FakeHandler::Mode::kAsync);
  {
    ServerSession s(test_config(), mail::ClientInfo{}, "SID", h);
    s.start();
    s.feed(kTx);
    EXPECT_TRUE(s.waiting());
    s.on_eof();
  }
  EXPECT_EQ(h.run_pending(), 1u);  // runs the RCPT completion into nothing
}

// A handler that answers twice: the second answer must be ignored.
class DoubleHandler : public FakeHandler {
 public:
  void on_rcpt(const mail::Envelope&, const mail::Recipient&, std::function<void(Reply)> done) override {
    done(Reply{250, "2.1.5", "OK"});
    done(Reply{550, "5.1.1", "second"});
  }
};

TEST(SessionHostile, DoneTwiceIsIgnored) {
  DoubleHandler h;
  ServerSession s(test_config(), mail::ClientInfo{}, "SID", h);
  s.feed(std::string(kTx) + "NOOP\r\n");
  EXPECT_EQ(s.take_output(), "250 2.1.0 OK\r\n250 2.1.5 OK\r\n250 2.0.0 OK\r\n");
}

TEST(SessionHostile, EofWhileOnDataRunsDropsRepliesAndResets) {
  Live l(FakeHandler::Mode::kAsync);
  l.session.feed(std::string(kTx));
  l.handler.run_pending();
  l.session.feed("DATA\r\nx\r\n.\r\n");
  EXPECT_TRUE(l.session.waiting());
  l.session.take_output();
  l.session.on_eof();
  l.handler.run_pending();
  EXPECT_EQ(l.session.take_output(), "");
  EXPECT_EQ(l.handler.resets, 1);
}

TEST(SessionCapabilities, DependOnConfig) {
  SessionConfig cfg = test_config();
  cfg.ssl_configured = true;
  cfg.max_mail_size = 0;
  Live l(FakeHandler::Mode::kSync, cfg);
  EXPECT_EQ(l.send("LHLO c\r\n"),
            "250-mx.test.example\r\n250-8BITMIME\r\n250-CHUNKING\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n"
            "250-PIPELINING\r\n250-SMTPUTF8\r\n250 STARTTLS\r\n");
  EXPECT_EQ(l.send("MAIL FROM:<s@x> SIZE=1\r\n"), "555 5.5.4 Unsupported parameters\r\n");
}

TEST(SessionEnvelope, WhatTheHandlerSees) {
  mail::ClientInfo ci;
  ci.remote_ip = "127.0.0.1";
  FakeHandler h;
  ServerSession s(test_config(), ci, "SID", h);
  s.feed(
      "LHLO client.test.example\r\n"
      "MAIL FROM:<\"s\"@remote.example> RET=HDRS ENVID=a+2Bb SMTPUTF8 BODY=8BITMIME SIZE=20\r\n"
      "RCPT TO:<alice+d@test.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig+2Bx@remote.example\r\n"
      "RCPT TO:<nobody@test.example>\r\n"
      "RCPT TO:<jörg@test.example>\r\n"
      "DATA\r\nSubject: lfdot\r\n\r\nbody\n.\nmore\r\n.\r\n");
  ASSERT_EQ(h.bodies.size(), 1u);
  const auto& env = h.bodies[0].envelope;
  EXPECT_EQ(env.mail_from.to_string(), "s@remote.example");
  EXPECT_FALSE(env.null_sender);
  EXPECT_EQ(env.params.ret, "HDRS");
  EXPECT_EQ(env.params.envid, "a+b");
  EXPECT_TRUE(env.params.smtputf8);
  EXPECT_EQ(env.params.body, "8BITMIME");
  EXPECT_EQ(env.params.size, 20u);
  EXPECT_EQ(env.session_id, "SID");
  EXPECT_EQ(env.transaction_id, "SID");
  EXPECT_EQ(env.client.lhlo, "client.test.example");
  EXPECT_EQ(env.client.remote_ip, "127.0.0.1");
  ASSERT_EQ(env.recipients.size(), 2u);
  EXPECT_EQ(env.recipients[0].given, "alice+d@test.example");
  EXPECT_EQ(env.recipients[0].orcpt, "orig+x@remote.example");
  EXPECT_EQ(env.recipients[0].notify, "SUCCESS,FAILURE");
  EXPECT_EQ(env.recipients[0].id, "SID");
  EXPECT_EQ(env.recipients[0].rcpt_index, 1u);
  EXPECT_EQ(env.recipients[1].given, "jörg@test.example");
  EXPECT_EQ(env.recipients[1].id, "SID:R3");
  EXPECT_EQ(env.recipients[1].rcpt_index, 3u);
  EXPECT_EQ(h.bodies[0].content, "Subject: lfdot\n\nbody\n.\nmore\n");
  EXPECT_EQ(h.bodies[0].size, 28u);
  EXPECT_EQ(h.bodies[0].line_feeds, 5u);
}

TEST(SessionId, ShapeAndUniqueness) {
  std::string a = make_session_id(), b = make_session_id();
  EXPECT_EQ(a.size(), 22u);
  EXPECT_NE(a, b);
  for (char c : a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/');
}

}  // namespace
}  // namespace dovetail::smtp::test
