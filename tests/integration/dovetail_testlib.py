"""Shared helpers for the end-to-end tests: a server-agnostic LMTP server under test, a raw
LMTP client, transcript replay and Maildir inspection.

The server under test is Dovetail (`$DOVETAIL_BIN serve -c <conf>`) unless the environment
says `DOVETAIL_ORACLE=dovecot`, in which case the same assertions run against a private
Dovecot 2.3 instance started from the very same configuration file. That proves the tests
themselves: a test that fails against Dovecot on a behaviour COMPAT.md records as Dovecot's is
a wrong test, not a wrong server.

Both servers read one config written the way an admin would write it (Dovecot syntax,
passwd-file users, mail_location with %d/%n, a non-root mail_uid). Everything lives in a
temp directory; ports are 0 (Dovetail prints what it bound) or free ports (Dovecot).

Python 3 stdlib only.
"""

from __future__ import annotations

import functools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from dataclasses import dataclass, field
from pathlib import Path

HOSTNAME = "mx.test.example"
DOMAIN = "test.example"
LHLO_NAME = "client.test.example"
# Users in the passwd-file. erin's mail directory cannot be created (a plain file sits where
# her domain/user directory would be), which gives the "delivery error" row of COMPAT.md.
USERS = ["alice", "bob", "carol", "erin", "jörg"]
MAIL_USER = "vmail"

ORACLE = os.environ.get("DOVETAIL_ORACLE", "").strip().lower()
KIND = "dovecot" if ORACLE == "dovecot" else "dovetail"

SID_RE = r"[A-Za-z0-9+/]{22}"
ID_RE = SID_RE + r"(?::[TR][0-9]+)*"
MAILDIR_NAME_RE = re.compile(
    r"^(?P<secs>[0-9]+)\.M(?P<usecs>[0-9]+)P(?P<pid>[0-9]+)\.(?P<host>[^,:/]+)"
    r",S=(?P<size>[0-9]+),W=(?P<vsize>[0-9]+)$")
DATE_RE = (r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?[0-9]{1,2} "
           r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
           r"[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}(?: \([A-Za-z0-9 +-]+\))?")
TIMESTAMP_RE = r"\[[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\]"


def is_dovetail() -> bool:
    return KIND == "dovetail"


def ci_strict() -> bool:
    """CI=true (set by the test script): a run must not pass while silently testing less."""
    return os.environ.get("CI", "").strip().lower() == "true"


def missing_prerequisite(reason: str) -> Exception:
    """What to raise when a test lacks a prerequisite (root, IPv6, swaks, an fd limit, ...):
    a skip, or with CI=true a failure. Usage: `raise missing_prerequisite("swaks not installed")`.
    Not for skips that are the point (Dovetail-only tests under the Dovecot oracle)."""
    if ci_strict():
        return AssertionError(f"missing prerequisite (CI=true: a failure, not a skip): {reason}")
    return unittest.SkipTest(reason)


def requires(condition, reason: str):
    """Class or method decorator: unittest.skipUnless(condition, reason), except that with
    CI=true a false condition fails the test (in setUpClass for a class) instead."""
    if condition:
        return lambda obj: obj
    if not ci_strict():
        return unittest.skipUnless(False, reason)

    def decorate(obj):
        if isinstance(obj, type):
            def set_up_class(cls):
                raise missing_prerequisite(reason)
            obj.setUpClass = classmethod(set_up_class)
            return obj

        @functools.wraps(obj)
        def failing(*args, **kwargs):
            raise missing_prerequisite(reason)
        return failing
    return decorate


def dovetail_only(reason: str = "Dovetail goes beyond Dovecot here"):
    """Decorator: skip under the Dovecot oracle (behaviour deliberately differs)."""
    return unittest.skipUnless(is_dovetail(), f"Dovetail-only: {reason}")


def pick(dovecot, dovetail):
    """The expectation for the server under test where COMPAT.md says Dovetail differs."""
    return dovetail if is_dovetail() else dovecot


def free_port(family=socket.AF_INET, host="127.0.0.1") -> int:
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_port_both(ipv6: bool) -> int:
    """A port free on 127.0.0.1 and (if wanted) on ::1."""
    for _ in range(50):
        p = free_port()
        if not ipv6:
            return p
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
                s.bind(("::1", p))
            return p
        except OSError:
            continue
    raise RuntimeError("no free port")


