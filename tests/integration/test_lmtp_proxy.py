"""`lmtp_proxy = yes` while proxying is not implemented: a recipient the passdb routes elsewhere
(`proxy=y`) must never be stored locally. It gets `451 4.3.0 <rcpt> Temporary internal error`
(the MTA keeps it queued), the error log says why, serve warns once at start-up; recipients
without `proxy` are delivered as usual."""

from __future__ import annotations

import daemon_helpers as dh
import dovetail_testlib as tl

PROXIED = "remote@test.example"


def add_proxy_passdb(server: tl.DovetailServer):
    # A second passdb after the harness's passwd-file one: only PROXIED is in it, with the
    # fields a Dovecot director/proxy setup gives (host, port, nopassword). The same file is
    # a second userdb too, so PROXIED *could* be delivered locally: it must not be.
    table = server.work.path / "proxy.passwd"
    table.write_text(f"{PROXIED}:::::::proxy=y host=192.0.2.7 port=24 nopassword=y\n")
    table.chmod(0o644)
    server.setup.extra_settings += [
        "lmtp_proxy = yes",
        "passdb {", "  driver = passwd-file", f"  args = username_format=%u {table}", "}",
        "userdb {", "  driver = passwd-file", f"  args = username_format=%u {table}", "}",
    ]


class LmtpProxyNotImplemented(dh.DaemonTestCase):
    def setUp(self):
        self.server = self.start_server(before_start=add_proxy_passdb)

    def transaction(self, rcpts: list[str]) -> tuple[list[str], list[str]]:
        c = tl.LmtpConn(self.server.endpoints.tcp)
        self.addCleanup(c.close)
        c.lhlo()
        self.assertEqual(c.cmd("MAIL FROM:<sender@remote.example>"), ["250 2.1.0 OK"])
        replies = [c.cmd(f"RCPT TO:<{r}>")[0] for r in rcpts]
        accepted = sum(r.startswith("250") for r in replies)
        data = c.data(dh.MESSAGE, accepted) if accepted else []
        return replies, data

    def test_proxied_recipient_is_deferred_not_stored(self):
        replies, data = self.transaction([PROXIED, "alice@test.example", "nobody@test.example"])
        self.assertEqual(replies, [
            f"451 4.3.0 <{PROXIED}> Temporary internal error",
            "250 2.1.5 OK",
            "550 5.1.1 <nobody@test.example> User doesn't exist: nobody@test.example",
        ])
        self.assertEqual(len(data), 1)
        self.assertRegex(data[0], r"^250 2\.0\.0 <alice@test\.example> " + tl.ID_RE + " Saved$")
        self.assertEqual(len(dh.delivered(self.server, "alice@test.example")), 1)
        # nothing anywhere for the proxied user
        self.assertFalse((self.server.mail_root / "test.example" / "remote").exists())
        logs = dh.wait_for(lambda: "proxying is not implemented yet" in self.server.logs()
                           and self.server.logs())
        self.assertTrue(logs, self.server.logs())
        self.assertRegex(self.server.logs(),
                         r"remote@test\.example.*lmtp_proxy = yes and the passdb answer has proxy=y, "
                         r"but proxying is not implemented yet: deferring \(451 4\.3\.0\)")

    def test_one_startup_warning(self):
        warnings = [l for l in self.server.stderr_lines if "lmtp_proxy = yes" in l]
        self.assertEqual(len(warnings), 1, "\n".join(self.server.stderr_lines))
        self.assertRegex(warnings[0], r"^dovetail: Warning: .*dovecot\.conf:[0-9]+: lmtp_proxy = yes: "
                                      r"proxying is not implemented yet")


if __name__ == "__main__":
    import unittest
    unittest.main()
