"""The daemon's life as an operator and a hostile client see it: limits, timeouts, slow
clients, signals (SIGTERM drains, SIGHUP reloads), stale sockets, ports in use, rawlog."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import unittest

import daemon_helpers as dh
import dovetail_testlib as tl

HOST = tl.HOSTNAME


class Limits(dh.DaemonTestCase):
    def test_client_limit_answers_421_and_frees_slots(self):
        server = self.start_server(tl.Setup(extra_lmtp_service=["client_limit = 2", "process_limit = 1"]))
        # The harness' own start-up probes may still be closing: wait until two fit.
        def two_open():
            conns = []
            for _ in range(2):
                c = tl.LmtpConn(server.endpoints.tcp)
                conns.append(c)
                if not c.greeting.startswith("220 "):
                    for x in conns:
                        x.close()
                    return None
            return conns
        a, b = dh.wait_for(two_open)
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        c = tl.LmtpConn(server.endpoints.unix)  # the limit counts every listener
        self.addCleanup(c.close)
        self.assertEqual(c.greeting, f"421 4.3.2 {HOST} Too many connections")
        self.assertTrue(c.closed_by_peer())
        # The two admitted sessions still work, and a slot frees when one leaves.
        self.assertEqual(a.cmd("NOOP"), ["250 2.0.0 OK"])
        self.assertEqual(b.cmd("QUIT"), ["221 2.0.0 Bye"])
        def admitted():
            d = tl.LmtpConn(server.endpoints.tcp)
            ok = d.greeting.startswith("220 ")
            d.close()
            return ok
        self.assertTrue(dh.wait_for(admitted))


class Timeouts(dh.DaemonTestCase):
    def setUp(self):
        self.server = self.start_server(tl.Setup(extra_settings=[
            "lmtp_idle_timeout = 1s", "lmtp_data_timeout = 2s"]))

    def test_idle_client_is_disconnected(self):
        c = tl.LmtpConn(self.server.endpoints.tcp)
        self.addCleanup(c.close)
        c.sock.settimeout(20)
        self.assertEqual(c.read_line(), f"421 4.4.2 {HOST} Disconnected for inactivity")
        self.assertTrue(c.closed_by_peer())

    def test_stalled_data_times_out_and_stores_nothing(self):
        c = tl.LmtpConn(self.server.endpoints.tcp)
        self.addCleanup(c.close)
        c.cmd("MAIL FROM:<sender@remote.example>")
        c.cmd("RCPT TO:<carol@test.example>")
        self.assertEqual(c.cmd("DATA"), ["354 OK"])
        c.send(b"Subject: half\r\n\r\nhalf a mess")
        c.sock.settimeout(20)
        self.assertEqual(c.read_line(), f"421 4.4.2 {HOST} Disconnected for inactivity")
        self.assertTrue(c.closed_by_peer())
        # Dovecot 2.3.19's log line for the same case (observed after its 5 minutes).
        want = "Disconnect from 127.0.0.1: Disconnected for inactivity (unfinished DATA command) (state=DATA)"
        self.assertTrue(dh.wait_for(lambda: want in self.server.logs()), self.server.logs())
        md = self.server.maildir("carol@test.example")
        for sub in ("new", "cur", "tmp"):
            d = md / sub
            self.assertEqual(list(d.iterdir()) if d.is_dir() else [], [], sub)

    def test_slow_writer_is_served(self):
        # One byte every 0.25 s: slower than no one, but each byte is progress, so neither
        # the 1 s idle timeout nor the 2 s DATA timeout fires.
        c = tl.LmtpConn(self.server.endpoints.tcp)
        self.addCleanup(c.close)
        script = (b"MAIL FROM:<s@remote.example>\r\nRCPT TO:<carol@test.example>\r\nDATA\r\n")
        body = b"Subject: slow\r\n\r\nslow\r\n.\r\n"
        # Commands go byte by byte too, but a little faster to keep the test short.
        for i in range(len(script)):
            c.sock.sendall(script[i:i + 1])
            time.sleep(0.02)
        self.assertEqual([c.read_line() for _ in range(3)], ["250 2.1.0 OK", "250 2.1.5 OK", "354 OK"])
        for i in range(len(body)):
            c.sock.sendall(body[i:i + 1])
            time.sleep(0.25 if i % 8 == 0 else 0.01)
        self.assertRegex(c.read_line(), r"^250 2\.0\.0 <carol@test\.example> " + tl.SID_RE + " Saved$")
        self.assertEqual(len(dh.delivered(self.server, "carol@test.example")), 1)


class Signals(dh.DaemonTestCase):
    def test_sigterm_finishes_the_open_transaction_then_exits_0(self):
        server = self.start_server()
        busy = tl.LmtpConn(server.endpoints.tcp)
        idle = tl.LmtpConn(server.endpoints.unix)
        self.addCleanup(busy.close)
        self.addCleanup(idle.close)
        busy.cmd("MAIL FROM:<sender@remote.example>")
        busy.cmd("RCPT TO:<alice@test.example>")
        self.assertEqual(busy.cmd("DATA"), ["354 OK"])
        busy.send(b"Subject: during shutdown\r\n\r\nfirst half\r\n")
        os.kill(server.pid, signal.SIGTERM)
        # The idle session is told and closed; new connections are refused.
        self.assertEqual(idle.read_line(), f"421 4.3.2 {HOST} Shutting down")
        self.assertTrue(idle.closed_by_peer())

        def refused():
            try:
                socket.create_connection(server.endpoints.tcp, timeout=2).close()
                return False
            except OSError:
                return True
        self.assertTrue(dh.wait_for(refused))
        # The open transaction completes and is acknowledged only once stored.
        busy.send(b"second half\r\n.\r\n")
        self.assertRegex(busy.read_line(), r"^250 2\.0\.0 <alice@test\.example> " + tl.SID_RE + " Saved$")
        self.assertEqual(busy.read_line(), f"421 4.3.2 {HOST} Shutting down")
        self.assertEqual(server.proc.wait(20), 0)
        files = dh.delivered(server)
        self.assertEqual(len(files), 1)
        self.assertIn(b"first half\nsecond half\n", files[0].read_bytes())

    def test_sighup_reloads_good_config_and_keeps_old_on_broken_one(self):
        server = self.start_server()
        # One delivery first: the daemon serves once the writer has started. (The writer reads
        # the file itself, at start and on each reload, and takes it only when it holds the
        # bytes the daemon read: test_writer_hostile's digest tests.)
        self.assertRegex(self.deliver_one(server.endpoints.tcp)[0], r"^250 2\.0\.0 ", server.logs())
        conf = server.work.conf
        original = conf.read_text()

        def greeting():
            c = tl.LmtpConn(server.endpoints.tcp)
            g = c.greeting
            c.close()
            return g
        self.assertEqual(greeting(), f"220 {HOST} Dovecot ready.")
        old_session = tl.LmtpConn(server.endpoints.tcp)
        self.addCleanup(old_session.close)

        conf.write_text(original + '\nlogin_greeting = "Reloaded ready."\n')
        os.kill(server.pid, signal.SIGHUP)
        self.assertTrue(dh.wait_for(lambda: greeting() == f"220 {HOST} Reloaded ready."),
                        server.logs())
        # Sessions that began before the reload keep their snapshot and keep working.
        self.assertEqual(old_session.cmd("NOOP"), ["250 2.0.0 OK"])

        conf.write_text(original + "\nlogin_greeting = Broken\nno_such_setting_here = 1\n")
        os.kill(server.pid, signal.SIGHUP)
        log = server.work.log_dir / "dovecot.log"
        self.assertTrue(dh.wait_for(lambda: log.exists() and "config reload failed" in log.read_text()),
                        server.logs())
        text = log.read_text()
        self.assertIn("no_such_setting_here", text)
        self.assertIn(f"{conf}:", text)  # file:line names the culprit
        self.assertEqual(greeting(), f"220 {HOST} Reloaded ready.")
        self.assertRegex(self.deliver_one(server.endpoints.tcp)[0], r"^250 2\.0\.0 ", server.logs())
        self.assertIsNone(server.proc.poll())


class Sockets(dh.DaemonTestCase):
    def test_stale_unix_socket_is_replaced(self):
        def leave_stale_socket(server):
            server.work.base_dir.mkdir(parents=True, exist_ok=True)
            s = socket.socket(socket.AF_UNIX)
            s.bind(str(server.work.base_dir / "lmtp"))
            s.close()  # bound, never listened, now closed: a stale socket file
        server = self.start_server(before_start=leave_stale_socket)
        self.assertRegex(self.deliver_one(server.endpoints.unix)[0], r"^250 2\.0\.0 ")

    def test_live_unix_socket_is_not_stolen(self):
        work = tl.Workdir()
        self.addCleanup(work.cleanup)
        work.write(tl.Setup(ipv6=False), tl.free_port())
        work.base_dir.mkdir(parents=True, exist_ok=True)
        live = socket.socket(socket.AF_UNIX)
        self.addCleanup(live.close)
        live.bind(str(work.base_dir / "lmtp"))
        live.listen(1)
        r = subprocess.run([tl.dovetail_bin(), "serve", "-c", str(work.conf)],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(f"unix:{work.base_dir}/lmtp", r.stderr)
        self.assertIn("another process is listening", r.stderr)

    def test_listener_without_address_uses_top_level_listen(self):
        def drop_address(server):
            orig = server.work.write
            def write(setup, port):
                conf = orig(setup, port)
                text = "\n".join(l for l in conf.read_text().splitlines()
                                 if not l.strip().startswith("address ="))
                conf.write_text(text + "\n")  # the harness config has `listen = 127.0.0.1`
                return conf
            server.work.write = write
        server = self.start_server(tl.Setup(ipv6=False), before_start=drop_address)
        listening = [l for l in server.stderr_lines if "listening on" in l]
        self.assertEqual([l for l in listening if "unix:" not in l],
                         [f"dovetail: listening on 127.0.0.1:{server.endpoints.tcp[1]}"], listening)

    def test_port_in_use_is_a_clear_startup_error(self):
        work = tl.Workdir()
        self.addCleanup(work.cleanup)
        holder = socket.socket(socket.AF_INET)
        self.addCleanup(holder.close)
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        work.write(tl.Setup(ipv6=False, unix=False), port)
        r = subprocess.run([tl.dovetail_bin(), "serve", "-c", str(work.conf)],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(f"127.0.0.1:{port}", r.stderr)
        self.assertIn("Address already in use", r.stderr)
        self.assertNotIn("listening on", r.stderr)

    def test_config_error_exits_78_with_file_and_line(self):
        work = tl.Workdir()
        self.addCleanup(work.cleanup)
        work.write(tl.Setup(ipv6=False), 0)
        work.conf.write_text(work.conf.read_text() + "\nbogus_key_x = 1\n")
        r = subprocess.run([tl.dovetail_bin(), "serve", "-c", str(work.conf)],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 78, r.stderr)
        self.assertRegex(r.stderr, re_escape(str(work.conf)) + r":[0-9]+: .*bogus_key_x")


def re_escape(s):
    import re
    return re.escape(s)


class Logging(dh.DaemonTestCase):
    """`service lmtp { executable = lmtp -L }` + `protocol lmtp { info_log_path }` (the seed's
    recipe): deliveries are logged to the protocol's info log; without -L to the global one."""

    def run_case(self, dash_l: bool):
        def configure(server):
            lmtp_log = server.work.log_dir / "lmtp-info.log"
            server.setup.extra_settings += ["protocol lmtp {", f"  info_log_path = {lmtp_log}", "}",
                                            'log_timestamp = "%Y-%m-%d %H:%M:%S "']
            if dash_l:
                server.setup.extra_lmtp_service.append("executable = lmtp -L")
        server = self.start_server(tl.Setup(), before_start=configure)
        replies = self.deliver_one(server.endpoints.tcp)
        self.assertRegex(replies[0], r"^250 2\.0\.0 ")
        sid = replies[0].split()[3]
        want = f"<{sid}>: Info: msgid=<daemon-test@remote.example>: saved mail to INBOX"
        chosen = server.work.log_dir / ("lmtp-info.log" if dash_l else "info.log")
        other = server.work.log_dir / ("info.log" if dash_l else "lmtp-info.log")
        self.assertTrue(dh.wait_for(lambda: chosen.exists() and want in chosen.read_text()), server.logs())
        self.assertNotIn(want, other.read_text() if other.exists() else "")
        line = next(l for l in chosen.read_text().splitlines() if want in l)
        self.assertRegex(line, r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} lmtp\(alice@test\.example\)<[0-9]+><")

    def test_dash_l_uses_protocol_info_log(self):
        self.run_case(True)

    def test_without_dash_l_global_info_log(self):
        self.run_case(False)


