"""Helpers of the hostile suite on top of the shared ones (tests/gwtest):
the tier's root folder and session layout, HostileGateway, worker and
descriptor probes, a background sftp, the audit trail, code run as a given
uid, raw SFTP packets.

Everything here is bounded in time: a hang fails a test instead of blocking it.
"""
from __future__ import annotations

import errno
import json
import os
import signal
import socket
import stat
import struct
import subprocess
import threading
import time
from pathlib import Path

from gwtest.clients import Target, can_login, load_key, paramiko_transport, ssh_options
from gwtest.gateway import Gateway
from gwtest.procs import proc_state
from gwtest.session import WEB_OWNER

# Our own root (not /run/gw-e2e): the e2e tier wipes its log folder when it
# starts, and both tiers may run on one machine. Like /run/gw-e2e, every
# component is root-owned and not group/world writable (sshd checks).
HOSTILE_ROOT = Path("/run/gw-hostile")

# The session gateway: gwtest.session's layout plus these.
OTHER_OWNER = WEB_OWNER        # ryan's `other`: a second mapping of the same owner (cross-mapping moves)
LINKS_OWNER = (54323, 54323)   # ryan's `links`, with the `symlinks` option
FILES_OWNER = (54324, 54324)   # gary's `files`
SESSION_MAPS = ["other:ryan:other", "links:ryan:links:symlinks", "files:gary:files"]
SESSION_VOLUMES = {"other": OTHER_OWNER, "links": LINKS_OWNER, "files": FILES_OWNER}
SECOND_ADDRESS = "127.0.0.2"   # sshd listens here too: a source address of its own
SILENT_ADDRESS = "127.0.0.3"   # the client that never sends its version string
LOGIN_GRACE = 20               # the rendered LoginGraceTime

EXTRA_PROGRAMS = ["setpriv", "nsenter", "prlimit", "mount", "umount", "unshare", "getent"]


class HostileGateway(Gateway):
    """A Gateway whose process may start under a lower open-file limit
    (`prlimit` execs the gateway, so the pid stays the gateway's)."""

    def __init__(self, *args, nofile: int | None = None, **kw):
        super().__init__(*args, **kw)
        self.nofile = nofile

    def args(self) -> list[str]:
        base = super().args()
        if self.nofile:
            return ["prlimit", f"--nofile={self.nofile}:{self.nofile}", "--", *base]
        return base

    @property
    def audit_path(self) -> Path:
        return self.folder / "audit.log"


class SilentClient:
    """Connects from SILENT_ADDRESS, reads sshd's version string and then
    says nothing; records when sshd drops the connection."""

    def __init__(self, port: int):
        self.started = time.monotonic()
        self.sock = free_source_socket(SILENT_ADDRESS, port)
        self.sock.settimeout(60)
        self.banner = b""
        self.closed_after: float | None = None
        self.error: str | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while True:
                chunk = self.sock.recv(4096)
                if not chunk:
                    self.closed_after = time.monotonic() - self.started
                    return
                self.banner += chunk
        except OSError as e:  # a reset counts as dropped too
            self.closed_after = time.monotonic() - self.started
            self.error = repr(e)
        finally:
            self.sock.close()

    def wait(self, timeout: float) -> None:
        self.thread.join(timeout)


# -- processes -------------------------------------------------------------------

