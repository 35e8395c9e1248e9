"""bench/run: options, the run (set-up, groups, clean-up) and the report."""

import argparse
import dataclasses
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass

from . import groups, setup, system
from .cgroups import CpuGroups
from .configs import LOCAL_CONFIGS, PEERS
from .gateway import HostKeys
from .proc import BenchError, Cleanup, Fatal, Interrupted, PidFile, install_signal_handlers, log, output
from .report import Report
from .results import Results
from .sizes import MODES

GROUPS = ("local", "sftp", "scale", "quota", "bigdir")
PORTS = 7


@dataclass
class User:
    name: str
    uid: int
    gid: int


class Env:
    """What every runner needs: the mode, paths, the user, results, clean-up."""

    def __init__(self, args):
        self.mode = MODES[args.mode]
        if args.reps:
            self.mode = dataclasses.replace(self.mode, reps=args.reps)
        self.work = os.path.abspath(args.workdir)
        self.results = Results()
        self.cleanup = Cleanup()
        self.pidfile = None
        self.cpu = None
        self.hostkeys = HostKeys(os.path.join(self.work, "hostkeys"))
        self.user = None
        self.gateway_binary = None
        self.scan_binary = None
        self.client_dir = os.path.join(self.work, "client")
        self.client_key = os.path.join(self.work, "keys", "client")
        self.fileops = os.path.join(self.work, "bin", "fileops.py")
        self.logs = os.path.join(self.work, "logs")
        self.config_notes = {}
        self.tarball = None
        self.tree_entries = self.tree_bytes = self.tree_files = 0
        self.tree_note = "?"
        self.quota_tree = None  # the quota scan's tree: folders, files, bytes
        self.skipped = []       # steps not run, each with its reason (in the report)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/run", description=(
        "Benchmarks the gateway against a native folder, bindfs and mergerfs (local workloads), "
        "against a plain-folder sshd chroot (SFTP workloads), at 1 to 10,000 users (scale), and the cost of "
        "quotas (quota), listing a folder of 200,000 entries (bigdir). "
        "Root required; loopback only."))
    m = p.add_mutually_exclusive_group()
    m.add_argument("--smoke", dest="mode", action="store_const", const="smoke",
                   help="tiny sizes, 1 repetition, < 60 s; exits non-zero if any step fails (CI)")
    m.add_argument("--quick", dest="mode", action="store_const", const="quick",
                   help="reduced sizes, 2 repetitions")
    m.add_argument("--full", dest="mode", action="store_const", const="full",
                   help="the issue's sizes, 5 repetitions (default)")
    p.set_defaults(mode="full")
    p.add_argument("--out", help="write the Markdown report here (and every sample to the same name with .json)")
    p.add_argument("--only", default=",".join(GROUPS), help="comma-separated groups: " + ",".join(GROUPS))
    p.add_argument("--backings", default="ext4,tmpfs",
                   help="ext4 (a folder under --workdir) and/or tmpfs (mounted by the harness)")
    p.add_argument("--reps", type=int, help="override the mode's repetitions")
    p.add_argument("--gateway", help="gateway binary (default: build build-bench/ as Release and use it)")
    p.add_argument("--workdir", default="/var/lib/sftp-gateway-bench",
                   help="work folder on the disk to test; every parent root-owned, not group/world-writable")
    p.add_argument("--port-base", type=int, default=42300, help=f"first of {PORTS} loopback ports")
    a = p.parse_args(argv)
    a.only = [g for g in a.only.split(",") if g]
    a.backings = [b for b in a.backings.split(",") if b]
    bad = [g for g in a.only if g not in GROUPS] + [b for b in a.backings if b not in ("ext4", "tmpfs")]
    if bad or not a.only or not a.backings:
        p.error(f"unknown or empty selection: {bad}")
    return a


def required_tools(args):
    tools = ["mount", "umount", "dd", "find", "tar", "rm", "mkdir", "cp", "bash"]
    if "local" in args.only:
        tools += ["bindfs", "mergerfs"]
    if "sftp" in args.only:
        tools += ["sftp", "ssh-keygen", "sshfs", "fusermount3", "unshare", "/usr/sbin/sshd"]
    if "quota" in args.only:
        tools += ["sftp", "ssh-keygen", "/usr/sbin/sshd"]
    if "bigdir" in args.only:
        tools += ["ls", "wc", "bindfs", "mergerfs", "sftp", "ssh-keygen", "unshare", "/usr/sbin/sshd"]
    return tools