def have_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def ensure_mail_user() -> tuple[int, int]:
    """The non-root system user all virtual users map to (created like start-dovecot does)."""
    try:
        pw = pwd.getpwnam(MAIL_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--home-dir", "/nonexistent",
                        "--no-create-home", "--shell", "/usr/sbin/nologin", MAIL_USER],
                       check=True)
        pw = pwd.getpwnam(MAIL_USER)
    return pw.pw_uid, pw.pw_gid


def dovetail_bin() -> str:
    b = os.environ.get("DOVETAIL_BIN")
    if b:
        return b
    src = Path(os.environ.get("DOVETAIL_SOURCE_DIR", Path(__file__).resolve().parents[2]))
    for cand in [src / "build/release/dovetail", src / "build/release/apps/dovetail",
                 src / "build/h-e2e/apps/dovetail", src / "build/h-e2e/dovetail"]:
        if cand.exists():
            return str(cand)
    raise missing_prerequisite("DOVETAIL_BIN not set and no built dovetail found")


# ----------------------------------------------------------------------------- config

@dataclass
class Setup:
    """What the config says; the Server derives everything else from it."""
    extra_settings: list[str] = field(default_factory=list)   # top-level `k = v` lines
    extra_lmtp_service: list[str] = field(default_factory=list)
    extra_users: list[str] = field(default_factory=list)
    ipv6: bool = True
    unix: bool = True
    autocreate: bool = True   # lda_mailbox_autocreate / lda_mailbox_autosubscribe


class Workdir:
    """WORK/dovecot.conf, WORK/users.passwd, WORK/run (base_dir), WORK/mail (mail root)."""

    def __init__(self, prefix="dovetail-e2e-"):
        self.path = Path(tempfile.mkdtemp(prefix=prefix))
        os.chmod(self.path, 0o755)  # the mail uid must traverse it
        self.conf = self.path / "dovecot.conf"
        self.users = self.path / "users.passwd"
        self.base_dir = self.path / "run"
        self.mail_root = self.path / "mail"
        self.log_dir = self.path / "log"

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)

    def write(self, setup: Setup, port: int) -> Path:
        uid, gid = ensure_mail_user()
        for d in (self.base_dir, self.path / "state", self.log_dir, self.mail_root,
                  self.path / "tmp"):
            d.mkdir(parents=True, exist_ok=True)
        os.chown(self.mail_root, uid, gid)
        os.chmod(self.mail_root, 0o700)
        os.chmod(self.path / "tmp", 0o1777)
        # erin: the directory her Maildir would live in is a plain file -> not creatable.
        dom = self.mail_root / DOMAIN
        dom.mkdir(exist_ok=True)
        os.chown(dom, uid, gid)
        erin = dom / "erin"
        if not erin.exists():
            erin.write_text("not a directory\n")
        users = [f"{u}@{DOMAIN}" for u in USERS] + list(setup.extra_users)
        self.users.write_text("".join(f"{u}:{{PLAIN}}secret::::::\n" for u in users),
                              encoding="utf-8")
        os.chmod(self.users, 0o644)
        addrs = "127.0.0.1" + (", ::1" if setup.ipv6 else "")
        listeners = [f"""  inet_listener lmtp {{
    address = {addrs}
    port = {port}
  }}"""]
        if setup.unix:
            listeners.append("""  unix_listener lmtp {
    mode = 0666
  }""")
        lmtp_extra = "".join(f"  {l}\n" for l in setup.extra_lmtp_service)
        yn = "yes" if setup.autocreate else "no"
        top_extra = "".join(f"{l}\n" for l in setup.extra_settings)
        text = f"""# Dovetail end-to-end test configuration (Dovecot 2.3 syntax)
instance_name = e2e-{self.path.name}
hostname = {HOSTNAME}
postmaster_address = postmaster@{DOMAIN}
protocols = lmtp
listen = 127.0.0.1
ssl = no
base_dir = {self.base_dir}
state_dir = {self.path}/state
log_path = {self.log_dir}/dovecot.log
info_log_path = {self.log_dir}/info.log
mail_temp_dir = {self.path}/tmp

first_valid_uid = {uid}
mail_uid = {MAIL_USER}
mail_gid = {MAIL_USER}
mail_location = maildir:{self.mail_root}/%d/%n/Maildir

recipient_delimiter = +
lmtp_save_to_detail_mailbox = yes
lda_mailbox_autocreate = {yn}
lda_mailbox_autosubscribe = {yn}

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.users}
}}

service lmtp {{
{chr(10).join(listeners)}
{lmtp_extra}}}
{top_extra}"""
        self.conf.write_text(text, encoding="utf-8")
        return self.conf

    def maildir(self, user: str, folder: str = "") -> Path:
        local, _, dom = user.partition("@")
        md = self.mail_root / (dom or DOMAIN) / local / "Maildir"
        return md / folder if folder else md


