"""Item 19 of the hostile list: malformed SFTP packets, sent byte by byte on
an `sftp` subsystem channel (paramiko's Transport, no SFTP client), close
only that session: a parallel session of the same user and one of another
user keep working, new logins succeed, neither the worker nor sshd restarts.
Well-formed but hostile requests (huge offsets and sizes, every open flag,
special mode bits) get clean status replies and the session goes on."""
from __future__ import annotations

import os
import stat
import struct

import pytest

from gwtest.clients import can_login, paramiko_sftp
from hostile import (ATTR_ACMODTIME, ATTR_PERMISSIONS, ATTR_SIZE, FX_BAD_MESSAGE, FX_FAILURE, FX_NO_SUCH_FILE, FX_OK,
                     FX_OP_UNSUPPORTED, SSH_FXF_CREAT, SSH_FXF_TRUNC, SSH_FXF_WRITE, SSH_FXP_CLOSE, SSH_FXP_EXTENDED,
                     SSH_FXP_EXTENDED_REPLY, SSH_FXP_FSETSTAT, SSH_FXP_HANDLE, SSH_FXP_INIT, SSH_FXP_NAME, SSH_FXP_OPEN,
                     SSH_FXP_OPENDIR, SSH_FXP_READ, SSH_FXP_READDIR, SSH_FXP_REALPATH, SSH_FXP_SETSTAT, SSH_FXP_STAT,
                     SSH_FXP_STATUS, SSH_FXP_VERSION, SSH_FXP_WRITE, RawSftp, sftp_packet, sftp_string)


def u32(x: int) -> bytes:
    return struct.pack(">I", x)


def u64(x: int) -> bytes:
    return struct.pack(">Q", x)


# Packets after which internal-sftp must end the session (exit status:
# 255 for a decoding error, 11 for a length over its 256 KiB maximum).
CLOSING = {
    "length shorter than its fields": (u32(5) + bytes([SSH_FXP_OPEN]) + u32(7), 255),
    "one-byte body": (u32(1) + bytes([SSH_FXP_OPEN]), 255),
    "huge length": (u32(0xFFFFFFF0) + bytes([SSH_FXP_OPEN]) + b"\0" * 64, 11),
    "length just over the maximum": (u32(256 * 1024 + 1) + bytes([SSH_FXP_STAT]) + b"\0" * 64, 11),
    "truncated attributes": (sftp_packet(SSH_FXP_SETSTAT, u32(9) + sftp_string("/ryan/web") + u32(0xF) + b"\0\0"), 255),
    "attributes with 2^32-1 extensions": (
        sftp_packet(SSH_FXP_SETSTAT, u32(9) + sftp_string("/ryan/web") + u32(0x80000000) + u32(0xFFFFFFFF)), 255),
    "string longer than the packet": (sftp_packet(SSH_FXP_STAT, u32(9) + u32(0x7FFFFFFF) + b"/ryan"), 255),
    "write data longer than the packet": (
        sftp_packet(SSH_FXP_WRITE, u32(9) + sftp_string(b"\0\0\0\0") + u64(0) + u32(100000) + b"x" * 10), 255),
    "known extension, truncated": (
        sftp_packet(SSH_FXP_EXTENDED, u32(9) + sftp_string("posix-rename@openssh.com") + sftp_string("/ryan/a")), 255),
    "hardlink extension, no arguments": (
        sftp_packet(SSH_FXP_EXTENDED, u32(9) + sftp_string("hardlink@openssh.com")), 255),
}


@pytest.fixture(scope="module")
def bystanders(gw, keys):
    """Sessions opened before the first malformed packet, held to the end:
    one of ryan (the attacker's own account) and one of gary."""
    from gwtest.clients import Target
    ryan = Target(gw.port, "ryan", keys["ryan_ed25519"])
    gary = Target(gw.port, "gary", keys["gary_ed25519"])
    with paramiko_sftp(ryan) as rs, paramiko_sftp(gary) as gs:
        with rs.open("web/bystander.txt", "w") as f:
            f.write(b"still here\n")
        yield {"ryan": rs, "gary": gs, "worker": gw.worker_pid(), "sshd": gw.listener_pid()}
        rs.remove("web/bystander.txt")


