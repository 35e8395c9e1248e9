"""Items 4, 6, 7, 8, 9, 10 and 12 of the hostile list: what the gateway's
policy refuses (symlinks, hard links, moves across mappings, special mode
bits, ownership, xattrs, read-only mappings), through OpenSSH sftp, sshfs and
paramiko, each shown working unrestricted first; and what lands on the
backing store, checked there."""
from __future__ import annotations

import errno
import os
import stat

import pytest

from gwtest.clients import paramiko_sftp, sftp_batch, sftp_outputs, sftp_refused, sshfs_mount
from gwtest.files import random_file, sha256
from gwtest.session import GARY, MUSIC_OWNER, RYAN, WEB_OWNER
from hostile import AuditLog, run_as


def backing_mode(p) -> int:
    return stat.S_IMODE(os.lstat(p).st_mode)


def plant(path, data: bytes = b"planted\n", owner=(0, 0), mode=0o644):
    path.write_bytes(data)
    os.chown(path, *owner)
    os.chmod(path, mode)


# -- item 4: symlinks -----------------------------------------------------------------

def test_item04_symlink_creation_refused_by_default(gw, ryan, tmp_path):
    links, web = gw.volumes / "links", gw.volumes / "web"
    audit = AuditLog(gw.audit_path)
    # Unrestricted: the `links` mapping has the `symlinks` option.
    r = sftp_batch(ryan, ["symlink target.txt links/plain", "symlink /etc links/absolute",
                          "symlink ../../../../../../etc/shadow links/dotdot"])
    assert r.returncode == 0, r.stderr
    # Stored verbatim (absolute and `..` targets too), owned by the stored owner.
    assert {n: os.readlink(links / n) for n in ("plain", "absolute", "dotdot")} == {
        "plain": "target.txt", "absolute": "/etc", "dotdot": "../../../../../../etc/shadow"}
    assert os.lstat(links / "absolute").st_uid == 54323
    # ...and never followed: neither by sshd in the chroot nor by the gateway.
    with paramiko_sftp(ryan) as s:
        for path in ("links/absolute/passwd", "links/absolute/hostname", "links/dotdot"):
            with pytest.raises(FileNotFoundError):
                s.open(path).read()
    fd = os.open(gw.view_home("ryan") / "links" / "absolute", os.O_PATH | os.O_NOFOLLOW)
    try:
        assert stat.S_ISLNK(os.fstat(fd).st_mode)
    finally:
        os.close(fd)
    # Refused elsewhere: in `web` (a volume without the option) and in the home.
    audit.set_mark()
    for where in ("web/evil", "evil"):
        err = sftp_refused(ryan, f"symlink /etc {where}")
        assert err == f'remote symlink file "/etc" to "/ryan/{where}": Permission denied', err
    with sshfs_mount(ryan, tmp_path / "mnt") as m:
        os.symlink("/etc", m / "links" / "via-sshfs")  # unrestricted
        with pytest.raises(PermissionError):
            os.symlink("/etc", m / "web" / "via-sshfs")
    assert os.readlink(links / "via-sshfs") == "/etc"
    assert not any(os.path.lexists(p) for p in (web / "evil", gw.home_backing("ryan") / "evil", web / "via-sshfs"))
    refusals = [(a["op"], a["path"], a["result"], a.get("reason")) for a in audit.records() if a["result"] != "ok"]
    assert refusals == [("symlink", "/ryan/web/evil", "EPERM", "symlinks are off for this mapping"),
                        ("symlink", "/ryan/evil", "EPERM", "symlinks are off for this mapping"),
                        ("symlink", "/ryan/web/via-sshfs", "EPERM", "symlinks are off for this mapping")], refusals
    for n in ("plain", "absolute", "dotdot", "via-sshfs"):
        (links / n).unlink()


# -- items 6 and 7: hard links, moves across mappings --------------------------------------

