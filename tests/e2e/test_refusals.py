"""What the hardened sshd refuses: every authentication but public keys,
weak keys and SHA-1 signatures, shells and commands, and forwarding of every
kind. Each refusal is shown against the same thing working first."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time

import pytest

from gwtest.clients import (Forwarder, Target, can_login, channel_request, load_key, paramiko_transport, ssh,
                            ssh_options)
from gwtest.files import pub
from gwtest.gateway import free_port
from gwtest.refusals import assert_only_publickey, assert_sha1_signatures_refused


# -- authentication --------------------------------------------------------------

def test_password_and_keyboard_interactive_refused(gw, ryan):
    assert_only_publickey(ryan)


def test_ssh_rsa_sha1_signatures_refused(gw, ryan_rsa):
    mark = gw.log_mark()
    assert can_login(ryan_rsa)  # unrestricted: the RSA-3072 key signs with rsa-sha2-512
    assert gw.wait_for_log(r"Accepted publickey for ryan from 127\.0\.0\.1 port \d+ ssh2: RSA SHA256:", mark)
    assert_sha1_signatures_refused(gw, ryan_rsa)


WEAK = {
    "ryan_rsa2048": r"refusing RSA key: Invalid key length",
    "ryan_ecdsa": r"signature algorithm ecdsa-sha2-nistp256 not in PubkeyAcceptedAlgorithms",
}


@pytest.mark.parametrize("key", sorted(WEAK))
def test_weak_keys_refused(gw, keys, key):
    """RSA-2048 and ECDSA: `gateway keys add` refuses them; written into the
    key file by hand, the gateway does not serve them; login fails."""
    r = gw.keys("add", "--user", "ryan", str(pub(keys[key])))
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    blob = pub(keys[key]).read_text().split()[1]
    assert blob in (gw.state / "authorized_keys" / "ryan").read_text(), "the fixture's hand-written line is gone"
    served = (gw.view / "etc" / "ssh" / "authorized_keys" / "ryan").read_text()
    assert blob not in served, "a weak key reaches sshd"
    assert len(served.splitlines()) == 2  # ed25519 and RSA-3072
    mark = gw.log_mark()
    assert not can_login(Target(gw.port, "ryan", keys[key]))
    assert "Accepted publickey" not in gw.log_since(mark)


def test_sshd_policy_refuses_weak_keys_even_when_served(gw, keys, tmp_path):
    """Defence in depth: the rendered sshd_config alone refuses RSA-2048,
    ECDSA and ssh-rsa (SHA-1) signatures. A second sshd runs on the rendered
    config with only the port and the authorized keys file changed, and a
    key file that does list the weak keys."""
    rendered = (gw.view / "etc" / "ssh" / "sshd_config").read_text().splitlines()
    port = free_port()
    kdir = gw.folder.parent / f"policy-{port}"  # the tier root, root-owned: sshd's StrictModes checks every parent
    kdir.mkdir(mode=0o755)
    try:
        (kdir / "ryan").write_text("".join(pub(keys[k]).read_text()
                                           for k in ("ryan_ed25519", "ryan_rsa3072", "ryan_rsa2048", "ryan_ecdsa")))
        os.chmod(kdir / "ryan", 0o644)
        changed = {"Port": f"Port {port}", "AuthorizedKeysFile": f"AuthorizedKeysFile {kdir}/%u"}
        lines = [changed.get(line.split(" ", 1)[0], line) for line in rendered]
        assert sum(a != b for a, b in zip(lines, rendered)) == 2, "the rendered config changed shape"
        config = kdir / "sshd_config"
        config.write_text("\n".join(lines) + "\n")
        etc = gw.state / "sshd-etc"
        script = (f"mount --bind {etc}/passwd /etc/passwd && mount --bind {etc}/group /etc/group && "
                  f"exec /usr/sbin/sshd -D -e -f {config}")
        log = open(kdir / "sshd.log", "w+")
        proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 10
            while f"Server listening on 127.0.0.1 port {port}." not in (kdir / "sshd.log").read_text():
                assert proc.poll() is None and time.monotonic() < deadline, (kdir / "sshd.log").read_text()
                time.sleep(0.05)
            for key in ("ryan_ed25519", "ryan_rsa3072"):  # unrestricted first
                assert can_login(Target(port, "ryan", keys[key])), (kdir / "sshd.log").read_text()
            expected = {**WEAK, "ssh-rsa": r"signature algorithm ssh-rsa not in PubkeyAcceptedAlgorithms"}
            for key, message in expected.items():
                mark = len((kdir / "sshd.log").read_text())
                if key == "ssh-rsa":
                    ok = can_login(Target(port, "ryan", keys["ryan_rsa3072"]), options=["PubkeyAcceptedAlgorithms=ssh-rsa"])
                else:
                    ok = can_login(Target(port, "ryan", keys[key]))
                text = (kdir / "sshd.log").read_text()[mark:]
                assert not ok, f"{key} logged in"
                assert re.search(message, text), text
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            log.close()
    finally:
        shutil.rmtree(kdir, ignore_errors=True)


# -- shell and commands ------------------------------------------------------------

def test_exec_and_shell_get_no_command(gw, ryan):
    # The product is computed by a shell only: the digits never appear in
    # any message sshd itself prints.
    command = "echo $((1234*5678)); id"
    for args, stdin in ((["-T", "--", command], None), (["-T"], command + "\n")):
        mark = gw.log_mark()
        r = ssh(ryan, args, input=stdin)
        out = r.stdout + r.stderr
        assert "7006652" not in out and "uid=" not in out, f"a command ran: {out!r}"
        assert "This service allows sftp connections only." in out, out
        assert r.returncode != 0
        started = gw.wait_for_log(r"Starting session: forced-command \(config\) 'internal-sftp[^']*' for ryan", mark)
        assert started, gw.log_since(mark)
    # A terminal is refused too.
    r = ssh(ryan, ["-tt", "--", command])
    assert "7006652" not in r.stdout + r.stderr
    assert "PTY allocation request failed" in r.stderr, r.stderr


# -- forwarding ------------------------------------------------------------------

def wait_listening(path_or_port, timeout=5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if isinstance(path_or_port, int):
                socket.create_connection(("127.0.0.1", path_or_port), timeout=1).close()
            else:
                s = socket.socket(socket.AF_UNIX)
                s.settimeout(1)
                s.connect(str(path_or_port))
                s.close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def read_some(sock: socket.socket, timeout=3.0) -> bytes:
    sock.settimeout(timeout)
    try:
        return sock.recv(64)
    except (socket.timeout, ConnectionResetError):
        return b""
    finally:
        sock.close()


@pytest.fixture
def unix_service(tmp_path):
    """A unix socket on the host that greets each client (a forwarding target)."""
    import threading
    path = tmp_path / "service.sock"
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(path))
    srv.listen(4)
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except socket.timeout:
                continue
            c.sendall(b"HELLO-UNIX\n")
            c.close()

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    yield path
    stop.set()
    th.join(timeout=2)
    srv.close()


def test_local_tcp_forwarding_refused(gw, ryan, tmp_path):
    # Unrestricted: the target answers when reached directly.
    assert read_some(socket.create_connection(("127.0.0.1", gw.port), timeout=3)).startswith(b"SSH-2.0-")
    port = free_port()
    mark = gw.log_mark()
    f = Forwarder(ryan, ["-L", f"127.0.0.1:{port}:127.0.0.1:{gw.port}"], tmp_path)
    assert wait_listening(port), "ssh did not open its local end"
    data = read_some(socket.create_connection(("127.0.0.1", port), timeout=3))
    err = f.finish()
    assert data == b"", f"forwarded data arrived: {data!r}"
    assert "administratively prohibited" in err, err
    assert gw.wait_for_log(rf"refused local port forward: originator 127\.0\.0\.1 port \d+, target 127\.0\.0\.1 port {gw.port}",
                           mark), gw.log_since(mark)


def test_dynamic_forwarding_refused(gw, ryan, tmp_path):
    port = free_port()
    mark = gw.log_mark()
    f = Forwarder(ryan, ["-D", f"127.0.0.1:{port}"], tmp_path)
    assert wait_listening(port)
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.settimeout(3)
    s.sendall(b"\x05\x01\x00")
    assert s.recv(2) == b"\x05\x00"  # the client side of SOCKS works
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1") + gw.port.to_bytes(2, "big"))
    reply = read_some(s)
    err = f.finish()
    assert b"SSH-2.0" not in reply and not reply.startswith(b"\x05\x00"), f"SOCKS connect succeeded: {reply!r}"
    assert "administratively prohibited" in err, err
    assert gw.wait_for_log(rf"refused local port forward: .* target 127\.0\.0\.1 port {gw.port}", mark), gw.log_since(mark)


def test_remote_tcp_forwarding_refused(gw, ryan, tmp_path):
    f = Forwarder(ryan, ["-R", f"127.0.0.1:0:127.0.0.1:{gw.port}"], tmp_path)
    f.proc.wait(timeout=15)
    err = f.finish()
    assert f.proc.returncode == 255
    assert "remote port forwarding failed" in err, err


def test_unix_socket_forwarding_refused(gw, ryan, tmp_path, unix_service):
    # Unrestricted: the service greets a direct client.
    s = socket.socket(socket.AF_UNIX)
    s.connect(str(unix_service))
    assert read_some(s) == b"HELLO-UNIX\n"
    local = tmp_path / "local.sock"
    mark = gw.log_mark()
    f = Forwarder(ryan, ["-L", f"{local}:{unix_service}"], tmp_path)
    assert wait_listening(local)
    s = socket.socket(socket.AF_UNIX)
    s.connect(str(local))
    data = read_some(s)
    err = f.finish()
    assert data == b"", f"forwarded data arrived: {data!r}"
    # sshd answers a refused streamlocal open with "connect failed".
    assert re.search(r"channel \d+: open failed: connect failed", err), err
    assert gw.wait_for_log(rf"refused streamlocal port forward: .* target {re.escape(str(unix_service))}", mark), gw.log_since(mark)
    # Remote (server-side) unix listeners are refused as well.
    remote = tmp_path / "remote.sock"
    f = Forwarder(ryan, ["-R", f"{remote}:{unix_service}"], tmp_path)
    f.proc.wait(timeout=15)
    err = f.finish()
    assert f.proc.returncode == 255
    assert "remote port forwarding failed" in err, err
    assert not remote.exists()


def test_paramiko_forwarding_channels_refused(gw, ryan):
    import paramiko
    tr = paramiko_transport(ryan)
    try:
        tr.auth_publickey("ryan", load_key(ryan.key))
        with pytest.raises(paramiko.ChannelException) as e:
            tr.open_channel("direct-tcpip", ("127.0.0.1", gw.port), ("127.0.0.1", 40000), timeout=10)
        assert e.value.code == paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        with pytest.raises(paramiko.SSHException):
            tr.request_port_forward("127.0.0.1", 0)
        assert tr.is_active(), "the refusals should not drop the connection"
        # Unrestricted: the same transport still opens an sftp session.
        sftp = paramiko.SFTPClient.from_transport(tr)
        assert "web" in sftp.listdir(".")
    finally:
        tr.close()


def request_payload(name: str) -> bytes:
    from paramiko.message import Message
    m = Message()
    if name == "x11-req":  # single connection, protocol, cookie, screen
        m.add_boolean(False)
        m.add_string("MIT-MAGIC-COOKIE-1")
        m.add_string("00" * 16)
        m.add_int(0)
    elif name == "pty-req":  # TERM, columns, rows, width, height, modes
        m.add_string("xterm")
        for v in (80, 24, 0, 0):
            m.add_int(v)
        m.add_string(b"")
    return m.asbytes()


@pytest.mark.parametrize("request_name", ["auth-agent-req@openssh.com", "x11-req", "pty-req"])
def test_agent_x11_and_pty_requests_refused(gw, ryan, request_name):
    """Sent with want-reply, so the server's answer is explicit."""
    from paramiko.message import Message
    tr = paramiko_transport(ryan)
    try:
        tr.auth_publickey("ryan", load_key(ryan.key))
        # Unrestricted first: a request the server accepts on the same kind
        # of channel (the sftp subsystem).
        ok = tr.open_session(timeout=10)
        assert channel_request(ok, "subsystem", Message().add_string("sftp").asbytes())
        ok.close()
        chan = tr.open_session(timeout=10)
        assert not channel_request(chan, request_name, request_payload(request_name)), f"{request_name} was accepted"
        assert tr.is_active(), "the refusal should not drop the connection"
    finally:
        tr.close()


def test_openssh_client_x11_forwarding_refused(gw, ryan):
    # ssh asks for X11 with want-reply and reports the refusal (its agent
    # request has no reply: the paramiko test above covers that one).
    env = dict(os.environ, DISPLAY="127.0.0.1:47")
    argv = ["ssh", *ssh_options(ryan.key, ["LogLevel=INFO"]), "-p", str(gw.port), "-X", "-A", "-T",
            "ryan@127.0.0.1", "true"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=15, env=env, stdin=subprocess.DEVNULL)
    assert "X11 forwarding request failed" in r.stderr, r.stderr
