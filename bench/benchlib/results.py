"""Samples, and the timing wrapper every measured step goes through."""

import statistics
import time
from dataclasses import asdict, dataclass, field

from .proc import BenchError, children_cpu, log


@dataclass
class Sample:
    group: str          # local, sftp, scale
    backing: str        # ext4, tmpfs, or "-" (scale)
    workload: str
    config: str
    rep: int
    value: float = float("nan")   # seconds unless `unit` says otherwise
    unit: str = "s"
    bytes: int = 0                # payload, for MiB/s
    cpu: dict = field(default_factory=dict)  # role -> CPU seconds (user+sys)
    error: str = ""


class Results:
    def __init__(self):
        self.samples = []
        self.failures = []

    def add(self, sample):
        self.samples.append(sample)
        if sample.error:
            self.failures.append(sample)

    def fail(self, where, error):
        self.add(Sample(where[0], where[1], where[2], where[3], -1, error=str(error)))

    def values(self, group, backing, workload, config):
        return [s.value for s in self.samples
                if (s.group, s.backing, s.workload, s.config) == (group, backing, workload, config)
                and not s.error]

    def median(self, group, backing, workload, config):
        v = self.values(group, backing, workload, config)
        return statistics.median(v) if v else None

    def cpu_median(self, group, backing, workload, config, role):
        v = [s.cpu[role] for s in self.samples
             if (s.group, s.backing, s.workload, s.config) == (group, backing, workload, config)
             and not s.error and role in s.cpu]
        return statistics.median(v) if v else None

    def bytes_of(self, group, backing, workload, config):
        for s in self.samples:
            if (s.group, s.backing, s.workload, s.config) == (group, backing, workload, config) and s.bytes:
                return s.bytes
        return 0

    def as_json(self):
        return [asdict(s) for s in self.samples]


def measure(results, key, rep, action, probes, settle=None, nbytes=0, verify=None):
    """Times `action()` and records the CPU each role used meanwhile.

    probes: role -> callable returning cumulative CPU seconds of that role
    (a FUSE daemon, sshd's process tree); the role "client" is always the
    harness's reaped children, i.e. the client tools the step ran. `settle`
    runs after the clock stops and before CPU is read (e.g. waits until sshd
    has reaped the session processes). `verify` checks the outcome, untimed.
    A failure is recorded with its reason and does not stop the run.
    """
    group, backing, workload, config = key
    sample = Sample(group, backing, workload, config, rep, bytes=nbytes)
    try:
        before = {role: _cpu(p) for role, p in probes.items()}
        client0 = children_cpu()
        t0 = time.perf_counter()
        action()
        sample.value = time.perf_counter() - t0
        if settle:
            settle()
        # max(0, ...): a live task's time is sampled from its runtime, a reaped
        # one's from its final tally; the two can differ by a tick.
        after = {role: _cpu(p) for role, p in probes.items()}
        sample.cpu = {role: max(0.0, after[role] - before[role]) for role in probes
                      if before[role] is not None and after[role] is not None}
        sample.cpu["client"] = sample.cpu.get("client", 0.0) + children_cpu() - client0
        if verify:
            eventually(verify)
    except (BenchError, OSError) as e:
        sample.error = str(e)
        log(f"FAILED {group}/{backing}/{workload}/{config} rep {rep}: {e}")
    results.add(sample)
    return sample



def _cpu(probe):
    """A CPU reading, or None when its source went away (CPU is reported as
    missing for that step; the step itself still counts)."""
    try:
        return probe()
    except OSError as e:
        log(f"CPU reading failed: {e}")
        return None


def eventually(check, timeout=10.0):
    """Runs `check` until it passes or `timeout` runs out.

    A FUSE RELEASE reaches the daemon after close() has returned, and the
    gateway's atomic uploads rename a file to its final name only then, so a
    check on the backing folder may briefly see the temporary name.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except (BenchError, OSError) as e:
            if time.monotonic() > deadline:
                raise BenchError(f"check failed: {e}")
            time.sleep(0.02)

