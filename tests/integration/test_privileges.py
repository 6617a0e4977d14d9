"""The three privilege modes of `dovetail serve` (docs/decisions/0003-privilege-separation.md,
docs/privileges.md), seen from outside: who owns every file and folder a delivery writes, what
happens to a userdb uid the mode cannot write as, and what /proc says about the process that
parses the network while it serves.

  mode 1  root + `service lmtp { user = vmail }`  → one process, dropped to vmail
  mode 2  root, no service user                   → network process as default_internal_user
                                                    + privileged writer child (root)
  mode 3  started as an ordinary user             → one process, delivers as itself

Needs root (it creates two system users, dvtpriv1 and dvtpriv2, when missing).
"""

from __future__ import annotations

import os
import pwd
import signal
import stat
import time
import unittest
from pathlib import Path

import dovetail_testlib as tl
import privsep_helpers as ph

WRITER_CAPS = 0xDF  # bits 0-4 (CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID), 6, 7 (SETGID, SETUID)
ALICE, BOB, MALLORY = "alice@test.example", "bob@test.example", "mallory@test.example"


def internal_user() -> tuple[str, int, int]:
    """Who the network process of mode 2 becomes: default_internal_user (dovecot), else nobody."""
    for name in ("dovecot", "nobody"):
        try:
            pw = pwd.getpwnam(name)
            return name, pw.pw_uid, pw.pw_gid
        except KeyError:
            continue
    raise tl.missing_prerequisite("no dovecot/nobody user")


class ModeCase(unittest.TestCase):
    """One daemon per class; subclasses say how to configure and start it."""
    daemon: ph.Daemon
    work: ph.PrivWork

    @classmethod
    def setUpClass(cls):
        ph.require_root()
        tl.dovetail_bin()
        cls.u1 = ph.ensure_system_user(ph.PRIV_USERS[0])
        cls.u2 = ph.ensure_system_user(ph.PRIV_USERS[1])
        cls.vmail = tl.ensure_mail_user()
        cls.work = ph.PrivWork()
        try:
            cls.daemon = cls.make_daemon()
            cls.tcp = cls.daemon.start()
        except BaseException:
            cls.work.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        cls.work.cleanup()

    # -- assertions --------------------------------------------------------------------

    def assert_tree_owned(self, root: Path, uid: int, gid: int, min_files=1):
        """Every directory and file below (and including) root: owner, group, private modes."""
        self.assertTrue(root.is_dir(), f"{root} missing\n{self.daemon.log()}")
        files = 0
        for dirpath, dirnames, filenames in os.walk(root):
            for p in [Path(dirpath)] + [Path(dirpath) / f for f in filenames]:
                st = p.lstat()
                self.assertEqual((st.st_uid, st.st_gid), (uid, gid), f"owner:group of {p}")
                if stat.S_ISDIR(st.st_mode):
                    self.assertEqual(st.st_mode & 0o7777, 0o700, f"mode of dir {p}")
                else:
                    self.assertTrue(stat.S_ISREG(st.st_mode), f"{p} is a regular file")
                    self.assertEqual(st.st_mode & 0o7777, 0o600, f"mode of file {p}")
                    files += 1
        self.assertGreaterEqual(files, min_files, f"files below {root}")

    def assert_delivered(self, user: str, folder: str, count=1):
        new = self.work.maildir(user, folder) / "new"
        got = sorted(new.iterdir()) if new.is_dir() else []
        self.assertEqual(len(got), count, f"{new}\n{self.daemon.log()}")
        for p in got:
            self.assertIn(b"Subject: privileges", p.read_bytes())

    def assert_unprivileged(self, pid: int, uid: int, gid: int, groups: tuple[int, ...] | None = None):
        """Every thread of pid: uid/gid (real, effective, saved, fs) as given, supplementary
        groups exactly `groups` (default: just gid), no capability, no_new_privs set — on
        every thread, not only the main one (the flag is per thread)."""
        groups = (gid,) if groups is None else groups
        tids = ph.threads_of(pid)
        self.assertGreater(len(tids), 2, "the event and blocking-pool threads are running")
        for tid in tids:
            s = ph.proc_status(pid, tid)
            self.assertNotIn(0, s.uids, f"thread {tid} of {pid}: a root uid {s.uids}")
            self.assertEqual(s.uids, (uid,) * 4, f"thread {tid}: Uid")
            self.assertEqual(s.gids, (gid,) * 4, f"thread {tid}: Gid")
            self.assertEqual(s.groups, groups, f"thread {tid}: supplementary groups")
            self.assertEqual(s.cap_eff, 0, f"thread {tid}: CapEff")
            self.assertEqual(s.cap_prm, 0, f"thread {tid}: CapPrm")
            self.assertEqual(s.no_new_privs, 1, f"thread {tid} of {len(tids)}: NoNewPrivs")

    def deliver_ok(self, rcpts: list[str]):
        rr, dr = ph.deliver(self.tcp, rcpts)
        self.assertEqual(rr, ["250 2.1.5 OK"] * len(rcpts), self.daemon.log())
        for r, line in zip(rcpts, dr):
            self.assertTrue(line.startswith(f"250 2.0.0 <{r}> "), f"{line}\n{self.daemon.log()}")

    def assert_other_uid_refused(self, user_uid: int):
        """mallory's userdb uid is one this mode cannot write as: 451, a log line, no file."""
        rr, dr = ph.deliver(self.tcp, [MALLORY])
        final = dr[0] if rr[0].startswith("250") else rr[0]
        self.assertTrue(final.startswith(f"451 4."), f"{rr} {dr}\n{self.daemon.log()}")
        self.assertIn(f"<{MALLORY}>", final)
        line = self.daemon.wait_log(rf"mallory@test\.example.*uid {user_uid}\b")
        self.assertIsNotNone(line, "a log line naming the user and the uid\n" + self.daemon.log())
        self.assertEqual(list(self.work.home("mallory").iterdir()), [], "nothing written")
        return line


