"""Helpers for the privilege-separation tests (test_privileges.py, test_writer_hostile.py).

A PrivWork is one temp directory holding a Dovecot-syntax config whose passwd-file names
users WITH uid/gid fields (the point of these tests: several uids), a mail root with one home
per user, and everything the daemon needs (base_dir, mail_temp_dir). Process inspection reads
/proc. The wire encoder mirrors src/privsep/wire.hpp / wire.cpp (independently written here
so the tests do not trust the code under test).

Needs root (the three privilege modes start as root, or as root switching to another user).
Python 3 stdlib only.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import signal
import hashlib
import struct
import subprocess
import tempfile
import threading
import time
import unittest
from dataclasses import dataclass, field
from pathlib import Path

import dovetail_testlib as tl

DOMAIN = "test.example"
# System users these tests create when missing (each with its own uid and group).
PRIV_USERS = ("dvtpriv1", "dvtpriv2")


def require_root():
    if os.geteuid() != 0:
        raise tl.missing_prerequisite("privilege tests need root")
    if not tl.is_dovetail():
        raise unittest.SkipTest("privilege separation is Dovetail-only")


def ensure_system_user(name: str) -> tuple[int, int]:
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        r = subprocess.run(["useradd", "--system", "--user-group", "--home-dir", "/nonexistent",
                            "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                           capture_output=True, text=True)
        if r.returncode != 0 and r.returncode != 9:  # 9 = a parallel test created it first
            raise RuntimeError(f"useradd {name}: {r.stderr}")
        pw = pwd.getpwnam(name)
    return pw.pw_uid, pw.pw_gid


@dataclass
class MailUser:
    name: str            # local part; the address is name@test.example
    uid: int | None      # None: no uid field in the passwd-file
    gid: int | None
    make_home: bool = True  # pre-create the home, owned by uid/gid (as an admin would)

    @property
    def address(self) -> str:
        return f"{self.name}@{DOMAIN}"


# ----------------------------------------------------------------------------- config

class PrivWork:
    """WORK/{dovecot.conf, users.passwd, run, tmp, mail/<user>} in a fresh temp dir."""

    def __init__(self, prefix="dovetail-priv-"):
        self.path = Path(tempfile.mkdtemp(prefix=prefix))
        os.chmod(self.path, 0o755)
        self.conf = self.path / "dovecot.conf"
        self.users_file = self.path / "users.passwd"
        self.mail = self.path / "mail"
        self.users: dict[str, MailUser] = {}

    def cleanup(self):
        if os.environ.get("DOVETAIL_KEEP_TMP"):
            print(f"kept {self.path}")
            return
        shutil.rmtree(self.path, ignore_errors=True)

    def home(self, user: str) -> Path:
        return self.mail / user

    def maildir(self, user: str, folder: str = "") -> Path:
        md = self.home(user) / "Maildir"
        return md / folder if folder else md

    def write(self, users: list[MailUser], *, port: int = 0, service_lines=(), settings=(),
              owner: tuple[int, int] | None = None, first_valid_uid: int = 100) -> Path:
        """owner: who owns the work tree (mode 3: the ordinary user the daemon runs as)."""
        for d in ("run", "state", "mail"):
            (self.path / d).mkdir(exist_ok=True)
        tmp = self.path / "tmp"
        tmp.mkdir(exist_ok=True)
        os.chmod(tmp, 0o1777)
        os.chmod(self.mail, 0o755)
        if owner:
            for d in (self.path, self.path / "run", self.path / "state", self.mail):
                os.chown(d, *owner)
        lines = []
        for u in users:
            self.users[u.name] = u
            uid = "" if u.uid is None else str(u.uid)
            gid = "" if u.gid is None else str(u.gid)
            lines.append(f"{u.address}:{{PLAIN}}secret:{uid}:{gid}::{self.home(u.name)}::\n")
            if u.make_home:
                h = self.home(u.name)
                h.mkdir(exist_ok=True)
                os.chmod(h, 0o700)
                o_uid = u.uid if u.uid is not None else (owner[0] if owner else 0)
                o_gid = u.gid if u.gid is not None else (owner[1] if owner else 0)
                os.chown(h, o_uid, o_gid)
        self.users_file.write_text("".join(lines), encoding="utf-8")
        os.chmod(self.users_file, 0o644)
        svc = "".join(f"  {l}\n" for l in service_lines)
        extra = "".join(f"{l}\n" for l in settings)
        self.conf.write_text(f"""# privilege-mode test configuration (Dovecot 2.3 syntax)
