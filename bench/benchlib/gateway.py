"""The gateway as the benchmark runs it: the tests' Gateway (gwtest.gateway:
folders, command line, readiness, the pids it publishes) spawned through a
Daemon (output drained and time-stamped, pid recorded for a later run's
clean-up, in a CPU cgroup), plus what bench measures: start-up time, CPU,
memory, reload."""

import os
import shutil
import signal
import time
from pathlib import Path

from gwtest.gateway import Gateway, GatewayError
from gwtest.procs import status_kib, wait_gone

from .proc import BenchError, Daemon, Fatal, own_cpu, run, tree_cpu
from .system import make_dir


class BenchGateway(Gateway):
    """A gateway over one data dir and one volumes dir, optionally with sshd.

    `users` and `maps` go on the command line, or, for thousands of users,
    into a --config file (`config`), exactly as an operator would write it.
    """

    def __init__(self, binary, name, root, users=(), maps=(), config=None, port=None,
                 run_sshd=False, cache_timeout=None, data_dir=None, volumes_dir=None,
                 pidfile=None, hostkeys=None, log_dir=None, cpu=None):
        super().__init__(binary, root, port=port, sshd=run_sshd, config=config, users=users, maps=maps,
                         data=data_dir, volumes=volumes_dir or os.path.join(root, "vols"),
                         extra_args=[] if cache_timeout is None else ["--cache-timeout", str(cache_timeout)],
                         log_path=os.path.join(log_dir or root, f"gateway-{name.replace(' ', '-')}.log"))
        self.name, self.pidfile, self.hostkeys = name, pidfile, hostkeys
        self.daemon = None
        # Optional CPU groups (cgroups.CpuGroups): one for the gateway
        # (supervisor and worker), one for its sshd and every session.
        self.cpu_group = cpu.new(f"gateway-{name}") if cpu else None
        self.sshd_group = cpu.new(f"gateway-sshd-{name}") if cpu and run_sshd else None
        make_dir(root)
        make_dir(self.state, 0o700)

    # ------------------------------------------------------------ life cycle

    def spawn(self, argv):
        self.daemon = Daemon(f"gateway[{self.name}]", argv, str(self.log_path), self.pidfile, self.cpu_group)
        return self.daemon.start().proc

    def ready(self):
        """Serving (what `gateway status` checks): when sshd accepts
        connections is measured on its own (scale)."""
        return self.serving()

    def start(self, timeout=60):
        """Starts serving; returns seconds from spawn until serving.

        Serving is what `gateway status` checks (the runtime file names a live
        process of this gateway, written only once the view is mounted; in
        host mode sshd runs too), polled every 2 ms here because `gateway
        status` itself re-parses the whole configuration on each call;
        `status` is then run once to confirm.
        """
        if self.hostkeys:
            self.hostkeys.install(self)
        for name in ("runtime", "sshd.pid"):
            try:
                os.remove(self.state / name)
            except FileNotFoundError:
                pass
        make_dir(self.view)
        try:
            super().start(timeout, poll=0.002)
        except GatewayError:
            if self.daemon.alive():
                raise BenchError(f"timed out after {timeout} s waiting for gateway[{self.name}] to serve")
            out = self.daemon.exited_output()
            lines = [l for l in out if " info " not in l] or out[-4:]
            raise BenchError(f"gateway[{self.name}] exited {self.daemon.proc.returncode} while starting: "
                             f"{' | '.join(lines[-8:])}; log: {self.log_path}")
        self.worker = self.runtime_pid()
        self.ready_cpu = sum(own_cpu(p) for p in self._pids())
        self.worker_cpu = own_cpu(self.worker)
        if self.sshd_group:
            self.sshd_group.add(self.sshd_pid())  # sessions fork from it: all counted there
        if self.hostkeys:
            self.hostkeys.remember(self)
        return self.ready_seconds

    def status_ok(self, timeout=120):
        r = run([self.binary, "status", *self.serve_options()], timeout, check=False, what="gateway status")
        return r.returncode == 0

    def stop(self):
        sshd = self.sshd_pid() if self.daemon and self.sshd else 0
        if self.daemon:
            self.daemon.stop(timeout=20)
        # The gateway signals its sshd on the way out; wait until the
        # listener is gone so the port is free for whatever comes next.
        if sshd and not wait_gone(sshd, 10):
            try:
                os.kill(sshd, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.unmount()

    def check(self):
        """Raises Fatal unless the same supervisor and worker still serve."""
        if not self.daemon.alive():
            raise Fatal(f"gateway[{self.name}] exited (code {self.daemon.proc.returncode}) during the run; "
                        f"last lines: {' | '.join(self.daemon.tail(4))}; log: {self.log_path}")
        now = self.runtime_pid()
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
        return sum(status_kib(p, "VmRSS") for p in self._pids()) / 1024.0

    def hwm_mib(self):
        return sum(status_kib(p, "VmHWM") for p in self._pids()) / 1024.0

    def build_line(self, what, since=0, timeout=10):
        """The worker's phase line for `what` ("start" or "reload"): each
        phase's seconds, "total", and "heap" (MiB in use, glibc's mallinfo2)."""
        _, line = self.daemon.wait_line(rf"build \({what}[^)]*\): ", since, timeout)
        phases, heap = line.split("): ", 1)[1].rsplit("; heap ", 1)
        out = {"heap": float(heap.split()[0])}
        for part in phases.split(", "):
            name, ms, _ = part.rsplit(" ", 2)
            out[name] = float(ms) / 1000.0
        return out

    def reload(self, timeout=30):
        """Seconds from SIGHUP (to the process an operator signals) until the
        "reloaded" log line arrives."""
        since = self.daemon.seq()
        t0 = time.perf_counter()
        os.kill(self.daemon.pid, signal.SIGHUP)
        t, line = self.daemon.wait_line(r"reloaded: |reload refused", since, timeout)
        if "refused" in line:
            raise BenchError(f"gateway[{self.name}]: {line}")
        self.last_reload = self.build_line("reload", since, timeout)
        return t - t0


class HostKeys:
    """Host keys generated once (RSA 4096 takes a second) and reused by every
    instance, so start-up times measure the gateway, not key generation."""

    def __init__(self, store):
        self.store = Path(store)

    def install(self, gw):
        if self.store.is_dir() and not (gw.state / "host_keys").is_dir():
            gw.seed_host_keys(self.store)

    def remember(self, gw):
        source = gw.state / "host_keys"
        if not self.store.is_dir() and source.is_dir():
            shutil.copytree(source, self.store)
