"""10,000 concurrent idle LMTP connections held with bounded memory, while a new delivery
is still served. Prints the daemon's RSS per connection (the target is <= 32 KiB; the lead
records the figure in docs/PERFORMANCE.md)."""

from __future__ import annotations

import os
import resource
import selectors
import socket
import time
import unittest

import daemon_helpers as dh
import dovetail_testlib as tl

N = int(os.environ.get("DOVETAIL_SCALE_CONNECTIONS", "10000"))
TARGET_KIB_PER_CONNECTION = 32


def raise_nofile(want: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard) if hard != resource.RLIM_INFINITY else want, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class TenThousandIdle(dh.DaemonTestCase):
    def test_idle_connections_are_cheap_and_service_continues(self):
        have = raise_nofile(N + 200)
        if have < N + 100:
            raise tl.missing_prerequisite(f"RLIMIT_NOFILE is {have}, need {N + 100}")
        server = self.start_server(tl.Setup(extra_lmtp_service=[
            f"client_limit = {N + 100}", "process_limit = 1"]))
        ep = server.endpoints.tcp
        # Warm up: one full delivery so pools, engines and allocator arenas exist.
        self.assertRegex(self.deliver_one(ep)[0], r"^250 2\.0\.0 ")
        time.sleep(0.3)
        before = dh.rss_kib(server.pid)

        socks = []
        sel = selectors.DefaultSelector()
        self.addCleanup(lambda: [s.close() for s in socks])
        pending = {}
        for i in range(N):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(True)
            s.connect(ep)
            s.setblocking(False)
            socks.append(s)
            sel.register(s, selectors.EVENT_READ)
            pending[s.fileno()] = b""
            # Drain greetings as we go so the kernel buffers stay small.
            if i % 500 == 499:
                self._drain(sel, pending, 0)
        self._drain(sel, pending, 60)
        greeted = sum(1 for v in pending.values() if v is None)
        self.assertEqual(greeted, N, "every connection must get its 220 greeting")

        time.sleep(0.5)
        after = dh.rss_kib(server.pid)
        per_conn = (after - before) * 1024 / N
        print(f"\nRSS before {before} KiB, with {N} idle connections {after} KiB: "
              f"{per_conn:.0f} bytes ({per_conn / 1024:.2f} KiB) per connection")

        # A new client is still served while all of them are held open.
        self.assertRegex(self.deliver_one(ep)[0], r"^250 2\.0\.0 ")
        # And the idle ones are still alive (not silently dropped).
        for s in socks[:: max(1, N // 50)]:
            s.setblocking(True)
            s.settimeout(10)
            s.sendall(b"NOOP\r\n")
            self.assertEqual(s.recv(100), b"250 2.0.0 OK\r\n")
        self.assertLessEqual(per_conn, TARGET_KIB_PER_CONNECTION * 1024)

    @staticmethod
    def _drain(sel, pending, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = [k for k, v in pending.items() if v is not None]
            if not left:
                return
            t = deadline - time.monotonic()
            if t <= 0 and timeout:
                return
            events = sel.select(max(0.0, t) if timeout else 0)
            if not events:
                if not timeout:
                    return
                continue
            for key, _ in events:
                s = key.fileobj
                try:
                    data = s.recv(512)
                except BlockingIOError:
                    continue
                buf = pending[s.fileno()] + data
                if b"\r\n" in buf:
                    if not buf.startswith(b"220 "):
                        raise AssertionError(f"unexpected greeting {buf!r}")
                    pending[s.fileno()] = None
                    sel.unregister(s)
                elif not data:
                    raise AssertionError("connection closed before greeting")
                else:
                    pending[s.fileno()] = buf


if __name__ == "__main__":
    unittest.main()