# ----------------------------------------------------------------------------- servers

@dataclass
class Endpoints:
    tcp: tuple[str, int]
    tcp6: tuple[str, int] | None
    unix: str | None


class Server:
    """A running LMTP server under test. start() returns the endpoints."""
    kind = "abstract"

    def __init__(self, setup: Setup | None = None):
        self.setup = setup or Setup()
        if self.setup.ipv6 and not have_ipv6():
            self.setup.ipv6 = False
        self.work = Workdir()
        self.endpoints: Endpoints | None = None
        self.proc: subprocess.Popen | None = None

    @property
    def mail_root(self) -> Path:
        return self.work.mail_root

    def maildir(self, user: str, folder: str = "") -> Path:
        return self.work.maildir(user, folder)

    def start(self) -> Endpoints:
        raise NotImplementedError

    def stop(self):
        raise NotImplementedError

    def kill9(self, only_main=False):
        raise NotImplementedError

    def cleanup(self):
        try:
            self.stop()
        finally:
            if os.environ.get("DOVETAIL_KEEP_TMP"):
                print(f"kept {self.work.path}")
            else:
                self.work.cleanup()

    def logs(self) -> str:
        out = []
        for f in sorted(self.work.log_dir.glob("*")):
            try:
                out.append(f"== {f.name}\n" + f.read_text(errors="replace")[-4000:])
            except OSError:
                pass
        return "\n".join(out)


def _probe(ep, timeout=2.0) -> bool:
    s = None
    try:
        if isinstance(ep, str):
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(timeout)
            s.connect(ep)
        else:
            s = socket.create_connection(ep, timeout=timeout)
        data = s.recv(512)
        s.sendall(b"QUIT\r\n")
        return data.startswith(b"220")
    except OSError:
        return False
    finally:
        if s is not None:
            s.close()


LISTEN_RE = re.compile(r"listening on (?:unix:(?P<path>\S+)|\[?(?P<host>[0-9a-fA-F.:]+?)\]?:(?P<port>[0-9]+))\s*$")


