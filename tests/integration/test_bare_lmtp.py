"""bench/null_lmtp --store: the barest durable LMTP server that bench/run measures as this
machine's ceiling. Its figures only mean something if it really stores what it acknowledges,
so this checks what a user of the benchmark relies on, with Python's smtplib.LMTP as the
client: every 250 is a file in the recipient's Maildir new/ holding exactly the DATA octets,
a message for two recipients is one file linked twice, bodies from 16 KiB on (its O_DIRECT
path) arrive whole, and both shapes (--blocking and the worker pool) behave the same."""

import os
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
import unittest

SOURCE = os.environ.get("DOVETAIL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
NULL_LMTP = os.path.join(os.environ.get("DOVETAIL_BUILD_DIR", os.path.join(SOURCE, "build", "release")),
                         "bench", "null_lmtp")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wire_body(msg: bytes) -> bytes:
    """What smtplib sends between DATA and the final '.': CRLF lines, leading dots doubled."""
    lines = msg.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines)


class Shape:
    args: list = []

    def setUp(self):
        if not os.access(NULL_LMTP, os.X_OK):
            self.skipTest("bench/null_lmtp not built")
        self.tmp = tempfile.mkdtemp(prefix="bare-lmtp-")
        self.store = os.path.join(self.tmp, "mail")
        self.port = free_port()
        self.proc = subprocess.Popen([NULL_LMTP, str(self.port), "--store", self.store] + self.args)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.fail("null_lmtp --store did not start listening")
                time.sleep(0.05)

    def tearDown(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def new_files(self, domain, local):
        d = os.path.join(self.store, domain, local, "Maildir", "new")
        return sorted(os.path.join(d, f) for f in os.listdir(d)) if os.path.isdir(d) else []

    def send(self, rcpts, msg):
        with smtplib.LMTP("127.0.0.1", self.port) as c:
            c.ehlo("client.example")
            code, _ = c.mail("sender@example.org")
            self.assertEqual(code, 250)
            for r in rcpts:
                self.assertEqual(c.rcpt(r)[0], 250)
            c.putcmd("data")
            code, _ = c.getreply()
            self.assertEqual(code, 354)
            c.send(wire_body(msg) + b".\r\n")
            return [c.getreply() for _ in rcpts]

    def test_each_250_is_a_file_with_the_data_octets(self):
        msg = b"Subject: one\r\n\r\nhello\r\n.a line that starts with a dot\r\nbye\r\n"
        for n in range(3):
            replies = self.send(["alice@example.test"], msg)
            self.assertEqual([code for code, _ in replies], [250])
            files = self.new_files("example.test", "alice")
            self.assertEqual(len(files), n + 1)
        for f in files:
            with open(f, "rb") as fh:
                self.assertEqual(fh.read(), wire_body(msg))

    def test_two_recipients_share_one_linked_file(self):
        replies = self.send(["alice@example.test", "bob@example.test"], b"Subject: two\r\n\r\nbody\r\n")
        self.assertEqual([code for code, _ in replies], [250, 250])
        (a,), (b,) = self.new_files("example.test", "alice"), self.new_files("example.test", "bob")
        self.assertTrue(os.path.samefile(a, b))
        self.assertEqual(os.stat(a).st_nlink, 2)

    def test_large_body_arrives_whole(self):
        # 300 KiB plus an odd tail: whole blocks go out with O_DIRECT, the rest buffered.
        body = b"".join(b"line %06d " % i + b"x" * 60 + b"\r\n" for i in range(4200)) + b"tail\r\n"
        msg = b"Subject: big\r\n\r\n" + body
        self.assertGreater(len(msg), 16384)
        self.assertNotEqual(len(wire_body(msg)) % 4096, 0)
        self.assertEqual([code for code, _ in self.send(["carol@example.test"], msg)], [250])
        (f,) = self.new_files("example.test", "carol")
        with open(f, "rb") as fh:
            self.assertEqual(fh.read(), wire_body(msg))

    def test_pipelined_transactions_are_answered_in_order(self):
        # Two whole transactions and QUIT in one write: what arrives after the first message
        # waits until that message is stored, then is answered in order.
        one = b"Subject: p1\r\n\r\nfirst\r\n"
        two = b"Subject: p2\r\n\r\nsecond\r\n"
        script = (b"LHLO client.example\r\n"
                  + b"MAIL FROM:<s@example.org>\r\nRCPT TO:<dave@example.test>\r\nDATA\r\n" + one + b".\r\n"
                  + b"MAIL FROM:<s@example.org>\r\nRCPT TO:<dave@example.test>\r\nDATA\r\n" + two + b".\r\n"
                  + b"QUIT\r\n")
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(script)
            got = b""
            while not got.endswith(b"\r\n") or b"\r\n221 " not in b"\r\n" + got:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        codes = [l[:3] for l in got.split(b"\r\n") if l and l[3:4] == b" "]
        self.assertEqual(codes, [b"220", b"250", b"250", b"250", b"354", b"250",
                                 b"250", b"250", b"354", b"250", b"221"])
        contents = set()
        for f in self.new_files("example.test", "dave"):
            with open(f, "rb") as fh:
                contents.add(fh.read())
        self.assertEqual(contents, {one, two})

    def test_a_recipient_cannot_name_a_path_outside_the_store(self):
        replies = self.send(["../../escape@example.test"], b"Subject: x\r\n\r\ny\r\n")
        self.assertEqual([code for code, _ in replies], [250])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "escape")))
        stored = [os.path.join(dp, f) for dp, _, fs in os.walk(self.store) for f in fs]
        self.assertEqual(len(stored), 1)
        self.assertTrue(os.path.realpath(stored[0]).startswith(os.path.realpath(self.store) + os.sep))


class Blocking(Shape, unittest.TestCase):
    args = ["--blocking"]


class WorkerPool(Shape, unittest.TestCase):
    args = ["--workers", "4"]


class Spooled(Shape, unittest.TestCase):
    # Bodies past 64 KiB go through a spool file, as Dovetail's do past 256 KiB.
    def setUp(self):
        self.spool = tempfile.mkdtemp(prefix="bare-spool-")
        self.args = ["--blocking", "--spool-over", "65536", "--spool-dir", self.spool]
        super().setUp()

    def tearDown(self):
        super().tearDown()
        leftovers = os.listdir(self.spool)
        shutil.rmtree(self.spool, ignore_errors=True)
        self.assertEqual(leftovers, [])  # anonymous files only


if __name__ == "__main__":
    unittest.main()
