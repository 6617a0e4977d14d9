"""Large bodies spill to a temp file in mail_temp_dir. When that directory is writable only by
root or the mail user (as Dovecot setups often have it), the unprivileged network process gets
a private 0700 subdirectory and big messages are still delivered, in every privilege mode."""

from __future__ import annotations

import os
import pwd
import smtplib
import tempfile
import unittest
from pathlib import Path

from dovetail_testlib import DovetailServer, Setup, ensure_mail_user

BIG = b"Subject: big\r\n\r\n" + (b"x" * 100 + b"\r\n") * 10000  # ~1 MiB, past the 256 KiB spool


class SpoolDir(unittest.TestCase):
    def run_mode(self, service_lines, network_user):
        uid, gid = ensure_mail_user()
        tmp = Path(tempfile.mkdtemp(prefix="dovetail-spool-"))
        os.chmod(tmp, 0o755)
        spool = tmp / "vtmp"
        spool.mkdir()
        os.chown(spool, uid, gid)
        os.chmod(spool, 0o755)  # only the mail user may create files here
        server = DovetailServer(Setup(ipv6=False, extra_settings=[f"mail_temp_dir = {spool}"],
                                      extra_lmtp_service=service_lines))
        try:
            ep = server.start()
            lmtp = smtplib.LMTP(*ep.tcp)
            lmtp.ehlo("client.test.example")
            self.assertEqual(lmtp.sendmail("s@remote.example", ["alice@test.example"], BIG), {})
            lmtp.quit()
            files = list((server.maildir("alice@test.example") / "new").glob("*"))
            self.assertEqual(len(files), 1)
            self.assertGreater(files[0].stat().st_size, 1_000_000)
            private = spool / f"dovetail-spool.{network_user}"
            if network_user != pwd.getpwuid(uid).pw_name:
                st = private.stat()
                self.assertEqual(st.st_mode & 0o777, 0o700)
                self.assertEqual(pwd.getpwuid(st.st_uid).pw_name, network_user)
                self.assertEqual(list(private.iterdir()), [])  # unlinked spool files only
            else:
                self.assertFalse(private.exists())
        finally:
            server.cleanup()
            for p in sorted(tmp.rglob("*"), reverse=True):
                p.rmdir() if p.is_dir() else p.unlink()
            tmp.rmdir()

    def test_writer_mode_gets_a_private_spool_dir(self):
        self.run_mode([], "dovecot")

    def test_single_uid_mode_uses_mail_temp_dir(self):
        self.run_mode(["user = vmail"], "vmail")


if __name__ == "__main__":
    unittest.main()