class Mode1SingleUid(ModeCase):
    """root + service lmtp { user = vmail }: the process drops to vmail for good."""

    @classmethod
    def make_daemon(cls):
        cls.work.write([ph.MailUser("alice", *cls.vmail), ph.MailUser("mallory", *cls.u2)],
                       service_lines=["user = vmail"])
        return ph.Daemon(cls.work.conf)

    def test_files_and_folders_owned_by_service_user(self):
        self.deliver_ok([ALICE, "alice+Lists@test.example"])
        self.assert_delivered("alice", "")
        self.assert_delivered("alice", ".Lists")
        self.assertTrue((self.work.maildir("alice") / ".Lists" / "maildirfolder").is_file())
        self.assert_tree_owned(self.work.home("alice"), *self.vmail, min_files=3)

    def test_other_userdb_uid_is_temporary_failure(self):
        line = self.assert_other_uid_refused(self.u2[0])
        self.assertIn("without root", line)

    def test_one_process_unprivileged_while_serving(self):
        c = tl.LmtpConn(self.tcp)  # serving: a connection is open
        self.addCleanup(c.close)
        self.assertEqual(ph.process_tree(self.daemon.pid), [self.daemon.pid], "no helper process")
        self.assert_unprivileged(self.daemon.pid, *self.vmail)
        self.assertEqual(ph.proc_status(self.daemon.pid).no_new_privs, 1, "NoNewPrivs")
        self.assertTrue(self.daemon.wait_log(r"privileges: single uid.*runs as vmail"), self.daemon.log())


