"""Quota (issue 13): how fast a folder's usage is counted, and what a limit
costs an upload.

scan   A folder of F folders x N files (empty, every 100th with 4 KiB), made
       once in <workdir>/cache on the disk under test and kept for later runs,
       counted by bench/quota_scan_bench: fs::count_usage, the gateway's own
       walk, in a program of its own. First once after dropping the caches
       (cold), then twice per repetition: the second count is the warm
       figure. (A count right after a cold one was still up to 3x slower
       here: not warm yet.) Each count is checked against the files and bytes
       the tree was made with.
sftp   One gateway serving two fresh volumes of the same backing to the bench
       user: `quota-free` without a limit and `quota-limited` with `:quota=1T`
       (far above anything written: nothing is refused, the difference is the
       cost of keeping count). The sftp group's `put` of the big file and
       `put -r` of the small files go into each, interleaved and rotated like
       the sftp group's steps. While the gateway refuses the `quota=` option
       (`gateway check` exits 2 naming it) these steps are skipped, and the
       report says so.
"""

import json
import os
import subprocess
import time
from types import SimpleNamespace

from .gateway import BenchGateway
from .proc import BenchError, log, run
from .results import Sample
from .servers import GatewaySftp
from .sftp import SftpRunner, short
from .system import drop_caches, make_dir, rmtree, syncfs

SIZED_EVERY = 100    # every 100th file has data, the others are empty
SIZED_BYTES = 4096
LIMIT = "1T"
FREE, LIMITED = "quota-free", "quota-limited"  # volumes, and the mappings' names
CONFIGS = ["no-limit", f"quota={LIMIT}"]


