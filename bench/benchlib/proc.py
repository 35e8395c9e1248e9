"""Processes: bounded commands, supervised daemons, CPU accounting, cleanup
(reading /proc itself is gwtest.procs's).

Every process the harness starts gets its own session (start_new_session), so a
Ctrl-C in the terminal reaches only the harness, which then tears things down in
order (clients, sshd, FUSE daemons, mounts) instead of racing its children.
"""

import collections
import json
import os
import re
import resource
import signal
import subprocess
import threading
import time

from gwtest.procs import children, stat_fields

CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """A workload or a setup step failed; the message says which and why."""


class Fatal(Exception):
    """Something the rest of the run depends on died (a gateway, a worker
    restart): later figures would be wrong, so the run stops here and reports
    what it has."""


class Interrupted(BaseException):
    """SIGTERM or SIGHUP: unwinds like KeyboardInterrupt so `finally` cleans up."""


def _raise_interrupted(signum, _frame):
    raise Interrupted(f"signal {signum}")


def install_signal_handlers():
    # Explicitly: a shell starts background jobs with SIGINT ignored, and
    # Python then leaves it ignored; `kill -INT` must still clean up.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupted)
    if signal.getsignal(signal.SIGHUP) != signal.SIG_IGN:  # respect nohup
        signal.signal(signal.SIGHUP, _raise_interrupted)


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------- CPU

def own_cpu(pid):
    """User+system seconds of every thread of PID (live and exited threads)."""
    try:
        f = stat_fields(pid)
    except OSError:
        return 0.0
    return (int(f[11]) + int(f[12])) / CLK_TCK


def tree_cpu(pid):
    """CPU of PID, of its reaped descendants (cutime/cstime) and of its live ones.

    sshd's listener reaps each session process, and each session reaps its
    privilege-separated child, so a finished session's CPU ends up here too.
    """
    try:
        f = stat_fields(pid)
    except OSError:
        return 0.0
    total = sum(int(x) for x in f[11:15]) / CLK_TCK
    return total + sum(tree_cpu(k) for k in children(pid))


