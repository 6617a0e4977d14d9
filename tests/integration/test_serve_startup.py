"""`dovetail serve` start-up: Dovecot settings that Dovetail does not act on are named in
one warning line, and the daemon still serves; configs it cannot serve (a bad listener port or
address, `protocols` without lmtp) exit 78 with file:line before anything is bound."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
import unittest

from dovetail_testlib import Setup, Workdir, dovetail_bin


class StartupWarning(unittest.TestCase):
    def test_ignored_settings_are_one_warning_line(self):
        work = Workdir(prefix="dovetail-startup-")
        try:
            conf = work.write(Setup(extra_settings=["imap_idle_notify_interval = 2 mins",
                                                    "pop3_uidl_format = %08Xu%08Xv",
                                                    "lmtp_rcpt_check_quota = yes",
                                                    "login_trusted_networks = 10.0.0.0/8",
                                                    "lmtp_client_workarounds = whitespace-before-path",
                                                    "service imap-login {", "  process_limit = 5", "}"],
                                    extra_lmtp_service=["process_min_avail = 3"]),
                              port=0)
            p = subprocess.Popen([dovetail_bin(), "serve", "-c", str(conf)], stderr=subprocess.PIPE,
                                 text=True)
            lines = []
            deadline = time.time() + 20
            while time.time() < deadline:
                line = p.stderr.readline()
                if not line:
                    break
                lines.append(line)
                if "listening on" in line:
                    break
            p.terminate()
            p.wait(timeout=20)
            warnings = [l for l in lines if "ignored" in l]
            self.assertEqual(len(warnings), 1, lines)
            listed = warnings[0].rstrip("\n").split("(ignored): ", 1)[1].split(", ")
            for key in ("imap_idle_notify_interval", "pop3_uidl_format", "service/imap-login",
                        "lmtp_rcpt_check_quota", "login_trusted_networks", "lmtp_client_workarounds",
                        "service/lmtp/process_min_avail", "ssl", "state_dir"):
                self.assertIn(key, listed)
            # used by Dovetail: the harness's `listen = 127.0.0.1` and the lmtp listeners
            for key in ("listen", "protocols", "base_dir", "service/lmtp/inet_listener/lmtp/port"):
                self.assertNotIn(key, listed)
            self.assertTrue(any("listening on" in l for l in lines), lines)
        finally:
            work.cleanup()


class UnservableConfig(unittest.TestCase):
    """Exit 78 (EX_CONFIG) with `dovetail: file:line: message`; nothing runs."""

    def test_exit_78_with_file_and_line(self):
        head = "protocols = lmtp\nbase_dir = {tmp}\nlog_path = /dev/stderr\n"
        cases = [
            ("invalid port",
             head + "service lmtp {\n  inet_listener lmtp {\n    address = 127.0.0.1\n    port = 70000\n  }\n}\n",
             r"{conf}:7: service lmtp inet_listener lmtp: invalid port 70000"),
            ("invalid address",
             head + "service lmtp {\n  inet_listener lmtp {\n    address = 127.0.0.256\n    port = 24\n  }\n}\n",
             r"{conf}:6: service lmtp inet_listener lmtp: .*127\.0\.0\.256"),
            ("invalid listen",
             "listen = mx.example.com\n" + head + "service lmtp {\n  inet_listener lmtp {\n    port = 24\n  }\n}\n",
             r"{conf}:1: service lmtp inet_listener lmtp: .*mx\.example\.com"),
            ("protocols without lmtp",
             "base_dir = {tmp}\nprotocols = imap pop3\n",
             r"{conf}:2: protocols = imap pop3: lmtp is not listed, so dovetail serve would have no "
             r"listener \(add it: protocols = \$protocols lmtp\)"),
            ("protocols without lmtp, listeners configured",
             "base_dir = {tmp}\nprotocols = imap\nservice lmtp {\n  inet_listener lmtp {\n    port = 0\n  }\n}\n",
             r"{conf}:2: protocols = imap: lmtp is not listed"),
        ]
        for name, text, want in cases:
            with self.subTest(name), tempfile.TemporaryDirectory() as tmp:
                conf = os.path.join(tmp, "d.conf")
                with open(conf, "w") as f:
                    f.write(text.replace("{tmp}", tmp))
                res = subprocess.run([dovetail_bin(), "serve", "-c", conf], capture_output=True,
                                     text=True, timeout=60, stdin=subprocess.DEVNULL)
                self.assertEqual(res.returncode, 78, res.stderr)
                self.assertRegex(res.stderr, "^dovetail: " + want.replace("{conf}", re.escape(conf)))
                self.assertNotIn("listening on", res.stderr)
                self.assertEqual(os.listdir(tmp), ["d.conf"], "nothing bound or created")


if __name__ == "__main__":
    unittest.main()
