"""`dovetail deliver` (LDA mode): every dovecot-lda flag and exit code, on a real Maildir,
with the same config file an LMTP server would read."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
import unittest
from pathlib import Path

import privsep_helpers as ph
from dovetail_testlib import DOMAIN, Setup, Workdir, dovetail_bin, ensure_mail_user

MESSAGE = b"Subject: lda test\r\nMessage-ID: <lda-1@x.example>\r\n\r\nHello from the LDA.\r\n"


class LdaTest(unittest.TestCase):
    def setUp(self):
        self.work = Workdir(prefix="dovetail-lda-")
        self.conf = self.work.write(Setup(), port=0)
        self.bin = dovetail_bin()

    def tearDown(self):
        self.work.cleanup()

    def deliver(self, *args, stdin=MESSAGE, env=None):
        return subprocess.run([self.bin, "deliver", "-c", str(self.conf), *args], input=stdin,
                              capture_output=True, timeout=60, env=env)

    def files(self, user, folder=""):
        md = self.work.maildir(user, folder)
        return sorted((md / "new").glob("*")) if (md / "new").is_dir() else []

    def test_delivers_to_inbox_with_sender_and_recipient(self):
        r = self.deliver("-d", f"alice@{DOMAIN}", "-f", "sender@remote.example")
        self.assertEqual(r.returncode, 0, r.stderr)
        files = self.files(f"alice@{DOMAIN}")
        self.assertEqual(len(files), 1)
        text = files[0].read_bytes()
        self.assertTrue(text.startswith(b"Return-Path: <sender@remote.example>\n"), text[:200])
        self.assertIn(b"Delivered-To: alice@test.example\n", text)
        self.assertNotIn(b"\r\n", text)  # stored with LF, as over LMTP
        self.assertTrue(text.endswith(b"Hello from the LDA.\n"))
        uid, gid = ensure_mail_user()
        st = files[0].stat()
        self.assertEqual((st.st_uid, st.st_gid), (uid, gid))
        self.assertEqual(st.st_mode & 0o777, 0o600)

    def test_sender_defaults_to_return_path_header(self):
        msg = b"Return-Path: <bounces@list.example>\nSubject: x\n\nbody\n"
        r = self.deliver("-d", f"alice@{DOMAIN}", stdin=msg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"Return-Path: <bounces@list.example>\n", self.files(f"alice@{DOMAIN}")[0].read_bytes())

    def test_final_recipient_r_names_delivered_to(self):
        r = self.deliver("-d", f"bob@{DOMAIN}", "-f", "s@x.example", "-r", f"bob+tag@{DOMAIN}")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"Delivered-To: bob+tag@test.example\n", self.files(f"bob@{DOMAIN}")[0].read_bytes())

    def test_original_recipient_a_with_hdr_original(self):
        r = self.deliver("-d", f"bob@{DOMAIN}", "-f", "s@x.example", "-a", "orig@else.example",
                         "-o", "lmtp_hdr_delivery_address=original")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"Delivered-To: orig@else.example\n", self.files(f"bob@{DOMAIN}")[0].read_bytes())

    def test_mailbox_m_autocreates_folder(self):
        r = self.deliver("-d", f"carol@{DOMAIN}", "-m", "Lists")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.files(f"carol@{DOMAIN}", ".Lists")), 1)
        self.assertTrue((self.work.maildir(f"carol@{DOMAIN}", ".Lists") / "maildirfolder").exists())

    def test_mailbox_m_hostile_name_goes_to_inbox(self):
        r = self.deliver("-d", f"carol@{DOMAIN}", "-m", "../../evil")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.files(f"carol@{DOMAIN}")), 1)
        self.assertFalse((self.work.mail_root / "evil").exists())

    def test_mailbox_m_missing_without_autocreate_goes_to_inbox(self):
        r = self.deliver("-d", f"carol@{DOMAIN}", "-m", "Nope", "-o", "lda_mailbox_autocreate=no")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.files(f"carol@{DOMAIN}")), 1)
        self.assertFalse(self.work.maildir(f"carol@{DOMAIN}", ".Nope").exists())

    def test_path_p_reads_file(self):
        p = self.work.path / "msg.eml"
        p.write_bytes(b"Subject: from file\n\nfile body\n")
        r = self.deliver("-d", f"alice@{DOMAIN}", "-p", str(p), stdin=b"")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"file body", self.files(f"alice@{DOMAIN}")[0].read_bytes())

    def test_missing_p_file_is_noinput(self):
        r = self.deliver("-d", f"alice@{DOMAIN}", "-p", str(self.work.path / "nope"))
        self.assertEqual(r.returncode, 66)

    def test_unknown_user_is_67(self):
        for extra in ([], ["-e"]):
            r = self.deliver("-d", f"nobody@{DOMAIN}", *extra)
            self.assertEqual(r.returncode, 67, r.stderr)
            self.assertIn(b"User doesn't exist", r.stderr)

    def test_unwritable_mailbox_is_temporary_75(self):
        # erin's Maildir cannot be created (a file is in the way): temporary, never lost.
        r = self.deliver("-d", f"erin@{DOMAIN}", "-e")
        self.assertEqual(r.returncode, 75, r.stderr)

    def test_override_o_changes_mail_location(self):
        other = self.work.path / "other"
        other.mkdir()
        uid, gid = ensure_mail_user()
        os.chown(other, uid, gid)
        r = self.deliver("-d", f"alice@{DOMAIN}", "-o", f"mail_location=maildir:{other}/%n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(list((other / "alice" / "new").glob("*"))), 1)

    def test_keep_environment_k_and_e_are_accepted(self):
        r = self.deliver("-d", f"alice@{DOMAIN}", "-k", "-e")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_usage_error_is_64(self):
        r = self.deliver("--no-such-flag")
        self.assertEqual(r.returncode, 64)
        r = self.deliver("-d", "alice@test.example", "-o", "no-equals-sign")
        self.assertEqual(r.returncode, 64)

    def test_config_error_is_78(self):
        bad = self.work.path / "bad.conf"
        bad.write_text("this_is_not_a_setting = 1\n")
        r = subprocess.run([self.bin, "deliver", "-c", str(bad), "-d", "alice"], input=MESSAGE,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 78)
        self.assertIn(b"bad.conf:1:", r.stderr)


def require_root():
    if os.geteuid() != 0:
        raise unittest.SkipTest("needs root")


class LdaAsRootTest(unittest.TestCase):
    """Run as root (as by an MTA with root privileges), the LDA becomes the recipient's
    uid/gid before it opens any mail file or directory, as dovecot-lda does: symlinks a user
    plants in their own home cannot make it write where only root may."""

    def setUp(self):
        require_root()
        self.u1 = ph.ensure_system_user(ph.PRIV_USERS[0])
        self.u2 = ph.ensure_system_user(ph.PRIV_USERS[1])
        self.work = ph.PrivWork(prefix="dovetail-lda-root-")
        self.addCleanup(self.work.cleanup)
        self.work.write([ph.MailUser("carol", *self.u1), ph.MailUser("dave", *self.u1, make_home=False),
                         ph.MailUser("erik", *self.u2)])
        self.rootonly = self.work.path / "rootonly"  # root-owned, 0755: readable, not writable
        self.rootonly.mkdir()
        os.chmod(self.rootonly, 0o755)

    def deliver(self, user: str):
        return subprocess.run([dovetail_bin(), "deliver", "-c", str(self.work.conf), "-e", "-d", user],
                              input=MESSAGE, capture_output=True, timeout=60)

    def test_symlinks_to_a_root_owned_dir_get_nothing(self):
        table = [
            ("~/Maildir -> root-owned dir", "carol", lambda: self.work.maildir("carol").symlink_to(self.rootonly)),
            ("home -> root-owned dir", "dave", lambda: self.work.home("dave").symlink_to(self.rootonly)),
        ]
        for name, user, plant in table:
            with self.subTest(case=name):
                plant()
                r = self.deliver(f"{user}@{DOMAIN}")
                # The kernel refuses the user's write: a temporary failure, never mail in rootonly.
                self.assertEqual(r.returncode, 75, r.stderr)
                self.assertEqual(list(self.rootonly.iterdir()), [], f"{name}: written as root\n{r.stderr}")

    def test_normal_delivery_is_owned_by_the_user(self):
        r = self.deliver(f"erik@{DOMAIN}")
        self.assertEqual(r.returncode, 0, r.stderr)
        md = self.work.maildir("erik")
        files = list((md / "new").iterdir())
        self.assertEqual(len(files), 1)
        for dirpath, dirnames, filenames in os.walk(self.work.home("erik")):
            for p in [Path(dirpath)] + [Path(dirpath) / f for f in filenames]:
                st = p.lstat()
                self.assertEqual((st.st_uid, st.st_gid), self.u2, p)
        self.assertEqual(files[0].stat().st_mode & 0o777, 0o600)

    def test_uid_0_user_is_refused_before_any_write(self):
        users = self.work.users_file.read_text() + f"rooty@{DOMAIN}:{{PLAIN}}x:0:0::{self.rootonly}::\n"
        self.work.users_file.write_text(users)
        r = self.deliver(f"rooty@{DOMAIN}")
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertEqual(list(self.rootonly.iterdir()), [])


# A sendmail_path stand-in that records what the LDA submits: argv, environment, message.
FAKE_SENDMAIL = """#!/bin/sh
out="{out}/sent.$$"
{{ printf 'ARGV:'; for a in "$@"; do printf ' [%s]' "$a"; done; echo; echo 'ENV:'; env | sort; echo 'MESSAGE:'; cat; }} > "$out"
"""


class LdaPermanentFailureTest(unittest.TestCase):
    """A real permanent failure: the mail root is on a btrfs image with a qgroup limit, so
    the write fails with EDQUOT (552 5.2.2 Quota exceeded), as an over-quota filesystem does.
    -e: the reason on stderr and exit 77 (EX_NOPERM). Without -e: a rejection mail (MDN) to
    the sender through sendmail_path, and exit 0 — the message is handled (dovecot-lda)."""

    def setUp(self):
        require_root()
        if not shutil.which("mkfs.btrfs") or not shutil.which("btrfs"):
            raise unittest.SkipTest("btrfs-progs not installed (scripts/install-deps)")
        self.work = Workdir(prefix="dovetail-lda-quota-")
        self.addCleanup(self.work.cleanup)
        self.conf = self.work.write(Setup(), port=0)
        uid, gid = ensure_mail_user()
        image = self.work.path / "quota.img"
        with open(image, "wb") as f:
            f.truncate(128 << 20)
        self.mnt = self.work.path / "quota"
        self.mnt.mkdir()
        r = subprocess.run(["mkfs.btrfs", "-q", "-f", str(image)], capture_output=True)
        if r.returncode != 0:
            raise unittest.SkipTest(f"mkfs.btrfs: {r.stderr!r}")
        r = subprocess.run(["mount", "-o", "loop", str(image), str(self.mnt)], capture_output=True)
        if r.returncode != 0:
            raise unittest.SkipTest(f"cannot mount a loop image here: {r.stderr!r}")
        self.addCleanup(subprocess.run, ["umount", "-l", str(self.mnt)], capture_output=True)
        for cmd in (["btrfs", "quota", "enable", str(self.mnt)], ["btrfs", "qgroup", "limit", "256k", str(self.mnt)]):
            subprocess.run(cmd, check=True, capture_output=True)
        os.chown(self.mnt, uid, gid)
        self.outbox = self.work.path / "outbox"  # written by the fake sendmail, as the mail user
        self.outbox.mkdir()
        os.chown(self.outbox, uid, gid)
        self.sendmail = self.work.path / "sendmail"
        self.sendmail.write_text(FAKE_SENDMAIL.format(out=self.outbox))
        os.chmod(self.sendmail, 0o755)
        self.big = (b"Subject: too big for the quota\nMessage-ID: <big-1@x.example>\n\n" +
                    b"".join(b"line %06d of a message that does not fit\n" % i for i in range(16000)))

    def deliver(self, *args, stdin=None, env=None):
        return subprocess.run([dovetail_bin(), "deliver", "-c", str(self.conf), "-f", "sender@remote.example",
                               "-o", f"mail_location=maildir:{self.mnt}/%n", "-o", f"sendmail_path={self.sendmail}",
                               *args], input=self.big if stdin is None else stdin, capture_output=True,
                              timeout=60, env=env)

    def sent(self) -> list[str]:
        return [p.read_text("utf-8", "replace") for p in sorted(self.outbox.iterdir())]

    def new_files(self, user: str) -> list[Path]:
        new = self.mnt / user / "new"
        return list(new.iterdir()) if new.is_dir() else []

    def test_control_a_small_message_fits(self):
        r = self.deliver("-d", f"alice@{DOMAIN}", stdin=MESSAGE)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.new_files("alice")), 1)

    def test_e_reason_on_stderr_exit_77(self):
        r = self.deliver("-d", f"alice@{DOMAIN}", "-e")
        self.assertEqual(r.returncode, 77, r.stderr)
        self.assertIn(b"5.2.2 Quota exceeded (mailbox for user is full)", r.stderr)
        self.assertEqual(self.sent(), [], "no rejection mail with -e")
        self.assertEqual(self.new_files("alice"), [])

    def test_without_e_rejection_mail_to_sender_exit_0(self):
        r = self.deliver("-d", f"bob@{DOMAIN}")
        self.assertEqual(r.returncode, 0, r.stderr)
        sent = self.sent()
        self.assertEqual(len(sent), 1, r.stderr)
        self.assertIn("ARGV: [-i] [-f] [] [--] [sender@remote.example]\n", sent[0])
        msg = sent[0].split("MESSAGE:\n", 1)[1]
        self.assertIn("Subject: Rejected: too big for the quota\n", msg)
        self.assertIn("To: <sender@remote.example>\n", msg)
        self.assertIn(f"Your message to <bob@{DOMAIN}> was automatically rejected:\nQuota exceeded", msg)
        self.assertIn("Content-Type: message/disposition-notification", msg)
        self.assertEqual(self.new_files("bob"), [])

    def test_k_keeps_the_environment_the_default_clears_it(self):
        # dovecot-lda -k: "Don't clear all environment at startup". What the LDA runs (here
        # sendmail_path, for the rejection mail) sees the caller's environment only with -k.
        env = dict(os.environ, DOVETAIL_TEST_MARK="from-the-mta")
        table = [([], False), (["-k"], True)]
        for flags, kept in table:
            with self.subTest(flags=flags):
                for p in self.outbox.iterdir():
                    p.unlink()
                r = self.deliver("-d", f"carol@{DOMAIN}", *flags, env=env)
                self.assertEqual(r.returncode, 0, r.stderr)
                sent = self.sent()
                self.assertEqual(len(sent), 1, r.stderr)
                env_part = sent[0].split("ENV:\n", 1)[1].split("MESSAGE:\n", 1)[0]
                self.assertEqual("DOVETAIL_TEST_MARK=from-the-mta" in env_part, kept, env_part)
                if not kept:
                    names = {l.split("=", 1)[0] for l in env_part.splitlines() if "=" in l}
                    self.assertLessEqual(names, {"PATH", "TZ", "PWD", "SHLVL", "_", "OLDPWD"}, env_part)


if __name__ == "__main__":
    unittest.main()