def test_item06_hard_links(gw, ryan, tmp_path):
    web, other = gw.volumes / "web", gw.volumes / "other"
    src = tmp_path / "own.bin"
    digest = random_file(src, 3000)
    assert sftp_batch(ryan, [f"put {src} web/own.bin"]).returncode == 0
    plant(web / "root-owned.txt", owner=(0, 0))
    plant(web / "gary-owned.txt", owner=(GARY, GARY))
    plant(web / "stranger.txt", owner=(4242, 4242))
    try:
        # Unrestricted: a hard link to his own file, within the mapping.
        r = sftp_batch(ryan, ["ln web/own.bin web/own-link.bin"])
        assert r.returncode == 0, r.stderr
        assert os.stat(web / "own-link.bin").st_ino == os.stat(web / "own.bin").st_ino
        assert os.stat(web / "own.bin").st_nlink == 2 and sha256(web / "own-link.bin") == digest
        # Refused: files he does not own (readable to him, so only the policy refuses).
        for name in ("root-owned.txt", "gary-owned.txt", "stranger.txt"):
            err = sftp_refused(ryan, f"ln web/{name} web/{name}.link")
            assert err == f'remote link "/ryan/web/{name}" to "/ryan/web/{name}.link": Permission denied', err
            assert not (web / f"{name}.link").exists()
            assert os.stat(web / name).st_nlink == 1
        # Across mappings (another volume, the home): a failure (EXDEV).
        for dest in ("other/own.bin", "own.bin"):
            err = sftp_refused(ryan, f"ln web/own.bin {dest}")
            assert err == f'remote link "/ryan/web/own.bin" to "/ryan/{dest}": Failure', err
        assert not (other / "own.bin").exists() and not (gw.home_backing("ryan") / "own.bin").exists()
        assert os.stat(web / "own.bin").st_nlink == 2
        # sshfs: the same through link(2).
        with sshfs_mount(ryan, tmp_path / "mnt") as m:
            os.link(m / "web" / "own.bin", m / "web" / "own-link2.bin")
            with pytest.raises(PermissionError):
                os.link(m / "web" / "root-owned.txt", m / "web" / "root2.txt")
            with pytest.raises(OSError) as e:
                os.link(m / "web" / "own.bin", m / "other" / "own.bin")
            assert e.value.errno == errno.EPERM  # sshfs's mapping of SSH_FX_FAILURE
        assert os.stat(web / "own.bin").st_nlink == 3 and not (other / "own.bin").exists()
    finally:
        for n in ("own.bin", "own-link.bin", "own-link2.bin", "root-owned.txt", "gary-owned.txt", "stranger.txt"):
            (web / n).unlink(missing_ok=True)


def test_item07_rename_and_link_across_mappings_never_copy(gw, ryan, tmp_path):
    web, other, home = gw.volumes / "web", gw.volumes / "other", gw.home_backing("ryan")
    src = tmp_path / "move.bin"
    digest = random_file(src, 200_000)
    assert sftp_batch(ryan, [f"put {src} web/move.bin", "mkdir web/movedir", f"put {src} web/movedir/inner.bin"]).returncode == 0
    try:
        # Unrestricted: within the mapping.
        assert sftp_batch(ryan, ["rename web/move.bin web/moved.bin", "rename web/moved.bin web/move.bin"]).returncode == 0
        for cmd, message in {
            "rename web/move.bin other/move.bin": 'remote rename "/ryan/web/move.bin" to "/ryan/other/move.bin": Failure',
            "rename web/move.bin move.bin": 'remote rename "/ryan/web/move.bin" to "/ryan/move.bin": Failure',
            "rename web/movedir other/movedir": 'remote rename "/ryan/web/movedir" to "/ryan/other/movedir": Failure',
            "rename web/move.bin music/move.bin": 'remote rename "/ryan/web/move.bin" to "/ryan/music/move.bin": Failure',
            "ln web/move.bin other/move.bin": 'remote link "/ryan/web/move.bin" to "/ryan/other/move.bin": Failure',
        }.items():
            assert sftp_refused(ryan, cmd) == message, cmd
        with paramiko_sftp(ryan) as s:  # posix-rename@openssh.com too
            with pytest.raises(OSError) as e:
                s.posix_rename("web/move.bin", "other/move.bin")
            assert str(e.value) == "Failure"
        with sshfs_mount(ryan, tmp_path / "mnt") as m:
            with pytest.raises(OSError) as e:
                os.rename(m / "web" / "move.bin", m / "other" / "move.bin")
            assert e.value.errno == errno.EPERM
        # Nothing was copied, nothing lost.
        assert sha256(web / "move.bin") == digest and sha256(web / "movedir" / "inner.bin") == digest
        assert os.listdir(other) == [] and not (home / "move.bin").exists()
        assert os.stat(web / "move.bin").st_nlink == 1
    finally:
        assert sftp_batch(ryan, ["rm web/move.bin", "rm web/movedir/inner.bin", "rmdir web/movedir"]).returncode == 0


