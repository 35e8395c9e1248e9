"""The machine: mounts, caches, identities, ports, and what to record about it."""

import ctypes
import resource
import os
import platform
import shutil
import socket
import time

from gwtest.mounts import mount_table, mounted

from .proc import BenchError, output, run, wait_until

_libc = ctypes.CDLL(None, use_errno=True)


# ---------------------------------------------------------------- mounts

def fs_type_of(path):
    """The fs type of the mount holding `path` (ext4, tmpfs, fuse.xyz)."""
    path = os.path.realpath(path)
    best, kind = "", "?"
    for point, fstype, _ in mount_table():
        if (path == point or path.startswith(point.rstrip("/") + "/")) and len(point) >= len(best):
            best, kind = point, fstype
    return kind


def mounts_under(root):
    root = os.path.realpath(root).rstrip("/") + "/"
    return [p for p, _, _ in mount_table() if p.startswith(root)]


def umount(path, lazy_fallback=True):
    """Unmounts `path` (FUSE or not); a busy mount is detached lazily."""
    if not mounted(path):
        return
    r = run(["umount", path], 20, check=False)
    if r.returncode != 0 and lazy_fallback and mounted(path):
        run(["umount", "-l", path], 20, check=False)


def mount_tmpfs(path, size_bytes):
    os.makedirs(path, exist_ok=True)
    mib = size_bytes // (1 << 20) + 1
    run(["mount", "-t", "tmpfs", "-o", f"size={mib}m,mode=0755", "gwbench-tmpfs", path], 20)


def bind_mount(src, dst):
    run(["mount", "--bind", src, dst], 20)


def wait_mounted(path, daemon, timeout=15):
    def ready():
        if not daemon.alive():
            raise BenchError(f"{daemon.name} exited before mounting {path}: {' | '.join(daemon.tail())}")
        return mounted(path)
    wait_until(ready, timeout, what=f"{daemon.name} to mount {path}")


# ---------------------------------------------------------------- caches

def syncfs(path):
    """Writes back one file system's dirty data (not every disk on the machine)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if _libc.syncfs(fd) != 0:
            raise BenchError(f"syncfs {path}: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)


def drop_caches():
    """Drops clean page cache, dentries and inodes machine-wide.

    This evicts a file's pages both from the backing file system and from the
    FUSE inode above it, and makes the kernel forget FUSE inodes (FORGET), so
    the next access is a fresh LOOKUP/OPEN/READ through the daemon. It does not
    reset a daemon's own user-space state (the gateway's fd cache, mergerfs's
    tables), just as a long-running server keeps it. tmpfs pages are the
    storage itself and are never dropped.
    """
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


# ---------------------------------------------------------------- identities and ports

def free_uid(start):
    import pwd
    uid = start
    while True:
        try:
            pwd.getpwuid(uid)
            uid += 1
        except KeyError:
            return uid


def check_port_free(port, wait=5.0):
    deadline = time.monotonic() + wait
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise BenchError(f"port {port} on 127.0.0.1 is in use; pick others with --port-base")
        time.sleep(0.1)


def port_accepts(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        try:
            s.connect(("127.0.0.1", port))
            return True
        except OSError:
            return False


def make_dir(path, mode=0o755, owner=(0, 0)):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)
    os.chown(path, *owner)


def rmtree(path):
    """Removes a tree without crossing into anything mounted inside it."""
    if os.path.lexists(path):
        run(["rm", "-rf", "--one-file-system", path], 600, what=f"rm -rf {path}")


# ---------------------------------------------------------------- what to record

PACKAGES = ["fuse3", "libfuse3-3", "libfuse2", "bindfs", "mergerfs", "openssh-server",
            "openssh-client", "sshfs", "coreutils", "tar"]


def package_versions():
    versions = {}
    for p in PACKAGES:
        versions[p] = output(["dpkg-query", "-W", "-f=${Version}", p]) or "not installed"
    return versions


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(next(l for l in f if l.startswith("MemTotal")).split()[1])
    debian = ""
    if os.path.exists("/etc/debian_version"):
        with open("/etc/debian_version") as f:
            debian = f.read().strip()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "host_cpus": os.cpu_count(),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "memory_gib": round(mem_kib / (1 << 20), 1),
        "kernel": platform.release(),
        "debian": debian,
        "python": platform.python_version(),
        "nofile_limit": "/".join(str(x) for x in resource.getrlimit(resource.RLIMIT_NOFILE)),
    }


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class OtherLoad:
    """How busy the machine was with work that is not the benchmark's.

    Busy CPU time from /proc/stat over the run, minus the CPU of the harness
    and of every process it started (all reaped by the end: daemons, their
    sshd sessions, clients), divided by the wall time: the average number of
    CPUs other programs kept busy. Kernel threads doing the benchmark's
    write-back count as "other", so a quiet machine shows a little above 0.
    """

    def __init__(self):
        self.t0, self.busy0, self.ours0 = time.time(), self._busy(), self._ours()

    @staticmethod
    def _busy():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal
        return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _ours():
        import resource
        total = 0.0
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            ru = resource.getrusage(who)
            total += ru.ru_utime + ru.ru_stime
        return total

    def average(self):
        wall = time.time() - self.t0
        other = (self._busy() - self.busy0) - (self._ours() - self.ours0)
        return max(0.0, other / wall) if wall > 0 else 0.0


def require_tools(names):
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        raise BenchError(f"missing tools: {', '.join(missing)} (scripts/install-deps installs them)")

