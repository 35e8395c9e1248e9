"""systemd's readiness protocol (Type=notify, systemd/sftp-gateway.service):
a real `gateway serve --run-sshd` with $NOTIFY_SOCKET set sends READY=1
when a login works, STOPPING=1 when it begins to stop, and nothing comes
from any other process (Debian's sshd, linked with libsystemd, would say
READY=1 itself if it saw the variable). The socket is the test's own
datagram socket with SO_PASSCRED, so each message carries its sender's pid,
as systemd sees it."""
from __future__ import annotations

import array
import os
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

from gwtest.clients import Target, can_login
from gwtest.files import pub
from gwtest.gateway import START_TIMEOUT, Gateway, Layout

from conftest import E2E_ROOT


class NotifiedGateway(Gateway):
    """A gateway whose environment names the test's notify socket."""
    notify_socket: str = ""

    def spawn(self, argv: list[str]) -> subprocess.Popen:
        with open(self.log_path, "wb") as log:
            return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True, env={**os.environ, "NOTIFY_SOCKET": self.notify_socket})


class NotifySocket:
    """What systemd listens on: (sender pid, {key: value}) per datagram."""

    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.received: list[tuple[int, dict[str, str]]] = []

    def receive(self, timeout: float) -> tuple[int, dict[str, str]] | None:
        self.sock.settimeout(timeout)
        try:
            data, ancdata, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(struct.calcsize("iII")))
        except socket.timeout:
            return None
        pid = 0
        for level, kind, value in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", value[:struct.calcsize("iII")])[0]
        fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
        self.received.append((pid, fields))
        return pid, fields

    def wait_for(self, key: str, timeout: float) -> tuple[int, dict[str, str]] | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            got = self.receive(left)
            if got and key in got[1]:
                return got
        return None

    def close(self) -> None:
        self.sock.close()
        self.path.unlink(missing_ok=True)


@pytest.fixture
def notified(gw, keys, gateway_binary_path):
    g = NotifiedGateway.create(E2E_ROOT, gateway_binary_path, Layout(users={"ryan": 1000}, maps=[], volumes={}),
                               name="notify", seed_host_keys=gw.state / "host_keys")
    sock = NotifySocket(g.folder / "notify.sock")
    g.notify_socket = str(sock.path)
    g.keys_add("ryan", pub(keys["ryan_ed25519"]))
    try:
        yield g, sock, Target(g.port, "ryan", keys["ryan_ed25519"])
    finally:
        sock.close()
        g.close()


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_ready_when_logins_work_and_stopping_at_sigterm(notified):
    g, sock, ryan = notified
    g.proc = g.spawn(g.args())
    ready = sock.wait_for("READY", START_TIMEOUT)
    assert ready, f"no READY=1 within {START_TIMEOUT} s (a build without libsystemd?):\n{g.log_tail()}"
    # At once, before anything else: systemd's "started" means sshd accepts.
    assert port_open(g.port), f"READY=1 came before sshd listened on port {g.port}:\n{g.log_tail()}"
    pid, fields = ready
    assert pid == g.proc.pid and fields["READY"] == "1", sock.received
    assert fields.get("STATUS") == f"serving {g.view}, sshd on port {g.port}", fields
    assert g.worker_pid() and g.sshd_pid() > 0, "READY=1 before the worker and sshd ran"
    assert can_login(ryan), g.log_tail()
    assert g.stop() == 0
    stopping = sock.wait_for("STOPPING", 1)
    assert stopping and stopping[0] == g.proc.pid and stopping[1].get("STATUS") == "stopping", sock.received
    while sock.receive(0.2):  # whatever else was sent
        pass
    others = [(pid, f) for pid, f in sock.received if pid != g.proc.pid]
    assert not others, f"notifications from processes other than the gateway ({g.proc.pid}): {others}"
    assert [list(f) for _, f in sock.received] == [["READY", "STATUS"], ["STOPPING", "STATUS"]], sock.received

