"""maildir_copy_with_hardlinks through the real daemon (in its default privilege mode): one
message to two recipients is one inode with two links by default, two files with one link
each with `maildir_copy_with_hardlinks = no`. Four recipients take the shared filesystem sync
(three or more new/ directories, decision 0009): every copy is in place either way."""

from __future__ import annotations

import smtplib
import unittest

from dovetail_testlib import DOMAIN, LHLO_NAME, ServerTestCase, Setup

MESSAGE = (b"From: <sender@remote.example>\r\nSubject: links\r\n"
           b"Message-ID: <links-1@remote.example>\r\n\r\nHello.\r\n")


class LinkCase(ServerTestCase):
    want_links = 2

    def setUp(self):
        self.clear_mail()

    def test_two_recipients(self):
        c = smtplib.LMTP(self.ep.tcp[0], self.ep.tcp[1], local_hostname=LHLO_NAME, timeout=60)
        self.addCleanup(c.close)
        self.assertEqual(c.ehlo()[0], 250)
        self.assertEqual(c.mail("sender@remote.example")[0], 250)
        for u in ("alice", "bob"):
            self.assertEqual(c.rcpt(f"{u}@{DOMAIN}")[0], 250)
        # smtplib reads one reply after DATA; the second recipient's follows it.
        code, _ = c.data(MESSAGE)
        self.assertEqual(code, 250, self.server.logs())
        self.assertEqual(c.getreply()[0], 250, self.server.logs())
        files = []
        for u in ("alice", "bob"):
            new = self.server.maildir(f"{u}@{DOMAIN}") / "new"
            names = list(new.iterdir())
            self.assertEqual(len(names), 1, u)
            files.append(names[0].stat())
        self.assertEqual([st.st_nlink for st in files], [self.want_links] * 2)
        same_inode = files[0].st_ino == files[1].st_ino
        self.assertEqual(same_inode, self.want_links == 2)

    def test_four_recipients_one_reply_each(self):
        # erin's Maildir cannot be created (dovetail_testlib's trap): her 451 must not hold
        # back or undo the four others.
        users = ("alice", "bob", "carol", "dave")
        c = smtplib.LMTP(self.ep.tcp[0], self.ep.tcp[1], local_hostname=LHLO_NAME, timeout=60)
        self.addCleanup(c.close)
        self.assertEqual(c.ehlo()[0], 250)
        self.assertEqual(c.mail("sender@remote.example")[0], 250)
        for u in users + ("erin",):
            self.assertEqual(c.rcpt(f"{u}@{DOMAIN}")[0], 250)
        code, _ = c.data(MESSAGE.replace(b"links-1@", b"links-4@"))
        replies = [code] + [c.getreply()[0] for _ in users]
        self.assertEqual(replies, [250] * 4 + [451], self.server.logs())
        inodes = set()
        for u in users:
            new = self.server.maildir(f"{u}@{DOMAIN}") / "new"
            names = [n for n in new.iterdir() if b"links-4@" in n.read_bytes()]
            self.assertEqual(len(names), 1, u)
            self.assertTrue(names[0].read_bytes().endswith(b"Hello.\n"), u)
            st = names[0].stat()
            self.assertEqual(st.st_nlink, 4 if self.want_links == 2 else 1, u)
            inodes.add(st.st_ino)
        self.assertEqual(len(inodes), 1 if self.want_links == 2 else 4)


class HardLinksByDefault(LinkCase):
    setup_config = Setup(ipv6=False, unix=False, extra_users=[f"dave@{DOMAIN}"])
    want_links = 2


class HardLinksOff(LinkCase):
    setup_config = Setup(ipv6=False, unix=False, extra_users=[f"dave@{DOMAIN}"],
                         extra_settings=["maildir_copy_with_hardlinks = no"])
    want_links = 1


del LinkCase  # only the configured subclasses run

if __name__ == "__main__":
    unittest.main()
