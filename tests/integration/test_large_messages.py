"""Messages around the sizes where Dovetail changes how it writes (O_DIRECT from 16 KiB on, in
256 KiB chunks, the last partial block through the page cache: storage/direct_write.hpp)
arrive byte for byte, sent with Python's smtplib.LMTP: the stored file ends with the message
as sent (CRLF stored as LF, dot-stuffing undone), its name's S= is the file's size and W= the
size with CRLF line ends. The same holds for Dovecot."""

from __future__ import annotations

import smtplib
import unittest

from dovetail_testlib import ServerTestCase

SIZES = [16 * 1024 - 50, 16 * 1024 + 1, 256 * 1024 - 3, 256 * 1024 + 4096 + 1, 1024 * 1024 + 777]


def message(n: int, total: int) -> bytes:
    head = b"Subject: size %d\r\nMessage-ID: <large-%d@test.example>\r\n\r\n" % (total, n)
    lines, size, i = [], len(head), 0
    while size < total:
        # Every 50th line starts with a dot (stuffed by smtplib, unstuffed by the server).
        line = (b"." if i % 50 == 7 else b"") + b"%07d " % i + bytes(97 + (i * 31) % 26 for _ in range(i % 90))
        line = line[: max(1, total - size - 2)] + b"\r\n"
        lines.append(line)
        size += len(line)
        i += 1
    return head + b"".join(lines)


class LargeMessages(ServerTestCase):
    def test_sizes_around_the_direct_write_boundaries(self):
        self.clear_mail()
        sent = {}
        lmtp = smtplib.LMTP(*self.ep.tcp)
        lmtp.ehlo("client.test.example")
        for n, total in enumerate(SIZES):
            msg = message(n, total)
            sent[b"<large-%d@test.example>" % n] = msg
            self.assertEqual(lmtp.sendmail("s@remote.example", ["alice@test.example"], msg), {})
        lmtp.quit()
        files = list((self.server.maildir("alice@test.example") / "new").iterdir())
        self.assertEqual(len(files), len(SIZES))
        for f in files:
            content = f.read_bytes()
            mid = next(k for k in sent if k in content)
            stored = sent.pop(mid).replace(b"\r\n", b"\n")
            with self.subTest(file=f.name, size=len(stored)):
                self.assertTrue(content.endswith(stored), f"{f.name}: body differs from what was sent")
                self.assertNotIn(b"\r", content)
                self.assertIn(",S=%d," % len(content), f.name)
                self.assertTrue(f.name.endswith(",W=%d" % (len(content) + content.count(b"\n"))), f.name)
        self.assertEqual(sent, {})

    def test_a_body_cut_off_midway_leaves_nothing_and_the_next_one_arrives(self):
        """A client that disconnects in the middle of a body past the spool's memory limit (so
        spooled to a file) leaves no file in the Maildir, visible or not, and the next message
        is stored whole. (Decision 0011 tried writing such bodies while they arrive; this held
        for it as well.)"""
        self.clear_mail()
        c = self.connect()
        c.lhlo()
        self.assertTrue(c.cmd("MAIL FROM:<s@remote.example>")[0].startswith("250"))
        self.assertTrue(c.cmd("RCPT TO:<alice@test.example>")[0].startswith("250"))
        self.assertTrue(c.cmd("DATA")[0].startswith("354"))
        c.send(message(99, 900 * 1024)[: 700 * 1024])
        c.close()
        whole = message(100, 600 * 1024)
        lmtp = smtplib.LMTP(*self.ep.tcp)
        lmtp.ehlo("client.test.example")
        self.assertEqual(lmtp.sendmail("s@remote.example", ["alice@test.example"], whole), {})
        lmtp.quit()
        maildir = self.server.maildir("alice@test.example")
        files = list((maildir / "new").iterdir())
        self.assertEqual(len(files), 1, [f.name for f in files])
        self.assertTrue(files[0].read_bytes().endswith(whole.replace(b"\r\n", b"\n")))
        self.assertEqual(list((maildir / "tmp").iterdir()) if (maildir / "tmp").exists() else [], [])


if __name__ == "__main__":
    unittest.main()
