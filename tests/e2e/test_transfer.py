"""Real clients moving real files: the home and a mapped volume, through
OpenSSH sftp, sshfs, lftp and paramiko, logged in with ed25519 and RSA-3072."""
from __future__ import annotations

import os
import stat

import pytest

from gwtest.clients import (LftpClient, ParamikoClient, SftpClient, SshfsClient, Target, sftp_batch, sftp_outputs,
                            sftp_refused)
from gwtest.files import random_file, sha256
from gwtest.session import GARY, MUSIC_OWNER, RYAN, WEB_OWNER

CLIENTS = ["sftp", "sshfs", "lftp", "paramiko"]
KEYS = ["ryan_ed25519", "ryan_rsa3072"]


def make_client(name: str, t: Target, workdir):
    return {
        "sftp": lambda: SftpClient(t),
        "sshfs": lambda: SshfsClient(t, workdir),
        "lftp": lambda: LftpClient(t, workdir),
        "paramiko": lambda: ParamikoClient(t),
    }[name]()


def test_homes_created_for_their_users(gw):
    for user, uid in (("ryan", RYAN), ("gary", GARY)):
        st = os.stat(gw.home_backing(user))
        assert (st.st_uid, st.st_gid) == (uid, uid)
        assert stat.S_IMODE(st.st_mode) & 0o027 == 0, oct(st.st_mode)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("client", CLIENTS)
def test_file_operations(gw, keys, tmp_path, client, key):
    """put/mkdir/rename/ls/get, then rm/rmdir, in the home and in `web`;
    every step checked on the backing store as well as through the client."""
    t = Target(gw.port, "ryan", keys[key])
    c = make_client(client, t, tmp_path)
    tag = f"e2e-{client}-{key}"
    for where, backing, owner in (("", gw.home_backing("ryan"), (RYAN, RYAN)),
                                  ("web/", gw.volumes / "web", WEB_OWNER)):
        src, back = tmp_path / f"{tag}.src", tmp_path / f"{tag}.back"
        digest = random_file(src, 1_048_576 + 4099)  # not a multiple of any block size
        name, folder = f"{where}{tag}.bin", f"{where}{tag}-dir"
        listed = c.run([
            ("put", src, name),
            ("mkdir", folder),
            ("rename", name, f"{folder}/moved.bin"),
            ("ls", folder),
            ("ls", where or "."),
            ("get", f"{folder}/moved.bin", back),
        ])
        assert listed[0] == ["moved.bin"], listed
        assert f"{tag}-dir" in listed[1] and f"{tag}.bin" not in listed[1], listed
        assert sha256(back) == digest, "downloaded content differs"
        stored = backing / f"{tag}-dir" / "moved.bin"
        assert sha256(stored) == digest, "stored content differs"
        assert not (backing / f"{tag}.bin").exists()
        st = os.stat(stored)
        assert (st.st_uid, st.st_gid) == owner, f"{stored} owned {st.st_uid}:{st.st_gid}, expected {owner}"
        st = os.stat(backing / f"{tag}-dir")
        assert (st.st_uid, st.st_gid) == owner

        listed = c.run([
            ("rm", f"{folder}/moved.bin"),
            ("rmdir", folder),
            ("ls", where or "."),
        ])
        assert f"{tag}-dir" not in listed[0], listed
        assert not (backing / f"{tag}-dir").exists(), "rmdir did not reach the backing store"