class DovetailServer(Server):
    kind = "dovetail"

    def __init__(self, setup=None):
        super().__init__(setup)
        self.bin = dovetail_bin()
        self.stderr_lines: list[str] = []
        self.config_port = 0
        self._lines_cv = threading.Condition()
        self.port0 = os.environ.get("DOVETAIL_E2E_PORT0", "1") != "0"

    def _reader(self, stream):
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lines_cv:
                self.stderr_lines.append(line)
                self._lines_cv.notify_all()
        with self._lines_cv:
            self._lines_cv.notify_all()

    def start(self, timeout=20.0) -> Endpoints:
        self.config_port = port = 0 if self.port0 else free_port_both(self.setup.ipv6)
        self.work.write(self.setup, port)
        try:
            return self._launch(timeout)
        except RuntimeError:
            if not self.port0:
                raise
            # `port = 0` not supported (or no listening lines): use a free port instead.
            self.port0 = False
            self.config_port = free_port_both(self.setup.ipv6)
            self.work.write(self.setup, self.config_port)
            return self._launch(timeout)

    def _launch(self, timeout) -> Endpoints:
        with self._lines_cv:
            self.stderr_lines = []
        self.proc = subprocess.Popen([self.bin, "serve", "-c", str(self.work.conf)],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        self._reader_thread = threading.Thread(target=self._reader, args=(self.proc.stderr,), daemon=True)
        self._reader_thread.start()
        deadline = time.monotonic() + timeout
        tcp = tcp6 = unix = None
        while time.monotonic() < deadline:
            with self._lines_cv:
                for line in self.stderr_lines:
                    m = LISTEN_RE.search(line)
                    if not m:
                        continue
                    if m.group("path"):
                        unix = m.group("path")
                    elif ":" in m.group("host"):
                        tcp6 = (m.group("host"), int(m.group("port")))
                    else:
                        tcp = (m.group("host"), int(m.group("port")))
                want_unix = not self.setup.unix or unix
                want6 = not self.setup.ipv6 or tcp6
                if tcp and want_unix and want6:
                    break
                if self.proc.poll() is not None:
                    break
                if self.config_port and not tcp and _probe(("127.0.0.1", self.config_port), 0.5):
                    # no listening lines printed: fall back to the configured endpoints
                    tcp = ("127.0.0.1", self.config_port)
                    tcp6 = ("::1", self.config_port) if self.setup.ipv6 else None
                    break
                self._lines_cv.wait(0.1)
        if self.proc.poll() is not None or tcp is None:
            err = "\n".join(self.stderr_lines[-30:])
            self._terminate()
            raise RuntimeError(f"dovetail serve did not come up (rc={self.proc.returncode}):\n{err}")
        if unix is None and self.setup.unix:
            unix = str(self.work.base_dir / "lmtp")
        self.endpoints = Endpoints(tcp, tcp6, unix)
        # The listening line may precede accept(); wait for a real greeting.
        while time.monotonic() < deadline and not _probe(tcp):
            time.sleep(0.05)
        return self.endpoints

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def _terminate(self, sig=signal.SIGTERM, wait=15.0):
        if self.proc is None or self.proc.poll() is not None:
            self._close_stderr()
            return
        try:
            os.kill(self.proc.pid, sig)
            self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        except ProcessLookupError:
            pass
        self._close_stderr()

    def _close_stderr(self):
        """Joins the stderr reader once the daemon is gone, then closes the pipe. Left to the
        interpreter's exit, closing a pipe that a daemon thread still reads can deadlock it
        (seen in CI: all tests passed, then the process hung until ctest's timeout)."""
        thread = getattr(self, "_reader_thread", None)
        if thread is not None:
            thread.join(5)
            if thread.is_alive():
                return  # a helper still holds the pipe: leave it to that helper's exit
            self._reader_thread = None
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()

    def stop(self):
        self._terminate()

    def kill9(self, only_main=False):
        """SIGKILL the daemon and any helper processes of its session (its own, by pid);
        only_main: just the process we started (its helpers must notice and go away)."""
        if self.proc is None:
            return
        try:
            if only_main:
                os.kill(self.proc.pid, signal.SIGKILL)
            else:
                os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)
        self._close_stderr()

    def live_group_members(self) -> list[str]:
        """Processes (not zombies) still in the started daemon's process group."""
        out = []
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2:].split()
            if fields[0] != "Z" and int(fields[2]) == self.proc.pid:
                out.append(f"{d.name} {stat[stat.find('(') + 1:stat.rfind(')')]}")
        return out

    def restart(self) -> Endpoints:
        """Start again on the same config. With port 0 the ports change: read endpoints."""
        return self._launch(20.0)

    def logs(self) -> str:
        return super().logs() + "\n== stderr\n" + "\n".join(self.stderr_lines[-60:])


