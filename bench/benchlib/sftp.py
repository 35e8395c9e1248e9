"""SFTP workloads against both servers, on each backing.

Each `sftp` session connects and authenticates first (detected from `-v`'s
"Authenticated to" line), then gets its batch on stdin: the clock runs from
handing over the commands until the session has exited, so the figures are
transfer times, not login times. Parallel sessions are connected one after
another (the hardened config's PerSourceMaxStartups 4 refuses a fifth
unauthenticated connection from one address) and then started together.
"""

import collections
import os
import signal
import subprocess
import threading
import time

from .local import rotate
from .proc import BenchError, Daemon, log, run, tree_cpu
from .results import measure
from .system import make_dir, rmtree, syncfs, umount, wait_mounted

SSH_OPTS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10"]


def short(cipher):
    return cipher.split("@")[0]


class SftpSession:
    def __init__(self, env, port, cipher):
        self.argv = ["sftp", "-v", "-i", env.client_key, "-P", str(port), "-c", cipher, *SSH_OPTS,
                     "-b", "-", f"{env.user.name}@127.0.0.1"]
        self.proc = None
        self.lines = collections.deque(maxlen=200)
        self.authenticated = threading.Event()

    def _drain(self):
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            self.lines.append(line)
            if line.startswith("Authenticated to"):
                self.authenticated.set()
        self.authenticated.set()  # EOF: wake the waiter, it checks the process

    def connect(self, timeout=30, attempts=5):
        """Logs in; retried when sshd drops the connection before the key
        exchange: the listener frees a connection's start-up slot (of 4 per
        source address) only a moment after that connection authenticated."""
        for attempt in range(attempts):
            self.lines.clear()
            self.authenticated.clear()
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, start_new_session=True)
            reader = threading.Thread(target=self._drain, daemon=True)
            reader.start()
            if self.authenticated.wait(timeout) and self.proc.poll() is None:
                return self
            self.kill()
            reader.join(5)
            refused = any("kex_exchange_identification" in l or "Connection reset" in l for l in self.lines)
            if not refused or attempt == attempts - 1:
                break
            time.sleep(0.2 * (attempt + 1))
        raise BenchError(f"sftp login failed: {self.errors()}")

    def send(self, commands):
        self.proc.stdin.write(("\n".join(commands) + "\n").encode())
        self.proc.stdin.close()

    def wait(self, timeout):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise BenchError(f"sftp session timed out after {timeout:.0f} s")
        if rc != 0:
            raise BenchError(f"sftp exit {rc}: {self.errors()}")

    def errors(self):
        return " | ".join(l for l in list(self.lines) if not l.startswith("debug"))[-600:]

    def kill(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)


