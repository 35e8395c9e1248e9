"""One `gateway serve` instance: start, readiness, reload, memory, stop."""

import os
import shutil
import signal
import time

from .proc import BenchError, Daemon, Fatal, children_of, own_cpu, proc_status, run, tree_cpu, wait_until
from .system import is_mounted, make_dir, umount


class Gateway:
    """A gateway over one data dir and one volumes dir, optionally with sshd.

    `users` and `maps` go on the command line, or, for thousands of users,
    into a --config file (`config`), exactly as an operator would write it.
    """

    def __init__(self, binary, name, root, users=(), maps=(), config=None, port=None,
                 run_sshd=False, cache_timeout=None, data_dir=None, volumes_dir=None,
                 pidfile=None, hostkeys=None, log_dir=None, cpu=None):
        self.binary, self.name, self.root = binary, name, root
        self.data_dir = data_dir or os.path.join(root, "data")
        self.volumes_dir = volumes_dir or os.path.join(root, "vols")
        self.mountpoint = os.path.join(root, "view")
        self.state_dir = os.path.join(root, "state")
        self.port, self.run_sshd, self.pidfile, self.hostkeys = port, run_sshd, pidfile, hostkeys
        self.log_path = os.path.join(log_dir or root, f"gateway-{name.replace(' ', '-')}.log")
        opts = []
        if config:
            opts += ["--config", config]
        for u in users:
            opts += ["--users", u]
        for m in maps:
            opts += ["--map", m]
        opts += ["--data-dir", self.data_dir, "--volumes-dir", self.volumes_dir,
                 "--mountpoint", self.mountpoint, "--state-dir", self.state_dir]
        if port:
            opts += ["--port", str(port)]
        if run_sshd:
            opts += ["--run-sshd", "--listen", "127.0.0.1"]
        if cache_timeout is not None:
            opts += ["--cache-timeout", str(cache_timeout)]
        self.options = opts
        self.daemon = None
        # Optional CPU groups (cgroups.CpuGroups): one for the gateway
        # (supervisor and worker), one for its sshd and every session.
        self.cpu_group = cpu.new(f"gateway-{name}") if cpu else None
        self.sshd_group = cpu.new(f"gateway-sshd-{name}") if cpu and run_sshd else None
        make_dir(root)
        make_dir(self.state_dir, 0o700)

    # ------------------------------------------------------------ life cycle

    def _runtime(self):
        """The runtime file `gateway status` reads: key=value lines."""
        try:
            with open(os.path.join(self.state_dir, "runtime")) as f:
                return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        except FileNotFoundError:
            return {}

    def _sshd_pid_file(self):
        try:
            with open(os.path.join(self.state_dir, "sshd.pid")) as f:
                return int(f.read().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def worker_pid(self):
        """The process serving FUSE: a worker the supervisor (our child)
        forked, or, in single-process builds, the gateway itself. Both write
        their pid into the runtime file."""
        return int(self._runtime().get("pid", "0"))

    def sshd_pid(self):
        return int(self._runtime().get("sshd_pid", "0")) or self._sshd_pid_file()

    def start(self, timeout=60):
        """Starts serving; returns seconds from spawn until serving.

        Serving is what `gateway status` checks (the runtime file names a live
        process of this gateway, written only once the view is mounted; in
        host mode sshd runs too), polled every 2 ms here because `gateway
        status` itself re-parses the whole configuration on each call;
        `status` is then run once to confirm.
        """
        if self.hostkeys:
            self.hostkeys.install(self.state_dir)
        for name in ("runtime", "sshd.pid"):
            try:
                os.remove(os.path.join(self.state_dir, name))
            except FileNotFoundError:
                pass
        make_dir(self.mountpoint)
        self.daemon = Daemon(f"gateway[{self.name}]", [self.binary, "serve", *self.options],
                             self.log_path, self.pidfile, self.cpu_group)
        t0 = time.perf_counter()
        self.daemon.start()
        ours = self.daemon.pid

        def serving():
            if not self.daemon.alive():
                out = self.daemon.exited_output()
                lines = [l for l in out if " info " not in l] or out[-4:]
                raise BenchError(f"gateway[{self.name}] exited {self.daemon.proc.returncode} while starting: "
                                 f"{' | '.join(lines[-8:])}; log: {self.log_path}")
            pid = self.worker_pid()
            if not pid or not (pid == ours or pid in children_of(ours)):
                return False
            return not self.run_sshd or self.sshd_pid() > 0
        wait_until(serving, timeout, interval=0.002, what=f"gateway[{self.name}] to serve")
        ready = time.perf_counter() - t0
        self.worker = self.worker_pid()
        self.ready_cpu = sum(own_cpu(p) for p in self._pids())
        if self.sshd_group:
            self.sshd_group.add(self.sshd_pid())  # sessions fork from it: all counted there
        if self.hostkeys:
            self.hostkeys.remember(self.state_dir)
        return ready

    def status_ok(self, timeout=120):
        r = run([self.binary, "status", *self.options], timeout, check=False, what="gateway status")
        return r.returncode == 0

    def stop(self):
        sshd = self.sshd_pid() if self.daemon and self.run_sshd else 0
        if self.daemon:
            self.daemon.stop(timeout=20)
        if sshd:
            # The gateway signals its sshd on the way out; wait until the
            # listener is gone so the port is free for whatever comes next.
            try:
                wait_until(lambda: not os.path.exists(f"/proc/{sshd}"), 10, what="the gateway's sshd to exit")
            except BenchError:
                os.kill(sshd, signal.SIGKILL)
        if is_mounted(self.mountpoint):
            umount(self.mountpoint)

    def check(self):
        """Raises Fatal unless the same supervisor and worker still serve."""
        if not self.daemon.alive():
            raise Fatal(f"gateway[{self.name}] exited (code {self.daemon.proc.returncode}) during the run; "
                        f"last lines: {' | '.join(self.daemon.tail(4))}; log: {self.log_path}")
        now = self.worker_pid()
        if now != self.worker:
            raise Fatal(f"gateway[{self.name}]: the FUSE worker changed from pid {self.worker} to {now} "
                        f"(restarted by the supervisor); log: {self.log_path}")

    # ------------------------------------------------------------ probes

    def _pids(self):
        """Supervisor and worker (one pid when they are the same process)."""
        return sorted({self.daemon.pid, self.worker})

    def fuse_cpu(self):
        if self.cpu_group:
            return self.cpu_group.usage()
        # Own threads of supervisor and worker; sshd (a child) is accounted as sshd.
        return sum(own_cpu(p) for p in self._pids())

    def sshd_cpu(self):
        if self.sshd_group:
            return self.sshd_group.usage()
        return tree_cpu(self.sshd_pid())  # a lower bound: see cgroups.py

    def rss_mib(self):
        return sum(proc_status(p, "VmRSS") for p in self._pids())

    def hwm_mib(self):
        return sum(proc_status(p, "VmHWM") for p in self._pids())

    def reload(self, timeout=30):
        """Seconds from SIGHUP (to the process an operator signals) until the
        "reloaded" log line arrives."""
        since = self.daemon.seq()
        t0 = time.perf_counter()
        os.kill(self.daemon.pid, signal.SIGHUP)
        t, line = self.daemon.wait_line(r"reloaded: |reload refused", since, timeout)
        if "refused" in line:
            raise BenchError(f"gateway[{self.name}]: {line}")
        return t - t0

    def home(self, user):
        return os.path.join(self.mountpoint, "data", f"{user}-chroot", user)


class HostKeys:
    """Host keys generated once (RSA 4096 takes a second) and reused by every
    instance, so start-up times measure the gateway, not key generation."""

    def __init__(self, store):
        self.store = store

    def install(self, state_dir):
        target = os.path.join(state_dir, "host_keys")
        if os.path.isdir(self.store) and not os.path.isdir(target):
            shutil.copytree(self.store, target)

    def remember(self, state_dir):
        source = os.path.join(state_dir, "host_keys")
        if not os.path.isdir(self.store) and os.path.isdir(source):
            shutil.copytree(source, self.store)
