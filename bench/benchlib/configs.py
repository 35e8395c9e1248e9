"""The backing stores and the ways of reaching the same backing folder.

Every configuration serves one folder, `<backing>/vols/benchvol`, owned by the
benchmark user: directly (native), through the gateway's view, through bindfs
and through mergerfs. The workloads run as that user in every configuration.
"""

import os

from .proc import Daemon, Fatal, own_cpu
from .system import fs_type_of, make_dir, mount_tmpfs, umount, wait_mounted

VOLUME = "benchvol"
MOUNT = "vol"  # the mapping's name in the user's home


class Backing:
    def __init__(self, name, root, user):
        self.name, self.root = name, root
        self.volumes = os.path.join(root, "vols")
        self.data = os.path.join(root, "data")
        self.vol = os.path.join(self.volumes, VOLUME)
        self.user = user

    def prepare(self, cleanup, tmpfs_bytes=None):
        make_dir(self.root)
        if tmpfs_bytes:
            mount_tmpfs(self.root, tmpfs_bytes)
            cleanup.push(f"unmount {self.root}", lambda: umount(self.root))
        make_dir(self.volumes)
        make_dir(self.data)
        make_dir(self.vol, 0o755, (self.user.uid, self.user.gid))
        self.fstype = fs_type_of(self.vol)
        return self


class Native:
    kind = "native"

    def __init__(self, backing):
        self.name, self.backing, self.path = "native", backing, backing.vol

    def probes(self):
        return {}

    def note(self):
        return "the backing folder itself"


class GatewayView:
    kind = "gateway"

    def __init__(self, backing, gateway, user):
        self.name, self.backing, self.gateway = "gateway", backing, gateway
        self.path = os.path.join(gateway.view_home(user.name), MOUNT)

    def probes(self):
        self.gateway.check()
        return {"fuse": self.gateway.fuse_cpu}

    def note(self):
        return ("the view, <mountpoint>/data/<user>-chroot/<user>/vol; default options (cache timeout 1 s, "
                "atomic uploads on, audit trail to stdout, drained to a log file)")


class FusePeer:
    """bindfs or mergerfs over the backing folder, in the foreground (-f) so
    the harness holds its pid for CPU accounting and for a clean stop."""

    def __init__(self, name, backing, argv_before_paths, mountpoint, log_path, pidfile, cpu=None):
        self.name, self.backing, self.kind = name, backing, name.split("-")[0]
        self.path = mountpoint
        self.argv = [*argv_before_paths, backing.vol, mountpoint]
        self.log_path, self.pidfile = log_path, pidfile
        self.group = cpu.new(f"{name}-{backing.name}") if cpu and cpu.available() else None
        self.daemon = None

    def start(self, cleanup):
        make_dir(self.path)
        self.daemon = Daemon(f"{self.name}[{self.backing.name}]", self.argv, self.log_path, self.pidfile, self.group)
        cleanup.push(f"stop {self.name}", self.stop)
        self.daemon.start()
        wait_mounted(self.path, self.daemon)
        return self

    def stop(self):
        if self.daemon:
            self.daemon.stop()
        umount(self.path)

    def probes(self):
        if not self.daemon.alive():
            raise Fatal(f"{self.daemon.name} exited during the run: {' | '.join(self.daemon.tail(4))}")
        if self.group:
            return {"fuse": self.group.usage}
        return {"fuse": lambda: own_cpu(self.daemon.pid)}

    def note(self):
        return " ".join(self.argv[:-2]) + " <backing folder> <mountpoint>"


PEERS = {
    "bindfs": ["bindfs", "-f", "-o", "big_writes,allow_other"],
    "bindfs-mt": ["bindfs", "-f", "--multithreaded", "-o", "big_writes,allow_other"],
    # minfreespace=0: mergerfs refuses to create on a branch with less than
    # 4 GiB free by default, which a small tmpfs backing always has.
    "mergerfs-off": ["mergerfs", "-f", "-o", "allow_other,minfreespace=0,cache.files=off"],
    "mergerfs-partial": ["mergerfs", "-f", "-o", "allow_other,minfreespace=0,cache.files=partial"],
}

LOCAL_CONFIGS = ["native", "gateway", *PEERS]
