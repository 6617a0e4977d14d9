"""kill -9 during a stream of deliveries: every acknowledged message survives intact.

Several client threads deliver continuously (one or more recipients, sizes from a few octets
to a few hundred KiB, TCP and the UNIX socket); the daemon is SIGKILLed at random moments and
restarted, several rounds. Then:
  * every (message, recipient) that got `250 ... Saved` is in that recipient's new/ exactly
    once, byte-identical to what was sent (compared by a unique token per message);
  * no partial message is visible in any new/ or cur/: every file there is a complete copy of
    some message that was sent (acknowledged or not — a crash between fsync and reply may
    leave a delivered-but-unacknowledged copy, which is allowed);
  * leftovers in tmp/ are allowed; they are counted and printed.
"""

import os
import random
import signal
import re
import threading
import time
import unittest
import uuid

from dovetail_testlib import (LHLO, MAILDIR_NAME_RE, LmtpConn, all_messages, dovetail_only,
                              is_dovetail, make_server, run_script)

USERS = ["alice@test.example", "bob@test.example", "carol@test.example"]
ROUNDS = int(os.environ.get("DOVETAIL_CRASH_ROUNDS", "6"))
CLIENTS = 4
SAVED_RE = re.compile(r"^250 2\.0\.0 <([^>]+)> \S+ Saved$")


