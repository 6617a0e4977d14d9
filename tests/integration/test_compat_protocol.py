"""COMPAT.md protocol transcripts replayed against the real server over TCP (and where the
quick reference says "identical", over IPv6 and the UNIX socket too).

Each transcript is a list of (client line, expected reply lines). Expected lines are exact
except for `<SID>`/`<ID>` placeholders and a trailing ` …` (free text after that prefix).
Where COMPAT.md says Dovetail deliberately differs (SIZE/DSN/SMTPUTF8 advertised, only
CRLF.CRLF ends DATA), `pick(dovecot, dovetail)` chooses the expectation.
"""

import os
import time
import unittest

from dovetail_testlib import (HOSTNAME, LHLO, LmtpConn, ServerTestCase, Setup, advertises,
                              check_lhlo, is_dovetail, pick, run_script)

S = "MAIL FROM:<sender@remote.example>"
OK_MAIL = ["250 2.1.0 OK"]
OK_RCPT = ["250 2.1.5 OK"]
OK = ["250 2.0.0 OK"]
UNKNOWN = ["500 5.5.1 Unknown command"]
UNSUPPORTED = ["555 5.5.4 Unsupported parameters"]
NOBODY = "550 5.1.1 <nobody@test.example> User doesn't exist: nobody@test.example"


def only(cond, *steps):
    return list(steps) if cond else []


GREETING_AND_UNSUPPORTED = [
    ("LHLO client.test.example", LHLO),
    ("LHLO", ["501 Missing hostname"]),
    ("HELO client.test.example", UNKNOWN),
    ("EHLO client.test.example", UNKNOWN),
    ("VRFY alice", ["252 2.3.3 Try RCPT instead"]),
    ("HELP", UNKNOWN),
    ("FOO", UNKNOWN),
    ("BOGUS1", ["500 5.5.2 Invalid command syntax"]),
    ("STARTTLS", ["502 5.5.1 TLS support is not enabled."]),
    ("XCLIENT ADDR=192.0.2.1", ["550 5.7.14 You are not from trusted IP"]),
    ("NOOP", OK),
    ("NOOP argument", OK),
    ("NOOP two words", ["501 5.5.4 Invalid string parameter: Invalid character in string"]),
    ("RSET", OK),
    ("RSET extra", ["501 5.5.4 Invalid parameters"]),
    ("QUIT now", ["501 5.5.4 Invalid parameters"]),
    ("QUIT", ["221 2.0.0 Bye"]),
]

SEQUENCING = [
    ("LHLO client.test.example", LHLO),
    ("RCPT TO:<alice@test.example>", ["503 5.5.0 MAIL needed first"]),
    ("DATA", ["503 5.5.0 MAIL needed first"]),
    (S, OK_MAIL),
    ("DATA", ["503 5.5.0 No valid recipients"]),
    (S, ["503 5.5.0 MAIL already given"]),
    ("RCPT TO:<nobody@test.example>", [NOBODY]),
    ("DATA", ["503 5.5.0 No valid recipients"]),
    ("RSET", OK),
    (S, OK_MAIL),
    ("BDAT 0 LAST", ["503 5.5.0 No valid recipients"]),
    ("RSET", OK),
    (S, OK_MAIL),
    ("RCPT TO:<alice@test.example>", OK_RCPT),
    ("LHLO again.example", LHLO),
    ("RCPT TO:<alice@test.example>", ["503 5.5.0 MAIL needed first"]),
    ("QUIT", ["221 2.0.0 Bye"]),
]

BDAT_BEFORE_MAIL = [
    ("LHLO x", LHLO),
    ("BDAT 0 LAST", ["503 5.5.0 MAIL needed first"]),
    ("QUIT", ["221 2.0.0 Bye"]),
]

MAIL_WITHOUT_LHLO = [
    (S, OK_MAIL),
    ("QUIT", ["221 2.0.0 Bye"]),
]