instance_name = priv-{self.path.name}
hostname = {tl.HOSTNAME}
postmaster_address = postmaster@{DOMAIN}
protocols = lmtp
listen = 127.0.0.1
ssl = no
base_dir = {self.path}/run
state_dir = {self.path}/state
log_path = /dev/stderr
mail_temp_dir = {tmp}
first_valid_uid = {first_valid_uid}
mail_location = maildir:~/Maildir
recipient_delimiter = +
lmtp_save_to_detail_mailbox = yes
lda_mailbox_autocreate = yes
lda_mailbox_autosubscribe = yes

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.users_file}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.users_file}
}}

service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port}
  }}
{svc}}}
{extra}""", encoding="utf-8")
        os.chmod(self.conf, 0o644)
        if owner:
            os.chown(self.conf, *owner)
        return self.conf

    def snapshot(self) -> set[str]:
        """Every path below the work dir (dirs and files), relative."""
        out = set()
        for dirpath, dirnames, filenames in os.walk(self.path):
            for n in dirnames + filenames:
                out.add(os.path.relpath(os.path.join(dirpath, n), self.path))
        return out


# ----------------------------------------------------------------------------- daemon

class Daemon:
    """`dovetail serve -c CONF`, optionally as another user (`setpriv`), stderr captured."""

    def __init__(self, conf: Path, run_as: tuple[int, int] | None = None, args: list[str] = ()):
        self.conf = conf
        self.run_as = run_as
        self.args = list(args)
        self.lines: list[str] = []
        self.cv = threading.Condition()
        self.proc: subprocess.Popen | None = None
        self.tcp: tuple[str, int] | None = None

    def start(self, timeout=20.0):
        cmd = [tl.dovetail_bin(), "serve", "-c", str(self.conf)] + self.args
        if self.run_as:
            cmd = ["setpriv", f"--reuid={self.run_as[0]}", f"--regid={self.run_as[1]}",
                   "--clear-groups", "--"] + cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + timeout
        with self.cv:
            while time.monotonic() < deadline and self.tcp is None:
                for line in self.lines:
                    m = tl.LISTEN_RE.search(line)
                    if m and m.group("host") and ":" not in m.group("host"):
                        self.tcp = (m.group("host"), int(m.group("port")))
                if self.tcp is None:
                    if self.proc.poll() is not None:
                        break
                    self.cv.wait(0.1)
        if self.tcp is None:
            self.stop()
            raise RuntimeError("dovetail serve did not come up:\n" + self.log())
        while time.monotonic() < deadline and not tl._probe(self.tcp):
            time.sleep(0.05)
        return self.tcp

    def _read(self):
        for raw in self.proc.stderr:
            with self.cv:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cv.notify_all()

    def log(self) -> str:
        with self.cv:
            return "\n".join(self.lines[-80:])

    def wait_log(self, pattern: str, timeout=5.0) -> str | None:
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for line in self.lines:
                    if rx.search(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # our own session only
            self.proc.wait(5)
        except ProcessLookupError:
            pass


def deliver(tcp, rcpts: list[str], message: bytes = None) -> tuple[list[str], list[str]]:
    """One transaction: returns (RCPT replies, DATA replies for the accepted ones)."""
    message = message or tl.make_message("privileges")
    c = tl.LmtpConn(tcp)
    try:
        c.lhlo()
        c.cmd("MAIL FROM:<sender@remote.example>")
        rr = [c.cmd(f"RCPT TO:<{r}>")[0] for r in rcpts]
        accepted = sum(1 for r in rr if r.startswith("250"))
        dr = c.data(message, accepted) if accepted else []
        c.cmd("QUIT")
        return rr, dr
    finally:
        c.close()


# ----------------------------------------------------------------------------- /proc

@dataclass
class ProcStatus:
    pid: int
    uids: tuple[int, int, int, int]   # real, effective, saved, fs
    gids: tuple[int, int, int, int]
    groups: tuple[int, ...]
    cap_eff: int
    cap_prm: int
    cap_bnd: int
    no_new_privs: int | None


def proc_status(pid: int, tid: int | None = None) -> ProcStatus:
    path = f"/proc/{pid}/task/{tid}/status" if tid else f"/proc/{pid}/status"
    fields = {}
    for line in Path(path).read_text().splitlines():
        k, _, v = line.partition(":")
        fields[k] = v.strip()
    return ProcStatus(
        pid=tid or pid,
        uids=tuple(int(x) for x in fields["Uid"].split()),
        gids=tuple(int(x) for x in fields["Gid"].split()),
        groups=tuple(int(x) for x in fields.get("Groups", "").split()),
        cap_eff=int(fields["CapEff"], 16),
        cap_prm=int(fields["CapPrm"], 16),
        cap_bnd=int(fields["CapBnd"], 16),
        no_new_privs=int(fields["NoNewPrivs"]) if "NoNewPrivs" in fields else None)


def sched_policy(pid: int, tid: int) -> int:
    """The thread's Linux scheduling policy: 0 SCHED_OTHER, 3 SCHED_BATCH (proc(5) stat field 41)."""
    stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[41 - 3])


