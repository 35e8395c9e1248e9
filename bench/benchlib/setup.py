"""Set-up steps before any measurement: the binary, the work folder, the
client side, the backing stores and the gateways serving them."""

import json
import os
import shutil

from . import system
from .configs import MOUNT, VOLUME, Backing
from .gateway import BenchGateway
from .proc import BenchError, log, output, run
from .report import size

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def gateway_binary(args):
    if args.gateway:
        path = os.path.abspath(args.gateway)
        if not os.access(path, os.X_OK):
            raise BenchError(f"{path} is not an executable")
        return path
    build = os.path.join(REPO, "build-bench")
    log("building the gateway (Release, build-bench/)")
    if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
        run(["cmake", "-S", REPO, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DGATEWAY_TESTS=OFF"], 600,
            what="cmake configure")
    run(["cmake", "--build", build, "-j", str(os.cpu_count() or 2), "--target", "gateway", "quota_scan_bench"], 3600,
        what="cmake build")
    return os.path.join(build, "gateway", "gateway")


def scan_binary(gateway):
    """bench/quota_scan_bench of the same build as the gateway binary."""
    path = os.path.join(os.path.dirname(os.path.dirname(gateway)), "bench", "quota_scan_bench")
    if not os.access(path, os.X_OK):
        raise BenchError(f"{path} is missing: build the target quota_scan_bench in the gateway's build folder "
                         "(cmake --build <build> --target quota_scan_bench)")
    return path


def build_type(binary):
    cache = os.path.join(os.path.dirname(os.path.dirname(binary)), "CMakeCache.txt")
    try:
        for line in open(cache):
            if line.startswith("CMAKE_BUILD_TYPE:"):
                return line.split("=", 1)[1].strip() or "(none)"
    except OSError:
        pass
    return "unknown"


def check_parents(path):
    """sshd refuses a chroot with any parent not root-owned or group/world-writable."""
    p = os.path.dirname(path)
    while True:
        st = os.stat(p)
        if st.st_uid != 0 or st.st_mode & 0o022:
            raise BenchError(f"{p} must be root-owned and not group/world-writable (sshd's chroot check); "
                             "choose another --workdir")
        if p == "/":
            return
        p = os.path.dirname(p)


def clear_leftovers(env):
    """Undoes an earlier run that could not clean up (SIGKILL, power loss)."""
    env.pidfile.kill_leftovers()
    for point in sorted(system.mounts_under(env.work), key=len, reverse=True):
        log(f"unmounting leftover {point}")
        system.umount(point)
    if system.mounts_under(env.work):
        raise BenchError(f"cannot unmount everything under {env.work}: {system.mounts_under(env.work)}")
    for name in os.listdir(env.work):
        if name not in ("cache", "pids.json"):
            system.rmtree(os.path.join(env.work, name))
    system.make_dir(env.logs)


def make_tarball(env):
    """A tarball of /usr/include (or its first N files), made once and kept in
    <workdir>/cache. Symlinks are left out: the gateway refuses to create them
    unless a mapping has the `symlinks` option."""
    limit = env.mode.tree_files
    cache = os.path.join(env.work, "cache")
    system.make_dir(cache)
    path = os.path.join(cache, f"include-{limit or 'all'}.tar")
    meta = path + ".json"
    if os.path.exists(path) and os.path.exists(meta):
        info = json.load(open(meta))
    else:
        log(f"making the source tarball {path}")
        entries, files, nbytes, skipped = [], 0, 0, 0
        for dirpath, dirnames, filenames in os.walk("/usr/include"):
            dirnames.sort()
            rel = os.path.relpath(dirpath, "/usr")
            entries.append(rel)
            for f in sorted(filenames):
                full = os.path.join(dirpath, f)
                if os.path.islink(full) or not os.path.isfile(full):
                    skipped += 1
                    continue
                entries.append(os.path.join(rel, f))
                files += 1
                nbytes += os.path.getsize(full)
                if limit and files >= limit:
                    break
            if limit and files >= limit:
                break
        listing = path + ".list"
        with open(listing, "wb") as f:
            f.write(b"\0".join(e.encode() for e in entries) + b"\0")
        run(["tar", "-C", "/usr", "--no-recursion", "--null", "-T", listing, "-cf", path + ".new"], 600,
            what="tar /usr/include")
        os.replace(path + ".new", path)
        info = {"entries": len(entries), "files": files, "bytes": nbytes, "symlinks_skipped": skipped}
        json.dump(info, open(meta, "w"))
    env.tarball = path
    env.tree_entries, env.tree_files, env.tree_bytes = info["entries"], info["files"], info["bytes"]
    folders = info["entries"] - info["files"]
    env.tree_note = (f"{info['files']} files in {folders} folder{'s' if folders != 1 else ''}, {size(info['bytes'])} "
                     f"(/usr/include{'' if not limit else f', first {limit} files'}; "
                     f"{info['symlinks_skipped']} symlinks left out)")


def client_side(env, args):
    m = env.mode
    system.make_dir(os.path.dirname(env.client_key), 0o700)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gateway-bench", "-f", env.client_key], 30,
        what="ssh-keygen")
    system.make_dir(os.path.dirname(env.fileops))
    shutil.copyfile(os.path.join(os.path.dirname(__file__), "fileops.py"), env.fileops)
    os.chmod(env.fileops, 0o644)
    if "sftp" in args.only or "quota" in args.only:
        small = m.sftp_small_files * max(m.sftp_small_bytes, 4096)
        system.mount_tmpfs(env.client_dir, m.sftp_big_bytes + m.parallel_bytes + 4 * small + (256 << 20))
        env.cleanup.push("unmount client tmpfs", lambda: system.umount(env.client_dir))


