"""Helpers shared by the test_daemon_*.py tests (Dovetail only: they exercise the daemon
itself — listeners, limits, signals, memory — not Dovecot-compatible protocol behaviour)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import unittest
from pathlib import Path

import dovetail_testlib as tl

MESSAGE = (b"From: <sender@remote.example>\r\nTo: <alice@test.example>\r\n"
           b"Subject: daemon test\r\nMessage-ID: <daemon-test@remote.example>\r\n\r\nHello.\r\n")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def wait_for(pred, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


def delivered(server: tl.Server, user="alice@test.example", folder="") -> list[Path]:
    new = server.maildir(user, folder) / "new"
    return sorted(new.iterdir()) if new.is_dir() else []


class DaemonTestCase(unittest.TestCase):
    """A fresh Dovetail per test (signals and limits change server state)."""

    def start_server(self, setup: tl.Setup | None = None, before_start=None) -> tl.DovetailServer:
        if not tl.is_dovetail():
            self.skipTest("daemon tests run against Dovetail only")
        server = tl.DovetailServer(setup or tl.Setup())
        self.addCleanup(server.cleanup)
        if before_start:
            before_start(server)
        server.start()
        return server

    def deliver_one(self, ep, rcpt="alice@test.example") -> list[str]:
        c = tl.LmtpConn(ep)
        try:
            self.assertTrue(c.greeting.startswith("220 "), c.greeting)
            c.lhlo()
            self.assertEqual(c.cmd("MAIL FROM:<sender@remote.example>"), ["250 2.1.0 OK"])
            self.assertEqual(c.cmd(f"RCPT TO:<{rcpt}>"), ["250 2.1.5 OK"])
            return c.data(MESSAGE, 1)
        finally:
            c.close()
