"""A fake /proc tree for fault-injection tests (`nodeproc --proc-root=<tree>`).

Every field of a fake process is derived from (pid, gen) so that a test can tell, from one
output row alone, whether all its fields come from the same incarnation of the PID: the
command line carries `--gen=<gen>` and the other fields are functions of it (see expected()).
A Churner thread keeps killing and re-creating PIDs (new gen, new start time = PID reuse)
while the agent scans.
"""
import os
import random
import shutil
import threading
import time

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
BTIME = 1700000000  # fixed boot time of the fake machine
CLK_TCK = os.sysconf("SC_CLK_TCK")


def expected(pid, gen):
    """What a correct probe reports for incarnation `gen` of `pid`."""
    return {
        "name": f"p{pid}g{gen}",
        "cmdline": f"/usr/bin/fake --pid={pid} --gen={gen} --password=hunter{gen}",
        "ppid": 1,
        "uid": 1000 + gen % 1000,
        "threads": 1 + gen % 7,
        "rss_kb": (100 + gen % 500) * PAGE_KB,
        "vms_kb": (1000 + gen % 500) * PAGE_KB,
        "start_ticks": 1000 + gen * 10,
        "read_bytes": 4096 * gen,
        "write_bytes": 512 * gen,
    }


def stat_line(pid, gen, state="S", flags=4194560):
    e = expected(pid, gen)
    fields = [str(pid), f"({e['name']})", state, str(e["ppid"]), str(pid), str(pid), "0", "-1",
              str(flags), "10", "0", "0", "0",
              str(gen % 100), str(gen % 50), "0", "0",  # utime stime cutime cstime
              "20", "0", str(e["threads"]), "0", str(e["start_ticks"]),
              str(e["vms_kb"] * 1024), str(e["rss_kb"] // PAGE_KB), "18446744073709551615"]
    fields += ["0"] * (52 - len(fields))
    return " ".join(fields) + "\n"


def status_text(pid, gen, state="S (sleeping)"):
    e = expected(pid, gen)
    u = e["uid"]
    return (f"Name:\t{e['name']}\nUmask:\t0022\nState:\t{state}\nTgid:\t{pid}\nNgid:\t0\n"
            f"Pid:\t{pid}\nPPid:\t{e['ppid']}\nTracerPid:\t0\nUid:\t{u}\t{u}\t{u}\t{u}\n"
            f"Gid:\t{u}\t{u}\t{u}\t{u}\nFDSize:\t64\nGroups:\t\n"
            f"VmPeak:\t{e['vms_kb']} kB\nVmSize:\t{e['vms_kb']} kB\nVmRSS:\t{e['rss_kb']} kB\n"
            f"RssAnon:\t{e['rss_kb']} kB\nThreads:\t{e['threads']}\n")


def statm_text(pid, gen):
    e = expected(pid, gen)
    return f"{e['vms_kb'] // PAGE_KB} {e['rss_kb'] // PAGE_KB} 10 1 0 10 0\n"


def io_text(pid, gen):
    e = expected(pid, gen)
    return (f"rchar: {e['read_bytes']}\nwchar: {e['write_bytes']}\nsyscr: 1\nsyscw: 1\n"
            f"read_bytes: {e['read_bytes']}\nwrite_bytes: {e['write_bytes']}\n"
            "cancelled_write_bytes: 0\n")


def write(path, data, mode=0o444):
    if isinstance(data, str):
        data = data.encode()
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


class FakeProc:
    """A tree under <root>/proc. Files are written before the PID folder is renamed into place,
    so a reader sees a PID whole or not at all, like the kernel's /proc."""

    def __init__(self, root):
        self.root = root
        self.proc = os.path.join(root, "proc")
        os.makedirs(self.proc, exist_ok=True)
        os.chmod(root, 0o755)
        os.chmod(self.proc, 0o755)
        self.gens = {}
        self.lock = threading.Lock()
        self._gen = 0
        uptime = 100000.0
        write(os.path.join(self.proc, "stat"),
              "cpu  100 0 100 1000 0 0 0 0 0 0\ncpu0 100 0 100 1000 0 0 0 0 0 0\n"
              f"intr 0\nctxt 0\nbtime {BTIME}\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n")
        write(os.path.join(self.proc, "uptime"), f"{uptime:.2f} {uptime:.2f}\n")
        write(os.path.join(self.proc, "loadavg"), "0.00 0.00 0.00 1/1 1\n")
        write(os.path.join(self.proc, "meminfo"), "MemTotal: 1000000 kB\nMemFree: 500000 kB\n")
        os.symlink("1", os.path.join(self.proc, "self"))

    def next_gen(self):
        with self.lock:
            self._gen += 1
            return self._gen

    def pid_dir(self, pid):
        return os.path.join(self.proc, str(pid))

    def build(self, pid, gen, io_mode=0o444, state="S", flags=4194560, cgroup="0::/\n",
              status_mode=0o444):
        tmp = os.path.join(self.proc, f".new-{pid}-{gen}-{random.randrange(1 << 30)}")
        os.makedirs(tmp)
        e = expected(pid, gen)
        write(os.path.join(tmp, "stat"), stat_line(pid, gen, state, flags))
        write(os.path.join(tmp, "status"), status_text(pid, gen), status_mode)
        write(os.path.join(tmp, "statm"), statm_text(pid, gen))
        write(os.path.join(tmp, "io"), io_text(pid, gen), io_mode)
        write(os.path.join(tmp, "cmdline"), e["cmdline"].replace(" ", "\0") + "\0")
        write(os.path.join(tmp, "comm"), e["name"] + "\n")
        write(os.path.join(tmp, "cgroup"), cgroup)
        os.makedirs(os.path.join(tmp, "fd"))
        for fd in range(3):
            os.symlink("/dev/null", os.path.join(tmp, "fd", str(fd)))
        os.chmod(tmp, 0o555)
        return tmp

    def add(self, pid, gen=1, **kw):
        tmp = self.build(pid, gen, **kw)
        with self.lock:
            os.rename(tmp, self.pid_dir(pid))
            self.gens[pid] = gen

    def remove(self, pid):
        with self.lock:
            d = self.pid_dir(pid)
            gone = os.path.join(self.proc, f".gone-{pid}-{random.randrange(1 << 30)}")
            os.rename(d, gone)  # atomic disappearance, then clean up
            self.gens.pop(pid, None)
        _rmtree(gone)

    def reuse(self, pid):
        """The PID exits and a new process gets the same PID (new gen, later start time)."""
        gen = self.next_gen()
        tmp = self.build(pid, gen)
        with self.lock:
            d = self.pid_dir(pid)
            gone = os.path.join(self.proc, f".gone-{pid}-{random.randrange(1 << 30)}")
            if os.path.exists(d):
                os.rename(d, gone)
            os.rename(tmp, d)
            self.gens[pid] = gen
        if os.path.exists(gone):
            _rmtree(gone)


def _rmtree(path):
    for dirpath, dirnames, _ in os.walk(path):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o755)
    os.chmod(path, 0o755)
    shutil.rmtree(path, ignore_errors=True)


class Churner(threading.Thread):
    """Mutates a FakeProc while the agent scans: PIDs exit, appear and are reused."""

    def __init__(self, fake, pids, seed=1):
        super().__init__(daemon=True)
        self.fake = fake
        self.pids = list(pids)
        self.rng = random.Random(seed)
        self.stop_event = threading.Event()
        self.mutations = 0

    def run(self):
        while not self.stop_event.is_set():
            pid = self.rng.choice(self.pids)
            r = self.rng.random()
            if r < 0.6:
                self.fake.reuse(pid)
            elif pid in self.fake.gens:
                self.fake.remove(pid)
            else:
                self.fake.add(pid, self.fake.next_gen())
            self.mutations += 1

    def stop(self):
        self.stop_event.set()
        self.join()