def test_volume_owner_receives_files_shown_as_user(gw, ryan, tmp_path):
    """Files created in `web` (owned by 54321) are stored as 54321:54321 and
    listed as ryan's own (uid 1000) through sftp."""
    src = tmp_path / "owned.bin"
    digest = random_file(src, 65_536)
    r = sftp_batch(ryan, [f"put {src} web/owned.bin", "mkdir web/owned-dir", "ls -ln web"])
    assert r.returncode == 0, r.stderr
    try:
        for p in (gw.volumes / "web" / "owned.bin", gw.volumes / "web" / "owned-dir"):
            st = os.stat(p)
            assert (st.st_uid, st.st_gid) == WEB_OWNER, f"{p}: {st.st_uid}:{st.st_gid}"
        assert sha256(gw.volumes / "web" / "owned.bin") == digest
        listing = {line.split()[-1].split("/")[-1]: line.split() for line in sftp_outputs(r.stdout)[2]}
        for name in ("owned.bin", "owned-dir"):
            fields = listing[name]
            assert (fields[2], fields[3]) == (str(RYAN), str(RYAN)), f"not listed as ryan's: {fields}"
        # The mapping's umask (the default, 0022) applies.
        assert stat.S_IMODE(os.stat(gw.volumes / "web" / "owned-dir").st_mode) == 0o755
    finally:
        assert sftp_batch(ryan, ["rm web/owned.bin", "rmdir web/owned-dir"]).returncode == 0


def ro_state(gw) -> dict:
    music = gw.volumes / "music"
    return {p.name: (sha256(p) if p.is_file() else None, os.stat(p).st_mode, os.stat(p).st_uid) for p in music.iterdir()}


def test_read_only_mapping_refuses_writes(gw, ryan, tmp_path):
    music = gw.volumes / "music"
    src = tmp_path / "ro.bin"
    random_file(src, 4096)
    # Unrestricted first: the same operations work in the rw mapping, and
    # the read-only one can be read.
    got = tmp_path / "song.back"
    r = sftp_batch(ryan, [f"get music/song.ogg {got}", f"put {src} web/ro-probe.bin", "chmod 600 web/ro-probe.bin",
                          "mkdir web/ro-probe-dir", "rename web/ro-probe.bin web/ro-probe-dir/x",
                          "rm web/ro-probe-dir/x", "rmdir web/ro-probe-dir", f"put {src} web/into-ro.bin"])
    assert r.returncode == 0, r.stderr
    assert sha256(got) == sha256(music / "song.ogg")
    before = ro_state(gw)
    refused = {
        "put": f"put {src} music/new.bin",
        "mkdir": "mkdir music/newdir",
        "rm": "rm music/song.ogg",
        "rename within": "rename music/song.ogg music/renamed.ogg",
        "rename into": "rename web/into-ro.bin music/into-ro.bin",
        "rename out of": "rename music/song.ogg web/stolen.ogg",
        "chmod": "chmod 777 music/song.ogg",
        "chown": f"chown {RYAN} music/song.ogg",
        "symlink": "symlink song.ogg music/link.ogg",
        "overwrite": f"put {src} music/song.ogg",
    }
    accepted = [what for what, cmd in refused.items() if sftp_refused(ryan, cmd) is None]
    assert not accepted, f"writes into the :ro mapping were accepted: {sorted(accepted)}"
    assert ro_state(gw) == before, "the read-only volume changed"
    assert (gw.volumes / "web" / "into-ro.bin").exists(), "a refused rename lost its source"
    assert not (gw.volumes / "web" / "stolen.ogg").exists()
    st = os.stat(music / "song.ogg")
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (MUSIC_OWNER[0], 0o644)
    assert sftp_batch(ryan, ["rm web/into-ro.bin"]).returncode == 0