def wait_worker(g: Gateway, other_than: int | None = None, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = g.worker_pid()
        if pid and pid != other_than and proc_state(pid) not in ("Z", "T", None):
            return pid
        time.sleep(0.05)
    raise AssertionError(f"no new worker within {timeout} s:\n{g.log_tail()}")


O_PATH = 0o10000000
# What a worker may keep after a burst, beyond its idle descriptors: per
# extra FUSE thread (at most 16) a /dev/fuse clone and a splice pipe (3
# descriptors), and a few cached O_PATH descriptors. A leak of one
# descriptor per file or handle is far above this.
FD_SLACK = 16 * 3 + 16


def open_files_under(pid: int, *roots: Path) -> list[str]:
    """Descriptors of pid open (not O_PATH) on regular files below the roots: what
    an open handle costs the worker. Cached O_PATH descriptors are not counted."""
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                flags = int(next(line for line in f if line.startswith("flags:")).split()[1], 8)
        except (OSError, StopIteration):
            continue
        if flags & O_PATH or not any(target.startswith(f"{r}/") for r in roots):
            continue
        try:
            if stat.S_ISREG(os.stat(target).st_mode):
                out.append(target)
        except OSError:
            out.append(target)  # deleted meanwhile: still an open file
    return out


def fd_kinds(pid: int) -> dict[str, int]:
    """Descriptors of pid by kind: "fuse" (/dev/fuse and its per-thread
    clones), "pipe" (per-thread splice pipes), "other" (backing folders and
    files, logs, inotify...)."""
    kinds = {"fuse": 0, "pipe": 0, "other": 0}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        kinds["fuse" if target == "/dev/fuse" else "pipe" if target.startswith("pipe:") else "other"] += 1
    return kinds


def timed_login(t: Target, timeout: float = 30.0, options: list[str] | None = None) -> tuple[bool, float]:
    """One login attempt; whether it reached the home, and how long it took."""
    start = time.monotonic()
    ok = can_login(t, options=[*(options or []), "ConnectTimeout=3"], timeout=timeout)
    return ok, time.monotonic() - start


# -- background sftp ---------------------------------------------------------------

class SftpProcess:
    """An OpenSSH `sftp -b -` running in the background (e.g. a throttled
    upload); commands go in at once, the result is read at the end."""

    def __init__(self, t: Target, commands: list[str], limit_kbit: int | None = None, tmp: Path | None = None,
                 options: list[str] | None = None):
        argv = ["sftp", *ssh_options(t.key, options), "-P", str(t.port)]
        if limit_kbit:
            argv += ["-l", str(limit_kbit)]
        argv += ["-b", "-", f"{t.user}@{t.host}"]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        self.proc.stdin.write("\n".join(commands) + "\n")
        self.proc.stdin.close()
        self.proc.stdin = None

    def running(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL of the client (its ssh too: the whole session group)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def finish(self, timeout: float = 60.0) -> tuple[int, str, str]:
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            out, err = self.proc.communicate(timeout=10)
            raise AssertionError(f"sftp did not finish within {timeout} s:\n{out}\n{err}")
        return self.proc.returncode, out, err


def wait_for(predicate, timeout: float, interval: float = 0.02, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s")


def temporaries(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.startswith(".gw-upload-"))


# -- the audit trail ---------------------------------------------------------------

class AuditLog:
    def __init__(self, path: Path):
        self.path = path
        self.mark = 0

    def set_mark(self) -> None:
        self.mark = self.path.stat().st_size if self.path.exists() else 0

    def records(self) -> list[dict]:
        if not self.path.exists():
            return []
        with open(self.path, "rb") as f:
            f.seek(self.mark)
            text = f.read().decode()
        out = []
        for line in text.splitlines():
            # A sink may decorate the line; the record is the JSON object.
            out.append(json.loads(line[line.index("{"):]))
        return out


# -- running code as a given uid ------------------------------------------------

def run_as(uid: int, gid: int, code: str, *args: str, caps: str | None = None,
           mount_ns_of: int | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    """Runs `python3 -c code args...` as uid:gid with no supplementary groups
    (optionally inside another process's mount namespace, with only the
    named capabilities in the bounding set and no_new_privs, like sshd)."""
    argv = []
    if mount_ns_of:
        argv += ["nsenter", "-t", str(mount_ns_of), "-m", "--"]
    argv += ["setpriv", "--reuid", str(uid), "--regid", str(gid), "--clear-groups", "--no-new-privs"]
    if caps is not None:
        bounding = "-all" + "".join(f",+{c.lower()}" for c in caps.split(",") if c)
        argv += ["--bounding-set", bounding, "--inh-caps", "-all"]
    argv += ["/usr/bin/python3", "-c", code, *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


# Prints, per path argument, `<path> ok` or `<path> <ERRNO name>` for an
# attempt to open it for writing (append, never truncating).
TRY_WRITE = r"""
import errno, os, sys
for p in sys.argv[1:]:
    try:
        os.close(os.open(p, os.O_WRONLY | os.O_APPEND))
        print(p, "ok")
    except OSError as e:
        print(p, errno.errorcode[e.errno])
"""


def errno_name(e: OSError) -> str:
    return errno.errorcode.get(e.errno, str(e.errno))


# -- raw SFTP ------------------------------------------------------------------------

SSH_FXP_INIT, SSH_FXP_VERSION, SSH_FXP_OPEN, SSH_FXP_CLOSE, SSH_FXP_READ, SSH_FXP_WRITE = 1, 2, 3, 4, 5, 6
SSH_FXP_SETSTAT, SSH_FXP_FSETSTAT, SSH_FXP_OPENDIR, SSH_FXP_READDIR = 9, 10, 11, 12
SSH_FXP_REALPATH, SSH_FXP_STAT, SSH_FXP_STATUS, SSH_FXP_HANDLE, SSH_FXP_DATA = 16, 17, 101, 102, 103
SSH_FXP_NAME, SSH_FXP_ATTRS, SSH_FXP_EXTENDED, SSH_FXP_EXTENDED_REPLY = 104, 105, 200, 201
FX_OK, FX_EOF, FX_NO_SUCH_FILE, FX_PERMISSION_DENIED, FX_FAILURE, FX_BAD_MESSAGE, FX_OP_UNSUPPORTED = 0, 1, 2, 3, 4, 5, 8
ATTR_SIZE, ATTR_UIDGID, ATTR_PERMISSIONS, ATTR_ACMODTIME = 0x1, 0x2, 0x4, 0x8
SSH_FXF_READ, SSH_FXF_WRITE, SSH_FXF_CREAT, SSH_FXF_TRUNC = 0x1, 0x2, 0x8, 0x10


def sftp_string(b: bytes | str) -> bytes:
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def sftp_packet(ptype: int, body: bytes) -> bytes:
    return struct.pack(">IB", len(body) + 1, ptype) + body


class RawSftp:
    """An `sftp` subsystem channel on an authenticated paramiko transport,
    spoken byte by byte, so that malformed packets can be sent."""

    def __init__(self, t: Target):
        self.transport = paramiko_transport(t)
        self.transport.auth_publickey(t.user, load_key(t.key))
        self.chan = self.transport.open_session(timeout=10)
        self.chan.settimeout(10)
        self.chan.invoke_subsystem("sftp")
        self.next_id = 1

    def close(self) -> None:
        self.transport.close()

    def send(self, raw: bytes) -> None:
        self.chan.sendall(raw)

    def recv_exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.chan.recv(n - len(buf))
            if not chunk:
                raise EOFError(f"channel closed after {len(buf)} of {n} bytes")
            buf += chunk
        return buf

    def recv_packet(self) -> tuple[int, bytes]:
        (length,) = struct.unpack(">I", self.recv_exact(4))
        data = self.recv_exact(length)
        return data[0], data[1:]

    def init(self) -> int:
        """Sends INIT; returns the server's version and keeps the extensions
        it advertised (name -> data) in self.extensions."""
        self.send(sftp_packet(SSH_FXP_INIT, struct.pack(">I", 3)))
        ptype, body = self.recv_packet()
        assert ptype == SSH_FXP_VERSION, ptype
        self.extensions: dict[str, bytes] = {}
        at = 4
        while at < len(body):
            fields = []
            for _ in range(2):
                (n,) = struct.unpack(">I", body[at:at + 4])
                fields.append(body[at + 4:at + 4 + n])
                at += 4 + n
            self.extensions[fields[0].decode()] = fields[1]
        return struct.unpack(">I", body[:4])[0]

    def request(self, ptype: int, body: bytes) -> tuple[int, int, bytes]:
        """Sends a request with a fresh id; returns (reply type, id, rest)."""
        rid = self.next_id
        self.next_id += 1
        self.send(sftp_packet(ptype, struct.pack(">I", rid) + body))
        rtype, rbody = self.recv_packet()
        (got,) = struct.unpack(">I", rbody[:4])
        assert got == rid, f"reply to id {got}, expected {rid}"
        return rtype, rid, rbody[4:]

    def status(self, ptype: int, body: bytes) -> int:
        rtype, _, rest = self.request(ptype, body)
        assert rtype == SSH_FXP_STATUS, f"expected a status, got packet type {rtype}"
        return struct.unpack(">I", rest[:4])[0]

    def wait_closed(self, timeout: float = 10.0) -> bytes:
        """Reads until the server closes the channel; returns what came first."""
        self.chan.settimeout(timeout)
        got = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = self.chan.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                return got
            got += chunk
        raise AssertionError(f"the server kept the session open for {timeout} s (got {got!r})")


def free_source_socket(source: str, port: int, timeout: float = 5.0) -> socket.socket:
    """A TCP connection to 127.0.0.1:port from the given loopback source address."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s
