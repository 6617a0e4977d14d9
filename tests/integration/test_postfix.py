"""A real Postfix delivers through `lmtp:unix:` and `lmtp:inet:` to the server under test.

The Postfix instance is private: its own config directory, queue and data directories in a
temp dir, smtpd on a free loopback port, no chroot, logs to a file (postlogd). Mail is
submitted with smtplib to that smtpd, Postfix's qmgr hands it to its lmtp client, which talks
to Dovetail (or Dovecot under the oracle). Nothing under /etc/postfix is touched: root may
run `postfix -c <dir>` on any directory.
"""

import os
import pwd
import re
import shutil
import smtplib
import subprocess
import tempfile
import time
import unittest
import uuid
from pathlib import Path

from dovetail_testlib import (ServerTestCase, dovetail_only, free_port, list_mail,
                              normalise_date, received_header, requires)

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
RELAY = "relay.test.example"

MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command + args
{smtpd}      inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

MAIN_CF = """\
# private Postfix instance for Dovetail's end-to-end test
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = {dir}
maillog_file = {dir}/postfix.log
syslog_name = postfix-e2e
myhostname = {relay}
mydomain = test.example
inet_interfaces = loopback-only
inet_protocols = ipv4
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = test.example
virtual_transport = {transport}
lmtp_host_lookup = native
smtputf8_enable = yes
"""


