"""`dovetail serve --cpu-policy`: every thread of every Dovetail process — the network
process's event and blocking-pool threads and the privileged writer's channel threads —
runs under SCHED_BATCH by default (a woken thread does not preempt a running one; decision
0008), and under the kernel default with `--cpu-policy normal`. Mail is
delivered either way. Read from /proc, as `chrt -p` would show it."""

from __future__ import annotations

import subprocess
import unittest

import dovetail_testlib as tl
import privsep_helpers as ph

SCHED_OTHER, SCHED_BATCH = 0, 3


class CpuPolicy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ph.require_root()
        cls.vmail = tl.ensure_mail_user()

    def run_daemon(self, args: list[str]) -> dict[tuple[int, int], int]:
        """Starts the writer mode (root, no service user), delivers, returns {(pid, tid): policy}."""
        work = ph.PrivWork(prefix="dovetail-cpu-")
        self.addCleanup(work.cleanup)
        work.write([ph.MailUser("alice", *self.vmail)])
        daemon = ph.Daemon(work.conf, args=args)
        self.addCleanup(daemon.stop)
        tcp = daemon.start()
        rr, dr = ph.deliver(tcp, ["alice@test.example"])
        self.assertEqual(rr, ["250 2.1.5 OK"], daemon.log())
        self.assertTrue(dr[0].startswith("250 2.0.0 "), f"{dr}\n{daemon.log()}")
        self.assertEqual(len(list((work.maildir("alice") / "new").iterdir())), 1)
        tree = ph.process_tree(daemon.pid)
        self.assertEqual(len(tree), 2, "network process + privileged writer\n" + daemon.log())
        return {(pid, tid): ph.sched_policy(pid, tid) for pid in tree for tid in ph.threads_of(pid)}

    def test_every_thread_of_both_processes_is_batch_by_default(self):
        policies = self.run_daemon([])
        self.assertGreater(len(policies), 4, "event, pool and writer threads")
        self.assertEqual({p for p in policies.values()}, {SCHED_BATCH}, policies)

    def test_normal_keeps_the_kernel_default(self):
        policies = self.run_daemon(["--cpu-policy", "normal"])
        self.assertEqual({p for p in policies.values()}, {SCHED_OTHER}, policies)

    def test_unknown_policy_is_a_usage_error(self):
        r = subprocess.run([tl.dovetail_bin(), "serve", "--cpu-policy", "fifo"], capture_output=True,
                           text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--cpu-policy", r.stderr)


if __name__ == "__main__":
    unittest.main()
