"""The real clients the gateway is served to: OpenSSH sftp and ssh, sshfs,
lftp (sftp over ssh) and paramiko. Every call is bounded in time.

Each file client runs a list of operations in one session:
  ("put", local, remote) ("get", remote, local) ("ls", remote) ("mkdir", remote)
  ("rename", old, new) ("rm", remote) ("rmdir", remote)
and returns, for each "ls", the sorted names it listed.
"""
from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
TIMEOUT = 30  # seconds for one client run; a hang fails the test instead of blocking it


@dataclass(frozen=True)
class Target:
    port: int
    user: str
    key: Path
    host: str = HOST


def ssh_options(key: Path, extra: list[str] | None = None) -> list[str]:
    """ssh keeps the first value it gets for an option: `extra` goes first so it overrides."""
    opts = ["-F", "/dev/null", "-i", str(key)]  # no user or system client configuration
    for o in [*(extra or []), "BatchMode=yes", "StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null",
              "IdentitiesOnly=yes", "ConnectTimeout=5", "ServerAliveInterval=5", "ServerAliveCountMax=3",
              "LogLevel=ERROR"]:
        opts += ["-o", o]
    return opts


def run(argv: list[str], timeout: float = TIMEOUT, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=kw.pop("stdin", subprocess.DEVNULL),
                          **kw)


# -- OpenSSH ssh -----------------------------------------------------------

def ssh(t: Target, args: list[str], options: list[str] | None = None, timeout: float = 15,
        input: str | None = None) -> subprocess.CompletedProcess:
    """`ssh [flags...] user@host [command...]`: args holds flags, then '--', then the command."""
    flags, command = (args[:args.index("--")], args[args.index("--") + 1:]) if "--" in args else (args, [])
    argv = ["ssh", *ssh_options(t.key, options), "-p", str(t.port), *flags, f"{t.user}@{t.host}", *command]
    if input is not None:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input)
    return run(argv, timeout=timeout)


class Forwarder:
    """`ssh -N <forward>` (port, socket or agent forwarding) in the background;
    its stderr is read on exit."""

    def __init__(self, t: Target, forward: list[str], tmp):
        self.err = open(tmp / f"fwd-{time.monotonic_ns()}.err", "w+")
        # LogLevel INFO: ssh reports refused channel opens at that level.
        argv = ["ssh", *ssh_options(t.key, ["ExitOnForwardFailure=yes", "LogLevel=INFO"]), "-p", str(t.port), "-N", *forward,
                f"{t.user}@{t.host}"]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.err)

    def finish(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=10)
        self.err.seek(0)
        return self.err.read()


# -- OpenSSH sftp ----------------------------------------------------------

