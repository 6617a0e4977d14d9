"""`dovetail deliver` (LDA mode): every dovecot-lda flag and exit code, on a real Maildir,
with the same config file an LMTP server would read."""

from __future__ import annotations

import os
import subprocess
import unittest
from pathlib import Path

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


if __name__ == "__main__":
    unittest.main()