class DovecotServer(Server):
    kind = "dovecot"

    def start(self, timeout=30.0) -> Endpoints:
        if shutil.which("dovecot") is None:
            raise missing_prerequisite("dovecot not installed")
        port = free_port_both(self.setup.ipv6)
        conf = self.work.write(self.setup, port)
        r = subprocess.run(["doveconf", "-c", str(conf), "-n"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"doveconf rejected the test config:\n{r.stderr}")
        with open(self.work.log_dir / "master.out", "wb") as out:
            self.proc = subprocess.Popen(["dovecot", "-F", "-c", str(conf)],
                                         stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        tcp = ("127.0.0.1", port)
        tcp6 = ("::1", port) if self.setup.ipv6 else None
        unix = str(self.work.base_dir / "lmtp") if self.setup.unix else None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dovecot exited during start-up:\n" + self.logs())
            if _probe(tcp) and (not unix or _probe(unix)) and (not tcp6 or _probe(tcp6)):
                self.endpoints = Endpoints(tcp, tcp6, unix)
                return self.endpoints
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("dovecot did not come up:\n" + self.logs())

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        # What stop-dovecot does (SIGTERM to our master), without its 15 s child polling.
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # our own session only
            except ProcessLookupError:
                pass
            self.proc.wait(5)

    def kill9(self, only_main=False):
        """SIGKILL the master and its children (our own process group); killing the master
        alone would leave its lmtp children serving (not exercised)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)
        self._close_stderr()

    def restart(self) -> Endpoints:
        return self.start()


def make_server(setup: Setup | None = None) -> Server:
    return DovecotServer(setup) if KIND == "dovecot" else DovetailServer(setup)


class ServerTestCase(unittest.TestCase):
    """One server per test class (started in setUpClass, stopped in tearDownClass)."""
    setup_config: Setup | None = None

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise missing_prerequisite("end-to-end tests need root (mail_uid vmail, chown, "
                                       "a private Dovecot/Postfix)")
        cls.server = make_server(cls.setup_config)
        try:
            cls.ep = cls.server.start()
        except BaseException:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def connect(self, where="tcp") -> "LmtpConn":
        ep = {"tcp": self.ep.tcp, "tcp6": self.ep.tcp6, "unix": self.ep.unix}[where]
        if ep is None:
            raise missing_prerequisite(f"no {where} endpoint (no IPv6 on this host?)")
        c = LmtpConn(ep)
        self.addCleanup(c.close)
        return c

    def clear_mail(self):
        """Empty every Maildir between tests, keeping the erin trap."""
        for dom in self.server.mail_root.iterdir():
            for u in dom.iterdir():
                if u.is_dir():
                    shutil.rmtree(u, ignore_errors=True)


# ----------------------------------------------------------------------------- client

class LmtpConn:
    """A raw LMTP client: line-exact, no interpretation (so it can speak nonsense too)."""

    def __init__(self, ep, timeout=30.0):
        if isinstance(ep, str):
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(timeout)
            try:
                self.sock.connect(ep)
            except OSError:
                self.sock.close()
                raise
        else:
            self.sock = socket.create_connection(ep, timeout=timeout)
        self.buf = b""
        self.log: list[str] = []
        try:
            self.greeting = self.read_line()
        except BaseException:
            self.sock.close()
            raise

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes):
        self.log.append("C: " + data[:200].decode("utf-8", "replace").rstrip("\r\n")
                        + (" ..." if len(data) > 200 else ""))
        self.sock.sendall(data)

    def send_line(self, line: str | bytes):
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.send(line + b"\r\n")

    def read_line(self) -> str:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed connection; transcript:\n"
                                      + "\n".join(self.log[-20:]))
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        s = line.decode("utf-8", "replace")
        self.log.append("S: " + s)
        return s

    def read_reply(self) -> list[str]:
        """One (possibly multi-line) reply."""
        lines = [self.read_line()]
        while len(lines[-1]) >= 4 and lines[-1][3] == "-":
            lines.append(self.read_line())
        return lines

    def cmd(self, line) -> list[str]:
        self.send_line(line)
        return self.read_reply()

    def closed_by_peer(self, timeout=5.0) -> bool:
        self.sock.settimeout(timeout)
        try:
            if self.buf:
                return False
            return self.sock.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def lhlo(self):
        return self.cmd(f"LHLO {LHLO_NAME}")

    def data(self, message: bytes, nrcpt: int) -> list[str]:
        """DATA with dot-stuffing; returns the per-recipient final lines."""
        r = self.cmd("DATA")
        if not r[0].startswith("354"):
            return r
        self.send(dot_stuff(message) + b".\r\n")
        return [self.read_line() for _ in range(nrcpt)]


def dot_stuff(message: bytes) -> bytes:
    if message and not message.endswith(b"\r\n"):
        message += b"\r\n"
    out = []
    for line in message.split(b"\r\n")[:-1] if message else []:
        out.append((b"." + line) if line.startswith(b".") else line)
    return b"".join(l + b"\r\n" for l in out)


# ----------------------------------------------------------------------------- matching

class Matcher:
    """An expected reply line: exact text, `<SID>`/`<ID>`/`<TIMESTAMP>` placeholders,
    or a trailing ` …` for "this prefix, free text after"."""

    def __init__(self, text: str):
        self.text = text
        prefix = text.endswith(" …")
        body = text[:-2] if prefix else text
        parts = re.split(r"(<SID>|<ID>|<TIMESTAMP>)", body)
        rx = ""
        for p in parts:
            if p == "<SID>":
                rx += f"(?P<sid{len(rx)}>{SID_RE})"
            elif p == "<ID>":
                rx += f"(?P<id{len(rx)}>{ID_RE})"
            elif p == "<TIMESTAMP>":
                rx += TIMESTAMP_RE
            else:
                rx += re.escape(p)
        self.rx = re.compile(rx + (r"(?: .*)?" if prefix else "") + r"\Z", re.S)

    def match(self, line: str):
        return self.rx.match(line)

    def __repr__(self):
        return self.text


def expect_lines(tc: unittest.TestCase, got: list[str], expected: list[str], where="",
                 context=""):
    """Assert that `got` matches `expected` line by line; returns the ids captured in order."""
    ids = []
    msgs = []
    for i in range(max(len(got), len(expected))):
        g = got[i] if i < len(got) else "<nothing>"
        e = expected[i] if i < len(expected) else "<nothing>"
        m = Matcher(e).match(g) if i < len(expected) and i < len(got) else None
        if m is None:
            msgs.append(f"  expected: {e}\n  actual:   {g}")
        else:
            ids.extend(v for v in m.groupdict().values() if v)
    if msgs:
        tc.fail(f"{where}\n" + "\n".join(msgs) + context)
    return ids


Step = tuple  # (client line | bytes | None, [expected reply lines])


def run_script(tc: unittest.TestCase, conn: LmtpConn, steps: list[Step], title=""):
    """Replay a transcript: each step sends one client line (str) or raw bytes and reads
    exactly as many lines as expected. Returns the ids seen (reply order)."""
    ids = []
    for n, (send, expected) in enumerate(steps):
        if isinstance(send, bytes):
            conn.send(send)
        elif send is not None:
            conn.send_line(send)
        if expected is LHLO:
            check_lhlo(tc, conn.read_reply(), f"{title} step {n + 1}")
            continue
        got = []
        try:
            for _ in expected:
                got.append(conn.read_line())
        except (ConnectionError, socket.timeout, OSError) as e:
            got.append(f"<{type(e).__name__}>")
        shown = send if isinstance(send, str) else (repr(send[:60]) if send else "(none)")
        ids += expect_lines(tc, got, expected, f"[{title}] step {n + 1} C: {shown}",
                            "\n  transcript:\n    " + "\n    ".join(conn.log[-12:]))
    return ids


def sid_of(reply_id: str) -> str:
    return reply_id.split(":", 1)[0]


def transaction_id(reply_id: str) -> str:
    """The Received: header's id: the reply's id without the `:R<n>` recipient suffix
    (Dovecot: reply `<SID>:T2:R2`, header `id <SID>:T2`)."""
    return re.sub(r":R[0-9]+$", "", reply_id)


# ----------------------------------------------------------------------------- maildir

@dataclass
class StoredMail:
    path: Path
    name: dict
    data: bytes

    @property
    def headers_text(self) -> str:
        return self.data.split(b"\n\n", 1)[0].decode("utf-8", "replace") + "\n"


def list_mail(folder: Path, sub="new") -> list[StoredMail]:
    d = folder / sub
    if not d.is_dir():
        return []
    out = []
    for p in sorted(d.iterdir()):
        m = MAILDIR_NAME_RE.match(p.name)
        out.append(StoredMail(p, m.groupdict() if m else {}, p.read_bytes()))
    return out


def count_files(folder: Path, sub: str) -> int:
    d = folder / sub
    return len(list(d.iterdir())) if d.is_dir() else 0


def all_messages(root: Path):
    """Every file in any new/ or cur/ under root (any user, any folder)."""
    for dirpath, dirnames, filenames in os.walk(root):
        if os.path.basename(dirpath) in ("new", "cur"):
            for f in filenames:
                yield Path(dirpath) / f


def assert_maildir_name(tc, mail: StoredMail):
    tc.assertTrue(mail.name, f"maildir file name {mail.path.name!r} does not match "
                             f"<secs>.M<usecs>P<pid>.<host>,S=<size>,W=<vsize>")
    tc.assertEqual(mail.name["host"], socket.gethostname().replace("/", r"\057")
                   .replace(":", r"\072"), f"host part of {mail.path.name}")
    tc.assertEqual(int(mail.name["size"]), len(mail.data), f"S= of {mail.path.name}")
    tc.assertEqual(int(mail.name["vsize"]), len(mail.data) + mail.data.count(b"\n"),
                   f"W= of {mail.path.name} (size with CRLF)")
    tc.assertNotIn(b"\r\n", mail.data, f"{mail.path.name} must be stored with LF endings")
    st = mail.path.stat()
    tc.assertEqual(st.st_mode & 0o777, 0o600, f"mode of {mail.path.name}")
    tc.assertEqual(st.st_uid, pwd.getpwnam(MAIL_USER).pw_uid, f"owner of {mail.path.name}")


def received_header(sender: str, rid: str, rcpt: str | None, peer: str | None,
                    helo=LHLO_NAME, utf8=False) -> str:
    """Dovecot's Received: header, date as <DATE>."""
    frm = f"from {helo}" + (f" ([{peer}])" if peer else "")
    h = (f"Received: {frm}\n\tby {HOSTNAME} with {'UTF8LMTP' if utf8 else 'LMTP'}\n"
         f"\tid {rid}\n\t(envelope-from <{sender}>)")
    h += f"\n\tfor <{rcpt}>; <DATE>\n" if rcpt else "; <DATE>\n"
    return h


def normalise_date(text: str) -> str:
    return re.sub(r"; " + DATE_RE + r"\n", "; <DATE>\n", text)


def trace_headers(sender, rid, rcpt=None, peer="127.0.0.1", delivered_to=None) -> str:
    h = f"Return-Path: <{sender}>\n"
    if delivered_to:
        h += f"Delivered-To: {delivered_to}\n"
    return h + received_header(sender, rid, rcpt, peer)


def make_message(token: str = "hello", extra_body: str = "") -> bytes:
    """The 166-octet message of COMPAT.md's transcripts (with token as Subject)."""
    return (f"From: <sender@remote.example>\r\nTo: <alice@test.example>\r\n"
            f"Subject: {token}\r\nDate: Mon, 23 Nov 2026 12:00:00 +0000\r\n"
            f"Message-ID: <fixed-1@remote.example>\r\n\r\nHello world.\r\n{extra_body}"
            ).encode()


def lf(message: bytes) -> bytes:
    return message.replace(b"\r\n", b"\n")


# ----------------------------------------------------------------------------- LHLO

DOVECOT_LHLO = [f"250-{HOSTNAME}", "250-8BITMIME", "250-CHUNKING", "250-ENHANCEDSTATUSCODES",
                "250 PIPELINING"]
SIZE_DEFAULT = 64 * 1024 * 1024
DOVETAIL_KEYWORDS = {"8BITMIME", "CHUNKING", "DSN", "ENHANCEDSTATUSCODES", "PIPELINING",
                     f"SIZE {SIZE_DEFAULT}", "SMTPUTF8"}
OPTIONAL_KEYWORDS = {"BINARYMIME"}


class _Lhlo:
    """Sentinel for run_script: read one LHLO reply and check it with check_lhlo()."""

    def __repr__(self):
        return "<LHLO capability reply>"


LHLO = _Lhlo()


def check_lhlo(tc: unittest.TestCase, lines: list[str], where=""):
    if not is_dovetail():
        expect_lines(tc, lines, DOVECOT_LHLO, where + " LHLO")
        return
    tc.assertEqual(lines[0], f"250-{HOSTNAME}", where + " LHLO first line")
    for l in lines[:-1]:
        tc.assertTrue(l.startswith("250-"), f"{where} LHLO continuation line {l!r}")
    tc.assertTrue(lines[-1].startswith("250 "), f"{where} LHLO last line {lines[-1]!r}")
    kws = [l[4:] for l in lines[1:]]
    tc.assertEqual(kws, sorted(kws, key=lambda k: k.split()[0]),
                   f"{where} LHLO keywords alphabetical")
    tc.assertEqual(len(kws), len(set(kws)), f"{where} LHLO keywords without duplicates")
    tc.assertEqual(set(kws) - OPTIONAL_KEYWORDS, DOVETAIL_KEYWORDS,
                   f"{where} LHLO keywords\n  expected: {sorted(DOVETAIL_KEYWORDS)}\n"
                   f"  actual:   {kws}")


def advertises(lines: list[str], kw: str) -> bool:
    return any(l[4:].split()[0] == kw for l in lines[1:])
