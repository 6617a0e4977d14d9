"""End to end through the real daemon over TCP (IPv4 and IPv6) and the UNIX socket, with two
independent clients: Python's smtplib.LMTP and swaks. Each delivery must land in new/."""

from __future__ import annotations

import shutil
import smtplib
import subprocess
import unittest

import daemon_helpers as dh
import dovetail_testlib as tl


class EndToEnd(dh.DaemonTestCase):
    def setUp(self):
        self.server = self.start_server()
        self.ep = self.server.endpoints

    def endpoints(self):
        out = [("tcp4", self.ep.tcp), ("unix", self.ep.unix)]
        if self.ep.tcp6:
            out.append(("tcp6", self.ep.tcp6))
        elif tl.ci_strict():
            self.fail("missing prerequisite (CI=true): no IPv6 on this host, ::1 not tested")
        else:
            print("note: no IPv6 on this host; ::1 not tested")
        return out

    def test_smtplib_lmtp_each_transport(self):
        for name, ep in self.endpoints():
            with self.subTest(transport=name):
                before = set(dh.delivered(self.server))
                if isinstance(ep, str):
                    client = smtplib.LMTP(ep)
                else:
                    client = smtplib.LMTP(ep[0], ep[1])
                try:
                    code, _ = client.ehlo(tl.LHLO_NAME)  # smtplib.LMTP sends LHLO here
                    self.assertEqual(code, 250)
                    refused = client.sendmail("sender@remote.example", ["alice@test.example"],
                                              dh.MESSAGE)
                    self.assertEqual(refused, {})
                finally:
                    client.quit()
                # The new file by set difference, not by sorting: Maildir names carry the
                # microseconds unpadded (M99999 sorts after M139193), as Dovecot's do.
                added = set(dh.delivered(self.server)) - before
                self.assertEqual(len(added), 1, self.server.logs())
                body = added.pop().read_bytes()
                self.assertIn(b"Subject: daemon test\n", body)
                if name == "unix":
                    self.assertIn(b"Received: from client.test.example\n", body)
                elif name == "tcp6":
                    self.assertIn(b"([::1])", body)
                else:
                    self.assertIn(b"([127.0.0.1])", body)

    def test_swaks_each_transport(self):
        swaks = shutil.which("swaks")
        if not swaks:
            raise tl.missing_prerequisite("swaks not installed")
        for name, ep in self.endpoints():
            with self.subTest(transport=name):
                before = len(dh.delivered(self.server, "bob@test.example"))
                where = ["--socket", ep] if isinstance(ep, str) else ["--server", ep[0], "--port", str(ep[1])]
                if name == "tcp6":
                    where.append("-6")
                r = subprocess.run([swaks, "--protocol", "LMTP", *where, "--helo", tl.LHLO_NAME,
                                    "--from", "sender@remote.example", "--to", "bob@test.example",
                                    "--header", "Subject: swaks test", "--timeout", "20"],
                                   capture_output=True, text=True, timeout=60)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertRegex(r.stdout, r"<- +250 2\.0\.0 <bob@test\.example> " + tl.SID_RE + " Saved")
                self.assertEqual(len(dh.delivered(self.server, "bob@test.example")), before + 1)

    def test_unknown_user_over_each_transport(self):
        for name, ep in self.endpoints():
            with self.subTest(transport=name):
                c = tl.LmtpConn(ep)
                self.addCleanup(c.close)
                c.cmd("MAIL FROM:<sender@remote.example>")
                self.assertEqual(c.cmd("RCPT TO:<nobody@test.example>"),
                                 ["550 5.1.1 <nobody@test.example> User doesn't exist: nobody@test.example"])


if __name__ == "__main__":
    unittest.main()
