"""Load generators: Postfix's smtp-source -L (real deliveries) and idle connections."""

import os
import selectors
import shutil
import socket
import subprocess
import time

from . import mailenv

SMTP_SOURCE = shutil.which("smtp-source") or "/usr/sbin/smtp-source"


def plan(wl, msgs):
    """[(base_user, messages)] — one smtp-source process per entry.

    wl['procs'] processes; process P sends to userP (or all to user1 when wl['hot'])."""
    procs = wl["procs"]
    per = [msgs // procs + (1 if i < msgs % procs else 0) for i in range(procs)]
    return [("user1" if wl.get("hot") else f"user{i + 1}", n) for i, n in enumerate(per) if n]


def expected_per_mailbox(wl, msgs):
    """{mailbox user: deliveries} that `msgs` messages of this workload must leave in new/."""
    exp = {}
    for base, n in plan(wl, msgs):
        for u in [base] + [f"{k}{base}" for k in range(2, wl["rcpts"] + 1)]:
            exp[u] = exp.get(u, 0) + n
    return exp


def run_smtp_source(wl, msgs, size, port, logpath, timeout=None):
    """Runs the workload's smtp-source processes at once.

    Returns (wall s, client CPU s, bad exit codes); a process still running after `timeout`
    seconds is killed and reported as exit code "timeout"."""
    cmds = []
    for base, n in plan(wl, msgs):
        cmds.append([SMTP_SOURCE, "-L", "-d", "-s", str(wl["sessions"]), "-m", str(n), "-l", str(size),
                     "-r", str(wl["rcpts"]), "-f", f"bench@{mailenv.DOMAIN}", "-t", f"{base}@{mailenv.DOMAIN}",
                     "-M", "client.example.test", f"127.0.0.1:{port}"])
    with open(logpath, "ab") as log:
        t0 = time.monotonic()
        procs = [subprocess.Popen(c, stdin=subprocess.DEVNULL, stdout=log, stderr=log) for c in cmds]
        cpu, bad, running = 0.0, [], {p.pid: p for p in procs}
        while running:
            # wait4 on our own children only (never -1): gives each one's rusage
            flags = os.WNOHANG if timeout is not None else 0
            for pid, p in list(running.items()):
                got, status, ru = os.wait4(pid, flags)
                if got == 0:
                    continue
                del running[pid]
                cpu += ru.ru_utime + ru.ru_stime
                if os.waitstatus_to_exitcode(status) != 0:
                    bad.append(os.waitstatus_to_exitcode(status))
            if running and timeout is not None:
                if time.monotonic() - t0 > timeout:
                    for pid, p in running.items():
                        p.kill()
                        os.wait4(pid, 0)
                        bad.append("timeout")
                    running = {}
                time.sleep(0.01)
        wall = time.monotonic() - t0
    return wall, cpu, bad


class IdleConnections:
    """Holds `count` connections open and counts those that got the 220 greeting.

    Connects in batches of 256 (so the listen backlog is not overrun). A server that stops
    greeting (e.g. at its process limit) gets only a short wait per later batch."""

    def __init__(self, port, count, batch=256):
        self.socks, self.greeted = [], 0
        wait = 5.0
        sel = selectors.DefaultSelector()
        for start in range(0, count, batch):
            pending = set()
            for _ in range(min(batch, count - start)):
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", port))
                sel.register(s, selectors.EVENT_READ)
                pending.add(s)
                self.socks.append(s)
            deadline = time.monotonic() + wait
            while pending and time.monotonic() < deadline:
                for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
                    s = key.fileobj
                    try:
                        if s.recv(512).startswith(b"220"):
                            self.greeted += 1
                    except OSError:
                        pass
                    sel.unregister(s)
                    pending.discard(s)
            for s in pending:
                sel.unregister(s)
            if pending:
                wait = 0.2
        sel.close()
        self.opened = len(self.socks)

    def close(self):
        for s in self.socks:
            s.close()
        self.socks = []