# -- item 8: special mode bits ------------------------------------------------------------

def test_item08_special_bits_never_reach_the_backing_store(gw, ryan, tmp_path):
    web = gw.volumes / "web"
    src = tmp_path / "suid.bin"
    src.write_bytes(b"#!/bin/sh\n")
    os.chmod(src, 0o6755)
    r = sftp_batch(ryan, [f"put -p {src} web/suid-put.bin", f"put {src} web/m.bin", "mkdir web/m-dir"])
    assert r.returncode == 0, r.stderr
    try:
        assert backing_mode(web / "suid-put.bin") == 0o755  # put -p sent 6755
        # Unrestricted: ordinary modes land as asked.
        for mode in ("700", "640", "755"):
            assert sftp_batch(ryan, [f"chmod {mode} web/m.bin", f"chmod {mode} web/m-dir"]).returncode == 0
            assert backing_mode(web / "m.bin") == backing_mode(web / "m-dir") == int(mode, 8)
        for asked, stored in (("4755", 0o755), ("2755", 0o755), ("1777", 0o777), ("6777", 0o777), ("7700", 0o700)):
            for target in ("web/m.bin", "web/m-dir"):
                r = sftp_batch(ryan, [f"chmod {asked} {target}"])
                assert r.returncode == 0, r.stderr  # accepted, but stripped
                assert backing_mode(web / target.split("/")[1]) == stored, (asked, target)
        with paramiko_sftp(ryan) as s:
            s.chmod("web/m.bin", 0o4777)
            assert stat.S_IMODE(s.stat("web/m.bin").st_mode) == 0o777
            with s.open("web/created.bin", "w") as f:  # setstat at creation through fsetstat
                f.chmod(0o6755)
        assert backing_mode(web / "m.bin") == 0o777 and backing_mode(web / "created.bin") == 0o755
        with sshfs_mount(ryan, tmp_path / "mnt") as m:
            os.chmod(m / "web" / "m.bin", 0o4755)
            os.mkdir(m / "web" / "sshfs-dir", 0o3777)
        assert backing_mode(web / "m.bin") == 0o755
        assert backing_mode(web / "sshfs-dir") & 0o7000 == 0
        special = [p for p in web.rglob("*") if os.lstat(p).st_mode & 0o7000]
        assert special == [], special
    finally:
        sftp_batch(ryan, ["rm web/suid-put.bin", "rm web/m.bin", "rm web/created.bin", "rmdir web/m-dir",
                          "rmdir web/sshfs-dir"])


def test_item08_chmod_0777_on_the_home_keeps_the_chroot_safe(gw, ryan):
    home = gw.home_backing("ryan")
    before = backing_mode(home)
    try:
        r = sftp_batch(ryan, ["chmod 777 /ryan", "chmod 777 ."])
        assert r.returncode == 0, r.stderr
        # Every component sshd checks stays root-owned and not group/world writable...
        for p in (gw.view / "data", gw.view / "data" / "ryan-chroot"):
            st = os.stat(p)
            assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) & 0o022 == 0, (p, oct(st.st_mode))
        # ...so logins keep working (sshd refuses an unsafe chroot).
        r = sftp_batch(ryan, ["pwd", "ls -ln /"])
        assert r.returncode == 0 and "Remote working directory: /ryan" in r.stdout, r.stderr
        assert sftp_outputs(r.stdout)[1][0].split()[0] == "drwxrwxrwx", r.stdout  # the home did change
        assert backing_mode(home) == 0o777
    finally:
        os.chmod(home, before)


# -- item 9: ownership -----------------------------------------------------------------

