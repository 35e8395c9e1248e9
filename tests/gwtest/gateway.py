"""One `gateway serve` process over its folders: start, readiness, stop, its
log and the pids it publishes.

Gateway(binary, folder, ...) serves the folders it is given (bench/ points
it at a shared backing store and spawns it its own way). Gateway.create(root,
binary, layout) makes a fresh instance folder under a tier's root folder, as
the tests do: the layout's volumes, a --config file (tests edit it live) and a
free loopback port.

A tier's root (/run/gw-e2e, /run/gw-hostile) is a parameter, never a module
setting: sshd refuses a chroot (and authorized_keys) below any component that
is not root-owned or is group/world writable, which rules out /tmp; each tier
has its own so that one tier's start never wipes another's logs.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .mounts import fuse_mounted, mounted
from .procs import children, cmdline, wait_gone

START_TIMEOUT = 30.0  # includes generating an RSA-4096 host key on first start
STOP_TIMEOUT = 10.0


class GatewayError(RuntimeError):
    """The gateway exited while starting, or was not ready in time."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_root(root: Path) -> None:
    """Makes a tier's root folder (root-owned, 0755, as sshd requires) and
    drops the previous run's logs kept in <root>/logs."""
    root.mkdir(mode=0o755, exist_ok=True)
    os.chmod(root, 0o755)
    shutil.rmtree(root / "logs", ignore_errors=True)


@dataclass
class Layout:
    """users: name -> uid; volumes: name -> (uid, gid) owner of the backing folder."""
    users: dict[str, int]
    maps: list[str]
    volumes: dict[str, tuple[int, int]]
    capabilities: str = "SYS_CHROOT,SETUID,SETGID"
    extra_args: list[str] = field(default_factory=list)


