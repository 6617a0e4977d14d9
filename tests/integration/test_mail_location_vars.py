"""mail_location with Dovecot's offset/width variables, through the real server.

`maildir:<root>/%d/%1n/%n` stores alice's mail in `<root>/test.example/a/alice` (Dovecot's
one-letter fan-out); an unknown variable (`%z`) defers the recipient with 451 4.3.0 and
creates nothing, instead of delivering into a directory without the variable. Dovecot's
functions: `%{md5;truncate=8:username}` (a hash bucket) and `%{if;%d;eq;...;...;...}`; a
function that fails (`rounds=0`) defers like an unknown variable, with the reason logged.
The fan-out, hash and `if` cases pass against Dovecot 2.3.19 too (DOVETAIL_ORACLE=dovecot).
"""

from __future__ import annotations

import hashlib
import os
import smtplib
import unittest

from dovetail_testlib import (DOMAIN, LHLO_NAME, ServerTestCase, Setup, dovetail_only,
                              ensure_mail_user, make_server, missing_prerequisite)

MESSAGE = (b"From: <sender@remote.example>\r\nTo: <alice@test.example>\r\n"
           b"Subject: fan-out\r\nMessage-ID: <loc-1@remote.example>\r\n\r\nHello.\r\n")


class LocationCase(ServerTestCase):
    """ServerTestCase whose mail_location is `maildir:<mail root>/<template>`. The mail root
    is only known once the server object exists, so the setting is added then (the last
    assignment in the config wins over the shared one)."""
    template = ""

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise missing_prerequisite("end-to-end tests need root (mail_uid vmail, chown)")
        setup = Setup(ipv6=False, unix=False)
        cls.server = make_server(setup)
        setup.extra_settings = [f"mail_location = maildir:{cls.server.mail_root}/{cls.template}"]
        try:
            cls.ep = cls.server.start()
        except BaseException:
            cls.server.cleanup()
            raise

    def send(self, rcpt: str):
        c = smtplib.LMTP(self.ep.tcp[0], self.ep.tcp[1], local_hostname=LHLO_NAME, timeout=60)
        self.addCleanup(c.close)
        self.assertEqual(c.ehlo()[0], 250)
        self.assertEqual(c.mail("sender@remote.example")[0], 250)
        code, msg = c.rcpt(rcpt)
        if code != 250:
            return code, msg.decode(), None, None
        dcode, dmsg = c.data(MESSAGE)
        return code, msg.decode(), dcode, dmsg.decode()

    def assert_deferred(self):
        """alice's RCPT is answered 451 4.3.0 (the path cannot be built)."""
        code, msg, _, _ = self.send(f"alice@{DOMAIN}")
        self.assertEqual(code, 451, self.server.logs())
        self.assertEqual(msg, f"4.3.0 <alice@{DOMAIN}> Temporary internal error")


class OneLetterFanOut(LocationCase):
    template = "%d/%1n/%n"

    def test_first_letter_directory(self):
        code, _, dcode, dmsg = self.send(f"alice@{DOMAIN}")
        self.assertEqual(code, 250, self.server.logs())
        self.assertEqual(dcode, 250, self.server.logs())
        self.assertTrue(dmsg.endswith("Saved"), dmsg)
        box = self.server.mail_root / DOMAIN / "a" / "alice"
        self.assertEqual(len(list((box / "new").iterdir())), 1)
        self.assertFalse((self.server.mail_root / DOMAIN / "n").exists(),
                         "the width digit must not be read as a variable of its own")


@dovetail_only("Dovecot's lmtp does not start with such a global mail_location (Fatal: "
               "Failed to expand settings: mail_location: Unknown variable '%z'); Dovetail "
               "defers each recipient instead")
class UnknownVariable(LocationCase):
    template = "%d/%z/%n"

    def test_unknown_variable_defers(self):
        self.assert_deferred()
        made = sorted(p.name for p in (self.server.mail_root / DOMAIN).iterdir())
        self.assertEqual(made, ["erin"], "nothing may be created for a deferred recipient")

    def test_start_up_names_the_setting_and_its_line(self):
        # Dovecot refuses to start; Dovetail serves and says at start-up what will be deferred.
        warning = [l for l in self.server.logs().splitlines()
                   if "Warning:" in l and "mail_location: unknown variable %z" in l]
        self.assertTrue(warning, self.server.logs())
        self.assertRegex(warning[0], r"dovecot\.conf:\d+: mail_location: unknown variable %z: "
                                     r"every recipient it applies to is deferred \(451 4\.3\.0\)")


class HashedFanOut(LocationCase):
    """Dovecot's hash function with options (`%{md5;truncate=8:username}`): the directory is
    the first byte of MD5("alice"), computed here with Python's hashlib."""
    template = "%{md5;truncate=8:username}/%n"

    def test_hash_directory(self):
        code, _, dcode, _ = self.send(f"alice@{DOMAIN}")
        self.assertEqual((code, dcode), (250, 250), self.server.logs())
        bucket = hashlib.md5(b"alice").hexdigest()[:2]
        box = self.server.mail_root / bucket / "alice"
        self.assertEqual(len(list((box / "new").iterdir())), 1, sorted(self.server.mail_root.iterdir()))


class ConditionalLocation(LocationCase):
    """`%{if;...}`: local-domain users under local/, everyone else under other/<domain>."""
    template = f"%{{if;%d;eq;{DOMAIN};local;other/%d}}/%n"

    def test_branch_taken(self):
        code, _, dcode, _ = self.send(f"alice@{DOMAIN}")
        self.assertEqual((code, dcode), (250, 250), self.server.logs())
        self.assertEqual(len(list((self.server.mail_root / "local" / "alice" / "new").iterdir())), 1)
        self.assertFalse((self.server.mail_root / "other").exists())


class MailUserVariables(LocationCase):
    """Dovecot's mail user variables: %i / %{uid} / %{gid} are the user's ids (mail_uid here),
    %s / %{service} is "lmtp", %{userdb:NAME:DEFAULT} a userdb field or the default. Not the
    server process's ids: the privileged writer runs as root and must not file mail under 0."""
    template = "%i/%{gid}/%s-%{service}/%{userdb:nosuch:none}/%n"

    def test_user_ids_and_service(self):
        code, _, dcode, _ = self.send(f"alice@{DOMAIN}")
        self.assertEqual((code, dcode), (250, 250), self.server.logs())
        uid, gid = ensure_mail_user()
        box = self.server.mail_root / str(uid) / str(gid) / "lmtp-lmtp" / "none" / "alice"
        self.assertEqual(len(list((box / "new").iterdir())), 1,
                         [str(p) for p in self.server.mail_root.rglob("new")])


@dovetail_only("Dovecot's lmtp does not start with a mail_location it cannot expand; "
               "Dovetail defers each recipient and logs why")
class FailingFunction(LocationCase):
    template = "%{md5;rounds=0:user}/%n"

    def test_failing_function_defers_with_reason(self):
        self.assert_deferred()
        self.assertIn("rounds must be at least 1", self.server.logs())


if __name__ == "__main__":
    unittest.main()