def mail_rcpt_syntax():
    return [
        *only(not is_dovetail(), (S + " SIZE=100", UNSUPPORTED)),
        (S + " FOO=BAR", UNSUPPORTED),
        (S + " BODY=BINARYMIME", None),  # checked against LHLO below
        ("MAIL FROM:sender@remote.example",
         ["501 5.5.4 Invalid FROM: Missing '<' at beginning of path"]),
        ("MAIL FROM sender@remote.example", ["501 5.5.4 Invalid parameters"]),
        ("MAIL", ["501 5.5.4 Invalid parameters"]),
        (S + " BODY=7BIT", OK_MAIL),
        ("RSET", OK),
        ("MAIL FROM:<>", OK_MAIL),
        ("RSET", OK),
        (S + " BODY=8BITMIME", OK_MAIL),
        (S, ["503 5.5.0 MAIL already given"]),
        ("RCPT TO:alice@test.example", ["501 5.5.4 Invalid TO: Missing '<' at beginning of path"]),
        ("RCPT TO:<>", ["501 5.5.4 Invalid TO: Null path not allowed"]),
        ("RCPT TO:<alice@test.example> NOTIFY=NEVER", pick(UNSUPPORTED, OK_RCPT)),
        ("RCPT TO:<alice@test.example> ORCPT=rfc822;orig@remote.example", OK_RCPT),
        ("RCPT TO:<nobody@test.example>", [NOBODY]),
        ("RCPT TO:<nobody+x@test.example>",
         ["550 5.1.1 <nobody+x@test.example> User doesn't exist: nobody@test.example"]),
        ("RCPT TO:<alice>", ["550 5.1.1 <alice> User doesn't exist: alice"]),
        ("RCPT TO:<alice@other.example>",
         ["550 5.1.1 <alice@other.example> User doesn't exist: alice@other.example"]),
        ("RCPT TO:<ALICE@test.example>", OK_RCPT),
        ("RCPT TO:<alice@TEST.EXAMPLE>", OK_RCPT),
        ('RCPT TO:<"alice"@test.example>', OK_RCPT),
        ("RCPT TO:<alice@[127.0.0.1]>",
         ["550 5.1.1 <alice@[127.0.0.1]> User doesn't exist: alice@[127.0.0.1]"]),
        ("RCPT TO:<aläce@test.example>",
         pick(["501 5.5.4 Invalid TO: Missing '>' at end of path"], ["553 5.6.7 …"])),
        ("RCPT TO:<alice+foo bar@test.example>",
         ["501 5.5.4 Invalid TO: Missing '>' at end of path"]),
        ("RCPT TO:<alice+../../evil@test.example>", OK_RCPT),
        ("RSET", OK),
    ]


def long_lines():
    return [
        ("NOOP " + "x" * 4096, OK),
        ("NOOP " + "x" * 4097, ["500 5.5.2 Line too long"]),
        ("MAIL FROM:<" + "x" * 5000 + "@remote.example>", ["500 5.5.2 Line too long"]),
        ("NOOP " + "y" * (1 << 20), ["500 5.5.2 Line too long"]),
        ("NOOP", OK),
    ]


TOO_MANY_INVALID = [("FOO", UNKNOWN)] * 10 + [
    ("FOO", [f"421 4.7.0 {HOSTNAME} Too many invalid commands."])]

BDAT_CHUNK = b"Subject: bdat\r\n\r\nbdat body\r\n"  # 28 octets
assert len(BDAT_CHUNK) == 28

BDAT = [
    (S, OK_MAIL),
    ("RCPT TO:<alice@test.example>", OK_RCPT),
    ("RCPT TO:<bob@test.example>", OK_RCPT),
    (b"BDAT 28\r\n" + BDAT_CHUNK, ["250 2.0.0 Added 28 octets"]),
    ("BDAT 0 LAST", ["250 2.0.0 <alice@test.example> <SID> Saved",
                     "250 2.0.0 <bob@test.example> <SID>:R2 Saved"]),
    (S, OK_MAIL),
    ("RCPT TO:<alice@test.example>", OK_RCPT),
    (b"BDAT 28\r\n" + BDAT_CHUNK, ["250 2.0.0 Added 28 octets"]),
    ("DATA", ["503 5.5.0 Bad sequence of commands"]),
    ("RSET", OK),
]


