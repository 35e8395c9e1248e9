"""One `gateway serve --run-sshd` instance on temp folders, for the e2e tests.

Every folder lives under /run/gw-e2e: sshd refuses a chroot (and
authorized_keys) below any component that is not root-owned or is
group/world writable, which rules out /tmp.
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

E2E_ROOT = Path("/run/gw-e2e")
LOG_DIR = E2E_ROOT / "logs"  # each instance's log, kept after the run
FUSE_SUPER_MAGIC = 0x65735546
START_TIMEOUT = 30.0  # includes generating an RSA-4096 host key on first start
STOP_TIMEOUT = 10.0

# Linux capability numbers (include/uapi/linux/capability.h).
CAP_NUMBERS = {"SETGID": 6, "SETUID": 7, "SYS_CHROOT": 18}


def cap_mask(names) -> int:
    mask = 0
    for n in names:
        mask |= 1 << CAP_NUMBERS[n]
    return mask


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mounts_at(path: Path) -> list[str]:
    """File system types mounted at path, bottom to top (/proc/self/mountinfo)."""
    target, types = str(path), []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4].replace("\\040", " ") == target:
                types.append(fields[fields.index("-") + 1])
    return types


def mounted(path: Path) -> bool:
    """Anything mounted at path (the gateway's FUSE view, or the shared
    bind mount it puts under the view in host mode)."""
    return bool(mounts_at(path))


def fuse_mounted(path: Path) -> bool:
    return any(t.startswith("fuse") for t in mounts_at(path))


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def proc_status(pid: int) -> dict[str, str]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def children(pid: int) -> list[int]:
    """Direct children of pid (from /proc/*/stat)."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: split after the last ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            kids.append(int(entry))
    return kids


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        for kid in children(todo.pop()):
            out.append(kid)
            todo.append(kid)
    return out


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


@dataclass
class Layout:
    """users: name -> uid; volumes: name -> (uid, gid) owner of the backing folder."""
    users: dict[str, int]
    maps: list[str]
    volumes: dict[str, tuple[int, int]]
    capabilities: str = "SYS_CHROOT,SETUID,SETGID"
    extra_args: list[str] = field(default_factory=list)


class Gateway:
    """A running gateway. `users`/`map` live in the --config file, so a test
    can edit them live; everything else is on the command line."""

    def __init__(self, binary: str, layout: Layout, name: str = "gw", seed_host_keys: Path | None = None):
        E2E_ROOT.mkdir(mode=0o755, exist_ok=True)
        os.chmod(E2E_ROOT, 0o755)
        self.binary = binary
        self.layout = layout
        self.root = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=E2E_ROOT))
        # mkdtemp makes 0700; sshd reads authorized_keys as the user, who must
        # be able to traverse every parent of the view.
        os.chmod(self.root, 0o755)
        self.data = self.root / "data"
        self.volumes = self.root / "volumes"
        self.view = self.root / "view"
        self.state = self.root / "state"
        self.config = self.root / "gateway.conf"
        self.log_path = self.root / "gateway.log"
        for d in (self.data, self.volumes):
            d.mkdir(mode=0o755)
        for vol, (uid, gid) in layout.volumes.items():
            p = self.volumes / vol
            p.mkdir(mode=0o755)
            os.chown(p, uid, gid)
        (self.state / "authorized_keys").mkdir(mode=0o700, parents=True)
        os.chmod(self.state, 0o700)
        if seed_host_keys is not None:
            # Reusing keys skips the RSA-4096 generation (seconds on this machine).
            dst = self.state / "host_keys"
            shutil.copytree(seed_host_keys, dst)
            os.chmod(dst, 0o700)
            for k in dst.iterdir():
                os.chmod(k, 0o600)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.write_config(layout.users, layout.maps)

    # -- configuration ---------------------------------------------------
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

    def args(self) -> list[str]:
        return [
            self.binary, "serve",
            "--config", str(self.config),
            "--data-dir", str(self.data),
            "--volumes-dir", str(self.volumes),
            "--mountpoint", str(self.view),
            "--state-dir", str(self.state),
            "--run-sshd", "--listen", "127.0.0.1", "--port", str(self.port),
            "--sshd-capabilities", self.layout.capabilities,
            *self.layout.extra_args,
        ]

    # -- lifecycle -------------------------------------------------------
    def start(self) -> "Gateway":
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.args(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        listening = f"Server listening on 127.0.0.1 port {self.port}."
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode} during start:\n{self.log()}")
            if fuse_mounted(self.view) and listening in self.log() and self.sshd_pid() > 0:
                return self
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"gateway not ready within {START_TIMEOUT} s:\n{self.log()}")

    def stop(self) -> int:
        """SIGTERM; returns the exit code. Raises when it does not exit or leaves the mount."""
        assert self.proc is not None
        sshd = self.sshd_pid()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"gateway did not exit within {STOP_TIMEOUT} s of SIGTERM:\n{self.log_tail()}")
        problems = []
        if fuse_mounted(self.view):
            problems.append(f"the FUSE view {self.view} is still mounted after the gateway exited")
        # sshd is reaped by the gateway; give the kernel a moment to drop it.
        deadline = time.monotonic() + 2
        while sshd and pid_alive(sshd) and time.monotonic() < deadline:
            time.sleep(0.05)
        if sshd and pid_alive(sshd) and "sshd" in cmdline(sshd):
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
        gateway's shared bind mount): these are this test's own folders."""
        for _ in range(4):
            if not mounted(self.view):
                return
            if fuse_mounted(self.view):
                subprocess.run(["fusermount3", "-u", "-z", str(self.view)], timeout=10, capture_output=True)
            else:
                subprocess.run(["umount", "-l", str(self.view)], timeout=10, capture_output=True)

    def cleanup(self) -> None:
        # The log outlives the folders (in /run/gw-e2e/logs, replaced by the next run).
        LOG_DIR.mkdir(mode=0o755, exist_ok=True)
        if self.log_path.exists():
            shutil.copyfile(self.log_path, LOG_DIR / f"{self.root.name}.log")
        # Never remove through a live view: that would reach the backing folders.
        self.unmount()
        if not mounted(self.view):
            shutil.rmtree(self.root, ignore_errors=True)

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
        try:
            text = (self.state / "runtime").read_text()
        except FileNotFoundError:
            return {}
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)

    def sshd_pid(self) -> int:
        """The sshd pid the gateway publishes (host mode) in <state>/sshd.pid."""
        try:
            return int((self.state / "sshd.pid").read_text().strip() or 0)
        except FileNotFoundError:
            return 0

    def home_backing(self, user: str) -> Path:
        return self.data / user

    def view_home(self, user: str) -> Path:
        return self.view / "data" / f"{user}-chroot" / user
