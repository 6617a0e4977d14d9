"""Start/stop one server under test in a private cgroup; read its CPU and memory.

CPU comes from the cgroup (v1 cpuacct.usage or cgroup2 cpu.stat usage_usec): every process
the server forks is counted, exited ones too, the load client never is. Without a usable
cgroup (not root) it falls back to summing /proc/<pid>/stat over the process tree.
Memory is sampled (sum of VmRSS over the server's processes) by a thread while a load runs;
VmHWM of each process is read at the end (the exact peak of a single-process server).
"""

import os
import signal
import socket
import subprocess
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


class CpuGroup:
    """A cgroup used only for accounting; `ok` is False when none could be made."""

    def __init__(self, name):
        self.path, self.kind = None, None
        for base, kind, probe in (("/sys/fs/cgroup/cpuacct", "v1", "cpuacct.usage"),
                                  ("/sys/fs/cgroup/cpu,cpuacct", "v1", "cpuacct.usage"),
                                  ("/sys/fs/cgroup/unified", "v2", "cgroup.procs"),
                                  ("/sys/fs/cgroup", "v2", "cgroup.controllers")):
            if not os.path.exists(os.path.join(base, probe)):
                continue
            p = os.path.join(base, name)
            try:
                os.makedirs(p, exist_ok=True)
                self.path, self.kind = p, kind
                self.usage_s()
                return
            except (OSError, ValueError):
                self.path = self.kind = None

    @property
    def ok(self):
        return self.path is not None

    def procs_file(self):
        return os.path.join(self.path, "cgroup.procs")

    def pids(self):
        return [int(x) for x in _read(self.procs_file()).split()]

    def usage_s(self):
        """(total, user, system) CPU seconds."""
        if self.kind == "v1":
            tot = int(_read(os.path.join(self.path, "cpuacct.usage"))) / 1e9
            usr = _read(os.path.join(self.path, "cpuacct.usage_user")).strip()
            sy = _read(os.path.join(self.path, "cpuacct.usage_sys")).strip()
            return tot, (int(usr) / 1e9 if usr else None), (int(sy) / 1e9 if sy else None)
        st = dict(line.split() for line in _read(os.path.join(self.path, "cpu.stat")).splitlines())
        return (int(st["usage_usec"]) / 1e6, int(st.get("user_usec", 0)) / 1e6,
                int(st.get("system_usec", 0)) / 1e6)

    def remove(self):
        for _ in range(100):
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.05)


def _children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            s = _read(f"/proc/{d}/stat")
            if s:
                ppid = int(s[s.rfind(")") + 2:].split()[1])
                kids.setdefault(ppid, []).append(int(d))
    return kids


def proc_tree(root):
    kids, out, todo = _children_map(), [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def proc_cpu_s(pids):
    t = 0
    for p in pids:
        s = _read(f"/proc/{p}/stat")
        if s:
            f = s[s.rfind(")") + 2:].split()
            t += sum(int(x) for x in f[11:15])
    return t / CLK_TCK


def proc_mem_kib(pid):
    """(VmRSS, VmHWM) in KiB, zeros when the process is gone."""
    rss = hwm = 0
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
    return rss, hwm


def greets(port, timeout=2.0):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            ok = s.recv(512).startswith(b"220")
            if ok:
                s.sendall(b"QUIT\r\n")
            return ok
    except OSError:
        return False


class MemSampler(threading.Thread):
    """Peak of the summed VmRSS of the server's processes, every `interval` seconds."""

    def __init__(self, server, interval=0.2):
        super().__init__(daemon=True)
        self.server, self.interval = server, interval
        self.stop_ev = threading.Event()
        self.peak_rss_kib = 0

    def sample(self):
        total = sum(proc_mem_kib(p)[0] for p in self.server.pids())
        self.peak_rss_kib = max(self.peak_rss_kib, total)
        return total

    def run(self):
        while not self.stop_ev.is_set():
            self.sample()
            self.stop_ev.wait(self.interval)

    def finish(self):
        self.stop_ev.set()
        self.join()
        self.sample()
        return self.peak_rss_kib


class Server:
    """One managed server process (foreground command), started fresh for each measured run."""

    def __init__(self, name, argv_template):
        self.name = name
        self.argv_template = argv_template  # list; "{conf}", "{port}" and "{workdir}" are replaced
        self.popen = None
        self.cg = None

    def start(self, conf, port, workdir, timeout=30):
        self.cg = CpuGroup(f"dovetail-bench.{os.getpid()}.{self.name}.{port}")
        procs = self.cg.procs_file() if self.cg.ok else None

        def enter_cgroup():
            if procs:
                with open(procs, "w") as f:
                    f.write(str(os.getpid()))

        argv = [a.replace("{conf}", conf).replace("{port}", str(port)).replace("{workdir}", workdir)
                for a in self.argv_template]
        out = open(os.path.join(workdir, "log", "server.out"), "w")
        try:
            self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True, preexec_fn=enter_cgroup, cwd=workdir)
        except OSError as e:
            raise RuntimeError(f"cannot run {argv[0]}: {e}") from e
        finally:
            out.close()
        deadline = time.monotonic() + timeout
        while not greets(port):
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode} during start; "
                                   f"see {workdir}/log/server.out")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name}: no 220 on 127.0.0.1:{port} after {timeout}s")
            time.sleep(0.05)

    def pids(self):
        if self.cg and self.cg.ok:
            return self.cg.pids()
        return proc_tree(self.popen.pid) if self.popen else []

    def cpu_s(self):
        """(total, user, system) CPU seconds so far; user/system None without a cgroup."""
        if self.cg and self.cg.ok:
            return self.cg.usage_s()
        return proc_cpu_s(self.pids()), None, None

    def max_hwm_kib(self):
        return max([proc_mem_kib(p)[1] for p in self.pids()] or [0])

    def stop(self):
        if not self.popen:
            return
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)  # the server's own session only
                self.popen.wait()
        deadline = time.monotonic() + 20
        while self.cg and self.cg.ok and self.cg.pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.cg and self.cg.ok:
            self.cg.remove()
        self.popen = self.cg = None