def make_body(tok: str, rnd: random.Random) -> bytes:
    n = rnd.choice([0, 10, 1000, 20000, 100000, 400000])
    line = f"{tok} " + "x" * 60
    lines = [line] * (n // (len(line) + 2))
    return (f"Subject: {tok}\r\nMessage-ID: <{tok}@crash.test>\r\n\r\nstart {tok}\r\n"
            + "".join(l + "\r\n" for l in lines) + f"end {tok}\r\n").encode()


class Stream:
    def __init__(self, server):
        self.server = server
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.sent: dict[str, bytes] = {}          # token -> LF body
        self.acked: list[tuple[str, str]] = []     # (token, rcpt)
        self.errors: list[str] = []
        self.conn_failures = 0

    def client(self, seed: int):
        rnd = random.Random(seed)
        while not self.stop.is_set():
            ep = self.server.endpoints
            where = ep.unix if (ep.unix and rnd.random() < 0.3) else ep.tcp
            try:
                c = LmtpConn(where, timeout=20)
            except OSError:
                with self.lock:
                    self.conn_failures += 1
                time.sleep(0.05)
                continue
            try:
                if not c.greeting.startswith("220"):
                    continue
                c.lhlo()
                for _ in range(rnd.randint(1, 5)):
                    if self.stop.is_set():
                        break
                    self.one(c, rnd)
            except (OSError, ConnectionError):
                pass
            finally:
                c.close()

    def one(self, c: LmtpConn, rnd: random.Random):
        tok = "crash-" + uuid.uuid4().hex
        rcpts = rnd.sample(USERS, rnd.choice([1, 1, 2, 3]))
        body = make_body(tok, rnd)
        with self.lock:
            self.sent[tok] = body.replace(b"\r\n", b"\n")
        if c.cmd("MAIL FROM:<crash@remote.example>") != ["250 2.1.0 OK"]:
            raise ConnectionError("MAIL")
        for r in rcpts:
            if c.cmd(f"RCPT TO:<{r}>") != ["250 2.1.5 OK"]:
                raise ConnectionError("RCPT")
        if rnd.random() < 0.5:
            if not c.cmd("DATA")[0].startswith("354"):
                raise ConnectionError("DATA")
            c.sock.sendall(body + b".\r\n")
        else:
            c.sock.sendall(f"BDAT {len(body)} LAST\r\n".encode() + body)
        for r in rcpts:
            line = c.read_line()
            m = SAVED_RE.match(line)
            if m and m.group(1) == r:
                with self.lock:
                    self.acked.append((tok, r))
            elif not line.startswith("4"):
                with self.lock:
                    self.errors.append(f"{r}: {line}")


class CrashSafety(unittest.TestCase):

    def test_kill_9_during_delivery_stream(self):
        server = make_server()
        self.addCleanup(server.cleanup)
        server.start()
        stream = Stream(server)
        threads = [threading.Thread(target=stream.client, args=(i,), daemon=True)
                   for i in range(CLIENTS)]
        for t in threads:
            t.start()
        rnd = random.Random()
        acked_per_round = []
        orphans = []
        try:
            for n in range(ROUNDS):
                before = len(stream.acked)
                time.sleep(rnd.uniform(0.5, 2.0))
                # odd rounds (Dovetail only): kill just the daemon; its helper processes
                # (the privileged writer) must notice and exit on their own.
                only_main = is_dovetail() and n % 2 == 1
                server.kill9(only_main=only_main)
                acked_per_round.append(len(stream.acked) - before)
                if only_main:
                    deadline = time.monotonic() + 10
                    while server.live_group_members() and time.monotonic() < deadline:
                        time.sleep(0.1)
                    left = server.live_group_members()
                    if left:
                        orphans.append(left)
                        os.killpg(server.proc.pid, signal.SIGKILL)
                time.sleep(rnd.uniform(0.0, 0.3))
                server.restart()
            time.sleep(1.0)
        finally:
            stream.stop.set()
            for t in threads:
                t.join(60)
        server.stop()

        self.assertEqual(stream.errors, [], "permanent failures during the stream")
        self.assertEqual(orphans, [], "helper processes outlived the killed daemon by 10 s")
        self.assertGreater(len(stream.acked), 0, "no delivery was acknowledged at all")
        self.assertGreater(sum(acked_per_round[1:]), 0,
                           f"no delivery acknowledged after a restart: {acked_per_round}")

        # index every visible message by (token, user)
        seen: dict[tuple[str, str], list] = {}
        partial = []
        for path in all_messages(server.mail_root):
            rel = path.relative_to(server.mail_root).parts  # domain/user/Maildir/.../new/f
            user = f"{rel[1]}@{rel[0]}"
            data = path.read_bytes()
            m = re.search(rb"^Subject: (crash-[0-9a-f]{32})$", data, re.M)
            tok = m.group(1).decode() if m else None
            body = stream.sent.get(tok)
            # the sent message starts with its Subject line: ending with it means all of it
            whole = body is not None and data.endswith(body)
            name = MAILDIR_NAME_RE.match(path.name.split(":", 1)[0])
            if not whole or not name or int(name["size"]) != len(data):
                partial.append(f"{path} ({len(data)} octets, token {tok})")
                continue
            seen.setdefault((tok, user), []).append(path)
        self.assertEqual(partial, [], "partial or foreign files visible in new/ or cur/")

        missing = [a for a in stream.acked if a not in seen]
        self.assertEqual(missing, [], f"acknowledged but not in new/ ({len(missing)} of "
                                      f"{len(stream.acked)})")
        dup = {k: v for k, v in seen.items() if len(v) > 1}
        self.assertEqual(dup, {}, "a message stored twice for one recipient")
        tmp_left = sum(len(files) for d, _, files in os.walk(server.mail_root)
                       if os.path.basename(d) == "tmp")
        print(f"\ncrash test: {ROUNDS} kills, {len(stream.sent)} messages sent, "
              f"{len(stream.acked)} recipient deliveries acknowledged (per round "
              f"{acked_per_round}), {len(seen)} visible, "
              f"{len(seen) - len(set(stream.acked) & set(seen))} delivered without ack, "
              f"{tmp_left} tmp/ leftovers, {stream.conn_failures} refused connects")


class GracefulStop(unittest.TestCase):

    @dovetail_only("Dovecot's master kills its clients on SIGTERM (shutdown_clients)")
    def test_sigterm_finishes_in_flight_transaction_and_exits_0(self):
        server = make_server()
        self.addCleanup(server.cleanup)
        ep = server.start()
        c = LmtpConn(ep.tcp)
        self.addCleanup(c.close)
        tok = "term-" + uuid.uuid4().hex
        body = make_body(tok, random.Random(1))
        run_script(self, c, [("LHLO client.test.example", LHLO),
                             ("MAIL FROM:<sender@remote.example>", ["250 2.1.0 OK"]),
                             ("RCPT TO:<alice@test.example>", ["250 2.1.5 OK"]),
                             ("DATA", ["354 OK"])], "in flight")
        c.sock.sendall(body[: len(body) // 2])
        time.sleep(0.2)
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        refused = False
        try:
            LmtpConn(ep.tcp, timeout=2).close()
        except OSError:
            refused = True
        self.assertTrue(refused, "a new connection is still accepted after SIGTERM")
        c.sock.sendall(body[len(body) // 2:] + b".\r\n")
        run_script(self, c, [(None, ["250 2.0.0 <alice@test.example> <SID> Saved"])], "in flight")
        c.cmd("QUIT")
        self.assertEqual(server.proc.wait(20), 0, "exit status after SIGTERM")
        files = [p for p in all_messages(server.mail_root) if tok.encode() in p.read_bytes()]
        self.assertEqual(len(files), 1)


if __name__ == "__main__":
    unittest.main()
