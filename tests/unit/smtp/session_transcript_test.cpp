// The COMPAT.md transcripts (protocol replies, not delivery outcomes) as Dovetail answers
// them: Dovecot's lines, plus SIZE/DSN/SMTPUTF8 from "Beyond Dovecot". Every script runs
// with a synchronous and an asynchronous handler, fed whole (everything pipelined in one
// write), one byte at a time, and split at every offset; the output must be identical.
#include <gtest/gtest.h>

#include "session_driver.hpp"

namespace dovetail::smtp::test {
namespace {

const char* kGreeting = "220 mx.test.example Dovecot (Debian) ready.";

Script& lhlo_reply(Script& s) {
  return s.s("250-mx.test.example")
      .s("250-8BITMIME")
      .s("250-CHUNKING")
      .s("250-DSN")
      .s("250-ENHANCEDSTATUSCODES")
      .s("250-PIPELINING")
      .s("250-SIZE 67108864")
      .s("250 SMTPUTF8");
}

struct Named {
  const char* name;
  Script script;
  bool closes = false;
};

std::vector<Named> scripts() {
  std::vector<Named> v;
  {
    Script s;
    s.s(kGreeting).c("LHLO client.test.example");
    lhlo_reply(s);
    s.c("LHLO").s("501 Missing hostname")
        .c("HELO client.test.example").s("500 5.5.1 Unknown command")
        .c("EHLO client.test.example").s("500 5.5.1 Unknown command")
        .c("VRFY alice").s("252 2.3.3 Try RCPT instead")
        .c("HELP").s("500 5.5.1 Unknown command")
        .c("FOO").s("500 5.5.1 Unknown command")
        .c("BOGUS1").s("500 5.5.2 Invalid command syntax")
        .c("STARTTLS").s("502 5.5.1 TLS support is not enabled.")
        .c("XCLIENT ADDR=192.0.2.1").s("550 5.7.14 You are not from trusted IP")
        .c("NOOP").s("250 2.0.0 OK")
        .c("NOOP argument").s("250 2.0.0 OK")
        .c("NOOP two words").s("501 5.5.4 Invalid string parameter: Invalid character in string")
        .c("RSET").s("250 2.0.0 OK")
        .c("RSET extra").s("501 5.5.4 Invalid parameters")
        .c("QUIT now").s("501 5.5.4 Invalid parameters")
        .c("QUIT").s("221 2.0.0 Bye")
        .c("NOOP");  // after QUIT: ignored
    v.push_back({"greeting_lhlo_unsupported", s, true});
  }
  {
    Script s;
    s.s(kGreeting).c("LHLO client.test.example");
    lhlo_reply(s);
    s.c("RCPT TO:<alice@test.example>").s("503 5.5.0 MAIL needed first")
        .c("DATA").s("503 5.5.0 MAIL needed first")
        .c("MAIL FROM:<sender@remote.example>").s("250 2.1.0 OK")
        .c("DATA").s("503 5.5.0 No valid recipients")
        .c("MAIL FROM:<sender@remote.example>").s("503 5.5.0 MAIL already given")
        .c("RCPT TO:<nobody@test.example>").s("550 5.1.1 <nobody@test.example> User doesn't exist: nobody@test.example")
        .c("DATA").s("503 5.5.0 No valid recipients")
        .c("RSET").s("250 2.0.0 OK")
        .c("MAIL FROM:<sender@remote.example>").s("250 2.1.0 OK")
        .c("BDAT 0 LAST").s("503 5.5.0 No valid recipients")
        .c("RSET").s("250 2.0.0 OK")
        .c("MAIL FROM:<sender@remote.example>").s("250 2.1.0 OK")
        .c("RCPT TO:<alice@test.example>").s("250 2.1.5 OK")
        .c("LHLO again.example");
    lhlo_reply(s);
    s.c("RCPT TO:<alice@test.example>").s("503 5.5.0 MAIL needed first");
    v.push_back({"command_sequencing", s});
  }
  {
    Script s;
    s.s(kGreeting).c("LHLO x");
    lhlo_reply(s);
    s.c("BDAT 0 LAST").s("503 5.5.0 MAIL needed first")
        .c("MAIL FROM:<sender@remote.example>").s("250 2.1.0 OK")
        .c("RCPT TO:<alice@test.example>").s("250 2.1.5 OK")
        .c("DATA").s("503 5.5.0 Previous data chunk failed, issue RSET first")
        .c("BDAT 0 LAST").s("503 5.5.0 Previous data chunk failed, issue RSET first")
        .c("RSET").s("250 2.0.0 OK")
        .c("MAIL FROM:<sender@remote.example>").s("250 2.1.0 OK")
        .c("RCPT TO:<alice@test.example>").s("250 2.1.5 OK")
        .c("DATA").s("354 OK")
        .raw(".\r\n").s("250 2.0.0 <alice@test.example> SID:T2 Saved")
        .c("MAIL FROM:<sender@remote.example>").s("250 2.1.0 OK")
        .c("QUIT").s("221 2.0.0 Bye");
    v.push_back({"failed_chunk_needs_rset", s, true});
  }
  {
    Script s;
    s.s(kGreeting)
        .c("MAIL FROM:<sender@remote.example> FOO=BAR").s("555 5.5.4 Unsupported parameters")
        .c("MAIL FROM:<sender@remote.example> BODY=BINARYMIME").s("555 5.5.4 Unsupported mail BODY type")
        .c("MAIL FROM:sender@remote.example").s("501 5.5.4 Invalid FROM: Missing '<' at beginning of path")
        .c("MAIL FROM sender@remote.example").s("501 5.5.4 Invalid parameters")
        .c("MAIL").s("501 5.5.4 Invalid parameters")
        .c("MAIL FROM:<sender@remote.example> BODY=7BIT").s("250 2.1.0 OK")
        .c("RSET").s("250 2.0.0 OK")
        .c("MAIL FROM:<>").s("250 2.1.0 OK")
        .c("RSET").s("250 2.0.0 OK")
        .c("MAIL FROM:<sender@remote.example> BODY=8BITMIME").s("250 2.1.0 OK")
        .c("MAIL FROM:<sender@remote.example>").s("503 5.5.0 MAIL already given")
        .c("RCPT TO:alice@test.example").s("501 5.5.4 Invalid TO: Missing '<' at beginning of path")
        .c("RCPT TO:<>").s("501 5.5.4 Invalid TO: Null path not allowed")
        .c("RCPT TO:<alice@test.example> ORCPT=rfc822;orig@remote.example").s("250 2.1.5 OK")
        .c("RCPT TO:<nobody@test.example>").s("550 5.1.1 <nobody@test.example> User doesn't exist: nobody@test.example")
        .c("RCPT TO:<nobody+x@test.example>").s("550 5.1.1 <nobody+x@test.example> User doesn't exist: nobody@test.example")
        .c("RCPT TO:<alice>").s("550 5.1.1 <alice> User doesn't exist: alice")
        .c("RCPT TO:<alice@other.example>").s("550 5.1.1 <alice@other.example> User doesn't exist: alice@other.example")
        .c("RCPT TO:<ALICE@test.example>").s("250 2.1.5 OK")
        .c("RCPT TO:<alice@TEST.EXAMPLE>").s("250 2.1.5 OK")
        .c("RCPT TO:<\"alice\"@test.example>").s("250 2.1.5 OK")
        .c("RCPT TO:<alice@[127.0.0.1]>").s("550 5.1.1 <alice@[127.0.0.1]> User doesn't exist: alice@[127.0.0.1]")
        .c("RCPT TO:<alice+foo bar@test.example>").s("501 5.5.4 Invalid TO: Missing '>' at end of path")
        .c("RCPT TO:<alice+../../evil@test.example>").s("250 2.1.5 OK")
        .c("DATA").s("354 OK")
        .raw("x\r\n.\r\n")
        .s("250 2.0.0 <alice@test.example> SID:T3 Saved")
        .s("250 2.0.0 <ALICE@test.example> SID:T3:R6 Saved")
        .s("250 2.0.0 <alice@TEST.EXAMPLE> SID:T3:R7 Saved")
        .s("250 2.0.0 <alice@test.example> SID:T3:R8 Saved")
        .s("250 2.0.0 <\"alice+../../evil\"@test.example> SID:T3:R10 Saved");
    v.push_back({"mail_rcpt_parameters_syntax", s});
  }
  {
    // Beyond Dovecot: SIZE, DSN, SMTPUTF8.
    Script s;
    s.s(kGreeting)
        .c("MAIL FROM:<sender@remote.example> SIZE=100").s("250 2.1.0 OK")
        .c("RSET").s("250 2.0.0 OK")
        .c("MAIL FROM:<sender@remote.example> SIZE=67108864").s("250 2.1.0 OK")
        .c("RSET").s("250 2.0.0 OK")
        .c("MAIL FROM:<sender@remote.example> SIZE=67108865").s("552 5.3.4 Message size exceeds fixed maximum message size")
        .c("MAIL FROM:<sender@remote.example> SIZE=abc").s("501 5.5.4 Invalid SIZE= parameter")
        .c("MAIL FROM:<sender@remote.example> SIZE=1 SIZE=2").s("501 5.5.4 Duplicate SIZE= parameter")
        .c("MAIL FROM:<sender@remote.example> RET=BOGUS").s("501 5.5.4 Unsupported RET= parameter keyword")
        .c("MAIL FROM:<sender@remote.example> ENVID=a+2").s("501 5.5.4 Invalid ENVID= parameter: Invalid hexchar after '+' in xtext")
        .c("MAIL FROM:<sender@remote.example> SMTPUTF8=yes").s("501 5.5.4 Unexpected value for SMTPUTF8 parameter")
        .c("MAIL FROM:<sender@remote.example> RET=HDRS ENVID=abc").s("250 2.1.0 OK")
        .c("RCPT TO:<alice@test.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig@remote.example").s("250 2.1.5 OK")
        .c("RCPT TO:<alice@test.example> NOTIFY=NEVER").s("250 2.1.5 OK")
        .c("RCPT TO:<alice@test.example> NOTIFY=BOGUS").s("501 5.5.4 Unsupported NOTIFY= parameter keyword")
        .c("RCPT TO:<alice@test.example> NOTIFY=NEVER,SUCCESS").s("501 5.5.4 Invalid NOTIFY= parameter: NEVER used with other keywords")
        .c("RCPT TO:<alice@test.example> FOO=BAR").s("555 5.5.4 Unsupported parameters")
        .c("RCPT TO:<alice@test.example> ORCPT=rfc822;orig+2Bx@remote.example").s("250 2.1.5 OK")
        .c("RCPT TO:<alice@test.example> ORCPT=bogus").s("501 5.5.4 Invalid addr-type for ORCPT= parameter")
        .c("RCPT TO:<alice@test.example> ORCPT=rfc822;a+2").s("501 5.5.4 Invalid ORCPT= parameter: Invalid hexchar after '+' in xtext")
        .c("RCPT TO:<alice@test.example> ORCPT=rfc822;a+0D+0Ab@x").s("501 5.5.4 Invalid ORCPT= parameter: Invalid character in localpart")
        .c("RCPT TO:<aläce@test.example>").s("553 5.6.7 Non-ASCII address not permitted without SMTPUTF8")
        .c("RSET").s("250 2.0.0 OK")
        // Dovecot accepts a UTF-8 reverse-path without SMTPUTF8; so does Dovetail.
        .c("MAIL FROM:<sénder@remote.example>").s("250 2.1.0 OK")
        .c("RSET").s("250 2.0.0 OK")
        .c("MAIL FROM:<sender@remote.example> SMTPUTF8").s("250 2.1.0 OK")
        .c("RCPT TO:<aläce@test.example>").s("550 5.1.1 <aläce@test.example> User doesn't exist: aläce@test.example")
        .c("RCPT TO:<jörg@test.example>").s("250 2.1.5 OK")
        .c("BDAT 5 LAST").raw("hello").s("250 2.0.0 <jörg@test.example> SID:T5:R2 Saved");
    v.push_back({"size_dsn_smtputf8", s});
  }
  {
    Script s;
    s.s(kGreeting);
    std::string x4096(4096, 'x');
    s.c("NOOP " + x4096).s("250 2.0.0 OK")
        .c("NOOP " + x4096 + "x").s("500 5.5.2 Line too long")
        .c("MAIL FROM:<" + std::string(5000, 'x') + "@test.example>").s("500 5.5.2 Line too long")
        .c("NOOP " + std::string(1 << 20, 'y')).s("500 5.5.2 Line too long")
        .c("NOOP").s("250 2.0.0 OK");
    v.push_back({"line_length", s});
  }
  {
    Script s;
    s.s(kGreeting);
    for (int i = 0; i < 10; ++i) s.c("FOO").s("500 5.5.1 Unknown command");
    s.c("FOO").s("421 4.7.0 mx.test.example Too many invalid commands.");
    s.c("NOOP");
    v.push_back({"invalid_command_limit", s, true});
  }
  {
    // A good command in between restarts the count.
    Script s;
    s.s(kGreeting);
    for (int i = 0; i < 10; ++i) s.c("FOO").s("500 5.5.1 Unknown command");
    s.c("NOOP").s("250 2.0.0 OK");
    for (int i = 0; i < 10; ++i) s.c("BAR1").s("500 5.5.2 Invalid command syntax");
    s.c("QUIT").s("221 2.0.0 Bye");
    v.push_back({"invalid_count_resets", s, true});
  }
  {
    Script s;
    s.s(kGreeting);
    for (int i = 0; i < 10; ++i) s.c("NOOP " + std::string(5000, 'z')).s("500 5.5.2 Line too long");
    s.c("X1").s("421 4.7.0 mx.test.example Too many invalid commands.");
    v.push_back({"overlong_lines_count_as_invalid", s, true});
  }
  {
    Script s;
    s.s(kGreeting)
        .c("MAIL FROM:<sender@remote.example>").s("250 2.1.0 OK")
        .c("RCPT TO:<alice@test.example>").s("250 2.1.5 OK")
        .c("RCPT TO:<bob@test.example>").s("250 2.1.5 OK")
        .c("BDAT 28").raw(std::string(28, 'a')).s("250 2.0.0 Added 28 octets")
        .c("BDAT 0 LAST")
        .s("250 2.0.0 <alice@test.example> SID Saved")
        .s("250 2.0.0 <bob@test.example> SID:R2 Saved")
        .c("MAIL FROM:<sender@remote.example>").s("250 2.1.0 OK")
        .c("RCPT TO:<alice@test.example>").s("250 2.1.5 OK")
        .c("BDAT 28").raw(std::string(28, 'b')).s("250 2.0.0 Added 28 octets")
        .c("DATA").s("503 5.5.0 Bad sequence of commands")
        .c("RSET").s("250 2.0.0 OK");
    v.push_back({"bdat", s});
  }
  {
    // Only <CRLF>.<CRLF> ends DATA (COMPAT.md: Dovecot's <LF>.<LF> end is a weakness).
    Script s;
    s.s(kGreeting)
        .c("MAIL FROM:<sender@remote.example>").s("250 2.1.0 OK")
        .c("RCPT TO:<alice@test.example>").s("250 2.1.5 OK")
        .c("DATA").s("354 OK")
        .raw("Subject: lfdot\r\n\r\nbody\n.\nmore\r\n.\r\n")
        .s("250 2.0.0 <alice@test.example> SID Saved")
        .c("NOOP").s("250 2.0.0 OK");
    v.push_back({"lf_dot_lf_does_not_end_data", s});
  }
  {
    Script s;
    s.s(kGreeting)
        .c("MAIL FROM:<sender@remote.example>").s("250 2.1.0 OK")
        .c("RCPT TO:<alice@test.example>").s("250 2.1.5 OK")
        .c("RCPT TO:<nobody@test.example>").s("550 5.1.1 <nobody@test.example> User doesn't exist: nobody@test.example")
        .c("RCPT TO:<erin@test.example>").s("250 2.1.5 OK")
        .c("RCPT TO:<bob@test.example>").s("250 2.1.5 OK")
        .c("RCPT TO:<alice+Sub@test.example>").s("250 2.1.5 OK")
        .c("DATA").s("354 OK")
        .raw("Subject: x\r\n\r\n..dot\r\n.\r\n")
        .s("250 2.0.0 <alice@test.example> SID Saved")
        .s("451 4.2.0 <erin@test.example> Internal error occurred.")
        .s("250 2.0.0 <bob@test.example> SID:R4 Saved")
        .s("250 2.0.0 <alice+Sub@test.example> SID:R5 Saved")
        .c("MAIL FROM:<sender@remote.example>").s("250 2.1.0 OK")
        .c("RCPT TO:<bob@test.example>").s("250 2.1.5 OK")
        .c("DATA").s("354 OK")
        .raw(".\r\n")
        .s("250 2.0.0 <bob@test.example> SID:T2 Saved");
    v.push_back({"multi_recipient_ids", s});
  }
  {
    // DATA refused, the pipelined body is read as commands (what any SMTP server does).
    Script s;
    s.s(kGreeting)
        .c("MAIL FROM:<sender@remote.example>").s("250 2.1.0 OK")
        .c("RCPT TO:<nobody@test.example>").s("550 5.1.1 <nobody@test.example> User doesn't exist: nobody@test.example")
        .c("DATA").s("503 5.5.0 No valid recipients")
        .raw("Subject: x\r\n").s("500 5.5.2 Invalid command syntax")
        .raw(".\r\n").s("500 5.5.2 Invalid command syntax")
        .c("QUIT").s("221 2.0.0 Bye");
    v.push_back({"data_without_rcpt", s, true});
  }
  {
    Script s;
    s.s(kGreeting)
        .c("DATA x").s("501 5.5.4 Invalid parameters")
        .c("BDAT").s("501 5.5.4 Invalid chunk size parameter")
        .c("BDAT x").s("501 5.5.4 Invalid chunk size parameter")
        .c("BDAT 1 FIRST").s("501 5.5.4 Invalid end marker parameter").raw("B")
        .c("BDAT 3").raw("abc").s("503 5.5.0 Previous data chunk failed, issue RSET first")
        .c("VRFY").s("501 5.5.4 Invalid parameters")
        .c("VRFY \"alice smith\"").s("252 2.3.3 Try RCPT instead")
        .c("NOOP \"two words\"").s("250 2.0.0 OK")
        .c("noop").s("250 2.0.0 OK")
        .c("mail from:<a@b>").s("250 2.1.0 OK")
        .c("MAIL FROM:<a@b>x").s("503 5.5.0 MAIL already given")
        .c("RCPT TO:<alice@test.example>x").s("501 5.5.4 Invalid TO: Invalid character in path")
        .c("RCPT TO:<@relay.example:alice@test.example>").s("250 2.1.5 OK")
        .c("RCPT TO:<alice@test.example> =x").s("501 5.5.4 Invalid RCPT parameter: Unexpected character in parameter keyword")
        .c("RCPT TO:<a@b@c>").s("501 5.5.4 Invalid TO: Missing '>' at end of path")
        .raw("NOOP\n").s("250 2.0.0 OK")
        .raw("NOOP \x01\r\n").s("500 5.5.2 Invalid command syntax")
        .raw("NOOP \xff\r\n").s("500 5.5.2 Invalid command syntax")
        .raw("\r\n").s("500 5.5.1 Unknown command")
        .raw(" NOOP\r\n").s("500 5.5.1 Unknown command")
        .raw(" \r\n").s("500 5.5.1 Unknown command")
        .raw("\t\r\n").s("500 5.5.2 Invalid command syntax")
        .raw("NOOP\tx\r\n").s("500 5.5.2 Invalid command syntax");
    v.push_back({"odd_syntax", s});
  }
  {
    // Found by the differential test against a live Dovecot 2.3 (expected = Dovecot's reply).
    Script s;
    s.s(kGreeting)
        .c("MAIL FROM: <s@r.example>").s("501 5.5.4 Invalid FROM: Unexpected whitespace before path")
        .c("MAIL FROM:\t<s@r.example>").s("501 5.5.4 Invalid FROM: Unexpected whitespace before path")
        .c("MAIL  FROM:<s@r.example>").s("500 5.5.2 Invalid command syntax")
        .c("MAIL FROM:").s("501 5.5.4 Invalid FROM: Path is empty string")
        .c("MAIL FROM:<<s@r.example>>").s("501 5.5.4 Invalid FROM: Invalid character in path")
        .c("MAIL FROM:<a b@r.example>").s("501 5.5.4 Invalid FROM: Invalid character in localpart")
        .c("MAIL FROM:<\"ab@r.example>").s("501 5.5.4 Invalid FROM: Premature end of quoted string")
        .c("MAIL FROM:<s@r.example> BODY=").s("555 5.5.4 Unsupported mail BODY type")
        .c("MAIL FROM:<s@r.example> BODY").s("501 5.5.4 Missing BODY= parameter value")
        .c("NOOP").s("250 2.0.0 OK")  // Dovecot closes after 10 failures in a row
        .c("MAIL FROM:<s@r.example>  BODY=7BIT").s("501 5.5.4 Invalid MAIL parameter: Parameter is empty")
        .c("MAIL FROM:<s@r.example> BODY=7BIT  SIZE=1").s("501 5.5.4 Invalid MAIL parameter: Parameter is empty")
        .c("MAIL FROM:<s@r.example> B@DY=1").s("501 5.5.4 Invalid MAIL parameter: Unexpected character in parameter keyword")
        .c("MAIL FROM:<s@r.example> BODY=a=b").s("501 5.5.4 Invalid MAIL parameter: Unexpected character in parameter value")
        .c("MAIL FROM:<s@r.example>\tBODY=7BIT").s("501 5.5.4 Invalid FROM: Invalid character in path")
        .c("MAIL FROM:<s@r.example> FOO=").s("555 5.5.4 Unsupported parameters")
        .c("MAIL FROM:<s@r.example> BODY=7BIT\t").s("250 2.1.0 OK")
        .c("RSET").s("250 2.0.0 OK")
        .c("MAIL FROM:<sender@>").s("250 2.1.0 OK")  // broken: taken as <>
        .c("RCPT TO:").s("501 5.5.4 Invalid TO: Path is empty string")
        .c("RCPT TO: <alice@test.example>").s("501 5.5.4 Invalid TO: Unexpected whitespace before path")
        .c("RCPT TO:<alice@test.example.>").s("501 5.5.4 Invalid TO: Invalid character in domain")
        .c("RCPT TO:<alice@test..example>").s("501 5.5.4 Invalid TO: Empty sub-domain")
        .c("RCPT TO:<alice@>").s("501 5.5.4 Invalid TO: Missing domain after '@'")
        .c("RCPT TO:<<alice@test.example>>").s("501 5.5.4 Invalid TO: Invalid character in localpart")
        .c("RCPT TO:<\"alice+tab\there\"@test.example>").s("501 5.5.4 Invalid TO: Invalid character in quoted string")
        .c("RCPT TO:<alice@test.example> ORCPT=rfc822;").s("501 5.5.4 Invalid ORCPT= parameter: Empty address value")
        .c("RCPT TO:<alice@test.example> ORCPT").s("501 5.5.4 Missing ORCPT= parameter value")
        .c("NOOP").s("250 2.0.0 OK")  // Dovecot closes after 10 failures in a row
        .c("RCPT TO:<alice@test.example> ORCPT=").s("501 5.5.4 Invalid addr-type for ORCPT= parameter")
        .c("RCPT TO:<alice@test.example>  ORCPT=rfc822;x@y.example").s("501 5.5.4 Invalid RCPT parameter: Parameter is empty")
        .c("RCPT TO:<alice@test.example> ORCPT=rfc822;x@y.example\t").s("250 2.1.5 OK")
        .c("AUTH PLAIN").s("502 5.5.1 Unsupported command")
        .c("NOOP  ").s("250 2.0.0 OK")
        .c("NOOP x \t").s("250 2.0.0 OK")
        .c("NOOP  x").s("500 5.5.2 Invalid command syntax")
        .c("").s("500 5.5.1 Unknown command")
        .c(" ").s("500 5.5.1 Unknown command")
        // BDAT with a size but bad parameters: answered at once, then exactly <size> octets
        // are skipped as data, never run as commands; the transaction wants RSET.
        .c("BDAT 6 LAST extra").s("501 5.5.4 Invalid parameters").raw("RSET\r\n")
        .c("BDAT 5 LAST extra").s("501 5.5.4 Invalid parameters").raw("RSET\r\n")
        .s("500 5.5.1 Unknown command")  // the LF left over is an empty line
        .c("BDAT 4  LAST").s("501 5.5.4 Invalid parameters").raw("QUIT")
        .c("BDAT 4 LASTX").s("501 5.5.4 Invalid end marker parameter").raw("QUIT")
        .c("BDAT 0 x").s("501 5.5.4 Invalid end marker parameter")
        .c("BDAT 3").raw("abc").s("503 5.5.0 Previous data chunk failed, issue RSET first")
        .c("NOOP").s("250 2.0.0 OK")  // Dovecot closes after 10 failures in a row
        .c("BDAT x LAST").s("501 5.5.4 Invalid chunk size parameter")
        .c("BDAT 99999999999999999999 LAST").s("501 5.5.4 Invalid chunk size parameter")
        .c("RSET").s("250 2.0.0 OK")
        // Before MAIL: syntax first, then the octets skipped; the failed chunk is reported
        // before the missing MAIL.
        .c("BDAT 4 LAST x").s("501 5.5.4 Invalid parameters").raw("NOOP")
        .c("BDAT 4 LAST").raw("NOOP").s("503 5.5.0 Previous data chunk failed, issue RSET first")
        .c("RSET").s("250 2.0.0 OK")
        .c("MAIL FROM:<s@r.example>").s("250 2.1.0 OK")
        .c("BDAT 4 LAST").raw("QUIT").s("503 5.5.0 No valid recipients")
        .c("RSET").s("250 2.0.0 OK")
        .c("MAIL FROM:<s@r.example>").s("250 2.1.0 OK")
        .c("RCPT TO:<alice@test.example>").s("250 2.1.5 OK")
        .c("BDAT 5 LAST \t").raw("hello").s("250 2.0.0 <alice@test.example> SID:T4 Saved");
    v.push_back({"dovecot_differential", s});
  }
  return v;
}

void check(const Named& n, FakeHandler::Mode mode, Feed feed, size_t split = 0) {
  RunResult r(mode);
  run_script(r, n.script.input, feed, split);
  ASSERT_EQ(r.output, n.script.expected)
      << n.name << " mode=" << (mode == FakeHandler::Mode::kSync ? "sync" : "async")
      << " feed=" << static_cast<int>(feed) << " split=" << split;
  EXPECT_EQ(r.closed, n.closes) << n.name;
}

TEST(SessionTranscript, Whole) {
  for (const auto& n : scripts()) {
    check(n, FakeHandler::Mode::kSync, Feed::kWhole);
    check(n, FakeHandler::Mode::kAsync, Feed::kWhole);
  }
}

TEST(SessionTranscript, Bytewise) {
  for (const auto& n : scripts()) {
    check(n, FakeHandler::Mode::kSync, Feed::kBytewise);
    check(n, FakeHandler::Mode::kAsync, Feed::kBytewise);
  }
}

TEST(SessionTranscript, SplitAtEveryOffset) {
  for (const auto& n : scripts()) {
    if (n.script.input.size() > 20000) continue;  // the long-line script: whole and bytewise only
    for (size_t i = 0; i <= n.script.input.size(); ++i) {
      check(n, FakeHandler::Mode::kSync, Feed::kSplit, i);
      check(n, FakeHandler::Mode::kAsync, Feed::kSplit, i);
    }
  }
}

}  // namespace
}  // namespace dovetail::smtp::test
