"""Differential test: the same sessions replayed against Dovecot 2.3 (the oracle) and Dovetail,
reply by reply and stored file by stored file.

The corpus covers the corners COMPAT.md does not spell out (case, spacing, odd addresses,
parameter spellings, odd BDAT arguments, odd message shapes). Where COMPAT.md says Dovetail
deliberately differs (SIZE/DSN/SMTPUTF8 parameters, UTF-8 addresses, LF.LF) the corpus
simply does not go. Every other difference is reported: expected (Dovecot) vs actual.
Needs Dovecot installed; runs only against Dovetail.
"""

import re
import shutil
import socket
import time
import unittest

from dovetail_testlib import (DATE_RE, ID_RE, TIMESTAMP_RE, DovecotServer, DovetailServer,
                              LmtpConn, is_dovetail, list_mail, requires)

M = "MAIL FROM:<sender@remote.example>"
R = "RCPT TO:<alice@test.example>"

# (name, lines sent after `LHLO client.test.example`)
SESSIONS = [
    ("mail-lowercase", ["mail from:<sender@remote.example>"]),
    ("mail-mixedcase", ["Mail From:<sender@remote.example>"]),
    ("mail-space-after-colon", ["MAIL FROM: <sender@remote.example>"]),
    ("mail-trailing-space", ["MAIL FROM:<sender@remote.example> "]),
    ("mail-double-space", ["MAIL  FROM:<sender@remote.example>"]),
    ("mail-quoted-local", ['MAIL FROM:<"send er"@remote.example>']),
    ("mail-source-route", ["MAIL FROM:<@a.example,@b.example:sender@remote.example>"]),
    ("mail-no-domain", ["MAIL FROM:<sender>"]),
    ("mail-empty-domain", ["MAIL FROM:<sender@>"]),
    ("mail-ip-literal", ["MAIL FROM:<sender@[192.0.2.1]>"]),
    ("mail-double-bracket", ["MAIL FROM:<<sender@remote.example>>"]),
    ("mail-body-lowercase", [M + " BODY=7bit", "RSET", M + " body=8bitmime"]),
    ("mail-body-bogus", [M + " BODY=FOO"]),
    ("mail-body-empty", [M + " BODY="]),
    ("mail-body-novalue", [M + " BODY"]),
    ("mail-body-twice", [M + " BODY=7BIT BODY=8BITMIME"]),
    ("mail-auth-param", [M + " AUTH=<>"]),
    ("mail-unbalanced", ["MAIL FROM:<sender@remote.example"]),
    ("mail-colon-only", ["MAIL FROM:"]),
    ("mail-to-instead", ["MAIL TO:<sender@remote.example>"]),
    ("rcpt-lowercase", [M, "rcpt to:<alice@test.example>"]),
    ("rcpt-space-after-colon", [M, "RCPT TO: <alice@test.example>"]),
    ("rcpt-trailing-space", [M, "RCPT TO:<alice@test.example> "]),
    ("rcpt-mixed-case-user", [M, "RCPT TO:<Alice@Test.Example>"]),
    ("rcpt-quoted-space", [M, 'RCPT TO:<"al ice"@test.example>']),
    ("rcpt-source-route", [M, "RCPT TO:<@a.example:alice@test.example>"]),
    ("rcpt-postmaster", [M, "RCPT TO:<postmaster>", "RCPT TO:<Postmaster>"]),
    ("rcpt-dots", [M, "RCPT TO:<alice.@test.example>", "RCPT TO:<.alice@test.example>",
                   "RCPT TO:<al..ice@test.example>"]),
    ("rcpt-domain-dots", [M, "RCPT TO:<alice@test.example.>", "RCPT TO:<alice@test..example>"]),
    ("rcpt-orcpt-variants", [M, R + " ORCPT=RFC822;x@y.example", R + " ORCPT=utf-8;x@y.example",
                             R + " ORCPT=rfc822;", R + " ORCPT=bogus", R + " ORCPT=rfc822;a+2",
                             R + " ORCPT=rfc822;a+2B@y.example"]),
    ("rcpt-unknown-param", [M, R + " FOO=BAR", R + " FOO"]),
    ("param-spacing-case", [M + "  BODY=7BIT", "RSET", M + " BODY=7BIT ", "RSET", M,
                            R + "  ORCPT=rfc822;x@y.example", R + " orcpt=rfc822;x@y.example",
                            R + " ORCPT=rfc822;x@y.example ORCPT=rfc822;z@y.example",
                            R + " ORCPT=rfc822;x@y.example\t"]),
    ("rcpt-percent-bang", [M, "RCPT TO:<alice%test.example@test.example>",
                           "RCPT TO:<test.example!alice@test.example>", "RCPT TO:<+x@test.example>",
                           "RCPT TO:<alice@test.example@test.example>"]),
    ("rcpt-ctrl", [M, "RCPT TO:<ali\x01ce@test.example>", "RCPT TO:<alice\x7f@test.example>"]),
    ("rcpt-long-local", [M, "RCPT TO:<" + "a" * 300 + "@test.example>"]),
    ("rcpt-detail-twice", [M, "RCPT TO:<alice+x+y@test.example>", "RCPT TO:<bob+@test.example>"]),
    ("rcpt-missing-to", [M, "RCPT <alice@test.example>", "RCPT", "RCPT TO:"]),
    ("vrfy-variants", ["VRFY", "VRFY <alice@test.example>", "vrfy alice", "EXPN list"]),
    ("misc-commands", ["TURN", "ETRN x", "AUTH PLAIN", "SEND FROM:<a@b>", "SAML", "SOML",
                       "BURL x"]),
    ("empty-and-space-lines", ["", " ", "\t", "NOOP"]),
    ("lowercase-verbs", ["noop", "rset", "vrfy x", "Noop"]),
    ("data-with-arg", [M, R, "DATA x"]),
    ("bdat-args", [M, R, "BDAT", "BDAT x", "BDAT -1", "BDAT 1x"]),
    ("bdat-extra-arg", [M, R, "BDAT 5 LAST extra", "RSET", "NOOP"]),
    ("bdat-huge", [M, R, "BDAT 99999999999999999999 LAST"]),
    ("bdat-lowercase-last", [M, R, "BDAT 0 last"]),
    ("bdat-after-last", [M, R, "BDAT 0 LAST", "BDAT 0 LAST", "DATA"]),
    ("bdat-zero-not-last", [M, R, "BDAT 0", "BDAT 0", "DATA", "RSET"]),
    ("data-twice", [M, "RCPT TO:<nobody@test.example>", "DATA", "DATA", "RSET", "DATA"]),
    ("rcpt-after-rset-needs-mail", [M, R, "RSET", "DATA", "BDAT 0 LAST"]),
    ("many-recipients", [M] + [R] * 60 + ["RCPT TO:<bob@test.example>", "RSET"]),
    ("lhlo-resets", [M, R, "LHLO again.example", "DATA"]),
    ("lhlo-variants", ["LHLO a b", "LHLO [127.0.0.1]", "LHLO [IPv6:::1]", "LHLO bad_name!",
                       "lhlo x.example"]),
    ("quit-lowercase", ["quit"]),
    ("rset-in-transaction", [M, R, "RSET", R, M, R]),
    ("double-rcpt-unknown", [M, "RCPT TO:<nobody@test.example>",
                             "RCPT TO:<nobody@test.example>", "DATA"]),
    ("noop-variants", ["NOOP  ", "NOOP \"quoted string\"", "NOOP a\tb"]),
]