def check_bystanders(gw, ryan, gary, b) -> None:
    assert b["ryan"].open("web/bystander.txt").read() == b"still here\n"
    assert "music" in b["gary"].listdir(".")
    assert can_login(ryan) and can_login(gary)
    assert (gw.worker_pid(), gw.listener_pid()) == (b["worker"], b["sshd"]), "the worker or sshd was restarted"


def test_item19_a_well_formed_raw_session_works(gw, ryan):
    """Unrestricted: the raw client speaks valid SFTP that the server answers."""
    r = RawSftp(ryan)
    try:
        assert r.init() == 3
        rtype, _, rest = r.request(SSH_FXP_REALPATH, sftp_string("."))
        assert rtype == SSH_FXP_NAME and b"/ryan" in rest
        rtype, _, rest = r.request(SSH_FXP_EXTENDED, sftp_string("limits@openssh.com"))
        assert rtype == SSH_FXP_EXTENDED_REPLY
        max_packet, max_read, max_write, max_handles = struct.unpack(">QQQQ", rest[:32])
        assert (max_packet, max_read, max_write) == (256 * 1024, 261120, 261120)
        assert max_handles > 0  # internal-sftp's own cap: its open-file limit minus 5
    finally:
        r.close()


@pytest.mark.parametrize("case", sorted(CLOSING))
def test_item19_malformed_packet_closes_only_its_session(gw, ryan, gary, bystanders, case):
    raw, status = CLOSING[case]
    r = RawSftp(ryan)
    try:
        r.init()
        r.send(raw)
        assert r.wait_closed(timeout=10) == b"", "a reply came before the close"
        assert r.chan.recv_exit_status() == status
    finally:
        r.close()
    check_bystanders(gw, ryan, gary, bystanders)


# Packets that internal-sftp answers (or ignores) and then goes on.
def ext(name: str, rest: bytes = b"") -> bytes:
    return sftp_packet(SSH_FXP_EXTENDED, u32(9) + sftp_string(name) + rest)


SURVIVING = {
    "unknown extension": (ext("bogus@example.com", b"junk"), (SSH_FXP_STATUS, FX_OP_UNSUPPORTED)),
    "unknown extension, empty name": (ext(""), (SSH_FXP_STATUS, FX_OP_UNSUPPORTED)),
    "extension name of 64 KiB": (ext("x" * 65536), (SSH_FXP_STATUS, FX_OP_UNSUPPORTED)),
    "unknown packet type": (sftp_packet(250, u32(9) + b"junk"), None),
    "second INIT": (sftp_packet(SSH_FXP_INIT, u32(3)), (SSH_FXP_VERSION, None)),
    "bogus handle": (sftp_packet(SSH_FXP_CLOSE, u32(9) + sftp_string(b"nonsense-handle")), (SSH_FXP_STATUS, FX_NO_SUCH_FILE)),
}


@pytest.mark.parametrize("case", sorted(SURVIVING))
def test_item19_odd_packet_answered_and_session_goes_on(gw, ryan, gary, bystanders, case):
    raw, expect = SURVIVING[case]
    r = RawSftp(ryan)
    try:
        r.init()
        r.send(raw)
        if expect is not None:
            rtype, body = r.recv_packet()
            assert rtype == expect[0], (rtype, body[:40])
            if expect[1] is not None:
                assert struct.unpack(">II", body[:8]) == (9, expect[1]), body[:40]
        # The same channel still answers a valid request.
        rtype, _, rest = r.request(SSH_FXP_REALPATH, sftp_string("web"))
        assert rtype == SSH_FXP_NAME and b"/ryan/web" in rest, rest
    finally:
        r.close()
    check_bystanders(gw, ryan, gary, bystanders)