def measure_all(env, args, context):
    """Set-up, then the selected groups; everything started is on env.cleanup."""
    system.require_tools(required_tools(args))
    env.gateway_binary = setup.gateway_binary(args)
    if "quota" in args.only:
        env.scan_binary = setup.scan_binary(env.gateway_binary)
    t = time.time()
    system.make_dir(env.work)
    setup.check_parents(env.work)
    env.pidfile = PidFile(os.path.join(env.work, "pids.json"))
    setup.clear_leftovers(env)
    env.cpu = CpuGroups()  # after the leftovers are gone: it removes their groups
    env.cleanup.push("remove cgroups", env.cpu.remove)  # runs last: every daemon has stopped by then
    context["cpu_source"] = "cgroup v%d" % env.cpu.version if env.cpu.available() else "/proc (sshd: lower bound)"
    ports = [args.port_base + i for i in range(PORTS)]  # gateways (2), plain sshds (2), scale, quota gateways (2)
    for p in ports:
        system.check_port_free(p)
    uid = system.free_uid(47000)
    env.user = User("gwbench", uid, uid)
    setup.make_tarball(env)
    setup.client_side(env, args)
    backings = setup.prepare_backings(env, args.backings)
    context["backings"] = {n: f"{b.vol} ({b.fstype})" for n, b in backings.items()}
    sftp_names = [b for b in env.mode.sftp_backings if b in backings] if "sftp" in args.only else []
    bigdir_sftp = [b for b in env.mode.sftp_backings if b in backings] if "bigdir" in args.only else []
    gateways = {}
    for i, name in enumerate(backings):
        if "local" in args.only or "bigdir" in args.only or name in sftp_names:
            gateways[name] = setup.start_gateway(env, backings[name], ports[i],
                                                 name in sftp_names or name in bigdir_sftp)
    log(f"set-up took {time.time() - t:.1f} s")

    timed = context["group_seconds"]
    if "local" in args.only:
        t = time.time()
        groups.run_local(env, backings, gateways)
        timed["local"] = time.time() - t
    if sftp_names:
        t = time.time()
        plain_ports = {name: ports[2 + list(backings).index(name)] for name in sftp_names}
        groups.run_sftp(env, backings, gateways, sftp_names, plain_ports)
        timed["sftp"] = time.time() - t
    if "bigdir" in args.only:
        t = time.time()
        groups.run_bigdir(env, backings, gateways, bigdir_sftp,
                          {name: ports[2 + list(backings).index(name)] for name in bigdir_sftp})
        timed["bigdir"] = time.time() - t
    if "scale" in args.only:
        t = time.time()
        groups.run_scale(env, ports[4])
        timed["scale"] = time.time() - t
    if "quota" in args.only:
        t = time.time()
        groups.run_quota(env, backings, {name: ports[5 + i] for i, name in enumerate(backings)})
        timed["quota"] = time.time() - t


def tidy(env):
    """After clean-up: drop the work files, keep cache/, logs/ and pids.json."""
    if not os.path.isdir(env.work):
        return True
    left = system.mounts_under(env.work)
    if left:
        log(f"left mounted (the next run unmounts them): {left}")
        return False
    for name in os.listdir(env.work):
        if name not in ("cache", "pids.json", "logs"):
            system.rmtree(os.path.join(env.work, name))
    return True


def write_report(env, args, context):
    report = Report(env, env.results, context).markdown(LOCAL_CONFIGS, list(PEERS))
    print(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report + "\n")
        with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
            json.dump({"context": context, "mode": env.mode.__dict__, "samples": env.results.as_json()}, f,
                      indent=1, default=str)
        log(f"report written to {args.out}")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if os.geteuid() != 0:
        print("bench/run must run as root (mounts, drop_caches, sshd)", file=sys.stderr)
        return 2
    install_signal_handlers()
    env = Env(args)
    started = time.time()
    context = {"load_start": system.loadavg(), "machine": system.machine(), "group_seconds": {}}
    other = system.OtherLoad()
    exit_code = 0
    try:
        measure_all(env, args, context)
    except (BenchError, Fatal) as e:
        log(f"{'FATAL' if isinstance(e, Fatal) else 'ERROR'}: {e}")
        env.results.fail(("fatal" if isinstance(e, Fatal) else "setup", "-", "-", "-"), e)
        exit_code = 1
    except Exception as e:  # a harness bug: still clean up and report what was measured
        log(f"INTERNAL ERROR: {traceback.format_exc()}")
        env.results.fail(("harness", "-", "-", "-"), f"{type(e).__name__}: {e}")
        exit_code = 1
    except (KeyboardInterrupt, Interrupted) as e:
        log(f"interrupted ({e or 'Ctrl-C'}); cleaning up")
        exit_code = 130
    finally:
        env.cleanup.run_all()
        if not tidy(env):
            exit_code = exit_code or 1
    if exit_code == 130:
        return exit_code
    binary = env.gateway_binary
    context.update({
        "elapsed": time.time() - started,
        "load_end": system.loadavg(),
        "packages": system.package_versions(),
        "gateway_version": output([binary, "--version"]) if binary else "?",
        "gateway_binary": binary,
        "build_type": setup.build_type(binary) if binary else "?",
        "git": setup.git_rev(),
        "tree": env.tree_note,
        "other_cpus": other.average(),
    })
    context.setdefault("backings", {})
    write_report(env, args, context)
    if env.results.failures:
        log(f"{len(env.results.failures)} step(s) failed")
        exit_code = exit_code or 1
    log(f"done in {time.time() - started:.0f} s")
    return exit_code