def test_item09_chown_and_chgrp_refused(gw, ryan, tmp_path):
    web = gw.volumes / "web"
    src = tmp_path / "own.txt"
    src.write_text("mine\n")
    assert sftp_batch(ryan, [f"put {src} web/own.txt", "mkdir web/own-dir"]).returncode == 0
    try:
        # Unrestricted: to the user himself (stored as the volume's owner).
        r = sftp_batch(ryan, [f"chown {RYAN} web/own.txt", f"chgrp {RYAN} web/own.txt", f"chown {RYAN} web/own-dir"])
        assert r.returncode == 0, r.stderr
        with paramiko_sftp(ryan) as s:
            st = s.stat("web/own.txt")
            assert (st.st_uid, st.st_gid) == (RYAN, RYAN)
        refused = {
            "chown 0": "root", "chgrp 0": "group root", f"chown {GARY}": "another user",
            f"chgrp {GARY}": "another user's group", "chgrp 100": "the shared group users",
            "chown 54321": "the volume's owner", "chown 65534": "nobody",
        }
        for cmd in refused:
            for target in ("web/own.txt", "web/own-dir"):
                err = sftp_refused(ryan, f"{cmd} {target}")
                assert err == f'remote setstat "/ryan/{target}": Permission denied', (cmd, err)
        with paramiko_sftp(ryan) as s:
            for uid, gid in ((0, 0), (RYAN, 0), (GARY, GARY), (RYAN, 100)):
                with pytest.raises(PermissionError):
                    s.chown("web/own.txt", uid, gid)
        for p in (web / "own.txt", web / "own-dir"):
            st = os.stat(p)
            assert (st.st_uid, st.st_gid) == WEB_OWNER, (p, st.st_uid, st.st_gid)
    finally:
        assert sftp_batch(ryan, ["rm web/own.txt", "rmdir web/own-dir"]).returncode == 0


# -- item 10: xattrs ---------------------------------------------------------------------

XATTRS = r"""
import errno, os, sys
p = sys.argv[1]
for name in sys.argv[2:]:
    try:
        os.setxattr(p, name, b"\x02\x00\x00\x00" if name.startswith("system.") else b"v")
        s = "ok"
    except OSError as e:
        s = errno.errorcode[e.errno]
    try:
        g = os.getxattr(p, name).decode(errors="replace")
    except OSError as e:
        g = errno.errorcode[e.errno]
    print(name, s, g)
print("list", ",".join(sorted(os.listxattr(p))) or "-")
"""


def test_item10_only_user_xattrs(gw, ryan, tmp_path):
    """OpenSSH's SFTP has no xattr requests (sshfs answers ENOTSUP), so the
    only way to xattrs is the view itself (e.g. a container that mounts it):
    tested there, as ryan's uid and as root."""
    web = gw.volumes / "web"
    (tmp_path / "x").write_text("x\n")
    assert sftp_batch(ryan, [f"put {tmp_path / 'x'} web/x.txt"]).returncode == 0
    with sshfs_mount(ryan, tmp_path / "mnt") as m:
        with pytest.raises(OSError) as e:
            os.setxattr(m / "web" / "x.txt", "user.a", b"1")
        assert e.value.errno == errno.ENOTSUP
    # Present on the backing file but not user.*: read as absent through the view.
    os.setxattr(web / "x.txt", "trusted.hidden", b"secret")
    view_file = str(gw.view_home("ryan") / "web" / "x.txt")
    names = ["user.ok", "security.evil", "trusted.evil", "system.posix_acl_access", "trusted.hidden"]
    try:
        for uid in (RYAN, 0):
            r = run_as(uid, uid, XATTRS, view_file, *names)
            got = {line.split()[0]: line.split()[1:] for line in r.stdout.splitlines()}
            assert got == {
                "user.ok": ["ok", "v"],  # unrestricted
                "security.evil": ["EPERM", "ENODATA"],
                "trusted.evil": ["EPERM", "ENODATA"],
                "system.posix_acl_access": ["EPERM", "ENODATA"],
                "trusted.hidden": ["EPERM", "ENODATA"],
                "list": ["user.ok"],
            }, (uid, r.stdout, r.stderr)
            os.removexattr(web / "x.txt", "user.ok")
        assert sorted(os.listxattr(web / "x.txt")) == ["trusted.hidden"]
        assert os.getxattr(web / "x.txt", "trusted.hidden") == b"secret"  # untouched
    finally:
        assert sftp_batch(ryan, ["rm web/x.txt"]).returncode == 0


# -- item 12: read-only mappings ---------------------------------------------------------------

def ro_state(folder) -> dict:
    out = {}
    for p in sorted(folder.rglob("*")):
        st = os.lstat(p)
        out[str(p.relative_to(folder))] = (sha256(p) if p.is_file() else None, st.st_mode, st.st_uid, st.st_gid,
                                           st.st_size, st.st_mtime_ns)
    return out


