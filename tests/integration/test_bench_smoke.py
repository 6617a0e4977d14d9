"""Smoke run of the benchmark harness (bench/run --smoke): proves it drives both servers and
that nothing sent is lost or duplicated. No timing assertions: the figures are not checked."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from dovetail_testlib import requires

SOURCE = os.environ.get("DOVETAIL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("DOVETAIL_BIN", "")
NULL_LMTP = os.path.join(os.environ.get("DOVETAIL_BUILD_DIR", os.path.join(SOURCE, "build", "release")),
                         "bench", "null_lmtp")


def why_not_runnable():
    if os.geteuid() != 0:
        return "needs root (cgroup accounting, Dovecot's setuid to the mail user)"
    for tool in ("dovecot", "smtp-source"):
        if not (shutil.which(tool) or os.access(f"/usr/sbin/{tool}", os.X_OK)):
            return f"{tool} not installed"
    if not BIN or not os.access(BIN, os.X_OK):
        return "DOVETAIL_BIN not set"
    if subprocess.run([BIN, "serve", "--help"], capture_output=True).returncode != 0:
        return "this dovetail binary has no serve command yet"
    return None


@requires(not why_not_runnable(), why_not_runnable())
class BenchSmoke(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="bench-smoke-")
        os.chmod(cls.tmp, 0o755)  # the servers deliver as the unprivileged mail user below it
        cls.json_path = os.path.join(cls.tmp, "bench.json")
        cls.proc = subprocess.run(
            [sys.executable, os.path.join(SOURCE, "bench", "run"), "--smoke", "--no-build",
             "--dovetail", BIN, "--json", cls.json_path, "--out", os.path.join(cls.tmp, "PERFORMANCE.md"),
             "--workdir-base", cls.tmp, "--null-lmtp", NULL_LMTP if os.access(NULL_LMTP, os.X_OK) else ""],
            capture_output=True, text=True, timeout=300)
        with open(cls.json_path) as f:
            cls.doc = json.load(f)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_harness_exits_ok(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stdout[-3000:] + self.proc.stderr[-3000:])

    def test_every_workload_measured_on_both_servers(self):
        measured = {(r["workload"], r["server"]) for r in self.doc["runs"] if r.get("wall_s")}
        for w in self.doc["workloads"]:
            for server in ("dovetail", "dovecot"):
                with self.subTest(workload=w, server=server):
                    self.assertIn((w, server), measured)

    def test_every_recipient_delivery_in_new_exactly_once(self):
        for r in self.doc["runs"]:
            with self.subTest(workload=r["workload"], server=r["server"]):
                self.assertEqual(r["problems"], [])
                if r["workload"] != "idle" or r.get("idle_served"):
                    self.assertEqual(r["found"], r["deliveries"])

    @requires(os.access(NULL_LMTP, os.X_OK), "bench/null_lmtp not built")
    def test_protocol_floor_measured_for_every_delivery_workload(self):
        floor = {f["workload"]: f for f in self.doc["floor"]}
        for w in self.doc["workloads"]:
            if w == "idle":
                continue
            with self.subTest(workload=w):
                self.assertIn(w, floor)
                self.assertEqual(floor[w]["problems"], [], "smtp-source got every answer it expected")
                self.assertTrue(floor[w]["ok"])
                self.assertGreater(floor[w]["deliv_per_s"], 0)

    @requires(os.access(NULL_LMTP, os.X_OK), "bench/null_lmtp not built")
    def test_measured_ceiling_stores_every_delivery_workload(self):
        # The third server, bench/null_lmtp --store (the barest durable server), takes its
        # turn in every delivery workload and passes the same delivery check.
        runs = {r["workload"]: r for r in self.doc["runs"] if r["server"] == "bare"}
        for w in self.doc["workloads"]:
            if w == "idle":
                continue
            with self.subTest(workload=w):
                self.assertIn(w, runs)
                self.assertTrue(runs[w]["ok"], runs[w]["problems"])
                self.assertEqual(runs[w]["found"], runs[w]["deliveries"])
        with open(os.path.join(self.tmp, "PERFORMANCE.md")) as f:
            self.assertIn("The measured ceiling", f.read())

    def test_report_written(self):
        with open(os.path.join(self.tmp, "PERFORMANCE.md")) as f:
            text = f.read()
        self.assertIn("Delivery check", text)
        self.assertIn("dovetail", text)
        self.assertIn("dovecot", text)


if __name__ == "__main__":
    unittest.main()