def children_cpu():
    """CPU of the harness's own reaped children (the client tools)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def start_time(pid):
    """Start time in ticks since boot: with the pid, names one process for good."""
    return int(stat_fields(pid)[19])


# ---------------------------------------------------------------- commands

def _kill_group(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def run(argv, timeout, user=None, check=True, stdout=subprocess.DEVNULL, what=None, cwd=None):
    """Runs argv to completion within `timeout` seconds.

    user=(uid, gid) runs it under that identity with no supplementary groups,
    set by subprocess itself (no extra exec of setpriv inside the timing).
    """
    kwargs = {}
    if user is not None:
        kwargs = {"user": user[0], "group": user[1], "extra_groups": []}
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE,
                         start_new_session=True, cwd=cwd, **kwargs)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(p)
        raise BenchError(f"{what or argv[0]}: timed out after {timeout:.0f} s")
    finally:
        if p.poll() is None:
            _kill_group(p)
    if check and p.returncode != 0:
        tail = (err or b"").decode(errors="replace").strip().splitlines()[-5:]
        raise BenchError(f"{what or ' '.join(map(str, argv))}: exit {p.returncode}: {' | '.join(tail)}")
    return subprocess.CompletedProcess(argv, p.returncode, out, err)


def output(argv, timeout=30):
    """Stdout of a short query command, or '' if it fails."""
    try:
        r = run(argv, timeout, check=False, stdout=subprocess.PIPE)
    except (BenchError, FileNotFoundError):
        return ""
    return (r.stdout or b"").decode(errors="replace").strip() if r.returncode == 0 else ""


# ---------------------------------------------------------------- daemons

class PidFile:
    """Records every long-lived process the harness starts (pid + start time).

    A run killed with SIGKILL cannot clean up; the next run kills exactly
    those processes (matched by pid and start time, never by name).
    """

    def __init__(self, path):
        self.path = path

    def _load(self):
        try:
            with open(self.path) as f:
                return json.load(f)
        except (FileNotFoundError, ValueError):
            return []

    def add(self, pid, name):
        entries = self._load()
        entries.append({"pid": pid, "start": start_time(pid), "name": name})
        self._save(entries)

    def remove(self, pid):
        self._save([e for e in self._load() if e["pid"] != pid])

    def _save(self, entries):
        tmp = self.path + ".new"
        with open(tmp, "w") as f:
            json.dump(entries, f)
        os.replace(tmp, self.path)

    def kill_leftovers(self):
        for e in self._load():
            try:
                if start_time(e["pid"]) == e["start"]:
                    log(f"killing leftover {e['name']} (pid {e['pid']}) from an earlier run")
                    os.kill(e["pid"], signal.SIGKILL)
            except (FileNotFoundError, ProcessLookupError):
                pass
        self._save([])


class Daemon:
    """A long-lived child whose output is drained into a log file by a thread.

    Draining matters: the gateway and sshd log every session, and a full pipe
    would stall them. Lines are time-stamped on arrival so a test can time an
    event from the moment it caused it (e.g. SIGHUP to "reloaded").
    """

    def __init__(self, name, argv, log_path, pidfile=None, cgroup=None):
        self.name, self.argv, self.log_path, self.pidfile = name, argv, log_path, pidfile
        self.cgroup = cgroup  # a cgroups.CpuGroup the daemon starts in, or None
        self.proc = None
        self._lines = collections.deque(maxlen=20000)
        self._seq = 0
        self._cond = threading.Condition()

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        self._log = open(self.log_path, "ab", buffering=0)
        self._log.write(f"# {time.strftime('%F %T')} {' '.join(map(str, self.argv))}\n".encode())
        argv = self.cgroup.wrap(self.argv) if self.cgroup else self.argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        if self.pidfile:
            try:
                self.pidfile.add(self.proc.pid, self.name)
            except FileNotFoundError:
                pass  # exited at once; start-up checks report it
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()
        return self

    def exited_output(self, n=40, timeout=2):
        """The last lines once the process has exited and its output is read."""
        self.proc.wait()
        self._reader.join(timeout)
        return self.tail(n)

    def _drain(self):
        for raw in self.proc.stdout:
            now = time.perf_counter()
            self._log.write(raw)
            with self._cond:
                self._seq += 1
                self._lines.append((self._seq, now, raw.decode(errors="replace").rstrip("\n")))
                self._cond.notify_all()
        with self._cond:
            self._seq += 1
            self._cond.notify_all()

    def seq(self):
        with self._cond:
            return self._seq

    def wait_line(self, pattern, since, timeout):
        """First line after `since` matching regex `pattern`: (arrival time, text)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for seq, t, text in self._lines:
                    if seq > since and rx.search(text):
                        return t, text
                left = deadline - time.monotonic()
                if left <= 0 or not self.alive():
                    raise BenchError(f"{self.name}: no line matching /{pattern}/ within {timeout} s"
                                     f" ({'running' if self.alive() else 'exited'}); log: {self.log_path}")
                self._cond.wait(min(left, 0.2))

    def tail(self, n=8):
        with self._cond:
            return [text for _, _, text in list(self._lines)[-n:]]

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=15):
        """SIGTERM (FUSE daemons unmount on it), then SIGKILL of the group."""
        if self.proc is None:
            return
        if self.alive():
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log(f"{self.name} ignored SIGTERM for {timeout} s; killing it")
            except ProcessLookupError:
                pass
        _kill_group(self.proc)
        if self.pidfile:
            self.pidfile.remove(self.proc.pid)


# ---------------------------------------------------------------- cleanup

class Cleanup:
    """A stack of undo steps, run newest first, each bounded and each tried."""

    def __init__(self):
        self._stack = []

    def push(self, what, fn):
        self._stack.append((what, fn))
        return len(self._stack) - 1

    def run_until(self, mark):
        """Undoes everything pushed since `mark` (a value of len() before the pushes)."""
        while len(self._stack) > mark:
            what, fn = self._stack.pop()
            try:
                fn()
            except Exception as e:  # cleanup goes on whatever one step did
                log(f"cleanup: {what}: {e}")

    def __len__(self):
        return len(self._stack)

    def run_all(self):
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop the undo
        try:
            self.run_until(0)
        finally:
            signal.signal(signal.SIGINT, old)


def wait_until(pred, timeout, interval=0.01, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