def test_item12_every_write_to_a_read_only_mapping_refused(gw, ryan, tmp_path):
    music = gw.volumes / "music"
    src = tmp_path / "ro.bin"
    random_file(src, 4096)
    assert sftp_batch(ryan, [f"put {src} web/into-ro.bin"]).returncode == 0
    ops = {  # name -> (callable on an SFTPClient, path in the rw mapping, path in the ro mapping)
        "truncate": lambda s, p: s.truncate(p, 10),
        "utimes": lambda s, p: s.utime(p, (1_000_000, 1_000_000)),
        "chmod": lambda s, p: s.chmod(p, 0o600),
        "chown to self": lambda s, p: s.chown(p, RYAN, RYAN),
        "append": lambda s, p: s.open(p, "a").write(b"more"),
        "overwrite in place": lambda s, p: s.open(p, "r+").write(b"X"),
        "create": lambda s, p: s.open(p + ".new", "w").close(),
        "mkdir": lambda s, p: s.mkdir(p + ".d"),
        "remove": lambda s, p: s.remove(p),
        "rename within": lambda s, p: s.rename(p, p + ".renamed"),
        "symlink": lambda s, p: s.symlink("x", p + ".lnk"),
    }
    with paramiko_sftp(ryan) as s:
        # Unrestricted: each works on a copy in the rw mapping.
        # (symlinks: in `links`, the rw mapping that allows them.)
        for name, op in ops.items():
            folder = "links" if name == "symlink" else "web"
            s.put(str(src), f"{folder}/rw-probe.bin")
            op(s, f"{folder}/rw-probe.bin")
            for leftover in ("", ".new", ".renamed", ".lnk"):
                try:
                    s.remove(f"{folder}/rw-probe.bin{leftover}")
                except FileNotFoundError:
                    pass
            try:
                s.rmdir(f"{folder}/rw-probe.bin.d")
            except FileNotFoundError:
                pass
        before = ro_state(music)
        assert before, "the read-only volume is empty"
        for name, op in ops.items():
            with pytest.raises(OSError) as e:
                op(s, "music/song.ogg")
            # EROFS has no SFTP status of its own: internal-sftp says "Failure".
            assert str(e.value) == "Failure", (name, e.value)
        for name, op in {"rename into": lambda: s.rename("web/into-ro.bin", "music/into-ro.bin"),
                         "posix-rename into": lambda: s.posix_rename("web/into-ro.bin", "music/into-ro.bin"),
                         "rename out of": lambda: s.rename("music/song.ogg", "web/stolen.ogg"),
                         "hardlink out of": lambda: s._request(200, "hardlink@openssh.com",
                                                               "/ryan/music/song.ogg", "/ryan/web/stolen.ogg")}.items():
            with pytest.raises(OSError) as e:
                op()
            assert str(e.value) == "Failure", (name, e.value)
        assert s.stat("web/into-ro.bin").st_size == 4096, "a refused rename lost its source"
    # The same through the view as ryan's uid: the errno is EROFS exactly.
    vm = str(gw.view_home("ryan") / "music" / "song.ogg")
    code = ("import errno, os, sys\np = sys.argv[1]\n"
            "for f in (lambda: os.truncate(p, 0), lambda: os.utime(p, (1, 1)), lambda: os.chmod(p, 0o600),"
            " lambda: os.open(p, os.O_WRONLY), lambda: os.unlink(p), lambda: os.mkdir(p + '.d'),"
            " lambda: os.rename(p, p + '.r'), lambda: os.setxattr(p, 'user.x', b'1')):\n"
            "    try:\n        f(); print('ok')\n    except OSError as e:\n        print(errno.errorcode[e.errno])\n")
    r = run_as(RYAN, RYAN, code, vm)
    assert r.stdout.split() == ["EROFS"] * 8, r.stdout + r.stderr
    assert ro_state(music) == before, "the read-only volume changed"
    assert not (gw.volumes / "web" / "stolen.ogg").exists()
    st = os.stat(music / "song.ogg")
    assert (st.st_uid, st.st_gid) == MUSIC_OWNER
    assert sftp_batch(ryan, ["rm web/into-ro.bin"]).returncode == 0