def test_second_user_cannot_see_first_users_files(gw, ryan, gary, tmp_path):
    src = tmp_path / "secret.bin"
    random_file(src, 10_000)
    assert sftp_batch(ryan, [f"put {src} secret.bin", f"put {src} web/secret.bin"]).returncode == 0
    try:
        # Unrestricted first: ryan reads his own file by every spelling used below.
        for path in ("secret.bin", "/ryan/secret.bin", "../ryan/secret.bin", "/ryan/web/secret.bin"):
            r = sftp_batch(ryan, [f"get {path} {tmp_path / 'own'}"])
            assert r.returncode == 0, f"ryan cannot read his own {path}: {r.stderr}"
        # gary's root shows only gary's own folder.
        r = sftp_batch(gary, ["ls -1a /", "ls -1a .."])
        assert r.returncode == 0, r.stderr
        for out in sftp_outputs(r.stdout):
            names = {os.path.basename(x.strip().rstrip("/")) for x in out} - {".", ".."}
            assert names == {"gary"}, f"gary sees {names}"
        for cmd in ("ls /ryan", "ls ../ryan", "ls /ryan/web", "cd /ryan",
                    f"get /ryan/secret.bin {tmp_path / 'g1'}", f"get ../ryan/secret.bin {tmp_path / 'g2'}",
                    f"get ../../ryan/secret.bin {tmp_path / 'g3'}", f"get /ryan/web/secret.bin {tmp_path / 'g4'}",
                    f"get /../ryan/secret.bin {tmp_path / 'g5'}", "rm /ryan/secret.bin",
                    f"put {src} /ryan/planted.bin"):
            assert sftp_refused(gary, cmd), f"gary: `{cmd}` succeeded"
        assert not any(tmp_path.glob("g?")), "gary downloaded ryan's file"
        assert (gw.home_backing("ryan") / "secret.bin").exists()
        assert not (gw.home_backing("ryan") / "planted.bin").exists()
    finally:
        assert sftp_batch(ryan, ["rm secret.bin", "rm web/secret.bin"]).returncode == 0


def test_chroot_top_level_is_not_writable(gw, ryan, tmp_path):
    src = tmp_path / "top.bin"
    random_file(src, 1000)
    # Unrestricted first: the home one level down is writable.
    assert sftp_batch(ryan, [f"put {src} /ryan/top.bin", "mkdir /ryan/top-dir", "rm /ryan/top.bin",
                             "rmdir /ryan/top-dir"]).returncode == 0
    for cmd in (f"put {src} /x.bin", "mkdir /x", "rename /ryan /x", "rmdir /ryan", "chmod 777 /",
                "chmod 777 /ryan/..", "symlink /ryan /link"):
        assert sftp_refused(ryan, cmd), f"`{cmd}` succeeded at the chroot's top level"
    chroot = gw.view / "data" / "ryan-chroot"
    assert sorted(os.listdir(chroot)) == ["ryan"]
    st = os.stat(chroot)
    assert (st.st_uid, stat.S_IMODE(st.st_mode) & 0o022) == (0, 0)
    assert gw.home_backing("ryan").is_dir()


def test_etc_is_absent_inside_the_chroot(gw, ryan, tmp_path):
    (tmp_path / "nothing").write_text("x\n")
    # Unrestricted first: the files exist in the view, seen from the host.
    assert "ryan:" in (gw.view / "etc" / "passwd").read_text()
    assert (gw.view / "etc" / "ssh" / "sshd_config").is_file()
    for cmd in ("ls /etc", "ls ../etc", "ls ../../etc/ssh", "cd /etc",
                f"get /etc/passwd {tmp_path / 'e1'}", f"get ../etc/passwd {tmp_path / 'e2'}",
                f"get ../../etc/ssh/sshd_config {tmp_path / 'e3'}",
                f"get /../etc/ssh/ssh_host_ed25519_key {tmp_path / 'e4'}",
                f"get /etc/ssh/authorized_keys/ryan {tmp_path / 'e5'}",
                f"put {tmp_path / 'nothing'} /etc/passwd", "mkdir /etc", "mkdir /etc/ssh",
                "rm /etc/passwd", "rm ../etc/group", "rename /etc /x"):
        assert sftp_refused(ryan, cmd), f"`{cmd}` succeeded inside the chroot"
    assert not any(tmp_path.glob("e?")), "a file under etc/ was downloaded"
    from gwtest.clients import paramiko_sftp
    with paramiko_sftp(ryan) as s:
        for path in ("/etc", "/etc/passwd", "../etc/passwd", "/ryan/../../etc/ssh/sshd_config"):
            with pytest.raises(FileNotFoundError):
                s.stat(path)
        assert sorted(s.listdir("/")) == ["ryan"]