class ProtocolTranscripts(ServerTestCase):

    def test_greeting_lhlo_and_unsupported_commands(self):
        c = self.connect()
        self.assertRegex(c.greeting, rf"^220 {HOSTNAME}( |$)")
        if not is_dovetail():
            self.assertEqual(c.greeting, f"220 {HOSTNAME} Dovecot (Debian) ready.")
        run_script(self, c, GREETING_AND_UNSUPPORTED, "greeting/unsupported")
        self.assertTrue(c.closed_by_peer(), "server must close after QUIT")

    def test_lhlo_identical_on_every_endpoint(self):
        replies = {}
        for where in ("tcp", "tcp6", "unix"):
            if getattr(self.ep, where) is None:
                continue
            with self.subTest(endpoint=where):
                c = self.connect(where)
                self.assertRegex(c.greeting, rf"^220 {HOSTNAME}( |$)")
                replies[where] = c.lhlo()
                check_lhlo(self, replies[where], where)
        self.assertEqual(len(set(map(tuple, replies.values()))), 1, replies)

    def test_command_sequencing(self):
        run_script(self, self.connect(), SEQUENCING, "sequencing")

    def test_bdat_before_mail(self):
        run_script(self, self.connect(), BDAT_BEFORE_MAIL, "BDAT before MAIL")

    def test_rejected_bdat_still_consumes_its_chunk(self):
        """A pipelining client sends the chunk right behind the BDAT line, so a rejected BDAT
        whose size parsed must still swallow its octets (as Dovecot does): chunk bytes must
        never be executed as commands (RFC 3030 section 2)."""
        VRFY = ("VRFY x", ["252 2.3.3 Try RCPT instead"])
        for title, head, bdat, exp in [
            ("before MAIL", [], b"BDAT 6\r\nRSET\r\n", "503 5.5.0 MAIL needed first"),
            ("bad end parameter", [(S, OK_MAIL), ("RCPT TO:<alice@test.example>", OK_RCPT)],
             b"BDAT 6 LAST extra\r\nRSET\r\n", "501 5.5.4 …"),  # text: differential
        ]:
            with self.subTest(title):
                c = self.connect()
                run_script(self, c, head + [(bdat, [exp]), VRFY], title)

    def test_mail_without_lhlo(self):
        run_script(self, self.connect(), MAIL_WITHOUT_LHLO, "no LHLO")

    def test_mail_and_rcpt_syntax(self):
        c = self.connect()
        lhlo = c.lhlo()
        steps = mail_rcpt_syntax()
        binarymime = advertises(lhlo, "BINARYMIME")
        for i, (line, exp) in enumerate(steps):
            if exp is None:
                steps[i] = (line, OK_MAIL if binarymime
                            else ["555 5.5.4 Unsupported mail BODY type"])
                if binarymime:
                    steps.insert(i + 1, ("RSET", OK))
                break
        run_script(self, c, steps, "MAIL/RCPT syntax")

    def test_line_length_limits(self):
        run_script(self, self.connect(), long_lines(), "line length")

    def test_eleventh_invalid_command_closes(self):
        c = self.connect()
        run_script(self, c, TOO_MANY_INVALID, "invalid commands")
        self.assertTrue(c.closed_by_peer(), "server must close after 421")

    def test_bdat(self):
        self.clear_mail()
        ids = run_script(self, self.connect(), BDAT, "BDAT")
        self.assertEqual(ids[0], ids[1], "both recipients share the session id")

    def test_pipelining_everything_in_one_write(self):
        c = self.connect()
        msg = b"Subject: pipe\r\n\r\npipelined\r\n.\r\n"
        c.send(b"LHLO client.test.example\r\n" + S.encode() + b"\r\n"
               b"RCPT TO:<alice@test.example>\r\nRCPT TO:<nobody@test.example>\r\n"
               b"RCPT TO:<bob@test.example>\r\nDATA\r\n" + msg + b"NOOP\r\nQUIT\r\n")
        check_lhlo(self, c.read_reply(), "pipelined")
        run_script(self, c, [(None, OK_MAIL), (None, OK_RCPT), (None, [NOBODY]),
                             (None, OK_RCPT), (None, ["354 OK"]),
                             (None, ["250 2.0.0 <alice@test.example> <SID> Saved",
                                     "250 2.0.0 <bob@test.example> <SID>:R3 Saved"]),
                             (None, OK), (None, ["221 2.0.0 Bye"])], "pipelined")
        self.assertTrue(c.closed_by_peer())

    def test_lf_dot_lf(self):
        """COMPAT 11: Dovecot ends DATA at <LF>.<LF>; Dovetail only at <CRLF>.<CRLF>."""
        c = self.connect()
        run_script(self, c, [(S, OK_MAIL), ("RCPT TO:<alice@test.example>", OK_RCPT),
                             ("DATA", ["354 OK"])], "LF.LF")
        c.send(b"Subject: lfdot\r\n\r\nbody\n.\nmore\r\n.\r\n")
        expected = ["250 2.0.0 <alice@test.example> <SID> Saved"]
        if not is_dovetail():
            expected += ["500 5.5.1 Unknown command", "500 5.5.2 Invalid command syntax"]
        run_script(self, c, [(None, expected), ("NOOP", OK)], "LF.LF")


class DefaultUnixListener(ServerTestCase):
    """No unix_listener configured: `protocols = lmtp` still listens on $base_dir/lmtp."""
    setup_config = Setup(unix=False)

    def test_default_base_dir_lmtp_socket(self):
        path = str(self.server.work.base_dir / "lmtp")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not os.path.exists(path):
            time.sleep(0.1)
        c = LmtpConn(path)
        self.addCleanup(c.close)
        self.assertRegex(c.greeting, rf"^220 {HOSTNAME}( |$)")
        check_lhlo(self, c.lhlo(), "default unix socket")


if __name__ == "__main__":
    unittest.main()