def sftp_batch(t: Target, commands: list[str], options: list[str] | None = None,
               timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """`sftp -b -`: stops at the first failing command (exit status 1)."""
    argv = ["sftp", *ssh_options(t.key, options), "-P", str(t.port), "-b", "-", f"{t.user}@{t.host}"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input="\n".join(commands) + "\n")


def sftp_outputs(stdout: str) -> list[list[str]]:
    """Splits batch stdout into each command's output lines (sftp echoes 'sftp> cmd')."""
    outs: list[list[str]] = []
    for line in stdout.splitlines():
        if line.startswith("sftp> "):
            outs.append([])
        elif outs:
            outs[-1].append(line)
    return outs


def sftp_refused(t: Target, command: str) -> str | None:
    """Runs one command in a working session. Returns sftp's error text when
    the server refused it, None when it succeeded. A session that never
    started fails the test: that would be no evidence of a refusal."""
    r = sftp_batch(t, ["pwd", command])
    if f"Remote working directory: /{t.user}" not in r.stdout:
        raise AssertionError(f"no sftp session for {t.user} ({r.returncode}): {r.stderr}")
    if r.returncode == 0:
        return None
    assert r.returncode == 1, f"`{command}`: sftp exited {r.returncode}: {r.stderr}"
    return r.stderr.strip() or "(no message)"


def can_login(t: Target, options: list[str] | None = None, timeout: float = 15) -> bool:
    """A real session: sftp reaches the home folder the gateway starts users in."""
    r = sftp_batch(t, ["pwd"], options=options, timeout=timeout)
    return r.returncode == 0 and f"Remote working directory: /{t.user}" in r.stdout


class SftpClient:
    name = "sftp"

    def __init__(self, t: Target):
        self.t = t

    def run(self, ops: list[tuple]) -> list[list[str]]:
        lines, ls_index = [], []
        for op in ops:
            kind, args = op[0], [shlex.quote(str(a)) for a in op[1:]]
            if kind == "ls":
                ls_index.append(len(lines))
                lines.append(f"ls -1a {args[0]}")
            else:
                lines.append(f"{kind} {' '.join(args)}")
        r = sftp_batch(self.t, lines)
        if r.returncode != 0:
            raise AssertionError(f"sftp batch failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        outs = sftp_outputs(r.stdout)
        return [sorted(n for n in (os.path.basename(x.strip().rstrip("/")) for x in outs[i]) if n not in (".", "..", ""))
                for i in ls_index]


# -- lftp ------------------------------------------------------------------

class LftpClient:
    name = "lftp"

    def __init__(self, t: Target, workdir: Path):
        self.t = t
        self.workdir = workdir

    def script(self, body: list[str]) -> str:
        connect = "ssh -a -x " + " ".join(shlex.quote(o) for o in ssh_options(self.t.key))
        return "\n".join([
            "set cmd:fail-exit yes",
            "set net:timeout 10",
            "set net:max-retries 1",
            "set net:reconnect-interval-base 1",
            "set xfer:clobber yes",
            f'set sftp:connect-program "{connect}"',
            # An empty password: lftp never prompts, ssh authenticates with the key.
            f"open -u {self.t.user}, -p {self.t.port} sftp://{self.t.host}",
            *body,
        ]) + "\n"

    def raw(self, body: list[str]) -> subprocess.CompletedProcess:
        path = self.workdir / f"lftp-{time.monotonic_ns()}.lftp"
        path.write_text(self.script(body))
        try:
            return run(["lftp", "-f", str(path)])
        finally:
            path.unlink()

    def run(self, ops: list[tuple]) -> list[list[str]]:
        body, marks = [], []
        for n, op in enumerate(ops):
            kind, a = op[0], [shlex.quote(str(x)) for x in op[1:]]
            if kind == "put":
                body.append(f"put {a[0]} -o {a[1]}")
            elif kind == "get":
                body.append(f"get {a[0]} -o {a[1]}")
            elif kind == "ls":
                mark = f"==ls-{n}=="
                marks.append(mark)
                body += [f"echo {mark}", f"cls -1 -a -B {a[0]}", f"echo {mark}"]
            elif kind == "rename":
                body.append(f"mv {a[0]} {a[1]}")
            elif kind in ("mkdir", "rm", "rmdir"):
                body.append(f"{kind} {a[0]}")
            else:
                raise ValueError(kind)
        r = self.raw(body)
        if r.returncode != 0:
            raise AssertionError(f"lftp failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        results = []
        for mark in marks:
            section = r.stdout.split(mark + "\n")[1]
            results.append(sorted(n.rstrip("/") for n in section.splitlines() if n.rstrip("/") not in (".", "..", "")))
        return results


# -- sshfs -----------------------------------------------------------------

@contextlib.contextmanager
def sshfs_mount(t: Target, mnt: Path, remote: str = ""):
    mnt.mkdir(exist_ok=True)
    opts = ssh_options(t.key)[2:]  # sshfs passes -o options to ssh; the key goes as IdentityFile
    argv = ["sshfs", f"{t.user}@{t.host}:{remote}", str(mnt), "-p", str(t.port),
            "-o", f"IdentityFile={t.key}"]
    for i in range(0, len(opts), 2):
        if opts[i] == "-o":
            argv += ["-o", opts[i + 1]]
    r = run(argv, timeout=20)
    if r.returncode != 0:
        raise AssertionError(f"sshfs failed ({r.returncode}): {r.stderr}")
    try:
        yield mnt
    finally:
        r = run(["fusermount3", "-u", str(mnt)], timeout=10)
        if r.returncode != 0:
            run(["fusermount3", "-u", "-z", str(mnt)], timeout=10)


class SshfsClient:
    name = "sshfs"

    def __init__(self, t: Target, workdir: Path):
        self.t = t
        self.workdir = workdir

    def run(self, ops: list[tuple]) -> list[list[str]]:
        import shutil
        mnt = self.workdir / f"sshfs-{time.monotonic_ns()}"
        results = []
        with sshfs_mount(self.t, mnt) as m:
            for op in ops:
                kind, a = op[0], op[1:]
                if kind == "put":
                    shutil.copyfile(a[0], m / a[1])
                elif kind == "get":
                    shutil.copyfile(m / a[0], a[1])
                elif kind == "ls":
                    results.append(sorted(os.listdir(m / a[0])))
                elif kind == "mkdir":
                    os.mkdir(m / a[0])
                elif kind == "rename":
                    os.rename(m / a[0], m / a[1])
                elif kind == "rm":
                    os.unlink(m / a[0])
                elif kind == "rmdir":
                    os.rmdir(m / a[0])
                else:
                    raise ValueError(kind)
        mnt.rmdir()
        return results


# -- paramiko --------------------------------------------------------------

def load_key(path: Path):
    import paramiko
    for cls in (paramiko.Ed25519Key, paramiko.RSAKey, paramiko.ECDSAKey):
        try:
            return cls.from_private_key_file(str(path))
        except (paramiko.SSHException, ValueError):
            continue
    raise ValueError(f"paramiko cannot load the key {path}")


def paramiko_transport(t: Target, disabled_algorithms: dict | None = None):
    """A connected, not yet authenticated transport."""
    import paramiko
    sock = __import__("socket").create_connection((t.host, t.port), timeout=10)
    tr = paramiko.Transport(sock, disabled_algorithms=disabled_algorithms)
    tr.banner_timeout = 10
    tr.auth_timeout = 10
    tr.start_client(timeout=10)
    return tr


@contextlib.contextmanager
def paramiko_sftp(t: Target, disabled_algorithms: dict | None = None):
    """An authenticated SFTP session (the transport is closed on exit)."""
    import paramiko
    tr = paramiko_transport(t, disabled_algorithms)
    try:
        tr.auth_publickey(t.user, load_key(t.key))
        sftp = paramiko.SFTPClient.from_transport(tr)
        sftp.get_channel().settimeout(TIMEOUT)
        yield sftp
    finally:
        tr.close()


class ParamikoClient:
    name = "paramiko"

    def __init__(self, t: Target):
        self.t = t

    def run(self, ops: list[tuple]) -> list[list[str]]:
        results = []
        with paramiko_sftp(self.t) as s:
            for op in ops:
                kind, a = op[0], [str(x) for x in op[1:]]
                if kind == "put":
                    s.put(a[0], a[1])
                elif kind == "get":
                    s.get(a[0], a[1])
                elif kind == "ls":
                    results.append(sorted(s.listdir(a[0])))
                elif kind == "mkdir":
                    s.mkdir(a[0])
                elif kind == "rename":
                    s.rename(a[0], a[1])
                elif kind == "rm":
                    s.remove(a[0])
                elif kind == "rmdir":
                    s.rmdir(a[0])
                else:
                    raise ValueError(kind)
        return results


def channel_request(chan, name: str, payload: bytes = b"") -> bool:
    """Sends a channel request with want-reply set; True when the server agrees
    (paramiko closes the channel on a refused request)."""
    from paramiko.common import cMSG_CHANNEL_REQUEST
    from paramiko.message import Message
    from paramiko.ssh_exception import SSHException
    m = Message()
    m.add_byte(cMSG_CHANNEL_REQUEST)
    m.add_int(chan.remote_chanid)
    m.add_string(name)
    m.add_boolean(True)
    if payload:
        m.add_bytes(payload)
    chan._event_pending()
    chan.transport._send_user_message(m)
    try:
        chan._wait_for_event()
        return True
    except SSHException:
        return False


def login_time(t: Target, want: bool, deadline: float, connect_timeout: int = 2,
               attempt_timeout: float = 5.0) -> float | None:
    """Polls until a login succeeds (want=True) or fails (want=False);
    returns the seconds it took from now, or None past the deadline."""
    import time
    start = time.monotonic()
    while True:
        ok = can_login(t, options=[f"ConnectTimeout={connect_timeout}"], timeout=attempt_timeout)
        elapsed = time.monotonic() - start
        if ok == want:
            return elapsed
        if elapsed >= deadline:
            return None
        time.sleep(0.05)