def start_gateway(env, backing, port, with_sshd, name=None, maps=None):
    """A gateway serving `backing` to the bench user: by default the one
    mapping the local and sftp groups use (VOLUME as MOUNT); `name` names its
    folder, log and CPU groups."""
    u = env.user
    name = name or backing.name
    gw = BenchGateway(env.gateway_binary, name, os.path.join(env.work, "gw", name),
                      users=[f"{u.name}:{u.uid}"], maps=maps or [f"{VOLUME}:{u.name}:{MOUNT}"],
                      data_dir=backing.data, volumes_dir=backing.volumes, port=port, run_sshd=with_sshd,
                      pidfile=env.pidfile, hostkeys=env.hostkeys, log_dir=env.logs,
                      cpu=env.cpu if env.cpu.available() else None)
    keys = os.path.join(gw.state, "authorized_keys")
    system.make_dir(keys)
    shutil.copyfile(env.client_key + ".pub", os.path.join(keys, u.name))
    os.chmod(os.path.join(keys, u.name), 0o644)
    env.cleanup.push(f"stop gateway {name}", gw.stop)
    gw.start()
    command = "gateway serve " + " ".join(gw.serve_options()).replace(env.work, "<workdir>")
    env.config_notes.setdefault("gateway command" if maps is None else f"gateway command ({name})", command)
    if not gw.status_ok():
        raise BenchError(f"gateway status fails for the {name} gateway")
    return gw


# ---------------------------------------------------------------- main

def prepare_backings(env, names):
    """ext4: a folder under the work folder (on the disk under test); tmpfs:
    mounted here, big enough for the largest file twice, the parallel files
    and the tree three times."""
    m = env.mode
    disk_root = os.path.join(env.work, "disk")
    system.make_dir(disk_root)
    disk_type = system.fs_type_of(disk_root)
    if disk_type != "ext4" and "ext4" in names:
        log(f"warning: {disk_root} is on {disk_type}, not ext4; it is reported as 'ext4' anyway")
    backings = {}
    for name in names:
        if name == "ext4":
            backings[name] = Backing("ext4", disk_root, env.user).prepare(env.cleanup)
        else:
            need = (2 * max(m.big_bytes, m.sftp_big_bytes) + m.parallel_sessions * m.parallel_bytes
                    + 3 * env.tree_bytes + (1 << 30))
            backings[name] = Backing("tmpfs", os.path.join(env.work, "tmpfs"), env.user).prepare(
                env.cleanup, tmpfs_bytes=need)
    return backings


def git_rev():
    rev = output(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    if not rev:
        return "?"
    dirty = output(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"])
    return rev + (" (with uncommitted changes)" if dirty else "")
