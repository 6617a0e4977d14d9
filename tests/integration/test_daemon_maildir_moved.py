"""A Maildir removed or renamed under the running daemon (decision 0014: each INBOX's new/
is kept open for up to a second). Removed: the very next message makes the Maildir anew
and lands there. Renamed: after that second, messages land at the configured path again,
never in the renamed directory. Client: Python's smtplib.LMTP over TCP."""

from __future__ import annotations

import shutil
import smtplib
import time

import daemon_helpers as dh
import dovetail_testlib as tl


class MaildirMoved(dh.DaemonTestCase):
    def setUp(self):
        self.server = self.start_server()
        self.maildir = self.server.maildir("alice@test.example")

    def send(self, subject: str):
        client = smtplib.LMTP(*self.server.endpoints.tcp)
        try:
            code, _ = client.ehlo(tl.LHLO_NAME)
            self.assertEqual(code, 250)
            msg = dh.MESSAGE.replace(b"Subject: daemon test", b"Subject: " + subject.encode())
            self.assertEqual(client.sendmail("sender@remote.example", ["alice@test.example"], msg), {})
        finally:
            client.quit()

    def subjects(self, maildir) -> list[str]:
        new = maildir / "new"
        out = []
        for f in sorted(new.iterdir()) if new.is_dir() else []:
            for line in f.read_bytes().split(b"\n"):
                if line.startswith(b"Subject: "):
                    out.append(line[9:].decode())
        return sorted(out)

    def test_removed_maildir_gets_the_next_message_at_once(self):
        self.send("one")
        self.send("two")  # the second delivery keeps new/ open
        shutil.rmtree(self.maildir)
        self.send("three")  # within the second: the kept new/ is dead, the path is walked
        self.assertEqual(self.subjects(self.maildir), ["three"], self.server.logs())
        for sub in ("cur", "new", "tmp"):
            self.assertTrue((self.maildir / sub).is_dir(), sub)

    def test_renamed_maildir_receives_nothing_after_a_second(self):
        self.send("one")
        self.send("two")
        moved = self.maildir.with_name("Maildir.old")
        self.maildir.rename(moved)
        time.sleep(1.2)  # RecentDirs::kLifetime, and a margin
        self.send("three")
        self.assertEqual(self.subjects(self.maildir), ["three"], self.server.logs())
        self.assertEqual(self.subjects(moved), ["one", "two"])


if __name__ == "__main__":
    import unittest
    unittest.main()