def threads_of(pid: int) -> list[int]:
    return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))


def children_of(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(d))
    return sorted(out)


def process_tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children_of(p))
    return sorted(out)


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").decode().split("\0")


# ----------------------------------------------------------------------------- wire format

MAGIC = 0x57545644   # "DVTW" little-endian
VERSION = 2
T_REQUEST, T_REPLY, T_RELOAD = 1, 2, 4
FSYNC_OPTIMIZED, FSYNC_ALWAYS, FSYNC_NEVER = 0, 1, 2


def wstr(b: bytes | str) -> bytes:
    if isinstance(b, str):
        b = b.encode("utf-8", "surrogateescape")
    return struct.pack("<I", len(b)) + b


def config_digest(path: str, data: bytes) -> str:
    """What config::Config::digest() gives for a config read from one file (no includes)."""
    p = path.encode()
    return hashlib.sha256(b"%d:%s%d:%s" % (len(p), p, len(data), data)).hexdigest()


def reload_frame(digest: str = "") -> bytes:
    return frame(wstr(digest), mtype=T_RELOAD)


def frame(payload: bytes, mtype=T_REQUEST, version=VERSION, magic=MAGIC, length=None) -> bytes:
    return struct.pack("<IHHI", magic, version, mtype,
                       len(payload) if length is None else length) + payload


@dataclass
class Target:
    user: str | bytes
    mailbox: str | bytes = "INBOX"
    autocreate: bool = False
    autosubscribe: bool = False


def request_payload(targets: list[Target], *, rid=1, headers=b"X-Test: 1\n", body=b"",
                    in_fd=False, body_size=None, body_lfs=None, fsync=FSYNC_NEVER) -> bytes:
    p = struct.pack("<QI", rid, len(targets))
    for t in targets:
        p += wstr(t.user) + wstr(t.mailbox) + bytes([(1 if t.autocreate else 0) |
                                                     (2 if t.autosubscribe else 0)])
    p += wstr(headers) + bytes([1 if in_fd else 0]) + wstr(b"" if in_fd else body)
    size = len(body) if body_size is None else body_size
    lfs = body.count(b"\n") if body_lfs is None else body_lfs
    p += struct.pack("<QQB", size, lfs, fsync)
    return p


@dataclass
class Result:
    status: int      # 0 saved, 1 tempfail, 2 permfail, 3 quota
    mailbox: str
    filename: str
    reason: str


def decode_reply(data: bytes) -> tuple[int, list[Result]]:
    magic, version, mtype, length = struct.unpack_from("<IHHI", data, 0)
    assert (magic, version, mtype) == (MAGIC, VERSION, T_REPLY), (magic, version, mtype)
    assert len(data) == 12 + length, "reply length"
    pos = 12
    rid, count = struct.unpack_from("<QI", data, pos)
    pos += 12
    out = []
    for _ in range(count):
        status = data[pos]
        pos += 1
        strs = []
        for _ in range(3):
            (n,) = struct.unpack_from("<I", data, pos)
            strs.append(data[pos + 4:pos + 4 + n].decode("utf-8", "replace"))
            pos += 4 + n
        out.append(Result(status, *strs))
    assert pos == len(data), "trailing bytes in reply"
    return rid, out