def make_tree(env):
    """The scan's tree in <workdir>/cache, made once: (path, info)."""
    folders, per = env.mode.quota_tree
    path = os.path.join(env.work, "cache", f"quota-tree-{folders}x{per}")
    meta = path + ".json"
    if os.path.isdir(path) and os.path.exists(meta):
        with open(meta) as f:
            return path, json.load(f)
    make_dir(os.path.dirname(path))
    for leftover in (path, path + ".new"):  # an earlier run interrupted while making it
        rmtree(leftover)
    log(f"making the quota scan tree {path} ({folders} folders x {per} files; kept for later runs)")
    t = time.time()
    new = path + ".new"
    os.mkdir(new, 0o755)
    data = b"x" * SIZED_BYTES
    sized = 0
    root = os.open(new, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for d in range(folders):
            name = f"d{d:04d}"
            os.mkdir(name, 0o755, dir_fd=root)
            folder = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=root)
            try:
                for i in range(per):
                    fd = os.open(f"f{i:04d}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=folder)
                    try:
                        if (d * per + i) % SIZED_EVERY == 0:
                            os.write(fd, data)
                            sized += 1
                    finally:
                        os.close(fd)
            finally:
                os.close(folder)
    finally:
        os.close(root)
    syncfs(new)
    os.rename(new, path)
    info = {"folders": folders, "files": folders * per + folders, "bytes": sized * SIZED_BYTES,
            "made_seconds": round(time.time() - t, 1)}
    with open(meta, "w") as f:
        json.dump(info, f)
    log(f"made it in {info['made_seconds']} s")
    return path, info


class MappingSftp(GatewaySftp):
    """One mapping of the quota gateway, as SftpRunner's steps see a server."""

    def __init__(self, name, backing, gateway, volume, mount):
        super().__init__(backing, gateway)
        self.name, self.mount = name, mount
        self.backing = SimpleNamespace(name=backing.name, root=backing.root,
                                       vol=os.path.join(backing.volumes, volume))

    def note(self):
        limit = "no limit" if self.name == CONFIGS[0] else self.name
        return f"mapping {self.mount} ({limit}) of the quota gateway, sshd chrooted on its view"


class QuotaRunner:
    """start_gateway: setup.start_gateway (passed in: setup's report imports
    this module)."""

    def __init__(self, env, start_gateway):
        self.env, self.mode, self.start_gateway = env, env.mode, start_gateway

    # ------------------------------------------------------------ scan

    def scan(self, binary):
        """binary: bench/quota_scan_bench."""
        tree, info = make_tree(self.env)
        self.env.quota_tree = info
        syncfs(tree)
        drop_caches()
        log(f"quota: cold scan of {info['files']} files")
        self.count(binary, tree, info, "scan-cold", 0, 1)
        for rep in range(self.mode.reps):
            log(f"quota rep {rep + 1}/{self.mode.reps} scan of {info['files']} files")
            self.count(binary, tree, info, "scan-warm", rep, 2)

    def count(self, binary, tree, info, workload, rep, runs):
        """Runs quota_scan_bench (`runs` counts), records the last count's time."""
        key = ("quota", "ext4", workload, "count_usage")
        try:
            r = run([binary, tree, str(runs)], self.mode.step_timeout, stdout=subprocess.PIPE, what="quota_scan_bench")
            got = json.loads(r.stdout)
            if (got["files"], got["bytes"], got["unreadable"], got["complete"]) != (
                    info["files"], info["bytes"], 0, True):
                raise BenchError(f"quota_scan_bench counted {got}, expected {info['files']} files and "
                                 f"{info['bytes']} bytes, all read")
            self.env.results.add(Sample(*key, rep, value=got["seconds"][-1]))
        except (BenchError, OSError, ValueError, KeyError) as e:
            log(f"FAILED quota/{workload} rep {rep}: {e}")
            self.env.results.fail(key, e)

    # ------------------------------------------------------------ sftp

    def refusal(self, binary, gw):
        """The gateway's own line when it does not know the `quota=` option,
        else None (any other refusal then fails the start, loudly)."""
        r = run([binary, "check", *gw.serve_options()], 120, check=False, stdout=subprocess.PIPE,
                what="gateway check")
        if r.returncode != 2:
            return None
        text = (r.stdout or b"").decode(errors="replace") + (r.stderr or b"").decode(errors="replace")
        return next((l for l in text.splitlines() if f"quota={LIMIT}" in l and "unknown option" in l), None)

    def sftp(self, backings, ports):
        """backings: the ones to put into; ports: backing name -> the quota gateway's port."""
        u = self.env.user
        maps = [f"{FREE}:{u.name}:{FREE}", f"{LIMITED}:{u.name}:{LIMITED}:quota={LIMIT}"]
        servers = {}
        for name, b in backings.items():
            for vol in (FREE, LIMITED):
                make_dir(os.path.join(b.volumes, vol), 0o755, (u.uid, u.gid))
            gw_name = f"quota-{name}"
            probe = BenchGateway(self.env.gateway_binary, gw_name, os.path.join(self.env.work, "gw", gw_name),
                                       users=[f"{u.name}:{u.uid}"], maps=maps, data_dir=b.data,
                                       volumes_dir=b.volumes, port=ports[name], run_sshd=True)
            refused = self.refusal(self.env.gateway_binary, probe)
            if refused:
                msg = (f"quota: SFTP put into a folder with `quota={LIMIT}` vs without a limit not run: this gateway "
                       f"does not accept the quota= mapping option yet (`gateway check` exits 2: {refused.strip()})")
                log(msg)
                self.env.skipped.append(msg)
                return
            gw = self.start_gateway(self.env, b, ports[name], True, name=gw_name, maps=maps)
            servers[name] = [MappingSftp(CONFIGS[0], b, gw, FREE, FREE),
                             MappingSftp(CONFIGS[1], b, gw, LIMITED, LIMITED)]
            for srv in servers[name]:
                self.env.config_notes.setdefault(f"quota: {srv.name}", srv.note())
        runner = SftpRunner(self.env, group="quota")
        runner.prepare_client()
        cipher = self.mode.ciphers[0]
        steps = [(f"big {short(cipher)}", lambda srv, rep: runner.big(srv, rep, cipher, get=False)),
                 ("small files", lambda srv, rep: runner.small(srv, rep, get=False))]
        runner.run(servers, steps)


def workloads(mode):
    """(key, label) of the quota group's SFTP rows."""
    c = short(mode.ciphers[0])
    return [(f"put-{c}", f"put big file, {c}"), ("put-r", "put -r small files")]
