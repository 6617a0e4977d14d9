"""A compromised network process against the privileged writer (decision 0003).

The test plays the network process: it starts `dovetail writer --channel-fd N -c CONF` itself
(as root, as the daemon would) with one end of a SOCK_SEQPACKET socketpair and sends frames
built by an independent encoder of src/privsep/wire.hpp (privsep_helpers.py). Whatever it
sends, the writer must never write outside the recipient's own Maildir, never as root or as a
uid outside first_valid_uid.., and must close the channel (exit non-zero, nothing written) on
any malformed frame or descriptor. After every case the whole temp tree (and /tmp's top level)
is compared with a snapshot taken before.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import tempfile
import unittest
from pathlib import Path

import dovetail_testlib as tl
import privsep_helpers as ph
from privsep_helpers import Target

A, B = "alice@test.example", "bob@test.example"
BODY = b"From: <evil@remote.example>\nSubject: crafted\n\nhello\n"


class Writer:
    """One `dovetail writer` process and our end of its channel."""

    def __init__(self, conf: Path, extra_args=(), expect_ready=True):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = ours
        self.proc = subprocess.Popen(
            [tl.dovetail_bin(), "writer", "--channel-fd", str(theirs.fileno()), "-c", str(conf), *extra_args],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        theirs.close()
        self.sock.settimeout(20)
        if not expect_ready:
            return
        # The writer announces itself once (kReady, type 3, empty payload) before serving.
        self.ready = self.sock.recv(1 << 16)
        assert self.ready == ph.frame(b"", mtype=3), self.ready

    def send(self, data: bytes, fds=()):
        if fds:
            socket.send_fds(self.sock, [data], list(fds))
        else:
            self.sock.send(data)

    def request(self, targets, **kw) -> list[ph.Result]:
        kw.setdefault("body", BODY)
        self.send(ph.frame(ph.request_payload(targets, rid=7, **kw)))
        rid, results = ph.decode_reply(self.sock.recv(1 << 20))
        assert rid == 7, rid
        assert len(results) == len(targets)
        return results

    def channel_closed(self) -> bool:
        try:
            return self.sock.recv(1 << 20) == b""
        except ConnectionResetError:
            return True

    def finish(self, timeout=20) -> tuple[int, str]:
        self.sock.close()
        try:
            err = self.proc.communicate(timeout=timeout)[1]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            err = self.proc.communicate()[1]
        return self.proc.returncode, err.decode("utf-8", "replace")


class WriterHostileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ph.require_root()
        tl.dovetail_bin()
        cls.vmail = tl.ensure_mail_user()
        cls.u2 = ph.ensure_system_user(ph.PRIV_USERS[1])

    def setUp(self):
        self.work = ph.PrivWork(prefix="dovetail-hostile-")
        self.addCleanup(self.work.cleanup)
        # a deeper mail root, so that ../../ from a Maildir still lands inside the snapshot
        self.work.mail = self.work.path / "mail" / "users"
        self.work.mail.mkdir(parents=True)
        self.work.write([ph.MailUser("alice", *self.vmail), ph.MailUser("bob", *self.u2),
                         ph.MailUser("rooty", 0, 0), ph.MailUser("lowuid", 50, 50),
                         ph.MailUser("sneaky", *self.vmail)])
        self.outside = self.work.path / "rootonly"   # root-owned, world-readable
        self.outside.mkdir()
        self.before = self.work.snapshot()
        self.tmp_before = set(os.listdir(tempfile.gettempdir()))

    def new_paths(self) -> set[str]:
        return self.work.snapshot() - self.before

    def assert_only_below(self, allowed: list[str], why=""):
        """Every new path lies below one of the allowed dirs (relative to the work dir)."""
        for p in sorted(self.new_paths()):
            self.assertTrue(any(p == a or p.startswith(a + "/") for a in allowed),
                            f"{why}: {p} written outside {allowed}")
            st = os.lstat(self.work.path / p)
            self.assertNotEqual(st.st_uid, 0, f"{why}: {p} owned by root")
        leaked = set(os.listdir(tempfile.gettempdir())) - self.tmp_before
        self.assertFalse({n for n in leaked if "evil" in n or n == "b"}, f"{why}: /tmp gained {leaked}")

    def assert_nothing_written(self, why=""):
        self.assertEqual(self.new_paths(), set(), why)

    def writer(self) -> Writer:
        w = Writer(self.work.conf)
        self.addCleanup(lambda: w.proc.poll() is None and w.proc.kill())
        return w

    def maildir_rel(self, user: str) -> str:
        return os.path.relpath(self.work.maildir(user), self.work.path)

    def new_files(self, user: str) -> list[Path]:
        return [Path(d) / f for d, _, fs in os.walk(self.work.maildir(user))
                if os.path.basename(d) == "new" for f in fs]

    # -- requests the writer serves, carefully -------------------------------------------

    def test_hostile_folder_names_stay_in_the_users_maildir(self):
        names = ["../../evil", "../../../../../../tmp/evil", "a/b", "~root", "~root/evil", ".hidden",
                 "..", ".", "/etc/evil", "x" * 10240, "bad\x01name", "bad\nname", "tab\tname",
                 "INBOX/../../evil", "", "\x7f", b"\xff\xfe-not-utf8"]
        w = self.writer()  # one channel: these are well-formed requests, served one by one
        for name in names:
            for autocreate in (True, False):
                with self.subTest(name=repr(name)[:40], autocreate=autocreate):
                    before = len(self.new_files("alice"))
                    r = w.request([Target(A, name, autocreate, autocreate)])[0]
                    # storage's one folder-name check: hostile names deliver to INBOX
                    self.assertEqual((r.status, r.mailbox), (0, "INBOX"), r)
                    self.assert_only_below([self.maildir_rel("alice")], repr(name)[:40])
                    self.assertEqual(len(self.new_files("alice")), before + 1, r)
                    self.assertEqual(os.path.dirname(r.filename), str(self.work.maildir("alice") / "new"))
                    for f in self.new_files("alice"):
                        st = f.stat()
                        self.assertEqual((st.st_uid, st.st_gid), self.vmail, f)
        rc, err = w.finish()
        self.assertEqual(rc, 0, err)
        # the control: an ordinary folder name is honoured
        w = self.writer()
        self.assertEqual(w.request([Target(A, "Work", True)])[0].mailbox, "Work")
        self.assertEqual(w.finish()[0], 0)
        self.assertEqual(len(list((self.work.maildir("alice") / ".Work" / "new").iterdir())), 1)

    def test_users_the_writer_must_refuse(self):
        # An unknown user is a temporary failure: the network process accepted it at RCPT, so the
        # two processes disagree for now (a userdb edited in between); the retry meets RCPT again.
        # (rooty's uid 0 makes passwd-file treat it as unknown.) Names that are path steps or
        # hold control bytes are refused outright (2) before any lookup.
        table = [("nobody-such@test.example", 1), ("rooty@test.example", 1), ("lowuid@test.example", 1),
                 ("alice", 1), ("../alice@test.example", 2), ("alice@test.example/../../evil", 2),
                 ("*", 1), ("alice@test.example\x00bob", 2), ("%u", 1)]
        w = self.writer()
        for user, status in table:
            with self.subTest(user=user):
                r = w.request([Target(user, "INBOX", True)])[0]
                self.assertEqual(r.status, status, str(r))
                self.assert_nothing_written(user)
        rc, err = w.finish()
        self.assertEqual(rc, 0, err)

    def test_user_names_are_not_paths_with_a_userdb_that_takes_any_name(self):
        # static + allow_all_users resolves ANY name, and mail_location expands %n/%d from it:
        # the writer must refuse names that are path steps before they reach the expansion.
        conf = self.work.conf.read_text()
        conf = conf.replace("mail_location = maildir:~/Maildir",
                            f"mail_location = maildir:{self.work.mail}/%d/%n/Maildir")
        start = conf.index("userdb {")
        end = conf.index("}", start) + 1
        conf = conf[:start] + ("userdb {\n  driver = static\n"
                               "  args = uid=vmail gid=vmail allow_all_users=yes\n}") + conf[end:]
        self.work.conf.write_text(conf)
        os.chown(self.work.mail, *self.vmail)
        os.chown(self.work.mail.parent, *self.vmail)
        self.before = self.work.snapshot()
        w = self.writer()
        for user in ["../../../../../../../tmp/dovetail-evil@x", "x@../../dovetail-evil",
                     "a/b@c", "..@test.example", "x@..", ".@.", "bad\x01@x", "bad\n@x"]:
            with self.subTest(user=user):
                r = w.request([Target(user)])[0]
                self.assertEqual(r.status, 2, str(r))
                self.assert_nothing_written(user)
        r = w.request([Target("carol@test.example")])[0]  # the control: an ordinary name
        self.assertEqual(r.status, 0, str(r))
        rc, err = w.finish()
        self.assertEqual(rc, 0, err)
        self.assert_only_below([os.path.relpath(self.work.mail / "test.example" / "carol" / "Maildir",
                                                self.work.path)] + ["mail/users/test.example",
                                                                    "mail/users/test.example/carol"])
        self.assertFalse(any(n.startswith("dovetail-evil") for n in os.listdir(tempfile.gettempdir())))

    def test_each_target_written_as_its_own_user_only(self):
        w = self.writer()
        rs = w.request([Target(A), Target(B), Target("rooty@test.example"), Target(A, "Work", True)])
        rc, err = w.finish()
        self.assertEqual([r.status for r in rs], [0, 0, 1, 0], f"{rs}\n{err}")
        self.assert_only_below([self.maildir_rel("alice"), self.maildir_rel("bob")])
        for user, ids in (("alice", self.vmail), ("bob", self.u2)):
            for f in self.new_files(user):
                self.assertEqual((f.stat().st_uid, f.stat().st_gid), ids, f)
                self.assertEqual(f.read_bytes(), b"X-Test: 1\n" + BODY)

    def test_symlinks_planted_by_the_user_do_not_lend_root_rights(self):
        # A mail user (not the network process) can plant symlinks in their own home and
        # Maildir; the writer writes with the user's fs identity, so the kernel refuses
        # foreign targets: a temporary failure (451 4.2.0 at the LMTP edge), nothing written.
        bob_maildir = self.work.maildir("bob")
        bob_maildir.mkdir()
        os.chown(bob_maildir, *self.u2)
        os.chmod(bob_maildir, 0o700)
        inbox, evil = Target("sneaky@test.example", "INBOX"), Target("sneaky@test.example", "Evil", True)
        # (name, symlink below sneaky's home, its target, expected statuses for [INBOX, Evil])
        table = [
            ("Maildir -> root-owned dir", "Maildir", self.outside, [1, 1]),
            ("Maildir -> another user's home", "Maildir", self.work.home("bob"), [1, 1]),
            ("folder .Evil -> root-owned dir", "Maildir/.Evil", self.outside, [0, 1]),
            ("folder .Evil -> another user's Maildir", "Maildir/.Evil", bob_maildir, [0, 1]),
        ]
        for name, rel, target, statuses in table:
            with self.subTest(case=name):
                home = self.work.home("sneaky")
                shutil.rmtree(home / "Maildir", ignore_errors=True)
                if (home / "Maildir").is_symlink():
                    (home / "Maildir").unlink()
                if rel != "Maildir":  # a real Maildir holding the planted folder link
                    (home / "Maildir").mkdir()
                    os.chown(home / "Maildir", *self.vmail)
                (home / rel).symlink_to(target)
                self.before = self.work.snapshot()
                w = self.writer()
                r = w.request([inbox, evil])
                rc, err = w.finish()
                self.assertEqual(rc, 0, err)
                self.assertEqual([x.status for x in r], statuses, f"{r}\n{err}")
                if statuses[0] == 0:  # INBOX itself is fine; nothing lands via the link
                    self.assert_only_below([self.maildir_rel("sneaky")], name)
                else:
                    self.assert_nothing_written(name)
                self.assertEqual(os.listdir(self.outside), [], name)
                self.assertEqual(os.listdir(bob_maildir), [], name)

    def test_reload_frame_rereads_the_writers_own_config(self):
        # kReload (type 4, the digest of what the daemon read): the writer re-reads its -c file;
        # a broken file keeps the previous config (and says why); later requests use whatever
        # is current.
        conf = self.work.conf.read_text()
        w = self.writer()
        self.assertEqual(w.request([Target(A)])[0].status, 0)
        mail2 = conf.replace("mail_location = maildir:~/Maildir", "mail_location = maildir:~/Mail2")
        self.work.conf.write_text(mail2)
        w.send(ph.reload_frame(ph.config_digest(str(self.work.conf), mail2.encode())))
        self.assertEqual(w.request([Target(A)])[0].status, 0)
        self.work.conf.write_text(conf + "\nno_such_setting_here = 1\n")
        w.send(ph.reload_frame())  # no digest: whatever is there (here: broken)
        self.assertEqual(w.request([Target(A)])[0].status, 0)
        rc, err = w.finish()
        self.assertEqual(rc, 0, err)
        self.assertIn("config reload failed, keeping the previous configuration", err)
        self.assertEqual(len(os.listdir(self.work.maildir("alice") / "new")), 1)
        self.assertEqual(len(os.listdir(self.work.home("alice") / "Mail2" / "new")), 2, err)

    def test_reload_takes_only_the_bytes_the_daemon_read(self):
        # The file changed again after the daemon read it (here: emptied, as an editor
        # truncating before it writes leaves it): the writer, which reads it later, must not
        # take other bytes than the daemon validated — an empty config knows no user at all.
        conf = self.work.conf.read_text()
        w = self.writer()
        self.assertEqual(w.request([Target(A)])[0].status, 0)
        mail2 = conf.replace("mail_location = maildir:~/Maildir", "mail_location = maildir:~/Mail2")
        self.work.conf.write_text("")
        w.send(ph.reload_frame(ph.config_digest(str(self.work.conf), mail2.encode())))
        self.assertEqual(w.request([Target(A)])[0].status, 0)  # old config: ~/Maildir
        rc, err = w.finish()
        self.assertEqual(rc, 0, err)
        self.assertIn("changed after the daemon read it", err)
        self.assertIn("config reload failed, keeping the previous configuration", err)
        self.assertEqual(len(os.listdir(self.work.maildir("alice") / "new")), 2)
        self.assertFalse((self.work.home("alice") / "Mail2").exists())

    def test_start_only_on_the_bytes_the_daemon_read(self):
        # The daemon passes the digest of what it validated; a file edited in between (here:
        # emptied) must not become the writer's config — it refuses to start instead.
        text = self.work.conf.read_bytes()
        good = ph.config_digest(str(self.work.conf), text)
        w = Writer(self.work.conf, ["--config-digest", good])  # the same bytes: starts
        self.assertEqual(w.request([Target(A)])[0].status, 0)
        self.assertEqual(w.finish()[0], 0)
        self.work.conf.write_text("")
        w = Writer(self.work.conf, ["--config-digest", good], expect_ready=False)
        self.assertEqual(w.sock.recv(1 << 16), b"")  # no kReady: the channel just closes
        rc, err = w.finish()
        self.assertEqual(rc, 78, err)  # EX_CONFIG
        self.assertIn("changed after the daemon read it", err)
        self.work.conf.write_text("no_such_setting_here = 1\n")  # other bytes that do not even load
        w = Writer(self.work.conf, ["--config-digest", good], expect_ready=False)
        rc, err = w.finish()
        self.assertEqual(rc, 78, err)
        self.assertIn("a file that does not load", err)
        self.assertIn("no_such_setting_here", err)  # the parse error, with file:line

    def test_reload_digest_must_be_hex(self):
        w = self.writer()
        w.send(ph.reload_frame("../etc/passwd"))
        rc, err = w.finish()
        self.assertEqual(rc, 1, err)
        self.assertIn("reload: digest not hex", err)

    def test_body_in_a_regular_file_descriptor(self):
        with tempfile.TemporaryFile(dir=self.work.path / "tmp") as f:
            f.write(BODY)
            f.flush()
            self.before = self.work.snapshot()
            w = self.writer()
            w.send(ph.frame(ph.request_payload([Target(A)], rid=9, in_fd=True,
                                               body_size=len(BODY), body_lfs=BODY.count(b"\n"))),
                   [f.fileno()])
            rid, rs = ph.decode_reply(w.sock.recv(1 << 20))
            rc, err = w.finish()
        self.assertEqual((rid, rs[0].status, rc), (9, 0, 0), f"{rs}\n{err}")
        self.assertEqual([p.read_bytes() for p in self.new_files("alice")], [b"X-Test: 1\n" + BODY])

    # -- frames that must kill the channel, with nothing written ----------------------------

    def violations(self):
        good = ph.request_payload([Target(A, "Work", True)], body=BODY)
        in_fd = ph.request_payload([Target(A)], in_fd=True, body_size=len(BODY),
                                   body_lfs=BODY.count(b"\n"))
        long_name = ph.request_payload([Target(A, "y" * (16 * 1024 + 1), True)], body=BODY)
        zero_targets = ph.request_payload([], body=BODY)
        lfs_gt_size = ph.request_payload([Target(A)], body=BODY, body_lfs=len(BODY) + 1)
        size_mismatch = ph.request_payload([Target(A)], body=BODY, body_size=len(BODY) + 1)
        bad_flags = good.replace(b"Work\x01", b"Work\x07") if b"Work\x01" in good else None
        r, wfd = os.pipe()
        self.addCleanup(os.close, r)
        self.addCleanup(os.close, wfd)
        os.write(wfd, BODY)
        dfd = os.open(self.work.path, os.O_RDONLY | os.O_DIRECTORY)
        self.addCleanup(os.close, dfd)
        reg = tempfile.TemporaryFile(dir=self.work.path / "tmp")
        self.addCleanup(reg.close)
        reg.write(BODY)
        reg.flush()
        reg2 = tempfile.TemporaryFile(dir=self.work.path / "tmp")
        self.addCleanup(reg2.close)
        cases = [
            ("garbage bytes", b"GET / HTTP/1.0\r\n\r\n", ()),
            ("short header", ph.frame(good)[:7], ()),
            ("truncated payload", ph.frame(good)[:-5], ()),
            ("length says more", ph.frame(good, length=len(good) + 10), ()),
            ("length says less", ph.frame(good, length=len(good) - 1), ()),
            ("trailing bytes", ph.frame(good + b"\0")),
            ("wrong magic", ph.frame(good, magic=0x57545645), ()),
            ("wrong version", ph.frame(good, version=ph.VERSION + 1), ()),
            ("version 0", ph.frame(good, version=0), ()),
            ("reply type sent to writer", ph.frame(good, mtype=ph.T_REPLY), ()),
            ("unknown type", ph.frame(good, mtype=9), ()),
            ("ready type sent to writer", ph.frame(b"", mtype=3), ()),
            ("header only", ph.frame(b""), ()),
            ("reload without its digest field", ph.frame(b"", mtype=4), ()),
            ("reload with a short payload", ph.frame(b"\0", mtype=4), ()),
            ("reload with trailing bytes", ph.frame(ph.wstr("") + b"x", mtype=4), ()),
            ("reload with an oversized digest", ph.reload_frame("a" * 129), ()),
            ("reload with a descriptor", ph.reload_frame(), (reg.fileno(),)),
            ("zero targets", ph.frame(zero_targets), ()),
            ("target count 2^32-1", ph.frame(good[:8] + b"\xff\xff\xff\xff" + good[12:]), ()),
            ("folder name > 16 KiB", ph.frame(long_name), ()),
            ("line count > size", ph.frame(lfs_gt_size), ()),
            ("inline size mismatch", ph.frame(size_mismatch), ()),
            ("record > 192 KiB", ph.frame(good) + b"\0" * (200 * 1024), ()),
            ("fd flag, no fd", ph.frame(in_fd), ()),
            ("inline body plus fd", ph.frame(good), (reg.fileno(),)),
            ("body fd is a pipe", ph.frame(in_fd), (r,)),
            ("body fd is a directory", ph.frame(in_fd), (dfd,)),
            ("two fds", ph.frame(in_fd), (reg.fileno(), reg2.fileno())),
        ]
        if bad_flags:
            cases.append(("unknown target flags", ph.frame(bad_flags), ()))
        return cases

    def test_malformed_frames_close_the_channel_and_write_nothing(self):
        self.assertTrue(os.path.isdir(self.work.home("alice")))
        for case in self.violations():
            name, data = case[0], case[1]
            fds = case[2] if len(case) > 2 else ()
            with self.subTest(case=name):
                w = self.writer()
                w.send(data, fds)
                self.assertTrue(w.channel_closed(), f"{name}: the writer must close the channel")
                rc, err = w.finish()
                self.assertNotEqual(rc, 0, f"{name}: exit status\n{err}")
                self.assertIn("dovetail-writer", err, name)
                self.assert_nothing_written(name)

    def test_violation_after_good_request_stops_further_work(self):
        w = self.writer()
        self.assertEqual(w.request([Target(A)])[0].status, 0)
        w.send(ph.frame(ph.request_payload([Target(A)], body=BODY), version=ph.VERSION + 1))
        try:  # the writer may already have closed the channel: then this send fails, fine
            w.send(ph.frame(ph.request_payload([Target(A, "Later", True)], body=BODY)))
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.assertTrue(w.channel_closed())
        rc, err = w.finish()
        self.assertNotEqual(rc, 0, err)
        self.assertEqual(len(self.new_files("alice")), 1, "only the request before the violation")

    def test_orderly_close_exits_zero(self):
        w = self.writer()
        rc, err = w.finish()
        self.assertEqual(rc, 0, err)
        self.assert_nothing_written()


if __name__ == "__main__":
    unittest.main()