# Differences COMPAT.md records but does not require (session name, client line) -> why
ALLOWED = {
    ("bdat-after-last", "DATA"): "COMPAT 19: 'Previous data chunk failed' is recorded only",
}

# (name, MAIL line, RCPT lines, raw DATA body without the final dot line)
MESSAGES = [
    ("headers-only-no-blank", M, [R], b"Subject: only headers\r\n"),
    ("body-only", M, [R], b"\r\njust a body\r\n"),
    ("no-headers-no-blank", M, [R], b"not a header line\r\nsecond\r\n"),
    ("starts-with-dot", M, [R], b"..leading\r\n"),
    ("existing-trace-headers", M, [R],
     b"Return-Path: <forged@evil.example>\r\nDelivered-To: someone@else.example\r\n"
     b"Received: from elsewhere by elsewhere; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
     b"Subject: trace\r\n\r\nbody\r\n"),
    ("lone-cr", M, [R], b"Subject: cr\r\n\r\na\rb\r\n"),
    ("long-header", M, [R], b"Subject: " + b"h" * 5000 + b"\r\n\r\nbody\r\n"),
    ("folded-header", M, [R], b"Subject: a\r\n\tfolded\r\n continued\r\n\r\nbody\r\n"),
    ("no-final-newline-before-dot", M, [R], b"Subject: x\r\n\r\nbody"),
    ("null-sender-multi", "MAIL FROM:<>", [R, "RCPT TO:<bob@test.example>"],
     b"Subject: multi\r\n\r\nbody\r\n"),
    ("quoted-rcpt", M, ['RCPT TO:<"alice"@test.example>'], b"Subject: q\r\n\r\nbody\r\n"),
    ("uppercase-rcpt", M, ["RCPT TO:<ALICE@TEST.EXAMPLE>"], b"Subject: u\r\n\r\nbody\r\n"),
    ("detail-rcpt-single", M, ["RCPT TO:<alice+Work@test.example>"],
     b"Subject: d\r\n\r\nbody\r\n"),
    ("sender-quoted", 'MAIL FROM:<"a b"@remote.example>', [R], b"Subject: s\r\n\r\nbody\r\n"),
    # (..., LHLO argument): None = no LHLO at all
    ("no-lhlo", M, [R], b"Subject: nolhlo\r\n\r\nbody\r\n", None),
    ("lhlo-ip-literal", M, [R], b"Subject: lit\r\n\r\nbody\r\n", "[127.0.0.1]"),
    ("lhlo-odd-name", M, [R], b"Subject: odd\r\n\r\nbody\r\n", "bad_name!"),
    ("lhlo-8bit", M, [R], b"Subject: h8\r\n\r\nbody\r\n", "h\u00e9llo.example"),
    ("lhlo-trailing-dot", M, [R], b"Subject: td\r\n\r\nbody\r\n", "client.test.example."),
    ("lhlo-underscore", M, [R], b"Subject: us\r\n\r\nbody\r\n", "my_host.example"),
    ("lhlo-uppercase", M, [R], b"Subject: up\r\n\r\nbody\r\n", "CLIENT.Test.Example"),
    ("header-8bit", M, [R], b"Subject: \xe4\xf6\r\nX-Raw: \xff\r\n\r\nbody\r\n"),
    ("header-without-colon", M, [R], b"Subject: x\r\nnot a header\r\n\r\nbody\r\n"),
    ("crlf-only-body", M, [R], b"\r\n"),
    # BDAT: a list of chunks instead of one DATA body (the last one is sent with LAST)
    ("bdat-crlf-split", M, [R], [b"Subject: split\r\n\r\nline one\r", b"\nline two\r\n"]),
    ("bdat-dots-not-unstuffed", M, [R], [b"Subject: dots\r\n\r\n..two dots\r\n.\r\n", b""]),
    ("bdat-no-final-crlf", M, [R], [b"Subject: nocrlf\r\n\r\nno newline at end"]),
    ("bdat-bare-lf", M, [R], [b"Subject: lf\n\nbare\nlf\n"]),
    ("bdat-empty-chunks", M, [R], [b"", b"Subject: e\r\n\r\nbody\r\n", b""]),
    ("bdat-nul", M, [R, "RCPT TO:<bob@test.example>"], [b"Subject: nul\r\n\r\na\x00b\r\n"]),
]