class Gateway:
    """A gateway over <folder>/view and <folder>/state, with data and volumes
    folders under folder unless given. Users and mappings come from `config`
    (a --config file) or `users`/`maps` (command-line options); `extra_args`
    go last. Subclasses change how the process is spawned (`spawn`, `args`)
    and what counts as ready (`ready`)."""

    def __init__(self, binary: str, folder: Path, *, port: int | None = None, sshd: bool = True,
                 config: Path | None = None, users=(), maps=(), data: Path | None = None,
                 volumes: Path | None = None, capabilities: str | None = None, extra_args=(),
                 log_path: Path | None = None, keep_logs_in: Path | None = None):
        self.binary = binary
        self.folder = Path(folder)
        self.data = Path(data) if data else self.folder / "data"
        self.volumes = Path(volumes) if volumes else self.folder / "volumes"
        self.view = self.folder / "view"
        self.state = self.folder / "state"
        self.config = config
        self.users, self.maps = list(users), list(maps)
        self.port, self.sshd, self.capabilities = port, sshd, capabilities
        self.extra_args = list(extra_args)
        self.log_path = Path(log_path) if log_path else self.folder / "gateway.log"
        self.keep_logs_in = keep_logs_in  # cleanup() copies the log there
        self.proc: subprocess.Popen | None = None
        self.ready_seconds: float | None = None  # from spawn until ready(), set by start()

    @classmethod
    def create(cls, root: Path, binary: str, layout: Layout, name: str = "gw",
               seed_host_keys: Path | None = None, **kw) -> "Gateway":
        """A fresh instance in a new folder <root>/<name>-XXXX: the layout's
        volumes with their owners, users and mappings in a --config file,
        sshd on a free port of 127.0.0.1, the log kept in <root>/logs."""
        root.mkdir(mode=0o755, exist_ok=True)
        os.chmod(root, 0o755)
        folder = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))
        # mkdtemp makes 0700; sshd reads authorized_keys as the user, who must
        # be able to traverse every parent of the view.
        os.chmod(folder, 0o755)
        g = cls(binary, folder, port=free_port(), config=folder / "gateway.conf", capabilities=layout.capabilities,
                extra_args=layout.extra_args, keep_logs_in=root / "logs", **kw)
        for d in (g.data, g.volumes):
            d.mkdir(mode=0o755)
        for vol, (uid, gid) in layout.volumes.items():
            p = g.volumes / vol
            p.mkdir(mode=0o755)
            os.chown(p, uid, gid)
        (g.state / "authorized_keys").mkdir(mode=0o700, parents=True)
        os.chmod(g.state, 0o700)
        if seed_host_keys is not None:
            g.seed_host_keys(seed_host_keys)
        g.write_config(layout.users, layout.maps)
        return g

    # -- configuration ---------------------------------------------------
    def seed_host_keys(self, source: Path) -> None:
        """Copies host keys into <state>/host_keys: reusing keys skips the
        RSA-4096 generation (seconds on this machine)."""
        dst = self.state / "host_keys"
        shutil.copytree(source, dst)
        os.chmod(dst, 0o700)
        for k in dst.iterdir():
            os.chmod(k, 0o600)

    def write_config(self, users: dict[str, int], maps: list[str]) -> None:
        text = "# e2e test configuration\n"
        text += "users = " + ",".join(f"{u}:{uid}" for u, uid in users.items()) + "\n"
        if maps:
            text += "map = " + ",".join(maps) + "\n"
        # Written in place (as an editor would): the gateway watches the file.
        with open(self.config, "w") as f:
            f.write(text)

    def set_keys(self, user: str, pubkeys: list[Path]) -> None:
        """Writes <state>/authorized_keys/<user> directly, as a hand edit would
        (one key per line); `keys_add` goes through `gateway keys add`."""
        text = "".join(Path(p).read_text() for p in pubkeys)
        with open(self.state / "authorized_keys" / user, "w") as f:
            f.write(text)

    def keys(self, *args: str) -> subprocess.CompletedProcess:
        """`gateway keys ...` against this instance's configuration and state."""
        return subprocess.run([self.binary, "keys", *args, "--config", str(self.config), "--state-dir", str(self.state)],
                              capture_output=True, text=True, timeout=15, stdin=subprocess.DEVNULL)

    def keys_add(self, user: str, pubkey: Path) -> None:
        r = self.keys("add", "--user", user, str(pubkey))
        if r.returncode != 0:
            raise RuntimeError(f"gateway keys add --user {user} {pubkey}: {r.returncode}\n{r.stdout}{r.stderr}")

    def serve_options(self) -> list[str]:
        """The options after `serve` (`gateway status` takes the same)."""
        opts = ["--config", str(self.config)] if self.config else []
        for u in self.users:
            opts += ["--users", u]
        for m in self.maps:
            opts += ["--map", m]
        opts += ["--data-dir", str(self.data), "--volumes-dir", str(self.volumes),
                 "--mountpoint", str(self.view), "--state-dir", str(self.state)]
        if self.sshd:
            opts += ["--run-sshd", "--listen", "127.0.0.1"]
        if self.port:
            opts += ["--port", str(self.port)]
        if self.capabilities:
            opts += ["--sshd-capabilities", self.capabilities]
        return opts + self.extra_args

    def args(self) -> list[str]:
        return [self.binary, "serve", *self.serve_options()]

    # -- lifecycle -------------------------------------------------------
    def spawn(self, argv: list[str]) -> subprocess.Popen:
        """Starts argv in a session of its own (kill() ends its process group,
        sshd included), its output into the log file."""
        with open(self.log_path, "wb") as log:
            return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)

    def start(self, timeout: float = START_TIMEOUT, poll: float = 0.05) -> "Gateway":
        """Spawns the gateway and waits until ready(); ready_seconds says how long that took."""
        t0 = time.perf_counter()
        self.proc = self.spawn(self.args())
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.proc.poll() is not None:
                raise GatewayError(f"gateway exited with {self.proc.returncode} during start:\n{self.log()}")
            if time.monotonic() >= deadline:
                self.kill()
                raise GatewayError(f"gateway not ready within {timeout} s:\n{self.log()}")
            time.sleep(poll)
        self.ready_seconds = time.perf_counter() - t0
        return self

    def serving(self) -> bool:
        """What `gateway status` checks: the runtime file names this gateway or
        its worker (written once the view is mounted) and, with sshd, sshd's
        pid is published."""
        pid = self.runtime_pid()
        if not pid or not (pid == self.proc.pid or pid in children(self.proc.pid)):
            return False
        return not self.sshd or self.sshd_pid() > 0

    def ready(self) -> bool:
        """Serving, and sshd listening on 127.0.0.1: a client can log in."""
        return self.serving() and (not self.sshd or
                                   f"Server listening on 127.0.0.1 port {self.port}." in self.log())

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM; returns the exit code. Raises when it does not exit or leaves the mount."""
        assert self.proc is not None
        sshd = self.sshd_pid()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"gateway did not exit within {timeout} s of SIGTERM:\n{self.log_tail()}")
        problems = []
        if fuse_mounted(self.view):
            problems.append(f"the FUSE view {self.view} is still mounted after the gateway exited")
        # sshd is reaped by the gateway; give the kernel a moment to drop it.
        if sshd and not wait_gone(sshd, 2) and "sshd" in cmdline(sshd):
            problems.append(f"sshd (pid {sshd}) still runs after the gateway exited")
        if problems:
            raise AssertionError("; ".join(problems) + "\n" + self.log_tail())
        return rc

    def kill(self) -> None:
        """Last resort: kill the whole process group (the gateway started it,
        sshd is in it, even orphaned) and lazily unmount."""
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        self.unmount()

    def unmount(self) -> None:
        """Detaches whatever is left at the view (a dead FUSE mount, the
        gateway's shared bind mount): these are this instance's own folders."""
        for _ in range(4):
            if not mounted(self.view):
                return
            if fuse_mounted(self.view):
                subprocess.run(["fusermount3", "-u", "-z", str(self.view)], timeout=10, capture_output=True)
            else:
                subprocess.run(["umount", "-l", str(self.view)], timeout=10, capture_output=True)

    def cleanup(self) -> None:
        """Keeps the log (in keep_logs_in, replaced by the next run) and removes the folder."""
        if self.keep_logs_in is not None:
            self.keep_logs_in.mkdir(mode=0o755, exist_ok=True)
            if self.log_path.exists():
                shutil.copyfile(self.log_path, self.keep_logs_in / f"{self.folder.name}.log")
        # Never remove through a live view: that would reach the backing folders.
        self.unmount()
        if not mounted(self.view):
            shutil.rmtree(self.folder, ignore_errors=True)

    def close(self) -> None:
        """kill() then cleanup(): whatever state the gateway is in, nothing is left."""
        try:
            self.kill()
        finally:
            self.cleanup()

    # -- observation -----------------------------------------------------
    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def log_mark(self) -> int:
        return len(self.log())

    def log_since(self, mark: int) -> str:
        return self.log()[mark:]

    def wait_for_log(self, pattern: str, since: int = 0, timeout: float = 5.0) -> re.Match | None:
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.log_since(since))
            if m or time.monotonic() >= deadline:
                return m
            time.sleep(0.05)

    def runtime(self) -> dict[str, str]:
        """<state>/runtime, the key=value lines `gateway status` reads."""
        try:
            text = (self.state / "runtime").read_text()
        except FileNotFoundError:
            return {}
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)

    def runtime_pid(self) -> int:
        """The pid the runtime file names: the process serving FUSE (the
        worker, or the gateway itself in single-process builds)."""
        return int(self.runtime().get("pid", "0") or 0)

    def sshd_pid(self) -> int:
        """The sshd pid the gateway publishes (host mode) in <state>/sshd.pid
        (builds before it had that file: in the runtime file)."""
        try:
            return int((self.state / "sshd.pid").read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return int(self.runtime().get("sshd_pid", "0") or 0)

    def _child(self, marker: str) -> int | None:
        for pid in children(self.proc.pid):
            if marker in cmdline(pid):
                return pid
        return None

    def worker_pid(self) -> int | None:
        """The worker among the gateway's children (what /proc shows, not what it publishes)."""
        return self._child("--worker-fd=")

    def listener_pid(self) -> int | None:
        """sshd's listener among the gateway's children."""
        return self._child("[listener]")

    def home_backing(self, user: str) -> Path:
        return self.data / user

    def view_home(self, user: str) -> Path:
        return self.view / "data" / f"{user}-chroot" / user


class Fleet:
    """The short-lived gateways one test starts: each in its own folder under
    root with its own port, reusing the session gateway's host keys; close()
    stops them all."""

    def __init__(self, root: Path, binary: str, host_keys: Path, cls: type[Gateway] = Gateway):
        self.root, self.binary, self.host_keys, self.cls = root, binary, host_keys, cls
        self.started: list[Gateway] = []

    def start(self, layout: Layout, name: str, keys_for: dict[str, list[Path]], prepare=None, **kw) -> Gateway:
        """Creates and starts one: the keys go in with `gateway keys add`,
        then prepare(g) runs, if given; kw go to the class (cls)."""
        g = self.cls.create(self.root, self.binary, layout, name=name, seed_host_keys=self.host_keys, **kw)
        for user, pubs in keys_for.items():
            for p in pubs:
                g.keys_add(user, p)
        if prepare:
            prepare(g)
        self.started.append(g)
        return g.start()

    def close(self, check_status: bool = False) -> None:
        """Stops every gateway still running (SIGTERM) and closes each, then
        fails with what went wrong (stop()'s complaints, with check_status a
        non-zero exit status)."""
        errors = []
        for g in self.started:
            try:
                if g.proc and g.proc.poll() is None:
                    rc = g.stop()
                    if check_status and rc != 0:
                        errors.append(f"{g.folder.name}: exit status {rc} on SIGTERM")
            except AssertionError as e:
                errors.append(str(e))
            finally:
                g.close()
        assert not errors, "\n".join(errors)
