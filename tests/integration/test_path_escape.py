"""A recipient whose name is a path (`"../../x"@domain`, `a/b@domain`) can never make
Dovetail create anything outside the mail root, even behind a userdb that accepts every
user (static allow_all_users) — over LMTP in every privilege mode and through the LDA."""

from __future__ import annotations

import os
import subprocess
import unittest
import uuid
from pathlib import Path

from dovetail_testlib import LmtpConn, Setup, Workdir, dovetail_bin, DovetailServer

STATIC_USERDB = ["userdb {", "  driver = static", "  args = uid=vmail gid=vmail allow_all_users=yes", "}"]


def tree(root: Path) -> set[str]:
    return {str(p) for p in root.rglob("*")}


class PathEscape(unittest.TestCase):
    def run_mode(self, service_lines):
        token = "dovetail-evil-" + uuid.uuid4().hex[:8]
        escape = Path("/tmp") / token
        server = DovetailServer(Setup(ipv6=False, extra_settings=STATIC_USERDB,
                                      extra_lmtp_service=service_lines))
        try:
            ep = server.start()
            before = tree(server.mail_root)
            conn = LmtpConn(ep.tcp)
            conn.lhlo()
            self.assertTrue(conn.cmd("MAIL FROM:<s@remote.example>")[0].startswith("250"))
            rcpts = [f'"../../../../../../../../tmp/{token}"@test.example',
                     f'"a/{token}"@test.example', f'"..@{token}"@test.example']
            for r in rcpts:
                reply = conn.cmd(f"RCPT TO:<{r}>")[0]
                self.assertTrue(reply.startswith("550 5.1.1"), (r, reply))
            # A normal address through the same static userdb still works.
            self.assertTrue(conn.cmd("RCPT TO:<someone@test.example>")[0].startswith("250"))
            replies = conn.data(b"Subject: x\r\n\r\nbody\r\n", 1)
            self.assertTrue(replies[0].startswith("250 2.0.0"), replies)
            conn.close()
            self.assertFalse(escape.exists(), escape)
            new = tree(server.mail_root) - before
            self.assertTrue(all(token not in p for p in new), new)
        finally:
            server.cleanup()

    def test_single_uid_mode(self):
        self.run_mode(["user = vmail"])

    def test_writer_mode(self):
        self.run_mode([])

    def test_lda(self):
        token = "dovetail-evil-" + uuid.uuid4().hex[:8]
        work = Workdir(prefix="dovetail-escape-")
        try:
            conf = work.write(Setup(extra_settings=STATIC_USERDB), port=0)
            r = subprocess.run([dovetail_bin(), "deliver", "-c", str(conf), "-d",
                                f"../../../../../../../../tmp/{token}@test.example"],
                               input=b"Subject: x\n\nbody\n", capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 67, r.stderr)
            self.assertFalse((Path("/tmp") / token).exists())
        finally:
            work.cleanup()


if __name__ == "__main__":
    unittest.main()