EXTRAS = re.compile(r"^250[- ](DSN|SIZE( [0-9]+)?|SMTPUTF8|BINARYMIME)$")


def norm_reply(lines: list[str]) -> str:
    """One reply as text; an LHLO reply without the keywords Dovetail adds on purpose."""
    if lines and lines[0].startswith("250-") and len(lines) > 1:
        kept = [l for l in lines if not EXTRAS.match(l)]
        kept = [l[:3] + "-" + l[4:] for l in kept[:-1]] + [kept[-1][:3] + " " + kept[-1][4:]]
        lines = kept
    return " | ".join(norm(l) for l in lines)


def norm(line: str) -> str:
    line = re.sub(ID_RE, "<ID>", line) if re.search(r"[A-Za-z0-9+/]{22}", line) else line
    return re.sub(TIMESTAMP_RE, "[<TIMESTAMP>]", line)


def norm_file(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    text = re.sub(r"\n\tid " + ID_RE + "\n", "\n\tid <ID>\n", text)
    return re.sub(r"; " + DATE_RE + r"\n", "; <DATE>\n", text)


def replay(ep, lines):
    c = LmtpConn(ep, timeout=10)
    out = []
    try:
        c.lhlo()
        for line in lines:
            c.send_line(line)
            try:
                out.append(norm_reply(c.read_reply()))
            except (ConnectionError, OSError) as e:
                out.append(f"<{type(e).__name__}: connection closed>")
                break
    finally:
        c.close()
    return out


@unittest.skipUnless(is_dovetail(), "differential test runs against Dovetail (Dovecot is the reference)")
@requires(shutil.which("dovecot"), "the differential test needs Dovecot installed")
class Differential(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.ref = DovecotServer()
        cls.dut = DovetailServer()
        try:
            cls.ref.start()
            cls.dut.start()
        except BaseException:
            cls.ref.cleanup()
            cls.dut.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.ref.cleanup()
        cls.dut.cleanup()

    def test_sessions_reply_like_dovecot(self):
        diffs = []
        for name, lines in SESSIONS:
            want = replay(self.ref.endpoints.tcp, lines)
            got = replay(self.dut.endpoints.tcp, lines)
            for i, line in enumerate(lines):
                w = want[i] if i < len(want) else "<nothing>"
                g = got[i] if i < len(got) else "<nothing>"
                if w != g and (name, line) not in ALLOWED:
                    diffs.append(f"[{name}] C: {line[:80]!r}\n  expected: {w}\n  actual:   {g}")
        self.maxDiff = None
        self.assertEqual([], diffs, "\n" + "\n".join(diffs))

    def test_disconnect_log_lines_like_dovecot(self):
        # Log watchers (fail2ban filters, log summaries) written for Dovecot read the reason
        # and the state in "Disconnect from <ip>: <reason> (state=<STATE>)". The client reads
        # every reply before it closes, so the close is an orderly FIN on both servers.
        scenarios = [
            ("quit", ["LHLO c", "QUIT"], None),
            ("at-greeting", [], None),
            ("after-lhlo", ["LHLO c"], None),
            ("mail-without-lhlo", [M], None),
            ("after-mail", ["LHLO c", M], None),
            ("after-rcpt", ["LHLO c", M, R], None),
            ("mid-data", ["LHLO c", M, R, "DATA"], b"Subject: half\r\n"),
            ("mid-bdat-chunk", ["LHLO c", M, R, "BDAT 100"], b"abc"),
            ("between-bdat-chunks", ["LHLO c", M, R, "BDAT 3"], None),
            ("delivered", ["LHLO c", M, R, "DATA"], b"Subject: x\r\n\r\nx\r\n.\r\n"),
            ("invalid-commands", ["LHLO c"] + ["FOO"] * 11, None),
            ("unix-quit", ["LHLO c", "QUIT"], None),  # over the UNIX socket: "from local"
            ("unix-after-mail", ["LHLO c", M], None),
        ]

        def run(server):
            lines = []
            log = server.work.log_dir / "info.log"
            def disconnects():
                return [ln.split("Info: ", 1)[1] for ln in
                        (log.read_text(errors="replace").splitlines() if log.exists() else [])
                        if "Disconnect from" in ln]

            for name, commands, tail in scenarios:
                before = len(disconnects())
                if name.startswith("unix-"):
                    sock = socket.socket(socket.AF_UNIX)
                    sock.settimeout(10)
                    sock.connect(server.endpoints.unix)
                else:
                    sock = socket.create_connection(server.endpoints.tcp, timeout=10)
                f = sock.makefile("rb")
                try:
                    f.readline()  # greeting
                    for cmd in commands:
                        if cmd == "BDAT 3":
                            sock.sendall(b"BDAT 3\r\nabc")
                        else:
                            sock.sendall(cmd.encode() + b"\r\n")
                        if cmd.startswith("BDAT") and cmd != "BDAT 3":
                            continue  # a chunk is answered when it is complete
                        while True:  # one reply, multi-line or not
                            line = f.readline()
                            if not line or line[3:4] != b"-":
                                break
                    if tail is not None:
                        sock.sendall(tail)
                        if tail.endswith(b".\r\n"):
                            f.readline()
                finally:
                    f.close()
                    sock.close()
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    found = disconnects()
                    if len(found) > before:
                        lines.append(f"[{name}] {found[before]}")
                        break
                    time.sleep(0.05)
                else:
                    lines.append(f"[{name}] <no Disconnect line>")
            return lines

        time.sleep(0.3)  # lines of the earlier tests' connections are written by now
        want, got = run(self.ref), run(self.dut)
        self.maxDiff = None
        self.assertEqual(want, got)
        self.assertIn("[quit] Disconnect from 127.0.0.1: Logged out (state=READY)", got)
        self.assertIn("[unix-quit] Disconnect from local: Logged out (state=READY)", got)
        self.assertIn("[mid-data] Disconnect from 127.0.0.1: Connection closed (unfinished DATA command) "
                      "(state=DATA)", got)

    def test_stored_files_like_dovecot(self):
        diffs = []
        for name, mail, rcpts, body, *helo in MESSAGES:
            results = []
            for server in (self.ref, self.dut):
                for d in server.mail_root.iterdir():
                    for u in d.iterdir():
                        if u.is_dir():
                            shutil.rmtree(u)
                c = LmtpConn(server.endpoints.tcp, timeout=10)
                try:
                    if not helo:
                        c.lhlo()
                    elif helo[0] is not None:
                        c.cmd(f"LHLO {helo[0]}")
                    replies = [norm(c.cmd(mail)[0])] + [norm(c.cmd(r)[0]) for r in rcpts]
                    if isinstance(body, list):
                        for i, chunk in enumerate(body):
                            last = " LAST" if i == len(body) - 1 else ""
                            c.send(f"BDAT {len(chunk)}{last}\r\n".encode() + chunk)
                            if not last:
                                replies.append(norm(c.read_line()))
                    else:
                        replies.append(norm(c.cmd("DATA")[0]))
                        c.send(body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n")
                    replies += [norm(c.read_line()) for _ in rcpts]
                finally:
                    c.close()
                files = {}
                for user in ("alice@test.example", "bob@test.example"):
                    for folder in ("", ".Work"):
                        for m in list_mail(server.maildir(user, folder)):
                            files[f"{user}/{folder or 'INBOX'}"] = (
                                norm_file(m.data),
                                int(m.name.get("size", -1)) - len(m.data) if m.name else None,
                                int(m.name.get("vsize", -1)) - len(m.data) - m.data.count(b"\n")
                                if m.name else None)
                results.append((replies, files))
            (want_r, want_f), (got_r, got_f) = results
            if want_r != got_r:
                diffs.append(f"[{name}] replies\n  expected: {want_r}\n  actual:   {got_r}")
            if want_f != got_f:
                for k in sorted(set(want_f) | set(got_f)):
                    if want_f.get(k) != got_f.get(k):
                        diffs.append(f"[{name}] file {k}\n  expected: {want_f.get(k)!r}\n"
                                     f"  actual:   {got_f.get(k)!r}")
        self.maxDiff = None
        self.assertEqual([], diffs, "\n" + "\n".join(diffs))

    def test_detail_folders_like_dovecot(self):
        """Hostile and odd details: same reply, same folder, same Maildir++ layout, modes and
        subscriptions as Dovecot (nothing may land outside alice's Maildir)."""
        details = ["a\\b", "x" * 300, "x" * 10240, "Sub.Deeper", ".Lead", "Trail.", "a b",
                   "a\"b", "UPPER", "a&b", "&", "-", "a,b", "a;b", "a:b", "new", "cur",
                   "tmp", "Maildir", "..x", "x/..", "%2e%2e", "\x7f", "tab\there", "Lists",
                   "lists"]
        want, got = [], []
        for server, out in ((self.ref, want), (self.dut, got)):
            for d in server.mail_root.iterdir():
                for u in d.iterdir():
                    if u.is_dir():
                        shutil.rmtree(u)
            c = LmtpConn(server.endpoints.tcp, timeout=30)
            try:
                c.lhlo()
                for n, det in enumerate(details):
                    local = f"alice+{det}"
                    if re.search(r'[ "\\\x00-\x1f\x7f(),:;<>@\[\]]', local) or ".." in local \
                            or local.endswith(".") or local.startswith("."):
                        local = '"' + local.replace("\\", "\\\\").replace('"', '\\"') + '"'
                    tok = f"det-{n}"
                    r = [norm(c.cmd(M)[0]), norm(c.cmd(f"RCPT TO:<{local}@test.example>")[0])]
                    if r[-1].startswith("250"):
                        r.append(norm(c.cmd("DATA")[0]))
                        c.send(f"Subject: {tok}\r\n\r\nx\r\n.\r\n".encode())
                        r.append(norm(c.read_line()))
                    else:
                        r.append(norm(c.cmd("RSET")[0]))
                    where = sorted(str(p.relative_to(server.mail_root)).rsplit("/", 1)[0]
                                   for p in server.work.path.rglob("*")
                                   if p.is_file() and "/new/" in str(p) and
                                   f"Subject: {tok}\n".encode() in p.read_bytes())
                    out.append((det[:40], r, where))
            finally:
                c.close()
            md = server.maildir("alice@test.example")
            layout = sorted((str(p.relative_to(md)), oct(p.stat().st_mode & 0o7777))
                            for p in md.rglob("*")
                            if not p.name.startswith("dovecot") and
                            p.parent.name not in ("new", "cur", "tmp"))
            subs = (md / "subscriptions").read_text(errors="replace") \
                if (md / "subscriptions").exists() else None
            out.append(("layout", layout, subs))
        diffs = [f"[{w[0]!r}]\n  expected: {w[1:]}\n  actual:   {g[1:]}"
                 for w, g in zip(want, got) if w != g]
        self.maxDiff = None
        self.assertEqual([], diffs, "\n" + "\n".join(diffs))



@unittest.skipUnless(is_dovetail(), "differential test runs against Dovetail (Dovecot is the reference)")
@requires(shutil.which("dovecot"), "the differential test needs Dovecot installed")
class DifferentialShutdown(unittest.TestCase):
    """SIGTERM with an idle session open: the 421 line and the Disconnect log line."""

    def shutdown_transcript(self, server):
        self.addCleanup(server.cleanup)
        server.start()
        sock = socket.create_connection(server.endpoints.tcp, timeout=20)
        f = sock.makefile("rb")
        try:
            f.readline()
            sock.sendall(b"LHLO c\r\n")
            while f.readline()[3:4] == b"-":
                pass
            server.stop()  # SIGTERM, then wait for the exit
            reply = f.readline().decode().rstrip("\r\n")
        finally:
            f.close()
            sock.close()
        log = (server.work.log_dir / "info.log").read_text(errors="replace")
        lines = [ln.split("Info: ", 1)[1] for ln in log.splitlines() if "Disconnect from" in ln]
        return [re.sub(r"^(421 4\.3\.2) \S+ ", r"\1 <host> ", reply), lines[-1] if lines else "<none>"]

    def test_idle_session_at_shutdown_like_dovecot(self):
        want = self.shutdown_transcript(DovecotServer())
        got = self.shutdown_transcript(DovetailServer())
        self.assertEqual(want, got)
        self.assertEqual(got, ["421 4.3.2 <host> Shutting down",
                               "Disconnect from 127.0.0.1: Shutting down (state=READY)"])

if __name__ == "__main__":
    unittest.main()
