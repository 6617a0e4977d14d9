"""SQL user lookups through the real daemon: `passdb/userdb { driver = sql }` with a
dovecot-sql.conf.ext naming a SQLite database, driven by Python's smtplib.LMTP.

Known user → 250 and a file in new/; unknown user → 550 5.1.1; database file missing →
451 4.3.0 (a lookup that cannot be answered is never a 5xx).
"""

from __future__ import annotations

import os
import smtplib
import sqlite3
import unittest

from dovetail_testlib import (DOMAIN, LHLO_NAME, DovetailServer, Setup, Workdir,
                              dovetail_only, ensure_mail_user, missing_prerequisite)

MESSAGE = (b"From: <sender@remote.example>\r\nTo: <alice@test.example>\r\n"
           b"Subject: sql userdb\r\nMessage-ID: <sql-1@remote.example>\r\n\r\nHello.\r\n")


class SqlWorkdir(Workdir):
    """The shared end-to-end config with its passwd-file dbs replaced by one sql db."""

    def __init__(self, db_exists: bool):
        super().__init__(prefix="dovetail-sql-")
        self.db_exists = db_exists
        self.db = self.path / "users.db"
        self.sql_conf = self.path / "dovecot-sql.conf.ext"

    def write(self, setup, port):
        conf = super().write(setup, port)
        uid, gid = ensure_mail_user()
        if self.db_exists and not self.db.exists():
            with sqlite3.connect(self.db) as db:
                db.execute("CREATE TABLE users (username TEXT, domain TEXT, password TEXT,"
                           " uid INTEGER, gid INTEGER)")
                db.execute("INSERT INTO users VALUES ('alice', ?, '{PLAIN}secret', ?, ?)",
                           (DOMAIN, uid, gid))
            os.chmod(self.db, 0o644)  # the lookups may run after the privilege drop
        self.sql_conf.write_text(
            "driver = sqlite\n"
            f"connect = {self.db}\n"
            "default_pass_scheme = PLAIN\n"
            "password_query = SELECT username, domain, password FROM users \\\n"
            "  WHERE username = '%n' AND domain = '%d'\n"
            "user_query = SELECT uid, gid FROM users WHERE username = '%n' AND domain = '%d'\n",
            encoding="utf-8")
        os.chmod(self.sql_conf, 0o644)
        text = conf.read_text(encoding="utf-8")
        start = text.index("passdb {")
        end = text.index("service lmtp {")
        text = (text[:start] +
                f"passdb {{\n  driver = sql\n  args = {self.sql_conf}\n}}\n"
                f"userdb {{\n  driver = sql\n  args = {self.sql_conf}\n}}\n\n" + text[end:])
        conf.write_text(text, encoding="utf-8")
        return conf


class SqlServer(DovetailServer):
    def __init__(self, db_exists: bool):
        super().__init__(Setup(ipv6=False, unix=False))
        self.work.cleanup()
        self.work = SqlWorkdir(db_exists)


class SqlCase(unittest.TestCase):
    db_exists = True

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise missing_prerequisite("end-to-end tests need root (mail_uid vmail, chown)")
        cls.server = SqlServer(cls.db_exists)
        try:
            cls.ep = cls.server.start()
        except BaseException:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def lmtp(self) -> smtplib.LMTP:
        c = smtplib.LMTP(self.ep.tcp[0], self.ep.tcp[1], local_hostname=LHLO_NAME, timeout=60)
        self.addCleanup(c.close)
        code, _ = c.ehlo()  # smtplib.LMTP sends LHLO
        self.assertEqual(code, 250)
        return c

    def deliver(self, rcpt: str) -> tuple[int, str, int | None, str | None]:
        c = self.lmtp()
        self.assertEqual(c.mail("sender@remote.example")[0], 250)
        code, msg = c.rcpt(rcpt)
        if code != 250:
            c.rset()
            return code, msg.decode(), None, None
        dcode, dmsg = c.data(MESSAGE)
        return code, msg.decode(), dcode, dmsg.decode()


@dovetail_only("the Dovecot here has no SQLite driver (dovecot-sqlite is not installed)")
class SqlUserdbFound(SqlCase):
    def test_known_user_is_delivered(self):
        code, msg, dcode, dmsg = self.deliver(f"alice@{DOMAIN}")
        self.assertEqual((code, msg), (250, "2.1.5 OK"), self.server.logs())
        self.assertEqual(dcode, 250, self.server.logs())
        self.assertRegex(dmsg, rf"^2\.0\.0 <alice@{DOMAIN}> \S+ Saved$")
        new = self.server.maildir(f"alice@{DOMAIN}") / "new"
        files = list(new.iterdir())
        self.assertEqual(len(files), 1)
        self.assertIn(b"Subject: sql userdb", files[0].read_bytes())

    def test_unknown_user_is_550(self):
        code, msg, _, _ = self.deliver(f"nobody@{DOMAIN}")
        self.assertEqual(code, 550)
        self.assertEqual(msg, f"5.1.1 <nobody@{DOMAIN}> User doesn't exist: nobody@{DOMAIN}")


@dovetail_only("the Dovecot here has no SQLite driver (dovecot-sqlite is not installed)")
class SqlUserdbMissingDatabase(SqlCase):
    db_exists = False

    def test_missing_database_file_is_451(self):
        for rcpt in (f"alice@{DOMAIN}", f"nobody@{DOMAIN}"):
            code, msg, _, _ = self.deliver(rcpt)
            self.assertEqual(code, 451, msg)
            self.assertEqual(msg, f"4.3.0 <{rcpt}> Temporary internal error")
        self.assertFalse(self.server.work.db.exists(), "a lookup must never create the database")


if __name__ == "__main__":
    unittest.main()