class SftpRunner:
    """The steps, on any server object with a port, a backing (`.name`,
    `.root`, `.vol`: the volume's folder), the mount it is reached by
    (`.mount`), probes() and settle(); samples go under `group`."""

    def __init__(self, env, group="sftp"):
        self.env, self.mode, self.group = env, env.mode, group

    # ------------------------------------------------------------ client data

    def prepare_client(self):
        """Client-side files live on their own tmpfs: the client never waits for a disk.
        Made once per run (the sftp and quota groups share them)."""
        m, c = self.mode, self.env.client_dir
        if os.path.exists(os.path.join(c, "small")):
            return
        block = os.urandom(1 << 20)  # incompressible, though Compression is off anyway
        for name, size in (("big", m.sftp_big_bytes), ("par", m.parallel_bytes)):
            with open(os.path.join(c, name), "wb") as f:
                for _ in range(size >> 20):
                    f.write(block)
        small = os.path.join(c, "small")
        per = 100
        for i in range(m.sftp_small_files):
            d = os.path.join(small, f"d{i // per:02d}")
            if i % per == 0:
                os.makedirs(d)
            with open(os.path.join(d, f"f{i:04d}"), "wb") as f:
                f.write(block[:m.sftp_small_bytes])
        os.chmod(c, 0o755)

    # ------------------------------------------------------------ steps

    def remote_dir(self, srv, group, rep):
        name = f"{group}-{srv.name}-r{rep}"
        native = os.path.join(srv.backing.vol, name)
        make_dir(native, 0o755, (self.env.user.uid, self.env.user.gid))
        return f"{srv.mount}/{name}", native

    def sessions_step(self, srv, workload, rep, cipher, batches, nbytes, verify=None):
        """Connects one session per batch, then times all batches together."""
        sessions = []
        try:
            for _ in batches:
                sessions.append(SftpSession(self.env, srv.port, cipher).connect())

            def action():
                for s, batch in zip(sessions, batches):
                    s.send(batch)
                for s in sessions:
                    s.wait(self.mode.step_timeout)
            return measure(self.env.results, (self.group, srv.backing.name, workload, srv.name), rep, action,
                           srv.probes(), settle=srv.settle, nbytes=nbytes, verify=verify)
        finally:
            for s in sessions:
                s.kill()

    def sized(self, native_path, size):
        def check():
            got = os.stat(native_path).st_size
            if got != size:
                raise BenchError(f"{native_path}: {got} bytes, expected {size}")
        return check

    def counted(self, path, expected):
        def check():
            n = sum(len(fs) for _, _, fs in os.walk(path))
            if n != expected:
                raise BenchError(f"{path}: {n} files, expected {expected}")
        return check

    def big(self, srv, rep, cipher, get=True):
        m, c = self.mode, self.env.client_dir
        remote, native = self.remote_dir(srv, f"big-{short(cipher)}", rep)
        syncfs(srv.backing.root)
        s = self.sessions_step(srv, f"put-{short(cipher)}", rep, cipher,
                               [[f"put {c}/big {remote}/big"]], m.sftp_big_bytes,
                               self.sized(f"{native}/big", m.sftp_big_bytes))
        if get and not s.error:
            syncfs(srv.backing.root)
            self.sessions_step(srv, f"get-{short(cipher)}", rep, cipher,
                               [[f"get {remote}/big /dev/null"]], m.sftp_big_bytes)
        rmtree(native)

    def small(self, srv, rep, get=True):
        m, c = self.mode, self.env.client_dir
        cipher = self.mode.ciphers[0]
        remote, native = self.remote_dir(srv, "small", rep)
        local = os.path.join(c, f"get-{srv.name}-r{rep}")
        syncfs(srv.backing.root)
        nbytes = m.sftp_small_files * m.sftp_small_bytes
        s = self.sessions_step(srv, "put-r", rep, cipher, [[f"put -r {c}/small {remote}/small"]], nbytes,
                               self.counted(f"{native}/small", m.sftp_small_files))
        if get and not s.error:
            syncfs(srv.backing.root)
            self.sessions_step(srv, "get-r", rep, cipher, [[f"get -r {remote}/small {local}"]], nbytes,
                               self.counted(local, m.sftp_small_files))
        rmtree(local)
        rmtree(native)

    def parallel(self, srv, rep):
        m, c = self.mode, self.env.client_dir
        cipher = self.mode.ciphers[0]
        n = m.parallel_sessions
        remote, native = self.remote_dir(srv, "par", rep)
        syncfs(srv.backing.root)
        puts = [[f"put {c}/par {remote}/p{i}"] for i in range(n)]

        def all_there():
            for i in range(n):
                self.sized(f"{native}/p{i}", m.parallel_bytes)()
        s = self.sessions_step(srv, "par-put", rep, cipher, puts, n * m.parallel_bytes, all_there)
        if not s.error:
            syncfs(srv.backing.root)
            gets = [[f"get {remote}/p{i} /dev/null"] for i in range(n)]
            self.sessions_step(srv, "par-get", rep, cipher, gets, n * m.parallel_bytes)
        rmtree(native)

    def sshfs(self, srv, rep):
        """An sshfs mount (client-side FUSE over sftp): copy the big file in,
        untar the source tree. The client's CPU is sshfs and its ssh."""
        m, env = self.mode, self.env
        cipher = self.mode.ciphers[0]
        remote, native = self.remote_dir(srv, "sshfs", rep)
        make_dir(f"{native}/src", 0o755, (env.user.uid, env.user.gid))
        mnt = os.path.join(env.work, "sshfs", f"{srv.name}-{srv.backing.name}")
        make_dir(mnt, 0o755)
        opts = (f"IdentityFile={env.client_key},Port={srv.port},StrictHostKeyChecking=no,"
                f"UserKnownHostsFile=/dev/null,BatchMode=yes,IdentitiesOnly=yes,Ciphers={cipher}")
        daemon = Daemon(f"sshfs[{srv.name} {srv.backing.name}]",
                        ["sshfs", "-f", f"{env.user.name}@127.0.0.1:/{env.user.name}/{remote}", mnt, "-o", opts],
                        os.path.join(env.logs, f"sshfs-{srv.name}-{srv.backing.name}.log"), env.pidfile)
        try:
            daemon.start()
            wait_mounted(mnt, daemon, 30)
            probes = dict(srv.probes(), client=lambda: tree_cpu(daemon.pid))
            key = ("sftp", srv.backing.name)
            syncfs(srv.backing.root)
            s = measure(env.results, (*key, "sshfs-copy", srv.name), rep,
                        lambda: run(["cp", f"{env.client_dir}/big", f"{mnt}/big"], m.step_timeout, what="cp to sshfs"),
                        probes, nbytes=m.sftp_big_bytes, verify=self.sized(f"{native}/big", m.sftp_big_bytes))
            if not s.error:
                syncfs(srv.backing.root)
                with open(env.tarball, "rb") as t:
                    while t.read(1 << 20):
                        pass

                def extracted():
                    n = sum(len(fs) + len(ds) for _, ds, fs in os.walk(f"{native}/src"))
                    if n != env.tree_entries:
                        raise BenchError(f"sshfs untar: {n} entries, expected {env.tree_entries}")
                measure(env.results, (*key, "sshfs-untar", srv.name), rep,
                        lambda: run(["tar", "--no-same-owner", "-xf", env.tarball, "-C", f"{mnt}/src"],
                                    m.step_timeout, what="untar to sshfs"),
                        probes, nbytes=env.tree_bytes, verify=extracted)
        finally:
            run(["fusermount3", "-u", mnt], 20, check=False)
            daemon.stop()
            umount(mnt)
            srv.settle()
            rmtree(native)

    # ------------------------------------------------------------ the loop

    def run(self, servers_by_backing, steps=None):
        """steps: (name, step(srv, rep)); by default every sftp workload."""
        if steps is None:
            steps = [(f"big {short(c)}", lambda srv, rep, c=c: self.big(srv, rep, c)) for c in self.mode.ciphers]
            steps += [("small files", self.small), ("parallel", self.parallel), ("sshfs", self.sshfs)]
        for rep in range(self.mode.reps):
            for step_name, step in steps:
                for backing, servers in servers_by_backing.items():
                    for srv in rotate(servers, rep):
                        log(f"{self.group} rep {rep + 1}/{self.mode.reps} {step_name} {backing} {srv.name}")
                        srv.probes()  # raises Fatal if a server died: later figures would be wrong
                        try:
                            step(srv, rep)
                        except BenchError as e:
                            log(f"FAILED {self.group}/{backing}/{step_name}/{srv.name}: {e}")
                            self.env.results.fail((self.group, backing, step_name, srv.name), e)



def workloads(mode):
    """(key, label, step): the step is what a failure before the first
    measurement of that step is recorded under."""
    w = []
    for c in mode.ciphers:
        step = f"big {short(c)}"
        w += [(f"put-{short(c)}", f"put big file, {short(c)}", step),
              (f"get-{short(c)}", f"get big file, {short(c)}", step)]
    w += [("put-r", "put -r small files", "small files"), ("get-r", "get -r small files", "small files"),
          ("par-put", "parallel put", "parallel"), ("par-get", "parallel get", "parallel"),
          ("sshfs-copy", "sshfs: copy big file", "sshfs"), ("sshfs-untar", "sshfs: untar tree", "sshfs")]
    return w