class Rawlog(dh.DaemonTestCase):
    def test_rawlog_files_hold_both_directions(self):
        def make_dir(server):
            d = server.work.path / "rawlog"
            d.mkdir()
            d.chmod(0o777)  # written by the network process, which may have dropped root
            server.setup.extra_settings.append(f"lmtp_rawlog_dir = {d}")
        server = self.start_server(tl.Setup(), before_start=make_dir)
        rawdir = server.work.path / "rawlog"
        for f in rawdir.iterdir():  # the harness' readiness probes have their own pairs
            f.unlink()
        replies = self.deliver_one(server.endpoints.tcp)
        self.assertRegex(replies[0], r"^250 2\.0\.0 ")
        sid = replies[0].split()[3]
        pair = dh.wait_for(lambda: sorted(p.name for p in rawdir.iterdir()
                                          if sid.replace("/", "_") in p.name))
        self.assertEqual(len(pair), 2, pair)
        self.assertTrue(pair[0].endswith(".in") and pair[1].endswith(".out"), pair)
        data_in = (rawdir / pair[0]).read_bytes()
        data_out = (rawdir / pair[1]).read_bytes()
        self.assertIn(b"MAIL FROM:<sender@remote.example>\r\n", data_in)
        self.assertIn(b"Subject: daemon test\r\n", data_in)
        self.assertTrue(data_out.startswith(b"220 " + HOST.encode()))
        self.assertIn(replies[0].encode() + b"\r\n", data_out)


if __name__ == "__main__":
    unittest.main()