def test_item19_hostile_values_in_valid_requests(gw, ryan, gary, bystanders, web):
    """Offsets and sizes past 2^63, every open flag, special mode bits,
    times at 2^32-1: clean statuses from the gateway, nothing stored wrongly."""
    r = RawSftp(ryan)
    try:
        r.init()
        rtype, _, rest = r.request(SSH_FXP_OPEN, sftp_string("/ryan/web/hostile.bin") +
                                   u32(SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_TRUNC) + u32(ATTR_PERMISSIONS) + u32(0o7777))
        assert rtype == SSH_FXP_HANDLE
        h = rest[4:4 + struct.unpack(">I", rest[:4])[0]]
        path = sftp_string("/ryan/web/hostile.bin")
        expected = {
            "write at 2^63-1": (SSH_FXP_WRITE, sftp_string(h) + u64(2**63 - 1) + sftp_string(b"x"), FX_BAD_MESSAGE),
            "write at 2^64-1": (SSH_FXP_WRITE, sftp_string(h) + u64(2**64 - 1) + sftp_string(b"x"), FX_BAD_MESSAGE),
            "write at 1 TiB (sparse)": (SSH_FXP_WRITE, sftp_string(h) + u64(2**40) + sftp_string(b"x"), FX_OK),
            "size 2^63-1": (SSH_FXP_FSETSTAT, sftp_string(h) + u32(ATTR_SIZE) + u64(2**63 - 1), FX_FAILURE),
            "size 2^64-1": (SSH_FXP_FSETSTAT, sftp_string(h) + u32(ATTR_SIZE) + u64(2**64 - 1), FX_BAD_MESSAGE),
            "size 0": (SSH_FXP_FSETSTAT, sftp_string(h) + u32(ATTR_SIZE) + u64(0), FX_OK),
            "read 2^32-1 bytes on a write-only handle": (SSH_FXP_READ, sftp_string(h) + u64(0) + u32(0xFFFFFFFF),
                                                         FX_NO_SUCH_FILE),
            "readdir on a file handle": (SSH_FXP_READDIR, sftp_string(h), FX_FAILURE),
            "opendir on a file": (SSH_FXP_OPENDIR, path, FX_NO_SUCH_FILE),
            "mode 0107777": (SSH_FXP_SETSTAT, path + u32(ATTR_PERMISSIONS) + u32(0o107777), FX_OK),
            "times 2^32-1": (SSH_FXP_SETSTAT, path + u32(ATTR_ACMODTIME) + u32(0xFFFFFFFF) * 2, FX_OK),
        }
        for what, (ptype, body, code) in expected.items():
            assert r.status(ptype, body) == code, what
        assert r.status(SSH_FXP_CLOSE, sftp_string(h)) == FX_OK
        # Every open flag at once: a plain file, no special bits.
        rtype, _, rest = r.request(SSH_FXP_OPEN, sftp_string("/ryan/web/all-flags") + u32(0xFFFFFFFF) + u32(0))
        assert rtype == SSH_FXP_HANDLE
        assert r.status(SSH_FXP_CLOSE, sftp_string(rest[4:4 + struct.unpack(">I", rest[:4])[0]])) == FX_OK
        rtype, _, _ = r.request(SSH_FXP_REALPATH, sftp_string("."))
        assert rtype == SSH_FXP_NAME
    finally:
        r.close()
    st = os.stat(web / "hostile.bin")
    assert (st.st_size, stat.S_IMODE(st.st_mode), st.st_mtime) == (0, 0o777, 0xFFFFFFFF)
    assert stat.S_ISREG(os.stat(web / "all-flags").st_mode) and stat.S_IMODE(os.stat(web / "all-flags").st_mode) & 0o7000 == 0
    assert not [n for n in os.listdir(web) if n.startswith(".gw-upload-")], "a temporary was left behind"
    for n in ("hostile.bin", "all-flags"):
        (web / n).unlink()
    check_bystanders(gw, ryan, gary, bystanders)
