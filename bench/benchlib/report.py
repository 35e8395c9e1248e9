"""The Markdown report: context, tables of medians and ratios, CPU, targets."""

import statistics

from .bigdir import LOCAL_WORKLOADS as BIGDIR_LOCAL
from .bigdir import SFTP_WORKLOADS as BIGDIR_SFTP
from .local import WORKLOADS as LOCAL_WORKLOADS
from .quota import CONFIGS as QUOTA_CONFIGS
from .quota import SIZED_BYTES, SIZED_EVERY
from .quota import workloads as quota_workloads
from .scale import SCALE_WORKLOADS
from .sftp import workloads as sftp_workloads

GiB, MiB = 1 << 30, 1 << 20

METHOD_NOTES = [
    "Every configuration serves the same backing folder `<backing>/vols/benchvol` (owned by the benchmark "
    "user); each step uses a fresh folder name, so no cache holds an earlier repetition's entries.",
    "`cold` read: the backing file system is synced and `echo 3 > /proc/sys/vm/drop_caches` run before the "
    "read. That evicts the file's pages from the FUSE inode and from the backing inode and makes the kernel "
    "forget FUSE inodes, so a FUSE configuration sees fresh LOOKUP/OPEN/READ requests. FUSE daemons are not "
    "restarted: their own user-space state (the gateway's descriptor cache, mergerfs's tables) stays, as in a "
    "long-running server. On tmpfs the backing pages are the storage and cannot be dropped, so `cold` there "
    "measures only the FUSE layer's cold path. mergerfs with cache.files=off uses direct I/O, so it has no "
    "FUSE page cache and its `warm` read still goes through the daemon.",
    "`warm` read: the same read again at once. The gateway keeps the page cache across opens (keep_cache, "
    "invalidated on size/mtime change), bindfs and mergerfs cache.files=partial keep it while the file is "
    "unchanged too.",
    "Attribute/entry caching: the gateway runs with its default `--cache-timeout 1`; bindfs and mergerfs with "
    "their defaults (1 s).",
    "Sequential write: `dd bs=1M conv=fsync` (fsync included in the time). Reads: `dd bs=1M` to /dev/null.",
    "Small files: one Python process (as the user) creates all files, `find DIR -type f` lists them, one "
    "process lstat()s every file by path, `rm -rf` deletes them.",
    "Tree: `tar -xf` as the user; re-tar with `tar -cf - . | cat >/dev/null` (GNU tar does not read the files "
    "when writing to /dev/null directly); `rm -rf`.",
    "SFTP: the plain chroot is sshd on a copy of the gateway's rendered sshd_config (only Port, HostKey, "
    "AuthorizedKeysFile, ChrootDirectory changed) with the volume bind-mounted into a root-owned chroot of "
    "real folders, and the gateway's passwd/group bound over /etc in a private mount namespace (no host "
    "account is created). `get` reads the file just uploaded (warm on the server) into /dev/null on the "
    "client; client files live on a tmpfs.",
    "CPU: user+system seconds per role. Each daemon starts inside its own cgroup (v1 cpuacct.usage or v2 "
    "cpu.stat), which also counts processes that have exited: the gateway (supervisor and FUSE worker), its "
    "sshd with every session, the plain sshd with every session, each bindfs/mergerfs. Without a usable "
    "cgroup hierarchy the harness falls back to /proc/PID/stat, where sshd sessions are mostly invisible (the "
    "report's header says which source was used). Client: getrusage(RUSAGE_CHILDREN) of the tools the step "
    "ran (sftp with its ssh; cp/tar), plus sshfs and its ssh from /proc. Kernel work in writeback threads is "
    "not attributed. The sftp client's CPU includes its login (a few ms).",
    "Ratios are time over the baseline's time (lower is better); the targets are checked on medians.",
    "Scale: `ready` runs from spawning `gateway serve` until the runtime file names a live gateway process "
    "and (host mode) sshd has been started, the conditions `gateway status` checks (polled every 2 ms; "
    "`gateway status` then confirms once); RSS adds the supervisor's and the FUSE worker's VmRSS (peak: "
    "VmHWM); reload is SIGHUP to the supervisor until the worker's `reloaded` log line arrives; the deep "
    "stat is os.stat() of a path 14 components below the mountpoint, from the harness (root).",
    "Quota scan: bench/quota_scan_bench runs fs::count_usage (the gateway's counting walk: getdents64 per "
    "folder, statx of each file for size, links and inode) as root on a tree made once in <workdir>/cache: "
    "once after dropping caches (`cold`), then twice per repetition (`warm`: the second count). Quota SFTP: "
    "one gateway, two mappings of two fresh volumes on the same backing, one with `quota=1T` (never reached), "
    "the sftp group's put steps.",
    "Big folder: one folder of N empty files made once on the backing; before each step `echo 2 > "
    "/proc/sys/vm/drop_caches` (dentries and inodes: FUSE inodes are forgotten, the backing's pages stay) and "
    "a wait until every FUSE daemon's CPU stands still. Local steps run as the volume's owner and count their "
    "output lines inside the timed command (`ls -f DIR | wc -l`, `ls -l`, `find DIR -mindepth 1 -maxdepth 1 "
    "-printf '%s\\n'`); sftp steps are one logged-in session's `ls -l vol/bigdir` or `ls vol/bigdir` "
    "(sftp-server lstat()s every entry for both). The gateway's CPU per GiB is its CPU (supervisor and FUSE "
    "worker) during the sftp group's big-file put or get over the file's size.",
    "Packages checked with dpkg-query; bindfs links libfuse2 (package libfuse2), mergerfs carries its own "
    "libfuse; the gateway uses libfuse3-3.",
]


