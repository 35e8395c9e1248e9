"""Local workloads: the same steps, as the same user, on every configuration.

Three chains, each run for every configuration before the next chain starts
(the configuration order rotates with the repetition, so slow drift of the
machine spreads evenly over the configurations):

  seq:   write a big file with dd and fsync it; drop caches; read it (cold);
         read it again (warm)
  files: create N small files in F folders; find; lstat all; rm -rf
  tree:  untar a source tree; tar it again (into a pipe, so tar really reads
         every file: GNU tar skips reading when its output is /dev/null); rm -rf

Between steps the backing file system is synced (syncfs, untimed), so one
configuration's write-back never lands in the next one's figure. Each chain
starts from dropped caches. Every step's outcome is checked, untimed.
"""

import os

from .proc import BenchError, log, run
from .results import measure
from .system import drop_caches, syncfs

WORKLOADS = [
    # key, label, chain
    ("write", "seq write + fsync", "seq"),
    ("read-cold", "seq read, cold", "seq"),
    ("read-warm", "seq read, warm", "seq"),
    ("create", "create small files", "files"),
    ("find", "find", "files"),
    ("stat", "stat all", "files"),
    ("delete", "delete all", "files"),
    ("untar", "untar tree", "tree"),
    ("tar", "re-tar tree", "tree"),
    ("rm-tree", "remove tree", "tree"),
]


def rotate(items, n):
    n %= len(items)
    return items[n:] + items[:n]


class LocalRunner:
    def __init__(self, env):
        self.env, self.mode, self.user = env, env.mode, env.user

    def as_user(self, argv, what, timeout=None):
        return run(argv, timeout or self.mode.step_timeout, user=(self.user.uid, self.user.gid), what=what)

    def key(self, cfg, workload):
        return ("local", cfg.backing.name, workload, cfg.name)

    def workdir(self, cfg, chain, rep):
        """A fresh folder per chain and repetition: a name never reused, so no
        configuration can answer from a stale cached entry of an earlier run."""
        name = f"{chain}-{cfg.name}-r{rep}"
        path = os.path.join(cfg.path, name)
        self.as_user(["mkdir", path], f"mkdir {path}")
        return path, os.path.join(cfg.backing.vol, name)

    def quiesce(self, cfg, cold):
        syncfs(cfg.backing.root)
        if cold:
            drop_caches()

    # ------------------------------------------------------------ chains

    def seq(self, cfg, rep):
        m, env = self.mode, self.env
        path, native = self.workdir(cfg, "seq", rep)
        f = os.path.join(path, "big")
        count = m.big_bytes >> 20
        probes = cfg.probes()

        def size_ok():
            if os.stat(os.path.join(native, "big")).st_size != m.big_bytes:
                raise BenchError(f"{f}: wrong size after write")
        self.quiesce(cfg, cold=True)
        w = measure(env.results, self.key(cfg, "write"), rep,
                    lambda: self.as_user(["dd", "if=/dev/zero", f"of={f}", "bs=1M", f"count={count}",
                                         "conv=fsync", "status=none"], "dd write"),
                    probes, nbytes=m.big_bytes, verify=size_ok)
        if not w.error:
            for workload, cold in (("read-cold", True), ("read-warm", False)):
                self.quiesce(cfg, cold=cold)
                measure(env.results, self.key(cfg, workload), rep,
                        lambda: self.as_user(["dd", f"if={f}", "of=/dev/null", "bs=1M", "status=none"],
                                             "dd read"),
                        probes, nbytes=m.big_bytes)
        self.as_user(["rm", "-rf", path], "cleanup")

    def files(self, cfg, rep):
        m, env = self.mode, self.env
        path, native = self.workdir(cfg, "files", rep)
        py = ["/usr/bin/python3", "-S", env.fileops]
        probes = cfg.probes()
        per = m.files // m.folders * m.folders
        self.quiesce(cfg, cold=True)
        steps = [
            ("create", [*py, "create", path, str(m.folders), str(m.files), str(m.file_bytes)]),
            ("find", ["find", path, "-type", "f"]),
            ("stat", [*py, "stat", path, str(m.folders), str(m.files)]),
            ("delete", ["rm", "-rf", path]),
        ]

        def created():
            n = sum(len(fs) for _, _, fs in os.walk(native))
            if n != per:
                raise BenchError(f"{native}: {n} files after create, expected {per}")

        def deleted():
            if os.path.lexists(native):
                raise BenchError(f"{native} still exists after rm -rf")
        checks = {"create": created, "delete": deleted}
        for workload, argv in steps:
            s = measure(env.results, self.key(cfg, workload), rep,
                        lambda: self.as_user(argv, f"{workload} ({argv[0]})"), probes,
                        nbytes=per * m.file_bytes if workload == "create" else 0,
                        verify=checks.get(workload))
            if s.error:
                break
            self.quiesce(cfg, cold=False)
        if os.path.lexists(native):
            self.as_user(["rm", "-rf", path], "cleanup")

    def tree(self, cfg, rep):
        env = self.env
        path, native = self.workdir(cfg, "tree", rep)
        probes = cfg.probes()
        self.quiesce(cfg, cold=True)
        with open(env.tarball, "rb") as t:  # the archive itself comes from memory
            while t.read(1 << 20):
                pass

        def extracted():
            n = sum(len(fs) + len(ds) for _, ds, fs in os.walk(native))
            if n != env.tree_entries:
                raise BenchError(f"{native}: {n} entries after untar, expected {env.tree_entries}")
        steps = [
            ("untar", ["tar", "-xf", env.tarball, "-C", path], extracted),
            ("tar", ["bash", "-c", 'set -o pipefail; tar -cf - -C "$1" . | cat >/dev/null', "tar", path], None),
            ("rm-tree", ["rm", "-rf", path], None),
        ]
        for workload, argv, check in steps:
            s = measure(env.results, self.key(cfg, workload), rep,
                        lambda: self.as_user(argv, f"{workload} ({argv[0]})"), probes,
                        nbytes=env.tree_bytes if workload != "rm-tree" else 0, verify=check)
            if s.error:
                break
            self.quiesce(cfg, cold=False)
        if os.path.lexists(native):
            self.as_user(["rm", "-rf", path], "cleanup")

    # ------------------------------------------------------------ the loop

    def run(self, configs_by_backing):
        chains = [("seq", self.seq), ("files", self.files), ("tree", self.tree)]
        for rep in range(self.mode.reps):
            for chain_name, chain in chains:
                for backing, configs in configs_by_backing.items():
                    for cfg in rotate(configs, rep):
                        log(f"local rep {rep + 1}/{self.mode.reps} {chain_name} {backing} {cfg.name}")
                        cfg.probes()  # raises Fatal if its daemon died: later figures would be wrong
                        try:
                            chain(cfg, rep)
                        except BenchError as e:
                            log(f"FAILED local/{backing}/{chain_name}/{cfg.name}: {e}")
                            self.env.results.fail(("local", backing, chain_name, cfg.name), e)
