"""Items 15 to 18 of the hostile list, against the hardened sshd the gateway
runs: pre-auth floods and silent clients are bounded, and every way to get
more than SFTP (shell, exec, forwarding of every kind, weak authentication)
is refused. Each refusal next to the same thing working."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import time

import pytest

from gwtest.clients import (Forwarder, Target, can_login, channel_request, load_key, paramiko_transport, ssh,
                            ssh_options)
from gwtest.files import pub
from gwtest.gateway import free_port
from gwtest.refusals import assert_only_publickey, assert_sha1_signatures_refused
from hostile import LOGIN_GRACE, SECOND_ADDRESS, SILENT_ADDRESS, free_source_socket, timed_login

# -- item 15: a flood of idle pre-auth connections ---------------------------------------------

FLOOD = 40
PER_SOURCE = 4  # the rendered PerSourceMaxStartups


def test_item15_idle_flood_from_one_address_does_not_lock_out_another(gw, keys, measure):
    ryan_lo = Target(gw.port, "ryan", keys["ryan_ed25519"])
    ryan_other = Target(gw.port, "ryan", keys["ryan_ed25519"], host=SECOND_ADDRESS)
    # On loopback the source address is 127.0.0.1 whatever the destination:
    # the other client binds its own.
    other = [f"BindAddress={SECOND_ADDRESS}"]
    # Unrestricted: both addresses log in.
    assert can_login(ryan_lo) and can_login(ryan_other, options=other)
    mark = gw.log_mark()
    socks = []
    try:
        for _ in range(FLOOD):
            socks.append(free_source_socket("127.0.0.1", gw.port))
        # Each connection either gets sshd's banner and is kept (idle, pre-auth)
        # or is dropped at once ("Exceeded MaxStartups"); read what came within a second.
        kept = dropped = 0
        for s in socks:
            s.settimeout(1.0)
            try:
                data = s.recv(256)
            except socket.timeout:
                data = None
            except ConnectionResetError:
                data = b""
            if data and data.startswith(b"SSH-2.0-OpenSSH_"):
                kept += 1
            else:
                assert data in (b"", b"Exceeded MaxStartups\r\n"), data
                dropped += 1
        ok, took = timed_login(ryan_other, timeout=30, options=other)
        own_ok, _ = timed_login(ryan_lo, timeout=30)
        measure(f"item 15: {FLOOD} idle connections from 127.0.0.1: {kept} kept, {dropped} dropped; "
                f"login from {SECOND_ADDRESS} {'ok' if ok else 'FAILED'} in {took:.2f} s; "
                f"from 127.0.0.1 itself {'ok' if own_ok else 'refused'}")
        assert ok, f"a login from {SECOND_ADDRESS} failed during the flood:\n{gw.log_since(mark)[-3000:]}"
        assert took < 5, took
        assert kept <= PER_SOURCE and kept + dropped == FLOOD, (kept, dropped)
        assert not own_ok, "the flooded address itself still logged in: no per-source limit"
        drops = re.findall(r"drop connection #\d+ from \[127\.0\.0\.1\]:\d+ on \[127\.0\.0\.1\]:\d+ past MaxStartups",
                           gw.log_since(mark))
        assert len(drops) >= FLOOD - PER_SOURCE, gw.log_since(mark)[-2000:]
        assert re.search(rf"Accepted publickey for ryan from {re.escape(SECOND_ADDRESS)} port", gw.log_since(mark))
    finally:
        for s in socks:
            s.close()
    # Once the flood ends, the flooded address logs in again.
    deadline = time.monotonic() + 10
    while not can_login(ryan_lo) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert can_login(ryan_lo)


# -- item 16: a client that never sends its version string --------------------------------------

def test_item16_silent_client_dropped_after_grace_time(gw, measure):
    """The silent client connected from 127.0.0.3 right after the session
    gateway started (conftest); sshd must drop it after LoginGraceTime."""
    silent = gw.silent
    silent.wait(LOGIN_GRACE + 15)
    assert silent.banner.startswith(b"SSH-2.0-OpenSSH_"), silent.banner
    assert silent.closed_after is not None, "sshd still holds the silent connection"
    measure(f"item 16: a client that never sent its version string was dropped after {silent.closed_after:.2f} s "
            f"(LoginGraceTime {LOGIN_GRACE})")
    assert LOGIN_GRACE - 0.5 <= silent.closed_after <= LOGIN_GRACE + 3, silent.closed_after
    # (Debian's fix for CVE-2024-6387 removed the "Timeout before
    # authentication" log line from the signal handler: sshd says nothing.)
    assert re.search(rf"Connection from {re.escape(SILENT_ADDRESS)} port \d+ on 127\.0\.0\.1 port {gw.port}", gw.log())


# -- item 17: shell, exec, forwarding ---------------------------------------------------------------

def authed(t: Target):
    tr = paramiko_transport(t)
    tr.auth_publickey(t.user, load_key(t.key))
    return tr


def payload(*items) -> bytes:
    from paramiko.message import Message
    m = Message()
    for kind, v in items:
        getattr(m, f"add_{kind}")(v)
    return m.asbytes()


REQUESTS = {
    "pty-req": payload(("string", "xterm"), ("int", 80), ("int", 24), ("int", 0), ("int", 0), ("string", b"")),
    "x11-req": payload(("boolean", False), ("string", "MIT-MAGIC-COOKIE-1"), ("string", "00" * 16), ("int", 0)),
    "auth-agent-req@openssh.com": b"",
    "env": payload(("string", "LD_PRELOAD"), ("string", "/tmp/evil.so")),
}

MARK = "7006652"  # 1234*5678: appears only if a shell computed it
COMMAND = "echo $((1234*5678)); id"


def test_item17_shell_and_exec_get_only_sftp(gw, ryan):
    import paramiko
    tr = authed(ryan)
    try:
        # Unrestricted: the sftp subsystem on the same transport.
        assert "web" in paramiko.SFTPClient.from_transport(tr).listdir(".")
        for how in ("exec", "shell"):
            chan = tr.open_session(timeout=10)
            chan.settimeout(10)
            chan.set_combine_stderr(True)
            if how == "exec":
                chan.exec_command(COMMAND)
            else:
                chan.invoke_shell()
                chan.sendall((COMMAND + "\n").encode())
            out = b""
            while chunk := chan.recv(4096):
                out += chunk
            status = chan.recv_exit_status()
            assert MARK.encode() not in out and b"uid=" not in out, (how, out)
            assert b"This service allows sftp connections only." in out, (how, out)
            assert status == 1, (how, status)
    finally:
        tr.close()
    # OpenSSH's client: a command, a shell, a terminal.
    for args, stdin in ((["-T", "--", COMMAND], None), (["-T"], COMMAND + "\n"), (["-tt", "--", COMMAND], None)):
        r = ssh(ryan, args, input=stdin)
        out = r.stdout + r.stderr
        assert MARK not in out and "uid=" not in out, out
        assert r.returncode != 0
    assert "PTY allocation request failed" in r.stderr, r.stderr


@pytest.mark.parametrize("request_name", sorted(REQUESTS))
def test_item17_pty_x11_agent_env_requests_refused(gw, ryan, request_name):
    from paramiko.message import Message
    tr = authed(ryan)
    try:
        ok = tr.open_session(timeout=10)  # unrestricted: an accepted request on a session channel
        assert channel_request(ok, "subsystem", Message().add_string("sftp").asbytes())
        ok.close()
        chan = tr.open_session(timeout=10)
        assert not channel_request(chan, request_name, REQUESTS[request_name]), f"{request_name} accepted"
        assert tr.is_active()
    finally:
        tr.close()


def test_item17_forwarding_channels_refused(gw, ryan, tmp_path):
    import paramiko
    # A unix socket and a TCP port that answer when reached directly (unrestricted).
    unix_path = tmp_path / "svc.sock"
    usrv = socket.socket(socket.AF_UNIX)
    usrv.bind(str(unix_path))
    usrv.listen(1)
    c = socket.socket(socket.AF_UNIX)
    c.connect(str(unix_path))
    c.close()
    assert socket.create_connection(("127.0.0.1", gw.port), timeout=3).recv(8) == b"SSH-2.0-"
    tr = authed(ryan)
    try:
        # -L and -D: direct-tcpip; unix sockets: direct-streamlocal; -w: tun.
        opens = {
            "direct-tcpip": lambda: tr.open_channel("direct-tcpip", ("127.0.0.1", gw.port), ("127.0.0.1", 40000),
                                                    timeout=10),
            "direct-streamlocal@openssh.com": lambda: open_raw_channel(
                tr, "direct-streamlocal@openssh.com", payload(("string", str(unix_path)), ("string", ""), ("int", 0))),
            "tun@openssh.com": lambda: open_raw_channel(tr, "tun@openssh.com", payload(("int", 1), ("int", 0x7fffffff))),
            "x11": lambda: open_raw_channel(tr, "x11", payload(("string", "127.0.0.1"), ("int", 6000))),
            "auth-agent@openssh.com": lambda: open_raw_channel(tr, "auth-agent@openssh.com", b""),
        }
        for kind, op in opens.items():
            with pytest.raises(paramiko.ChannelException) as e:
                op()
            assert e.value.code in (paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
                                    paramiko.OPEN_FAILED_CONNECT_FAILED,
                                    paramiko.OPEN_FAILED_UNKNOWN_CHANNEL_TYPE), (kind, e.value.code)
        # -R (TCP and unix): global requests refused.
        with pytest.raises(paramiko.SSHException):
            tr.request_port_forward("127.0.0.1", 0)
        assert tr.global_request("streamlocal-forward@openssh.com",
                                 (str(tmp_path / "remote.sock"),), wait=True) is None
        assert not (tmp_path / "remote.sock").exists()
        assert tr.is_active()
        assert "web" in paramiko.SFTPClient.from_transport(tr).listdir(".")  # still a working connection
    finally:
        tr.close()
        usrv.close()


def open_raw_channel(tr, kind: str, extra: bytes):
    """Opens a channel of any type with the given type-specific data."""
    import paramiko
    from paramiko.common import cMSG_CHANNEL_OPEN
    from paramiko.message import Message
    chan = paramiko.Channel(tr._next_channel())
    chanid = chan.chanid
    m = Message()
    m.add_byte(cMSG_CHANNEL_OPEN)
    m.add_string(kind)
    m.add_int(chanid)
    m.add_int(chan.in_window_size)
    m.add_int(chan.in_max_packet_size)
    m.add_bytes(extra)
    with tr.lock:
        tr._channels.put(chanid, chan)
        tr.channel_events[chanid] = event = __import__("threading").Event()
        tr.channels_seen[chanid] = True
        chan._set_transport(tr)
        chan._set_window(tr.default_window_size, tr.default_max_packet_size)
    tr._send_user_message(m)
    start = time.monotonic()
    while not event.is_set():
        event.wait(0.1)
        if time.monotonic() - start > 10:
            raise AssertionError(f"no answer to a {kind} channel open")
    c = tr._channels.get(chanid)
    if c is not None:
        return c
    raise tr.get_exception() or paramiko.SSHException("channel open failed")


def connect_when_listening(port: int, timeout: float = 5.0) -> socket.socket:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=3)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_item17_openssh_forwarding_refused(gw, ryan, tmp_path):
    """-L, -D, -R and -X with OpenSSH's client (what a user would type)."""
    port = free_port()
    f = Forwarder(ryan, ["-L", f"127.0.0.1:{port}:127.0.0.1:{gw.port}"], tmp_path)
    s = connect_when_listening(port)
    s.settimeout(3)
    try:
        data = s.recv(64)
    except (socket.timeout, ConnectionResetError):
        data = b""
    s.close()
    assert data == b"", f"-L forwarded: {data!r}"
    assert "administratively prohibited" in f.finish()

    port = free_port()
    f = Forwarder(ryan, ["-D", f"127.0.0.1:{port}"], tmp_path)
    s = connect_when_listening(port)
    s.settimeout(3)
    s.sendall(b"\x05\x01\x00")
    assert s.recv(2) == b"\x05\x00"
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1") + gw.port.to_bytes(2, "big"))
    try:
        reply = s.recv(64)
    except (socket.timeout, ConnectionResetError):
        reply = b""
    s.close()
    assert not reply.startswith(b"\x05\x00") and b"SSH-2.0" not in reply, reply
    assert "administratively prohibited" in f.finish()

    f = Forwarder(ryan, ["-R", f"127.0.0.1:0:127.0.0.1:{gw.port}"], tmp_path)
    f.proc.wait(timeout=15)
    assert f.proc.returncode == 255 and "remote port forwarding failed" in f.finish()

    env = dict(os.environ, DISPLAY="127.0.0.1:47")
    r = subprocess.run(["ssh", *ssh_options(ryan.key, ["LogLevel=INFO"]), "-p", str(gw.port), "-X", "-A", "-T",
                        "ryan@127.0.0.1", "true"], capture_output=True, text=True, timeout=15, env=env,
                       stdin=subprocess.DEVNULL)
    assert "X11 forwarding request failed" in r.stderr, r.stderr


# -- item 18: weak authentication ---------------------------------------------------------------------

def test_item18_password_and_keyboard_interactive_refused(gw, ryan):
    assert_only_publickey(ryan)


def test_item18_weak_keys_and_sha1_signatures_refused(gw, keys):
    rsa = Target(gw.port, "ryan", keys["ryan_rsa3072"])
    # Unrestricted: ed25519 and RSA-3072 (signing with rsa-sha2-512) log in.
    assert can_login(Target(gw.port, "ryan", keys["ryan_ed25519"])) and can_login(rsa)
    # Both weak keys are in ryan's key file (written by hand; `gateway keys add` refuses them).
    stored = (gw.state / "authorized_keys" / "ryan").read_text()
    for k in ("ryan_rsa2048", "ryan_ecdsa"):
        assert pub(keys[k]).read_text().split()[1] in stored
        assert gw.keys("add", "--user", "ryan", str(pub(keys[k]))).returncode == 2
        mark = gw.log_mark()
        assert not can_login(Target(gw.port, "ryan", keys[k])), k
        assert "Accepted publickey" not in gw.log_since(mark)
    # SHA-1 signatures with the otherwise accepted RSA-3072 key.
    assert_sha1_signatures_refused(gw, rsa)