def size(n):
    if n >= GiB and n % GiB == 0:
        return f"{n // GiB} GiB"
    if n >= MiB:
        return f"{n / MiB:.0f} MiB" if n % MiB == 0 else f"{n / MiB:.1f} MiB"
    return f"{n / 1024:g} KiB"


def secs(v):
    if v is None:
        return "—"
    if v < 0.01:
        return f"{v * 1e3:.2f} ms"
    if v < 1:
        return f"{v * 1e3:.0f} ms"
    return f"{v:.2f} s"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


class Report:
    def __init__(self, env, results, context):
        self.env, self.r, self.ctx, self.mode = env, results, context, env.mode

    # ------------------------------------------------------------ pieces

    def step_of(self, group, workload):
        table = LOCAL_WORKLOADS if group == "local" else sftp_workloads(self.mode)
        return next((step for key, _, step in table if key == workload), workload)

    def cell(self, group, backing, workload, config, base=None):
        m = self.r.median(group, backing, workload, config)
        if m is None:
            names = (workload, self.step_of(group, workload))
            failed = any((s.group, s.backing, s.config) == (group, backing, config) and s.workload in names
                         for s in self.r.failures)
            return "FAIL" if failed else "—"
        text = secs(m)
        if base:
            text += f" ({m / base:.2f}x)"
        return text

    def header(self):
        c, m = self.ctx, self.mode
        lines = [
            f"# sftp-gateway benchmark ({m.name} mode)",
            "",
            f"- date: {c['machine']['date']}; harness wall time {c['elapsed']:.0f} s ("
            + ", ".join(f"{g} {t:.0f} s" for g, t in c.get("group_seconds", {}).items()) + ")",
            f"- machine: {c['machine']['nproc']} CPUs ({c['machine']['cpu_model']}), "
            f"{c['machine']['memory_gib']} GiB memory; kernel {c['machine']['kernel']}; "
            f"Debian {c['machine']['debian']}; open-file limit (soft/hard) {c['machine']['nofile_limit']}",
            f"- load average (1/5/15 min) at start: {c['load_start']}; at end: {c['load_end']}",
            f"- gateway: {c['gateway_version']}, commit {c['git']}, build {c['build_type']} ({c['gateway_binary']})",
            "- packages: " + ", ".join(f"{k} {v}" for k, v in c["packages"].items()),
            f"- backing: ext4 = {c['backings'].get('ext4', '?')}; tmpfs = {c['backings'].get('tmpfs', '?')}",
            f"- CPU accounting: {c.get('cpu_source', '?')}",
            f"- repetitions: {m.reps} (median shown; configurations interleaved, order rotated per repetition)",
            f"- sizes: big file {size(m.big_bytes)}; {m.files} files of {size(m.file_bytes)} in {m.folders} folders; "
            f"source tree {c['tree']}; sftp big file {size(m.sftp_big_bytes)}, {m.sftp_small_files} small files "
            f"of {size(m.sftp_small_bytes)}, {m.parallel_sessions} parallel sessions x {size(m.parallel_bytes)}; "
            f"big folder {m.bigdir_entries:,} entries",
            f"- mode: {m.budget_note}",
        ]
        other = c.get("other_cpus")
        if other is not None:
            lines.append(f"- other work on the machine during the run: {other:.2f} CPUs busy on average "
                         f"(of {c['machine']['nproc']})" + (
                             "; **figures are noisy: rerun on a quiet machine before quoting them**"
                             if other > 0.25 else ""))
        return "\n".join(lines)

    def local_tables(self, configs):
        out = ["## Local workloads", "",
               "Time (median); in brackets the ratio to the native folder (lower is better). "
               "All steps run as the volume's owner (uid "
               f"{self.env.user.uid}).", ""]
        for backing in self.backings("local"):
            rows, cpu_rows = [], []
            for key, label, _ in LOCAL_WORKLOADS:
                base = self.r.median("local", backing, key, "native")
                rows.append([label] + [self.cell("local", backing, key, c, base if c != "native" else None)
                                       for c in configs])
                cpu = []
                for c in configs:
                    f = self.r.cpu_median("local", backing, key, c, "fuse")
                    cl = self.r.cpu_median("local", backing, key, c, "client")
                    cpu.append("—" if cl is None else (f"{cl:.2f}" if f is None else f"{f:.2f} + {cl:.2f}"))
                cpu_rows.append([label] + cpu)
            out += [f"### Backing on {backing}", "", table(["workload", *configs], rows), "",
                    f"CPU seconds (median), FUSE daemon + client, backing on {backing}:", "",
                    table(["workload", *configs], cpu_rows), ""]
        return "\n".join(out)

    def sftp_tables(self):
        servers = ["plain-chroot", "gateway"]
        out = ["## SFTP workloads", "",
               "Transfer time (median, login excluded) and throughput; `ratio` is the gateway's time over "
               "the plain chroot's (lower is better). CPU seconds per role: sshd (listener and sessions), "
               "gateway (FUSE daemon), client (sftp and ssh, or sshfs and ssh plus cp/tar).", ""]
        for backing in self.backings("sftp"):
            rows = []
            for key, label, _ in sftp_workloads(self.mode):
                row = [label]
                meds = {}
                for s in servers:
                    m = self.r.median("sftp", backing, key, s)
                    meds[s] = m
                    nbytes = self.r.bytes_of("sftp", backing, key, s)
                    if m is None:
                        row.append(self.cell("sftp", backing, key, s))
                    else:
                        row.append(secs(m) + (f", {nbytes / MiB / m:.0f} MiB/s" if nbytes and m else ""))
                p, g = meds["plain-chroot"], meds["gateway"]
                row.append(f"{g / p:.2f}x" if p and g else "—")
                for s, roles in (("plain-chroot", ("sshd", "client")), ("gateway", ("sshd", "fuse", "client"))):
                    vals = [self.r.cpu_median("sftp", backing, key, s, r) for r in roles]
                    row.append(" / ".join("—" if v is None else f"{v:.2f}" for v in vals))
                rows.append(row)
            out += [f"### Backing on {backing}", "",
                    table(["workload", "plain chroot", "gateway", "ratio",
                           "CPU plain: sshd / client", "CPU gateway: sshd / gateway / client"], rows), ""]
            out += self.cpu_per_gib_lines(backing)
        return "\n".join(out)

    def gateway_cpu_per_gib(self, backing, cipher_key):
        """The gateway's CPU seconds per GiB moved, from the sftp group's
        big-file put/get (median CPU over the payload)."""
        cpu = self.r.cpu_median("sftp", backing, cipher_key, "gateway", "fuse")
        nbytes = self.r.bytes_of("sftp", backing, cipher_key, "gateway")
        return cpu / (nbytes / GiB) if cpu is not None and nbytes else None

    def cpu_per_gib_lines(self, backing):
        rows = []
        for key, label, _ in sftp_workloads(self.mode):
            if key.startswith(("put-", "get-")) and key not in ("put-r", "get-r"):  # the big file only
                v = self.gateway_cpu_per_gib(backing, key)
                if v is not None:
                    rows.append([label, f"{v:.2f}"])
        if not rows:
            return []
        return [f"Gateway CPU seconds per GiB (supervisor and FUSE worker; backing on {backing}; target <= 0.5):",
                "", table(["workload", "CPU-s / GiB"], rows), ""]

    def bigdir_tables(self, configs):
        n = self.mode.bigdir_entries
        out = ["## Big folder (issue 16)", "",
               f"One folder of {n:,} empty files. Time (median); in brackets the ratio to the native folder "
               "(local) or to the plain chroot (sftp); CPU seconds of the FUSE daemon (median) after the slash.", ""]
        for backing in self.backings("bigdir"):
            rows = []
            for key, label, _, _ in BIGDIR_LOCAL:
                base = self.r.median("bigdir", backing, key, "native")
                row = [label]
                for c in configs:
                    text = self.cell("bigdir", backing, key, c, base if c != "native" else None)
                    cpu = self.r.cpu_median("bigdir", backing, key, c, "fuse")
                    row.append(text + (f" / {cpu:.2f}" if cpu is not None else ""))
                rows.append(row)
            out += [f"### Backing on {backing}: local", "", table(["workload", *configs], rows), ""]
            if any(s.group == "bigdir" and s.backing == backing and s.workload.startswith("sftp")
                   for s in self.r.samples):
                rows = []
                for key, label, _ in BIGDIR_SFTP:
                    p = self.r.median("bigdir", backing, key, "plain-chroot")
                    g = self.r.median("bigdir", backing, key, "gateway")
                    vals = [self.r.cpu_median("bigdir", backing, key, "gateway", r) for r in ("sshd", "fuse")]
                    rows.append([label, self.cell("bigdir", backing, key, "plain-chroot"),
                                 self.cell("bigdir", backing, key, "gateway"),
                                 f"{g / p:.2f}x" if p and g else "—",
                                 " / ".join("—" if v is None else f"{v:.2f}" for v in vals)])
                out += [f"### Backing on {backing}: sftp", "",
                        table(["workload", "plain chroot", "gateway", "ratio", "CPU gateway: sshd / gateway"],
                              rows), ""]
        return "\n".join(out)

    def scale_table(self):
        sizes = [f"{n} users" for n in self.mode.scale_users]
        header = [f"{n:,} user{'s' if n != 1 else ''}" for n in self.mode.scale_users]
        rows = []
        for key, label, unit in SCALE_WORKLOADS:
            row = [label]
            for s in sizes:
                m = self.r.median("scale", "ext4", key, s)
                if m is None:
                    row.append("FAIL" if any(f.group == "scale" and f.config == s for f in self.r.failures) else "—")
                elif unit == "MiB":
                    row.append(f"{m:.1f} MiB")
                elif key.startswith("stat"):
                    row.append(f"{m * 1e6:.0f} µs")
                elif key in ("ready-cpu", "worker-cpu"):
                    row.append(f"{m:.2f} s")
                else:
                    row.append(secs(m))
            rows.append(row)
        return "\n".join([f"## Scale ({self.mode.mappings_per_user} mappings per user, `--cache-timeout 0`)", "",
                          table(["", *header], rows), ""])

    def quota_tables(self):
        out = ["## Quota (issue 13)", ""]
        tree = self.env.quota_tree
        if tree:
            out += [f"Counting the usage of {tree['files']:,} entries ({tree['folders']:,} folders of "
                    f"{(tree['files'] - tree['folders']) // tree['folders']:,} files; every {SIZED_EVERY}th file "
                    f"{size(SIZED_BYTES)}, the others empty; {size(tree['bytes'])} in all) on ext4 with "
                    "fs::count_usage:", ""]
            rows = []
            for key, label in (("scan-warm", "warm (second count of each repetition)"),
                               ("scan-cold", "cold (caches dropped, then one count)")):
                m = self.r.median("quota", "ext4", key, "count_usage")
                rate = f"{tree['files'] / m:,.0f}" if m else "—"
                rows.append([label, self.cell("quota", "ext4", key, "count_usage"), rate])
            out += [table(["count", "time (median)", "entries/s"], rows), ""]
        for backing in self.backings("quota"):
            if not any(s.group == "quota" and s.backing == backing and not s.workload.startswith("scan")
                       for s in self.r.samples):
                continue  # only the scan ran here
            rows = []
            for key, label in quota_workloads(self.mode):
                meds = [self.r.median("quota", backing, key, c) for c in QUOTA_CONFIGS]
                row = [label] + [self.cell("quota", backing, key, c) for c in QUOTA_CONFIGS]
                row.append(f"{meds[1] / meds[0]:.3f}x" if all(meds) else "—")
                cpu = [self.r.cpu_median("quota", backing, key, c, "fuse") for c in QUOTA_CONFIGS]
                row.append(" / ".join("—" if v is None else f"{v:.2f}" for v in cpu))
                rows.append(row)
            out += [f"SFTP put into a folder with `quota=1T` vs one without a limit (one gateway, two mappings; "
                    f"backing on {backing}):", "",
                    table(["workload", *QUOTA_CONFIGS, "ratio", "CPU gateway: " + " / ".join(QUOTA_CONFIGS)], rows),
                    ""]
        return "\n".join(out)

    def backings(self, group):
        seen = []
        for s in self.r.samples:
            if s.group == group and s.backing not in seen:
                seen.append(s.backing)
        return seen

    # ------------------------------------------------------------ targets

    def targets(self, peers):
        rows = []
        med = self.r.median

        def verdict(ok):
            return "PASS" if ok else "MISS"
        for backing in self.backings("sftp"):
            for key, label, _ in sftp_workloads(self.mode):
                if key.startswith("sshfs"):
                    continue
                need = 0.85 if key in ("put-r", "get-r") else 0.95
                p, g = med("sftp", backing, key, "plain-chroot"), med("sftp", backing, key, "gateway")
                if p and g:
                    rows.append([f"SFTP {label} ({backing}): gateway throughput vs plain chroot",
                                 f"{p / g:.2f}x", f">= {need}x", verdict(p / g >= need)])
        for backing in self.backings("sftp"):
            for key, label, _ in sftp_workloads(self.mode):
                if key.startswith(("put-", "get-")) and key not in ("put-r", "get-r"):  # the big file only
                    v = self.gateway_cpu_per_gib(backing, key)
                    if v is not None:
                        rows.append([f"SFTP {label} ({backing}): gateway CPU per GiB", f"{v:.2f} CPU-s",
                                     "<= 0.5", verdict(v <= 0.5)])
        rows += self.bigdir_targets(peers, verdict)
        for backing in self.backings("local"):
            for key, label, _ in LOCAL_WORKLOADS:
                g = med("local", backing, key, "gateway")
                best = min(((med("local", backing, key, c), c) for c in peers
                            if med("local", backing, key, c) is not None), default=None)
                if g is not None and best:
                    rows.append([f"{label} ({backing}): gateway vs fastest peer ({best[1]})",
                                 f"{secs(g)} vs {secs(best[0])} ({g / best[0]:.2f}x)", "<= 1.00x",
                                 verdict(g <= best[0])])
            for key, limit in (("read-warm", 1.2), ("stat", 1.2), ("write", 1.3)):
                g, n = med("local", backing, key, "gateway"), med("local", backing, key, "native")
                if g is not None and n:
                    label = dict((k, l) for k, l, _ in LOCAL_WORKLOADS)[key]
                    rows.append([f"{label} ({backing}): gateway vs native", f"{g / n:.2f}x",
                                 f"<= {limit}x", verdict(g / n <= limit)])
        one = min(self.mode.scale_users)
        big = max(self.mode.scale_users)
        mib = lambda v: f"{v:.1f} MiB"  # noqa: E731
        # Issue 6's targets at 10,000 users, issue 17's at 100,000 (--full).
        targets = {10000: (("ready", "ready", 1.0, secs), ("hwm", "peak RSS", 100.0, mib), ("reload", "reload", 0.1, secs)),
                   100000: (("ready", "ready", 5.0, secs), ("hwm", "peak RSS", 600.0, mib), ("reload", "reload", 0.5, secs),
                            ("reload-add1-work", "reload adding one user, worker's time", 0.05, secs),
                            ("reload-del1-work", "reload removing one user, worker's time", 0.05, secs))}
        for n in self.mode.scale_users:
            tag = f"{n} users"
            for key, label, limit, fmt in targets.get(n, ()):
                v = med("scale", "ext4", key, tag)
                if v is not None:
                    shown_limit = f"< {fmt(limit)}"
                    rows.append([f"scale, {tag} x {self.mode.mappings_per_user}: {label}", fmt(v), shown_limit,
                                 verdict(v < limit)])
        tag = f"{big} users"
        a, b = med("scale", "ext4", "stat", f"{one} users"), med("scale", "ext4", "stat", tag)
        if a and b:
            rows.append([f"deep stat latency, {big} vs {one} users (flat)",
                         f"{b * 1e6:.0f} µs vs {a * 1e6:.0f} µs ({b / a:.2f}x)", "<= 1.25x", verdict(b / a <= 1.25)])
        a = med("scale", "ext4", "login-first", f"{one} users")
        if a and big != one:
            for key, who in (("login-first", "the first user"), ("login-last", f"user {big:,}")):
                b = med("scale", "ext4", key, tag)
                if b:
                    rows.append([f"sftp login of {who} of {big:,} vs the {one}-user gateway",
                                 f"{secs(b)} vs {secs(a)} ({b / a:.2f}x)", "<= 1.20x", verdict(b / a <= 1.2)])
        rows += self.quota_targets(verdict)
        return rows

    def bigdir_targets(self, peers, verdict):
        """Issue 16: ls -f of the big folder within 10x the native folder and
        no slower than the fastest peer; sftp listings within 1.5x the plain
        chroot."""
        rows = []
        med = self.r.median
        n = self.mode.bigdir_entries
        for backing in self.backings("bigdir"):
            for key, label, _, _ in BIGDIR_LOCAL:
                g, nat = med("bigdir", backing, key, "gateway"), med("bigdir", backing, key, "native")
                if g is None:
                    continue
                if key == "ls-f" and nat:
                    rows.append([f"{n:,} entries, {label} ({backing}): gateway vs native",
                                 f"{secs(g)} vs {secs(nat)} ({g / nat:.1f}x)", "<= 10x", verdict(g / nat <= 10)])
                best = min(((med("bigdir", backing, key, c), c) for c in peers
                            if med("bigdir", backing, key, c) is not None), default=None)
                if best:
                    rows.append([f"{n:,} entries, {label} ({backing}): gateway vs fastest peer ({best[1]})",
                                 f"{secs(g)} vs {secs(best[0])} ({g / best[0]:.2f}x)", "<= 1.00x",
                                 verdict(g <= best[0])])
            for key, label, _ in BIGDIR_SFTP:
                p, g = med("bigdir", backing, key, "plain-chroot"), med("bigdir", backing, key, "gateway")
                if p and g:
                    rows.append([f"{n:,} entries, {label} ({backing}): gateway vs plain chroot",
                                 f"{secs(g)} vs {secs(p)} ({g / p:.2f}x)", "<= 1.5x", verdict(g / p <= 1.5)])
        return rows

    def quota_targets(self, verdict):
        """Issue 13: 1,000,000 files counted in under 10 s warm (as a rate, so
        smaller trees give a figure too); a limit costs an upload at most 3%."""
        rows = []
        med = self.r.median
        tree = self.env.quota_tree
        warm = med("quota", "ext4", "scan-warm", "count_usage")
        if tree and warm:
            rate = tree["files"] / warm
            rows.append([f"quota: count {tree['files']:,} entries (ext4, warm)",
                         f"{secs(warm)}, {rate:,.0f} entries/s", ">= 100,000/s (1,000,000 in < 10 s)",
                         verdict(rate >= 100000)])
        for backing in self.backings("quota"):
            for key, label in quota_workloads(self.mode):
                free, limited = (med("quota", backing, key, c) for c in QUOTA_CONFIGS)
                if free and limited:
                    rows.append([f"quota: SFTP {label} ({backing}): quota=1T vs no limit",
                                 f"{limited / free:.3f}x", "<= 1.03x", verdict(limited / free <= 1.03)])
        return rows

    # ------------------------------------------------------------ all

    def markdown(self, configs, peers, notes=METHOD_NOTES):
        parts = [self.header(), ""]
        if self.r.failures:
            parts += ["## Failures", ""]
            parts += [f"- {s.group}/{s.backing}/{s.workload}/{s.config} rep {s.rep}: "
                      + (s.error if len(s.error) < 500 else s.error[:500] + " …") for s in self.r.failures]
            parts.append("")
        if self.env.skipped:
            parts += ["## Skipped", ""] + [f"- {s}" for s in self.env.skipped] + [""]
        target_rows = self.targets(peers)
        if target_rows:
            parts += ["## Targets (issue 6; quota: issue 13; big folder, CPU per GiB: issue 16)", "",
                      table(["target", "figure", "target", "result"], target_rows), ""]
        if self.backings("local"):
            parts.append(self.local_tables(configs))
        if self.backings("sftp"):
            parts.append(self.sftp_tables())
        if self.backings("bigdir"):
            parts.append(self.bigdir_tables(configs))
        if any(s.group == "scale" for s in self.r.samples):
            parts.append(self.scale_table())
        if any(s.group == "quota" for s in self.r.samples):
            parts.append(self.quota_tables())
        if self.env.config_notes:
            parts += ["## Configurations", ""]
            commands = ("bindfs", "mergerfs", "gateway")
            parts += [f"- {k}: `{v}`" if v.split(" ")[0] in commands else f"- {k}: {v}"
                      for k, v in self.env.config_notes.items()]
            parts.append("")
        parts += ["## How it was measured", "", *[f"- {n}" for n in notes], ""]
        parts += [self.spread()]
        return "\n".join(parts)

    def spread(self):
        """Every series with its repetitions, so noise is visible next to the medians."""
        series = {}
        for s in self.r.samples:
            if not s.error:
                series.setdefault((s.group, s.backing, s.workload, s.config), []).append(s)
        rows = []
        for (g, b, w, c), ss in series.items():
            vals = sorted(x.value for x in ss)
            med = statistics.median(vals)
            fmt = (lambda v: f"{v:.1f}") if ss[0].unit == "MiB" else secs
            spread = f"{(vals[-1] - vals[0]) / med * 100:.0f}%" if med else "—"
            rows.append([g, b, w, c, len(vals), fmt(med), fmt(vals[0]), fmt(vals[-1]), spread])
        return "\n".join(["<details><summary>All series: repetitions, median, min, max, spread</summary>", "",
                          table(["group", "backing", "workload", "config", "n", "median", "min", "max",
                                 "(max-min)/median"], rows), "", "</details>", ""])
