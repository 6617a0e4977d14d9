"""swaks (an independent LMTP client) delivers one message over TCP and one over the UNIX
socket; the reply lines swaks shows and the stored files are checked."""

import re
import shutil
import subprocess
import unittest
import uuid

from dovetail_testlib import HOSTNAME, ServerTestCase, list_mail, requires

SWAKS = shutil.which("swaks")


@requires(SWAKS, "swaks not installed")
class Swaks(ServerTestCase):

    def swaks(self, *target, rcpt="alice@test.example"):
        tok = "swaks-" + uuid.uuid4().hex
        r = subprocess.run([SWAKS, "--protocol", "LMTP", *target, "--helo", "client.test.example",
                            "--from", "sender@remote.example", "--to", rcpt,
                            "--header", f"Subject: {tok}", "--body", f"body {tok}",
                            "--timeout", "30"],
                           capture_output=True, text=True, timeout=120)
        return tok, r

    def check(self, tok, r, peer_part):
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        out = r.stdout
        self.assertRegex(out, rf"<- +220 {re.escape(HOSTNAME)}( |$)", out)
        self.assertRegex(out, rf"<- +250-{re.escape(HOSTNAME)}\n", out)
        self.assertIn("<-  250 2.1.0 OK", out)
        self.assertIn("<-  250 2.1.5 OK", out)
        self.assertIn("<-  354 OK", out)
        m = re.search(r"<-  250 2\.0\.0 <alice@test\.example> (\S+) Saved", out)
        self.assertIsNotNone(m, out)
        self.assertIn("<-  221 2.0.0 Bye", out)
        files = [f for f in list_mail(self.server.maildir("alice@test.example"))
                 if f"Subject: {tok}\n".encode() in f.data]
        self.assertEqual(len(files), 1)
        text = files[0].data.decode()
        self.assertIn(f"Received: from client.test.example{peer_part}\n\tby {HOSTNAME} with LMTP"
                      f"\n\tid {m.group(1)}\n", text)
        self.assertIn(f"\nbody {tok}\n", text)

    def test_swaks_tcp(self):
        host, port = self.ep.tcp
        tok, r = self.swaks("--server", host, "--port", str(port))
        self.check(tok, r, " ([127.0.0.1])")

    def test_swaks_unix_socket(self):
        if self.ep.unix is None:
            self.skipTest("no unix listener")
        tok, r = self.swaks("--socket", self.ep.unix)
        self.check(tok, r, "")


if __name__ == "__main__":
    unittest.main()