class PostfixInstance:
    def __init__(self, transport: str):
        self.dir = Path(tempfile.mkdtemp(prefix="dovetail-postfix-"))
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        (self.dir / "main.cf").write_text(MAIN_CF.format(dir=self.dir, relay=RELAY,
                                                         transport=transport))
        (self.dir / "master.cf").write_text(MASTER_CF.format(smtpd=f"127.0.0.1:{self.port}"))
        (self.dir / "queue").mkdir(mode=0o755)  # root-owned; `postfix check` fills it
        (self.dir / "data").mkdir(mode=0o700)
        pw = pwd.getpwnam("postfix")
        os.chown(self.dir / "data", pw.pw_uid, pw.pw_gid)
        self.started = False

    def run(self, *args, check=True):
        r = subprocess.run([POSTFIX, "-c", str(self.dir), *args], capture_output=True,
                           text=True, timeout=120)
        if check and r.returncode != 0:
            # postfix(1) reports to syslog or to a tty only: rerun under script(1) to see why
            why = subprocess.run(["script", "-qc", f"{POSTFIX} -c {self.dir} {' '.join(args)}",
                                  "/dev/null"], capture_output=True, text=True, timeout=120)
            raise RuntimeError(f"postfix {' '.join(args)} failed ({r.returncode}):\n"
                               f"{r.stdout}{r.stderr}{why.stdout}\n{self.log()}")
        return r

    def start(self):
        self.run("check")
        self.run("start")
        self.started = True
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=5) as s:
                    s.noop()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("postfix smtpd did not come up\n" + self.log())

    def stop(self):
        if self.started:
            self.run("stop", check=False)
            self.started = False

    def cleanup(self):
        self.stop()
        if not os.environ.get("DOVETAIL_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        try:
            return (self.dir / "postfix.log").read_text(errors="replace")[-6000:]
        except OSError:
            return "(no postfix.log)"


def message(tok: str) -> bytes:
    return (f"From: <sender@remote.example>\r\nTo: <alice@test.example>\r\n"
            f"Subject: {tok}\r\nMessage-ID: <{tok}@remote.example>\r\n\r\n"
            f"Hello via Postfix {tok}.\r\n").encode()


@requires(os.path.exists(POSTFIX) and os.geteuid() == 0,
          "needs Debian postfix and root (mail_owner postfix, setgid postdrop)")
class PostfixDelivers(ServerTestCase):

    def deliver_via_postfix(self, transport: str, peer: str | None):
        pf = PostfixInstance(transport)
        self.addCleanup(pf.cleanup)
        pf.start()
        tok = "pf-" + uuid.uuid4().hex
        rcpts = ["alice@test.example", "bob+Lists@test.example", "carol@test.example"]
        with smtplib.SMTP("127.0.0.1", pf.port, local_hostname="client.test.example",
                          timeout=30) as s:
            self.assertEqual(s.sendmail("sender@remote.example", rcpts[:1], message(tok)), {})
            self.assertEqual(s.sendmail("sender@remote.example", rcpts[1:], message(tok + "m")),
                             {})
        want = {("alice@test.example", "", tok), ("bob@test.example", ".Lists", tok + "m"),
                ("carol@test.example", "", tok + "m")}
        found = {}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(found) < len(want):
            for user, folder, t in want:
                for m in list_mail(self.server.maildir(user, folder)):
                    if f"Subject: {t}\n".encode() in m.data:
                        found[(user, folder, t)] = m
            time.sleep(0.3)
        self.assertEqual(set(found), want, "delivered through Postfix\n" + pf.log())
        log = pf.log()
        self.assertEqual(log.count("status=sent"), 3, log)
        # the single-recipient message: Dovetail's trace headers name Postfix as the client
        text = normalise_date(found[("alice@test.example", "", tok)].data.decode())
        m = re.search(r"\n\tid (\S+)\n", text)
        self.assertIsNotNone(m, text)
        rid = m.group(1)
        head = ("Return-Path: <sender@remote.example>\nDelivered-To: alice@test.example\n"
                + received_header("sender@remote.example", rid, "alice@test.example", peer,
                                  helo=RELAY))
        self.assertTrue(text.startswith(head), f"expected start:\n{head}\nactual:\n{text[:600]}")
        self.assertIn(f"Subject: {tok}\n", text)
        # Postfix's lmtp client logged the server's per-recipient reply with the same id
        self.assertRegex(log, rf"to=<alice@test\.example>.*status=sent \(250 2\.0\.0 "
                              rf"<alice@test\.example> {re.escape(rid)} Saved\)")
        # the two-recipient message: no Delivered-To, no `for`
        multi = normalise_date(found[("carol@test.example", "", tok + "m")].data.decode())
        self.assertNotIn("Delivered-To:", multi.split("\n\n")[0])
        self.assertRegex(multi, r"\(envelope-from <sender@remote\.example>\); <DATE>\n")
        pf.stop()

    def test_postfix_lmtp_unix(self):
        if self.ep.unix is None:
            self.skipTest("no unix listener")
        self.deliver_via_postfix(f"lmtp:unix:{self.ep.unix}", None)

    def test_postfix_lmtp_inet(self):
        host, port = self.ep.tcp
        self.deliver_via_postfix(f"lmtp:inet:{host}:{port}", "127.0.0.1")

    def test_postfix_per_recipient_outcomes(self):
        """One message to a deliverable, an unknown and a failing recipient: Postfix logs
        sent / bounced (5xx) / deferred (4xx) from the per-recipient LMTP replies."""
        pf = PostfixInstance(f"lmtp:inet:{self.ep.tcp[0]}:{self.ep.tcp[1]}")
        self.addCleanup(pf.cleanup)
        pf.start()
        tok = "pfo-" + uuid.uuid4().hex
        with smtplib.SMTP("127.0.0.1", pf.port, local_hostname="client.test.example",
                          timeout=30) as s:
            s.sendmail("sender@remote.example",
                       ["alice@test.example", "nobody@test.example", "erin@test.example"],
                       message(tok))
        deadline = time.monotonic() + 90
        patterns = {
            "alice": r"to=<alice@test\.example>.*status=sent \(250 2\.0\.0 <alice@test\.example> ",
            "nobody": r"to=<nobody@test\.example>.*status=bounced \(host \S+ said: 550 5\.1\.1 "
                      r"<nobody@test\.example> User doesn't exist: nobody@test\.example",
            "erin": r"to=<erin@test\.example>.*status=deferred \(host \S+ said: 451 4\.2\.0 "
                    r"<erin@test\.example> Internal error occurred\.",
        }
        while time.monotonic() < deadline:
            log = pf.log()
            if all(re.search(p, log) for p in patterns.values()):
                break
            time.sleep(0.3)
        for who, p in patterns.items():
            self.assertRegex(pf.log(), p, who)
        files = [m for m in list_mail(self.server.maildir("alice@test.example"))
                 if f"Subject: {tok}\n".encode() in m.data]
        self.assertEqual(len(files), 1)
        # two accepted recipients (alice, erin) in the transaction: no Delivered-To
        self.assertNotIn("Delivered-To:", files[0].data.decode().split("\n\n")[0])


class PostfixOriginalRecipient(ServerTestCase):
    """Postfix sends ORCPT (xtext, `+` as `+2B`) to a server that advertises DSN; with
    lmtp_hdr_delivery_address = original it becomes Delivered-To and `for`."""
    from dovetail_testlib import Setup as _Setup
    setup_config = _Setup(extra_settings=["lmtp_hdr_delivery_address = original"])

    @requires(os.path.exists(POSTFIX) and os.geteuid() == 0, "needs postfix, root")
    @dovetail_only("DSN: Dovecot does not advertise it, so Postfix sends no ORCPT")
    def test_orcpt_from_postfix(self):
        pf = PostfixInstance(f"lmtp:unix:{self.ep.unix}")
        self.addCleanup(pf.cleanup)
        pf.start()
        tok = "pfd-" + uuid.uuid4().hex
        with smtplib.SMTP("127.0.0.1", pf.port, local_hostname="client.test.example",
                          timeout=30) as s:
            s.sendmail("sender@remote.example", ["Bob+Orig@test.example"], message(tok))
        deadline = time.monotonic() + 90
        found = []
        while time.monotonic() < deadline and not found:
            found = [m for m in list_mail(self.server.maildir("bob@test.example", ".Orig"))
                     if f"Subject: {tok}\n".encode() in m.data]
            time.sleep(0.3)
        self.assertEqual(len(found), 1, pf.log())
        head = normalise_date(found[0].data.decode()).split("\n\n")[0]
        self.assertIn("\nDelivered-To: Bob+Orig@test.example\n", head)
        self.assertIn("\tfor <Bob+Orig@test.example>; <DATE>", head)


if __name__ == "__main__":
    unittest.main()
