"""`dovetail serve` start-up: Dovecot settings that Dovetail does not act on are named in
one warning line, and the daemon still serves."""

from __future__ import annotations

import subprocess
import time
import unittest

from dovetail_testlib import Setup, Workdir, dovetail_bin


class StartupWarning(unittest.TestCase):
    def test_ignored_settings_are_one_warning_line(self):
        work = Workdir(prefix="dovetail-startup-")
        try:
            conf = work.write(Setup(extra_settings=["imap_idle_notify_interval = 2 mins",
                                                    "pop3_uidl_format = %08Xu%08Xv",
                                                    "service imap-login {", "  process_limit = 5", "}"]),
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
            for key in ("imap_idle_notify_interval", "pop3_uidl_format", "service/imap-login"):
                self.assertIn(key, warnings[0])
            self.assertTrue(any("listening on" in l for l in lines), lines)
        finally:
            work.cleanup()


if __name__ == "__main__":
    unittest.main()
