// Why a session ended, in the words of Dovecot 2.3's "Disconnect from <ip>: <reason>
// (state=<STATE>)" log line (observed against dovecot-lmtpd 2.3.19; COMPAT.md).
#include <gtest/gtest.h>

#include "session_driver.hpp"

namespace dovetail::smtp::test {
namespace {

struct Live {
  FakeHandler handler;
  ServerSession session;
  explicit Live(FakeHandler::Mode m = FakeHandler::Mode::kSync)
      : handler(m), session(test_config(), mail::ClientInfo{}, "SID", handler) {
    session.start();
    session.take_output();
  }
  std::string send(std::string_view bytes) {
    session.feed(bytes);
    while (handler.run_pending() > 0) {
    }
    return session.take_output();
  }
};

TEST(SessionDisconnect, QuitIsLoggedOut) {
  Live l;
  l.send("LHLO client.example\r\nQUIT\r\n");
  EXPECT_EQ(l.session.disconnect_reason(), "Logged out (state=READY)");
  l.session.on_eof("");  // the client then closes: the first reason stays
  EXPECT_EQ(l.session.disconnect_reason(), "Logged out (state=READY)");
}

TEST(SessionDisconnect, CloseBeforeLhloIsInGreeting) {
  Live l;
  l.session.on_eof("");
  EXPECT_EQ(l.session.disconnect_reason(), "Connection closed (state=GREETING)");
}

// The client sends `input`, then the connection ends (error as the net layer words it).
struct EofCase {
  std::string input;
  const char* error;
  const char* reason;
};

TEST(SessionDisconnect, StateFollowsTheTransactionAndCutBodiesAreNamed) {
  const std::string tx = "LHLO c\r\nMAIL FROM:<s@remote.example>\r\nRCPT TO:<alice@test.example>\r\n";
  const EofCase cases[] = {
      {"LHLO c\r\nMAIL FROM:<s@remote.example>\r\n", "read failed: Connection reset by peer",
       "Connection closed: read failed: Connection reset by peer (state=MAIL FROM)"},
      {tx, "", "Connection closed (state=RCPT TO)"},
      // a delivered message ends the transaction: READY again
      {tx + "DATA\r\nhi\r\n.\r\n", "", "Connection closed (state=READY)"},
      {tx + "DATA\r\nSubject: x\r\n", "", "Connection closed (unfinished DATA command) (state=DATA)"},
      {tx + "BDAT 100\r\nabc", "", "Connection closed (unfinished BDAT command) (state=DATA)"},
      // between chunks nothing is unfinished, but the transaction is in DATA
      {tx + "BDAT 3\r\nabc", "", "Connection closed (state=DATA)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    Live l;
    l.send(c.input);
    l.session.on_eof(c.error);
    EXPECT_EQ(l.session.disconnect_reason(), c.reason);
  }
}

TEST(SessionDisconnect, TooManyInvalidCommands) {
  Live l;
  std::string junk;
  for (int i = 0; i < 11; ++i) junk += "FOO\r\n";
  l.send("LHLO c\r\n" + junk);
  ASSERT_TRUE(l.session.should_close());
  EXPECT_EQ(l.session.disconnect_reason(), "Too many invalid commands. (state=READY)");
}

TEST(SessionDisconnect, TimeoutAndShutdown) {
  {
    Live l;
    l.send("LHLO c\r\nMAIL FROM:<s@remote.example>\r\n");
    l.session.on_timeout();
    EXPECT_EQ(l.session.disconnect_reason(), "Disconnected for inactivity (state=MAIL FROM)");
  }
  {
    Live l;  // Dovecot 2.3.19, observed after its 5 minutes
    l.send("LHLO c\r\nMAIL FROM:<s@remote.example>\r\nRCPT TO:<alice@test.example>\r\nDATA\r\nSubject: x\r\n");
    l.session.on_timeout();
    EXPECT_EQ(l.session.disconnect_reason(), "Disconnected for inactivity (unfinished DATA command) (state=DATA)");
  }
  {
    Live l;
    l.send("LHLO c\r\n");
    l.session.record_end("Shutting down");
    EXPECT_EQ(l.session.disconnect_reason(), "Shutting down (state=READY)");
  }
}

}  // namespace
}  // namespace dovetail::smtp::test
