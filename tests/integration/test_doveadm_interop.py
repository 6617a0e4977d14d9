"""Interop proof (issue 4): mail that the server under test delivered over LMTP is read by
Dovecot itself. `doveadm -c <minimal conf> -o mail_location=maildir:<user's Maildir>` must
see every message, folder and subscription, with sizes that match the files, and the bytes.

Runs against Dovetail (default) or, with DOVETAIL_ORACLE=dovecot, against Dovecot — which
proves the test. The unit-level twin is tests/unit/storage/doveadm_interop_test.cpp (writer
API straight to doveadm). Needs root (the mail uid is `vmail`) and doveadm."""

from __future__ import annotations

import os
import shutil
import subprocess
import unittest

from dovetail_testlib import DOMAIN, ServerTestCase, Setup, ensure_mail_user, requires

DOVEADM = shutil.which("doveadm") or ("/usr/bin/doveadm" if os.access("/usr/bin/doveadm", os.X_OK) else None)


def why_not_runnable():
    if os.geteuid() != 0:
        return "needs root (mail is written as the vmail user)"
    if not DOVEADM:
        return "doveadm not installed"
    return None


def message(subject: str, body: str) -> bytes:
    return (f"From: <sender@remote.example>\r\nTo: <alice@{DOMAIN}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}@remote.example>\r\n\r\n{body}").encode()


@requires(not why_not_runnable(), why_not_runnable())
class DoveadmReadsDeliveredMail(ServerTestCase):
    setup_config = Setup(ipv6=False, unix=False)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.uid, cls.gid = ensure_mail_user()
        cls.conf = cls.server.work.path / "doveadm.conf"
        cls.conf.write_text("ssl = no\nlog_path = /dev/stderr\n")

    def deliver(self, rcpts: list[str], msg: bytes):
        c = self.connect()
        self.assertTrue(c.lhlo()[-1].startswith("250"))
        self.assertTrue(c.cmd("MAIL FROM:<sender@remote.example>")[0].startswith("250"))
        for r in rcpts:
            self.assertTrue(c.cmd(f"RCPT TO:<{r}>")[0].startswith("250"), r)
        replies = c.data(msg, len(rcpts))
        for line in replies:
            self.assertTrue(line.startswith("250 2.0.0"), replies)

    def doveadm(self, user: str, *args: str) -> str:
        maildir = self.server.maildir(user)
        cmd = [DOVEADM, "-c", str(self.conf), "-o", f"mail_location=maildir:{maildir}",
               "-o", f"mail_uid={self.uid}", "-o", f"mail_gid={self.gid}", *args]
        env = dict(os.environ, HOME=str(maildir.parent), USER=user)
        p = subprocess.run(cmd, capture_output=True, env=env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        return p.stdout.decode("utf-8")

    def files(self, user: str) -> dict[str, bytes]:
        """Subject -> file bytes for every message file of the user (new/ and cur/)."""
        out = {}
        for dirpath, _, names in os.walk(self.server.maildir(user)):
            if os.path.basename(dirpath) not in ("new", "cur"):
                continue
            for n in names:
                with open(os.path.join(dirpath, n), "rb") as f:
                    data = f.read()
                for line in data.split(b"\n"):
                    if line.startswith(b"Subject: "):
                        out[line[9:].decode()] = data
                        break
        return out

    def test_doveadm_sees_everything(self):
        alice, bob = f"alice@{DOMAIN}", f"bob@{DOMAIN}"
        self.deliver([alice], message("inbox-1", "Hello.\r\n"))
        self.deliver([f"alice+Lists@{DOMAIN}"], message("lists-1", "a list mail\r\n"))
        self.deliver([f"alice+Dots.in.name@{DOMAIN}"], message("dots-1", "dots\r\n"))
        self.deliver([f"alice+&AOQ-@{DOMAIN}"], message("amp-1", "ampersand\r\n"))
        self.deliver([f"alice+..@{DOMAIN}"], message("hostile-1", "to INBOX\r\n"))
        big = "".join(f"line {i} of a big message, long enough to leave memory\r\n" for i in range(40000))
        self.deliver([alice], message("big-1", big))
        self.deliver([alice, bob], message("two-1", "for two\r\n"))

        boxes = set(self.doveadm(alice, "-f", "tab", "mailbox", "list").split("\n")[1:]) - {""}
        self.assertEqual(boxes, {"INBOX", "Lists", "Dots", "Dots.in", "Dots.in.name", "&AOQ-"})
        subs = set(self.doveadm(alice, "-f", "tab", "mailbox", "list", "-s").split("\n")[1:]) - {""}
        self.assertEqual(subs, {"Lists", "Dots.in.name", "&AOQ-"})

        files = self.files(alice)
        rows = self.doveadm(alice, "-f", "tab", "fetch", "mailbox size.physical size.virtual hdr.subject",
                            "all").split("\n")[1:]
        got = sorted(tuple(r.split("\t")) for r in rows if r)
        want = []
        where = {"inbox-1": "INBOX", "lists-1": "Lists", "dots-1": "Dots.in.name", "amp-1": "&AOQ-",
                 "hostile-1": "INBOX", "big-1": "INBOX", "two-1": "INBOX"}
        for subject, data in files.items():
            bare_lf = data.count(b"\n") - data.count(b"\r\n")
            want.append((where[subject], str(len(data)), str(len(data) + bare_lf), subject))
        self.assertEqual(got, sorted(want))
        self.assertEqual(set(files), set(where))

        hits = [l for l in self.doveadm(alice, "search", "mailbox", "Lists", "all").split("\n") if l]
        self.assertEqual(len(hits), 1)
        text = self.doveadm(alice, "-f", "tab", "fetch", "text", "mailbox", "Lists", "all")
        self.assertEqual(text.encode(), b"text\n" + files["lists-1"] + b"\n")

        # The two-recipient copy is one inode (hard link) that bob's Dovecot reads too.
        bob_rows = self.doveadm(bob, "-f", "tab", "fetch", "mailbox hdr.subject", "all").split("\n")[1:]
        self.assertIn("INBOX\ttwo-1", bob_rows)
        ino = set()
        for user in (alice, bob):
            for dirpath, _, names in os.walk(self.server.maildir(user)):
                for n in names:
                    p = os.path.join(dirpath, n)
                    if os.path.basename(dirpath) not in ("new", "cur"):
                        continue
                    with open(p, "rb") as f:
                        if b"Subject: two-1" in f.read():
                            ino.add(os.stat(p).st_ino)
        self.assertEqual(len(ino), 1)


if __name__ == "__main__":
    unittest.main()
