"""CPU per role from cgroups, which keep counting after processes exit.

/proc/PID/stat cannot see an sshd session's CPU: the privileged monitor does
not always reap its unprivileged child, so the time is never folded into the
listener's cutime (measured: a 256 MiB upload showed 0.01 s for sshd). A
cgroup counts every task that ever ran in it. Each daemon is started through
`sh -c 'echo $$ > cgroup.procs; exec ...'`, so it and every descendant are in
its role's group from the first instruction.

cgroup v1 (a `cpuacct` hierarchy) and v2 (cpu.stat's usage_usec, present
without any controller enabled) both work; without either, callers fall back
to /proc (and the report says the sshd figure is a lower bound).
"""

import os

from .proc import log

PARENT = "sftp-gateway-bench"


def _hierarchy():
    """(mount point, version) of a cgroup hierarchy that accounts CPU, or None."""
    found = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            point = left.split()[4]
            fstype, _, opts = right.split()[:3]
            if fstype == "cgroup" and "cpuacct" in opts.split(","):
                return point, 1
            if fstype == "cgroup2" and found is None:
                found = (point, 2)
    return found


class CpuGroup:
    def __init__(self, path, version):
        self.path, self.version = path, version

    def wrap(self, argv):
        """argv, started inside this group (the pid stays the same: exec)."""
        return ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', self.path, *argv]

    def add(self, pid):
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(f"{pid}\n")

    def usage(self):
        """CPU seconds (user+system) of everything that ever ran in the group."""
        if self.version == 1:
            with open(os.path.join(self.path, "cpuacct.usage")) as f:
                return int(f.read()) / 1e9
        with open(os.path.join(self.path, "cpu.stat")) as f:
            for line in f:
                if line.startswith("usage_usec"):
                    return int(line.split()[1]) / 1e6
        return 0.0


class CpuGroups:
    def __init__(self):
        self.root = None
        found = _hierarchy()
        if not found:
            return
        point, self.version = found
        parent = os.path.join(point, PARENT)
        try:
            _remove_tree(parent, point)
            os.makedirs(parent, exist_ok=True)
            probe = os.path.join(parent, "probe")
            os.mkdir(probe)
            os.rmdir(probe)
            self.root, self.top = parent, point
        except OSError as e:
            log(f"no cgroup for CPU accounting ({e}); sshd CPU will be a lower bound")

    def available(self):
        return self.root is not None

    def new(self, role):
        path = os.path.join(self.root, role)
        os.makedirs(path, exist_ok=True)
        return CpuGroup(path, self.version)

    def remove(self):
        if self.root:
            _remove_tree(self.root, self.top)


def _remove_tree(parent, top):
    """Removes our groups, first moving any straggler to the top group."""
    if not os.path.isdir(parent):
        return
    for name in os.listdir(parent):
        child = os.path.join(parent, name)
        if not os.path.isdir(child):
            continue
        try:
            with open(os.path.join(child, "cgroup.procs")) as f:
                pids = f.read().split()
            for pid in pids:
                with open(os.path.join(top, "cgroup.procs"), "w") as f:
                    f.write(pid + "\n")
            os.rmdir(child)
        except OSError as e:
            log(f"cannot remove cgroup {child}: {e}")
    try:
        os.rmdir(parent)
    except OSError:
        pass