class Mode2Writer(ModeCase):
    """root, no service user: network process as default_internal_user + root writer child."""

    @classmethod
    def make_daemon(cls):
        cls.work.write([ph.MailUser("alice", *cls.u1), ph.MailUser("bob", *cls.u2),
                        ph.MailUser("rooty", 0, 0), ph.MailUser("lowuid", 50, 50),
                        ph.MailUser("carol", cls.u1[0], cls.u2[1])])
        return ph.Daemon(cls.work.conf)

    def test_group_shared_mail_root_gives_its_modes_whatever_the_umask(self):
        # A mail root shared by a group (2770): what the writer creates has the root's group
        # and modes, 2770 and 0660, not the daemon's umask (022 here) — as Dovecot makes them.
        shared_gid = self.u2[1]
        self.assertNotEqual(shared_gid, self.u1[1])
        self.assertEqual(os.umask(0o22), 0o22, "the daemon runs with umask 022")
        md = self.work.maildir("carol")
        md.mkdir()
        os.chown(md, self.u1[0], shared_gid)
        os.chmod(md, 0o2770)
        self.deliver_ok(["carol@test.example", "carol+Team@test.example"])
        self.assert_delivered("carol", "")
        self.assert_delivered("carol", ".Team")
        made = [p for p in md.rglob("*")]
        self.assertGreaterEqual(len(made), 8, made)  # cur/new/tmp, .Team and its three, two messages
        for p in made:
            st = p.lstat()
            self.assertEqual((st.st_uid, st.st_gid), (self.u1[0], shared_gid), f"owner:group of {p}")
            if stat.S_ISDIR(st.st_mode):
                self.assertEqual(st.st_mode & 0o7777, 0o2770, f"mode of dir {p}")
            else:
                self.assertEqual(st.st_mode & 0o777, 0o660, f"mode of file {p}")

    def test_each_user_owns_their_files(self):
        self.assertNotEqual(self.u1[0], self.u2[0])
        self.deliver_ok([ALICE, BOB, "alice+Work@test.example", "bob+Lists@test.example"])
        for user, ids in (("alice", self.u1), ("bob", self.u2)):
            self.assert_delivered(user, "")
            self.assertTrue((self.work.maildir(user) / "subscriptions").is_file())
            self.assert_tree_owned(self.work.home(user), *ids, min_files=4)
        self.assert_delivered("alice", ".Work")
        self.assert_delivered("bob", ".Lists")

    def test_large_body_travels_as_descriptor(self):
        # > 64 KiB: not inline in the frame but a descriptor passed to the writer.
        body = b"".join(b"line %06d of a big message\r\n" % i for i in range(8000))
        msg = tl.make_message("privileges") + body
        rr, dr = ph.deliver(self.tcp, ["alice+Big@test.example", "bob+Big@test.example"], msg)
        self.assertEqual([l[:3] for l in rr + dr], ["250"] * 4, f"{rr} {dr}\n{self.daemon.log()}")
        for user, ids in (("alice", self.u1), ("bob", self.u2)):
            files = list((self.work.maildir(user) / ".Big" / "new").iterdir())
            self.assertEqual(len(files), 1)
            self.assertTrue(files[0].read_bytes().endswith(tl.lf(body)))
            self.assert_tree_owned(self.work.maildir(user) / ".Big", *ids)

    def test_uid_0_and_below_first_valid_uid_refused(self):
        # passwd-file drops a uid-0 line as Dovecot does (the user does not exist); a uid below
        # first_valid_uid is a temporary failure. Either way: nothing is written.
        table = [("rooty@test.example", "550 5.1.1 ", r"user rooty@test\.example has invalid UID '0'"),
                 ("lowuid@test.example", "451 4.", r"mail access for UID 50 not permitted")]
        for rcpt, reply, log in table:
            with self.subTest(rcpt=rcpt):
                rr, dr = ph.deliver(self.tcp, [rcpt])
                final = dr[0] if rr[0].startswith("250") else rr[0]
                self.assertTrue(final.startswith(reply), f"{rr} {dr}")
                self.assertIn(f"<{rcpt}>", final)
                self.assertIsNotNone(self.daemon.wait_log(log), self.daemon.log())
                user = rcpt.split("@")[0]
                self.assertEqual(list(self.work.home(user).iterdir()), [], "nothing written")

    def test_network_process_unprivileged_writer_is_the_only_root(self):
        c = tl.LmtpConn(self.tcp)
        self.addCleanup(c.close)
        name, uid, gid = internal_user()
        tree = ph.process_tree(self.daemon.pid)
        self.assertEqual(len(tree), 2, f"network process + writer: {tree}")
        writer = [p for p in tree if p != self.daemon.pid][0]
        self.assertEqual(ph.cmdline(writer)[1:4], ["writer", "--channel-fd", "3"])
        self.assert_unprivileged(self.daemon.pid, uid, gid)
        self.assertEqual(ph.proc_status(self.daemon.pid).no_new_privs, 1, "NoNewPrivs")
        roots = [p for p in tree if 0 in ph.proc_status(p).uids]
        self.assertEqual(roots, [writer], "the writer is the only process with a root uid")
        # ... and even it keeps only what writing as other users needs: CAP_CHOWN,
        # DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID, SETGID, SETUID (no SYS_ADMIN,
        # SYS_PTRACE, SYS_MODULE, NET_*, ...), in every thread, with no_new_privs.
        for tid in ph.threads_of(writer):
            w = ph.proc_status(writer, tid)
            self.assertEqual((w.cap_eff | w.cap_prm | w.cap_bnd) & ~WRITER_CAPS, 0,
                             f"writer thread {tid}: CapEff {w.cap_eff:x} CapPrm {w.cap_prm:x} CapBnd {w.cap_bnd:x}")
            self.assertEqual(w.no_new_privs, 1)
        self.assertTrue(self.daemon.wait_log(rf"privilege-separated.*runs as {name}"), self.daemon.log())


