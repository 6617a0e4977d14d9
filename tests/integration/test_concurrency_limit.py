"""lmtp_user_concurrency_limit across connections: a user's slot is taken at RCPT and held
until the transaction ends (DATA done, RSET, or the connection goes away); a second
connection's RCPT for the same user meanwhile gets
`451 4.3.0 <rcpt> Too many concurrent deliveries for user`. Other users are unaffected.
"""

from __future__ import annotations

import time
import unittest

import dovetail_testlib as tl

ALICE = "alice@test.example"
TOO_MANY = "451 4.3.0 <{}> Too many concurrent deliveries for user"
OK = ["250 2.1.5 OK"]


@tl.dovetail_only("the limit is counted across connections by one process")
class ConcurrencyLimitTest(tl.ServerTestCase):
    setup_config = tl.Setup(extra_settings=["lmtp_user_concurrency_limit = 1"], ipv6=False)

    def open_rcpt(self, rcpt=ALICE) -> tl.LmtpConn:
        """A connection with an open transaction holding rcpt (no DATA yet)."""
        c = self.connect()
        c.lhlo()
        self.assertEqual(c.cmd("MAIL FROM:<a@remote.example>"), ["250 2.1.0 OK"])
        self.assertEqual(c.cmd(f"RCPT TO:<{rcpt}>"), OK)
        return c

    def second(self) -> tl.LmtpConn:
        c = self.connect()
        c.lhlo()
        self.assertEqual(c.cmd("MAIL FROM:<b@remote.example>"), ["250 2.1.0 OK"])
        return c

    def rcpt_eventually_ok(self, c: tl.LmtpConn, rcpt=ALICE):
        # The slot is released when the other session processes its end of transaction;
        # by the time that session has its reply the release has happened, so one try suffices.
        self.assertEqual(c.cmd(f"RCPT TO:<{rcpt}>"), OK)

    def test_second_connection_refused_until_first_ends(self):
        ends = {
            "DATA": lambda a: self.assertTrue(a.data(tl.make_message("limit"), 1)[0].startswith("250 2.0.0")),
            "RSET": lambda a: self.assertEqual(a.cmd("RSET"), ["250 2.0.0 OK"]),
            "QUIT": lambda a: (a.cmd("QUIT"), a.closed_by_peer()),
        }
        for how, end in ends.items():
            with self.subTest(end=how):
                a = self.open_rcpt()
                b = self.second()
                self.assertEqual(b.cmd(f"RCPT TO:<{ALICE}>"), [TOO_MANY.format(ALICE)])
                # the same user behind a detail address is the same user
                self.assertEqual(b.cmd("RCPT TO:<alice+box@test.example>"),
                                 [TOO_MANY.format("alice+box@test.example")])
                # a different user is unaffected
                self.assertEqual(b.cmd("RCPT TO:<bob@test.example>"), OK)
                end(a)
                if how == "QUIT":
                    # a closed connection frees its slot once the server has seen the close
                    deadline = time.monotonic() + 5
                    while True:
                        r = b.cmd(f"RCPT TO:<{ALICE}>")
                        if r == OK or time.monotonic() > deadline:
                            break
                        time.sleep(0.05)
                    self.assertEqual(r, OK)
                else:
                    self.rcpt_eventually_ok(b)
                self.assertEqual(b.cmd("RSET"), ["250 2.0.0 OK"])
                b.cmd("QUIT")
                a.close()
                b.close()

    def test_repeated_rcpt_in_one_transaction_shares_the_slot(self):
        a = self.open_rcpt()
        self.assertEqual(a.cmd(f"RCPT TO:<{ALICE}>"), OK)
        b = self.second()
        self.assertEqual(b.cmd(f"RCPT TO:<{ALICE}>"), [TOO_MANY.format(ALICE)])
        self.assertEqual(a.cmd("RSET"), ["250 2.0.0 OK"])
        self.assertEqual(b.cmd(f"RCPT TO:<{ALICE}>"), OK)
        self.assertEqual(b.cmd("RSET"), ["250 2.0.0 OK"])  # the next test starts with a free slot

    def test_refused_rcpt_does_not_disturb_the_holder(self):
        a = self.open_rcpt()
        b = self.second()
        self.assertEqual(b.cmd(f"RCPT TO:<{ALICE}>"), [TOO_MANY.format(ALICE)])
        self.assertEqual(b.cmd("QUIT")[0][:3], "221")
        before = len(tl.list_mail(self.server.maildir(ALICE)))
        lines = a.data(tl.make_message("holder"), 1)
        self.assertTrue(lines[0].startswith(f"250 2.0.0 <{ALICE}> "), lines)
        self.assertEqual(len(tl.list_mail(self.server.maildir(ALICE))), before + 1)


if __name__ == "__main__":
    unittest.main()
