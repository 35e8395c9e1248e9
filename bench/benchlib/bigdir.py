"""One folder of many empty files (issue 16), listed every way a user lists it.

The folder is made once per backing, straight on the backing folder, owned by
the volume's owner. Then, for every repetition, each step runs on every
configuration before the next step starts (order rotated per repetition):

  local (native folder, gateway view, bindfs, mergerfs: the local group's
  configurations, run as the volume's owner):
    ls -f            names only (no stat: GNU ls -f neither sorts nor stats)
    ls -l            a stat of every entry, as a user types it (GNU ls -l also
                     asks each entry's ACL: a getxattr per entry)
    find -printf %s  a stat of every entry and nothing else
  sftp (the gateway's sshd and the plain chroot of the sftp group):
    ls -l, ls        sftp-server reads the folder and lstat()s every entry for
                     both; ls -l also makes the client format every line

Before each step the kernel's dentries and inodes are dropped (`echo 2 >
drop_caches`: the backing's pages stay, FUSE inodes are forgotten) and the
FUSE daemons' CPU is let settle, so every configuration starts from the same
state: a folder nobody listed lately, its blocks in memory. Each local step
checks its line count inside the timed command (a short listing fails).
"""

import os
import time

from .local import rotate
from .proc import BenchError, log, run
from .results import measure
from .sftp import SftpSession

LOCAL_WORKLOADS = [
    # key, label, shell command ($1 folder), lines expected beyond the entries
    ("ls-f", "ls -f (names only)", 'ls -f "$1"', 2),
    ("ls-l", "ls -l", 'ls -l "$1"', 1),
    ("stat", "find -printf %s (stat of every entry)", 'find "$1" -mindepth 1 -maxdepth 1 -printf "%s\\n"', 0),
]
SFTP_WORKLOADS = [
    ("sftp-ls-l", "sftp ls -l", "ls -l"),
    ("sftp-ls", "sftp ls", "ls"),
]
FOLDER = "bigdir"


def workloads():
    """(key, label) of every step, local then sftp."""
    return [(k, l) for k, l, _, _ in LOCAL_WORKLOADS] + [(k, l) for k, l, _ in SFTP_WORKLOADS]


def make_folder(path, entries, owner):
    """`entries` empty files in a new folder, made once (kept while its count is right)."""
    if os.path.isdir(path) and len(os.listdir(path)) == entries:
        return
    t = time.time()
    os.makedirs(path, exist_ok=True)
    os.chown(path, *owner)
    for i in range(entries):
        fd = os.open(os.path.join(path, f"entry-{i:07d}"), os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644)
        try:
            os.fchown(fd, *owner)
        finally:
            os.close(fd)
    log(f"bigdir: made {entries:,} files in {path} in {time.time() - t:.1f} s")


class BigdirRunner:
    def __init__(self, env):
        self.env, self.mode = env, env.mode
        self.entries = self.mode.bigdir_entries

    def settle(self, probes, quiet=0.2, timeout=30):
        """Drops dentries and inodes, then waits until every FUSE daemon's
        CPU stayed still for `quiet` seconds (it has handled the FORGETs)."""
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("2\n")
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            now = tuple(round(p(), 3) for p in probes)
            if now == last:
                return
            last = now
            time.sleep(quiet)

    def local_step(self, cfg, key, command, extra, rep):
        probes = cfg.probes()
        self.settle(list(probes.values()))
        folder = os.path.join(cfg.path, FOLDER)
        script = f'set -o pipefail; n=$({command} | wc -l); [ "$n" -eq "$2" ] || {{ echo "$n lines" >&2; exit 1; }}'
        argv = ["bash", "-c", script, "bigdir", folder, str(self.entries + extra)]
        measure(self.env.results, ("bigdir", cfg.backing.name, key, cfg.name), rep,
                lambda: run(argv, self.mode.step_timeout, user=(self.env.user.uid, self.env.user.gid),
                            what=f"{key} {folder}"),
                probes)

    def sftp_step(self, srv, key, command, rep):
        probes = srv.probes()
        self.settle([p for role, p in probes.items() if role == "fuse"])
        cipher = self.mode.ciphers[0]
        session = SftpSession(self.env, srv.port, cipher).connect()
        try:
            def action():
                session.send([f"{command} {srv.mount}/{FOLDER}"])
                session.wait(self.mode.step_timeout)
            measure(self.env.results, ("bigdir", srv.backing.name, key, srv.name), rep, action, probes,
                    settle=srv.settle)
        finally:
            session.kill()

    def run(self, configs_by_backing, servers_by_backing):
        for backing, configs in configs_by_backing.items():
            b = configs[0].backing
            make_folder(os.path.join(b.vol, FOLDER), self.entries, (self.env.user.uid, self.env.user.gid))
        for rep in range(self.mode.reps):
            for key, _, command, extra in LOCAL_WORKLOADS:
                for backing, configs in configs_by_backing.items():
                    for cfg in rotate(configs, rep):
                        log(f"bigdir rep {rep + 1}/{self.mode.reps} {key} {backing} {cfg.name}")
                        try:
                            self.local_step(cfg, key, command, extra, rep)
                        except BenchError as e:
                            self.env.results.fail(("bigdir", backing, key, cfg.name), e)
            for key, _, command in SFTP_WORKLOADS:
                for backing, servers in servers_by_backing.items():
                    for srv in rotate(servers, rep):
                        log(f"bigdir rep {rep + 1}/{self.mode.reps} {key} {backing} {srv.name}")
                        try:
                            self.sftp_step(srv, key, command, rep)
                        except BenchError as e:
                            self.env.results.fail(("bigdir", backing, key, srv.name), e)