class Mode2Shutdown(ModeCase):
    """The writer ends with the network process, also when the whole group gets SIGTERM."""

    @classmethod
    def make_daemon(cls):
        cls.work.write([ph.MailUser("alice", *cls.u1)])
        return ph.Daemon(cls.work.conf)

    def test_group_sigterm_stops_both_after_delivering(self):
        tree = ph.process_tree(self.daemon.pid)
        self.assertEqual(len(tree), 2, tree)
        writer = tree[1] if tree[0] == self.daemon.pid else tree[0]
        def ignores_sigterm():  # the writer sets its dispositions first thing after exec
            for line in Path(f"/proc/{writer}/status").read_text().splitlines():
                if line.startswith("SigIgn:"):
                    return int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1))
            return 0
        deadline = time.monotonic() + 10
        while not ignores_sigterm() and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(ignores_sigterm(), "the writer ignores SIGTERM")
        os.kill(writer, signal.SIGTERM)  # meant for the daemon, not for the writer: ignored
        self.deliver_ok([ALICE])
        os.killpg(self.daemon.pid, signal.SIGTERM)  # what a service manager does
        self.assertIsNotNone(self.daemon.proc.wait(15))
        deadline = time.monotonic() + 10
        while Path(f"/proc/{writer}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(Path(f"/proc/{writer}").exists(), "the writer outlived the daemon")
        self.assertIsNone(self.daemon.wait_log(r"writer channel failed", timeout=0.1),
                          "an orderly stop is not a writer failure\n" + self.daemon.log())
        self.assert_delivered("alice", "")


class Mode2Reload(ModeCase):
    """SIGHUP reaches the privileged writer: it writes with the reloaded config too."""

    @classmethod
    def make_daemon(cls):
        cls.work.write([ph.MailUser("alice", *cls.u1)])
        return ph.Daemon(cls.work.conf)

    def test_changed_mail_location_is_used_by_the_writer_after_sighup(self):
        self.deliver_ok([ALICE])
        self.assert_delivered("alice", "")
        text = self.work.conf.read_text()
        self.work.conf.write_text(text.replace("mail_location = maildir:~/Maildir",
                                               "mail_location = maildir:~/Mail2"))
        os.kill(self.daemon.pid, signal.SIGHUP)
        self.assertTrue(self.daemon.wait_log(r"dovetail-writer: .*configuration reloaded", timeout=10),
                        self.daemon.log())
        self.deliver_ok([ALICE])
        self.assert_delivered("alice", "")  # still one: the second went to the new location
        new = self.work.home("alice") / "Mail2" / "new"
        self.assertEqual(len(list(new.iterdir())) if new.is_dir() else 0, 1, self.daemon.log())
        self.assert_tree_owned(self.work.home("alice") / "Mail2", *self.u1)


class Mode2WriterKilled(ModeCase):
    """The writer dies (kill -9) while a transaction is open: that delivery gets 451 and the
    daemon exits non-zero with a log line, so the service manager restarts both."""

    @classmethod
    def make_daemon(cls):
        cls.work.write([ph.MailUser("alice", *cls.u1)])
        return ph.Daemon(cls.work.conf)

    def test_in_flight_delivery_fails_temporarily_and_daemon_exits(self):
        tree = ph.process_tree(self.daemon.pid)
        self.assertEqual(len(tree), 2, tree)
        writer = [p for p in tree if p != self.daemon.pid][0]
        c = tl.LmtpConn(self.tcp)
        self.addCleanup(c.close)
        c.lhlo()
        self.assertTrue(c.cmd("MAIL FROM:<sender@remote.example>")[0].startswith("250"))
        self.assertEqual(c.cmd(f"RCPT TO:<{ALICE}>")[0], "250 2.1.5 OK")
        os.kill(writer, signal.SIGKILL)
        self.assertTrue(self.daemon.wait_log(r"privileged writer channel failed", timeout=10),
                        self.daemon.log())
        replies = c.data(tl.make_message("privileges"), 1)
        self.assertEqual(len(replies), 1)
        self.assertTrue(replies[0].startswith(f"451 4."), f"{replies}\n{self.daemon.log()}")
        self.assertIn(f"<{ALICE}>", replies[0])
        rc = self.daemon.proc.wait(15)
        self.assertNotEqual(rc, 0, "a non-zero exit lets the service manager restart both")
        self.assertTrue(self.daemon.wait_log(r"stopped: the privileged writer is gone"), self.daemon.log())
        new = self.work.maildir("alice") / "new"
        self.assertEqual(list(new.iterdir()) if new.is_dir() else [], [], "nothing written")


class Mode3OrdinaryUser(ModeCase):
    """Started as dvtpriv1 (no root anywhere): delivers as itself, nothing else."""

    @classmethod
    def make_daemon(cls):
        # alice has no uid field (→ the daemon's own), carol names it explicitly.
        cls.work.write([ph.MailUser("alice", None, None), ph.MailUser("carol", *cls.u1),
                        ph.MailUser("mallory", *cls.u2)], owner=cls.u1)
        return ph.Daemon(cls.work.conf, run_as=cls.u1)

    def test_delivers_as_itself(self):
        self.deliver_ok([ALICE, "alice+Work@test.example", "carol@test.example"])
        self.assert_delivered("alice", "")
        self.assert_delivered("alice", ".Work")
        self.assert_delivered("carol", "")
        self.assert_tree_owned(self.work.home("alice"), *self.u1, min_files=3)
        self.assert_tree_owned(self.work.home("carol"), *self.u1)

    def test_other_userdb_uid_is_temporary_failure(self):
        line = self.assert_other_uid_refused(self.u2[0])
        self.assertIn(f"process runs as uid {self.u1[0]}", line)

    def test_no_privileges_anywhere(self):
        c = tl.LmtpConn(self.tcp)
        self.addCleanup(c.close)
        self.assertEqual(ph.process_tree(self.daemon.pid), [self.daemon.pid])
        self.assert_unprivileged(self.daemon.pid, *self.u1, groups=())  # setpriv --clear-groups
        self.assertTrue(self.daemon.wait_log(r"privileges: unprivileged.*runs as dvtpriv1"),
                        self.daemon.log())


if __name__ == "__main__":
    unittest.main()
