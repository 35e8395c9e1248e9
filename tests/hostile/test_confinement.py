"""Items 1, 2, 3, 5, 11 and 20 of the hostile list: nothing outside the
user's tree is reachable, by any spelling of a path, through a planted
symlink (even one swapped in under a live session), or by root on the sshd
side. Each refusal is shown against the same thing working first."""
from __future__ import annotations

import os
import secrets
import shutil
import stat
import threading
import time

import pytest

from gwtest.clients import paramiko_sftp, sftp_batch, sftp_outputs, sftp_refused
from gwtest.files import pub, random_file, sha256
from gwtest.gateway import Layout
from gwtest.session import GARY, RYAN, WEB_OWNER
from hostile import HOSTILE_ROOT, TRY_WRITE, errno_name, run_as


@pytest.fixture
def host_secret():
    """A host folder holding a file with a unique token: the content that
    must never come back through the view. World-readable, so only
    confinement (never permissions) keeps it out."""
    d = HOSTILE_ROOT / f"secret-{secrets.token_hex(4)}"
    d.mkdir(mode=0o755)
    token = f"HOST-SECRET-{secrets.token_hex(16)}\n"
    (d / "hostname").write_text(token)
    os.chmod(d / "hostname", 0o644)
    yield d, token
    shutil.rmtree(d)


def test_item01_dotdot_and_realpath_stay_inside(gw, ryan, tmp_path):
    src = tmp_path / "probe.txt"
    src.write_text("probe\n")
    # Unrestricted: `..` that stays inside the chroot resolves and reads.
    r = sftp_batch(ryan, [f"put {src} probe.txt", f"get ../../../ryan/probe.txt {tmp_path / 'back'}"])
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "back").read_text() == "probe\n"
    # Existing host files, world-readable or not, by `..` chains.
    assert os.path.exists("/etc/shadow") and os.path.exists("/etc/hostname")
    for target in ("../../../../etc/shadow", "../../../../etc/hostname", "../../../../../../../../etc/passwd"):
        err = sftp_refused(ryan, f"get {target} {tmp_path / 'leak'}")
        assert err == f'File "/ryan/{target}" not found.', err
    assert not (tmp_path / "leak").exists()
    # realpath of /../../.. is the chroot's root, which holds only the home.
    r = sftp_batch(ryan, ["cd /../../..", "pwd", "ls -1a"])
    assert r.returncode == 0, r.stderr
    outs = sftp_outputs(r.stdout)
    assert outs[1] == ["Remote working directory: /"], outs
    # (Synthetic folders list "." but no "..": harmless, noted in the README.)
    assert sorted(set(x.strip().rstrip("/") for x in outs[2]) - {".", ".."}) == ["ryan"], outs
    with paramiko_sftp(ryan) as s:
        assert s.normalize("/../../..") == "/"
        assert s.normalize("../../../../ryan") == "/ryan"
        # A missing last component is allowed by realpath: it stays a name in the chroot.
        assert s.normalize("/../../../etc") == "/etc"
        for path in ("/../../../etc/shadow", "../../../../proc/self", "/../../../etc/ssh/sshd_config"):
            with pytest.raises(FileNotFoundError):
                s.normalize(path)
    (gw.home_backing("ryan") / "probe.txt").unlink()


def test_item02_another_users_tree_does_not_exist(gw, ryan, gary, tmp_path):
    src = tmp_path / "gary.bin"
    digest = random_file(src, 5000)
    # Unrestricted: gary reads his own file by each spelling tried below.
    assert sftp_batch(gary, [f"put {src} secret.bin", f"put {src} files/secret.bin"]).returncode == 0
    try:
        for path in ("/gary/secret.bin", "../gary/secret.bin", "/../gary/secret.bin", "/gary/files/secret.bin"):
            r = sftp_batch(gary, [f"get {path} {tmp_path / 'own'}"])
            assert r.returncode == 0 and sha256(tmp_path / "own") == digest, (path, r.stderr)
        # ryan: no such file or folder, whatever the spelling.
        with paramiko_sftp(ryan) as s:
            assert sorted(s.listdir("/")) == ["ryan"]
            for path in ("/gary", "../gary", "/ryan/../gary", "/../gary", "/../../gary/secret.bin",
                         "/gary/files", "/gary/files/secret.bin", "/data/gary-chroot/gary",
                         "/gary-chroot", "../../gary-chroot/gary/secret.bin"):
                with pytest.raises(FileNotFoundError):
                    s.stat(path)
                with pytest.raises(FileNotFoundError):
                    s.open(path, "r")
        for cmd in ("ls /gary", "cd /gary", f"get /gary/secret.bin {tmp_path / 'x1'}",
                    f"get ../gary/files/secret.bin {tmp_path / 'x2'}", f"put {src} /gary/planted.bin"):
            assert sftp_refused(ryan, cmd), cmd
        assert not any(tmp_path.glob("x?"))
        assert not (gw.home_backing("gary") / "planted.bin").exists()
        # From the host, as ryan's uid through the view itself: the kernel
        # keeps him out of gary's chroot (root:gary 0750), and the gateway
        # refuses a name it is asked about anyway.
        chroot = gw.view / "data" / "gary-chroot"
        st = os.stat(chroot)
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, GARY, 0o750)
        probe = "import os, sys\ntry:\n    print(sorted(os.listdir(sys.argv[1])))\nexcept OSError as e:\n    print(e.strerror)\n"
        assert run_as(GARY, GARY, probe, str(chroot)).stdout.strip() == "['gary']"  # unrestricted
        assert run_as(RYAN, RYAN, probe, str(chroot)).stdout.strip() == "Permission denied"
        assert run_as(RYAN, RYAN, probe, str(chroot / "gary")).stdout.strip() == "Permission denied"
    finally:
        assert sftp_batch(gary, ["rm secret.bin", "rm files/secret.bin"]).returncode == 0


def test_item03_proc_dev_and_etc_are_absent(gw, ryan, tmp_path):
    # Unrestricted: all of these exist on the host, etc/ in the view too.
    for p in ("/proc/self/environ", "/dev/null", "/dev/fuse", gw.view / "etc" / "passwd",
              gw.view / "etc" / "ssh" / "sshd_config"):
        assert os.path.exists(p), p
    with paramiko_sftp(ryan) as s:
        for path in ("/proc", "/proc/self", "/proc/1/root", "/dev", "/dev/null", "/dev/fuse", "/sys", "/etc",
                     "/etc/passwd", "/etc/ssh/sshd_config", "/etc/ssh/ssh_host_ed25519_key", "/run", "/tmp",
                     "../etc/passwd", "/ryan/../../etc/group"):
            with pytest.raises(FileNotFoundError):
                s.stat(path)
    for cmd in ("ls /proc", "ls /dev", "ls /etc", f"get /proc/self/environ {tmp_path / 'p'}",
                f"get /etc/ssh/ssh_host_ed25519_key {tmp_path / 'k'}"):
        err = sftp_refused(ryan, cmd)
        assert err and "not found" in err, (cmd, err)
    assert not (tmp_path / "p").exists() and not (tmp_path / "k").exists()


def test_item05_planted_symlinks_never_lead_out(gw, ryan, web, host_secret, tmp_path):
    secret_dir, token = host_secret
    # Unrestricted: a planted regular file and folder are served.
    (web / "real").mkdir()
    (web / "real" / "hostname").write_text("VOLUME\n")
    for p in (web / "real", web / "real" / "hostname"):
        os.chown(p, *WEB_OWNER)
    planted = {  # what another container may leave in a volume
        "to-etc": "/etc",
        "to-root": "/",
        "to-secret": str(secret_dir),
        "to-secret-file": str(secret_dir / "hostname"),
        "to-shadow": "/etc/shadow",
        "up": "../../../../../../../../../..",
        "up-secret": "../../../../../../../../../.." + str(secret_dir),
    }
    for name, target in planted.items():
        os.symlink(target, web / name)
        os.lchown(web / name, *WEB_OWNER)
    try:
        r = sftp_batch(ryan, [f"get web/real/hostname {tmp_path / 'real'}"])
        assert r.returncode == 0 and (tmp_path / "real").read_text() == "VOLUME\n", r.stderr
        with paramiko_sftp(ryan) as s:
            for name, target in planted.items():
                # The link is shown as a link, with its target verbatim...
                assert stat.S_ISLNK(s.lstat(f"web/{name}").st_mode), name
                assert s.readlink(f"web/{name}") == target
                # ...and resolved (by sshd, inside the chroot) never outside:
                # no such file, except a link to / that is the chroot's root
                # (a folder: reading it fails with EISDIR, "Failure").
                for sub in ("", "/hostname", "/etc/hostname", "/etc/shadow", "/shadow"):
                    path = f"web/{name}{sub}"
                    folder = name in ("to-root", "up") and sub == ""
                    with pytest.raises(OSError) as e:
                        with s.open(path, "r") as f:
                            raise AssertionError(f"{path} read: {f.read(60)!r}")
                    if folder:
                        assert str(e.value) == "Failure", (path, e.value)
                    else:
                        assert isinstance(e.value, FileNotFoundError), (path, e.value)
            # Listing through a link to / shows the chroot, not the host.
            assert sorted(s.listdir("web/to-root")) == ["ryan"]
            assert sorted(s.listdir("web/up")) == ["ryan"]
        # The gateway itself never dereferences a backing symlink: the view
        # (seen from the host, no following of the last component) reports links.
        vweb = gw.view_home("ryan") / "web"
        for name, target in planted.items():
            assert os.readlink(vweb / name) == target
            fd = os.open(vweb / name, os.O_PATH | os.O_NOFOLLOW)
            try:
                assert stat.S_ISLNK(os.fstat(fd).st_mode)
            finally:
                os.close(fd)
    finally:
        for name in planted:
            (web / name).unlink()
        shutil.rmtree(web / "real")


def test_item05_folder_swapped_for_a_symlink_under_a_live_session(gw, ryan, web, host_secret):
    """bindfs followed a folder swapped for a symlink within its cache window
    (field notes). Here a session reads `web/swap/hostname` in a loop while
    another writer swaps the folder for a symlink to a host folder holding a
    file of the same name, and back, for 3 s."""
    secret_dir, token = host_secret
    swap, parked = web / "swap", web / "swap.real"
    swap.mkdir()
    (swap / "hostname").write_text("VOLUME\n")
    os.chown(swap, *WEB_OWNER)
    os.chown(swap / "hostname", *WEB_OWNER)
    stop = threading.Event()
    swaps = 0

    def swapper():
        nonlocal swaps
        while not stop.is_set():
            os.rename(swap, parked)
            os.symlink(secret_dir, swap)
            time.sleep(0.01)
            os.unlink(swap)
            os.rename(parked, swap)
            swaps += 1
            time.sleep(0.01)

    seen: dict[str, int] = {}
    with paramiko_sftp(ryan) as s:
        assert s.open("web/swap/hostname").read() == b"VOLUME\n"  # unrestricted
        th = threading.Thread(target=swapper)
        th.start()
        try:
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                try:
                    with s.open("web/swap/hostname") as f:
                        data = f.read().decode()
                    seen[data] = seen.get(data, 0) + 1
                except OSError as e:
                    seen[type(e).__name__] = seen.get(type(e).__name__, 0) + 1
        finally:
            stop.set()
            th.join(timeout=10)
    try:
        assert token not in seen, f"the host's file was read through the view: {seen}"
        assert set(seen) <= {"VOLUME\n", "FileNotFoundError"}, seen
        assert seen.get("VOLUME\n", 0) > 0 and swaps > 20, (seen, swaps)
    finally:
        if swap.is_symlink():
            swap.unlink()
        if parked.exists():
            os.rename(parked, swap)
        shutil.rmtree(swap)


def test_item11_chroot_top_level_not_writable(gw, ryan, tmp_path):
    src = tmp_path / "top.bin"
    src.write_text("x\n")
    # Unrestricted: one level down, in the home, the same commands work.
    r = sftp_batch(ryan, [f"put {src} /ryan/top.bin", "mkdir /ryan/top-dir", "rename /ryan/top-dir /ryan/top-dir2",
                          "chmod 700 /ryan/top.bin", "rm /ryan/top.bin", "rmdir /ryan/top-dir2"])
    assert r.returncode == 0, r.stderr
    expected = {
        f"put {src} /x.bin": 'dest open "/x.bin": Permission denied',
        "mkdir /x": 'remote mkdir "/x": Permission denied',
        "rmdir /ryan": 'remote rmdir "/ryan": Permission denied',
        "rm /ryan": "remote delete /ryan: Permission denied",
        "rename /ryan /x": 'remote rename "/ryan" to "/x": Permission denied',
        "symlink /ryan /l": 'remote symlink file "/ryan" to "/l": Permission denied',
        "chmod 777 /": 'remote setstat "/": Permission denied',
        "chmod 777 /ryan/..": 'remote setstat "/ryan/..": Permission denied',
        "chown 1000 /": 'remote setstat "/": Permission denied',
    }
    for cmd, message in expected.items():
        assert sftp_refused(ryan, cmd) == message, cmd
    chroot = gw.view / "data" / "ryan-chroot"
    assert sorted(os.listdir(chroot)) == ["ryan"]
    st = os.stat(chroot)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, RYAN, 0o750)
    assert gw.home_backing("ryan").is_dir()
    # Even root on the host cannot write there: synthetic folders are EROFS.
    for attempt in (lambda: os.mkdir(chroot / "x"), lambda: os.rename(chroot / "ryan", chroot / "x"),
                    lambda: os.chmod(chroot, 0o777), lambda: open(chroot / "x", "w")):
        with pytest.raises(OSError) as e:
            attempt()
        assert errno_name(e.value) == "EROFS"


SSHD_CAPS = "SYS_CHROOT,SETUID,SETGID"


def test_item20_root_on_the_sshd_side_cannot_write_config_or_keys(gw):
    """A process in sshd's mount namespace, uid 0 with exactly sshd's
    capabilities and no_new_privs (what a compromised root part of sshd
    would be), tries to open every file sshd trusts for writing."""
    sshd = gw.sshd_pid()
    etc = gw.view / "etc"
    targets = [etc / "ssh" / "sshd_config", etc / "ssh" / "authorized_keys" / "ryan",
               etc / "ssh" / "ssh_host_ed25519_key", etc / "ssh" / "ssh_host_rsa_key", etc / "passwd", etc / "group"]
    # Unrestricted: uid 0 with exactly these capabilities can write a
    # root-owned file (on the host side: inside sshd's namespace every mount
    # but the view is read-only, see test_sshd_mount_tree_read_only_in_host_mode),
    # so the refusals below are the view's, not a lack of privilege.
    probe = HOSTILE_ROOT / f"probe-{secrets.token_hex(4)}"
    probe.write_text("")
    try:
        r = run_as(0, 0, TRY_WRITE, str(probe), caps=SSHD_CAPS)
        assert r.stdout.split() == [str(probe), "ok"], r
    finally:
        probe.unlink()
    r = run_as(0, 0, TRY_WRITE, *map(str, targets), caps=SSHD_CAPS, mount_ns_of=sshd)
    got = dict(line.split() for line in r.stdout.splitlines())
    assert got == {str(t): "EROFS" for t in targets}, r.stdout + r.stderr
    # Nor can it create, remove or rename there.
    r = run_as(0, 0, "import os,sys\nfor f in (lambda: os.mkdir(sys.argv[1]+'/x'), lambda: os.unlink(sys.argv[1]+'/passwd'),"
               " lambda: os.rename(sys.argv[1]+'/group', sys.argv[1]+'/g')):\n"
               "    try: f(); print('ok')\n    except OSError as e: print(e.errno)\n", str(etc),
               caps=SSHD_CAPS, mount_ns_of=sshd)
    assert r.stdout.split() == [str(30)] * 3, r  # EROFS


def test_item20_sshd_account_files_read_only_in_host_mode(gw_factory, keys):
    """Host mode: sshd's /etc/passwd and /etc/group are links to files in
    <state-dir>/sshd-etc (root 0644, so root on the sshd side owns them):
    they must be read-only there, and still follow a reload."""
    g = gw_factory(Layout(users={"ryan": RYAN}, maps=[], volumes={}), "sshd-etc",
                   {"ryan": [pub(keys["ryan_ed25519"])]})
    sshd = g.sshd_pid()
    read = "import sys\nprint(open(sys.argv[1]).read())"
    r = run_as(0, 0, read, "/etc/passwd", caps=SSHD_CAPS, mount_ns_of=sshd)
    assert "\nryan:*:1000:1000:" in r.stdout, r  # sshd's own account database
    r = run_as(0, 0, TRY_WRITE, "/etc/passwd", "/etc/group", caps=SSHD_CAPS, mount_ns_of=sshd)
    got = dict(line.split() for line in r.stdout.splitlines())
    assert got == {"/etc/passwd": "EROFS", "/etc/group": "EROFS"}, r.stdout + r.stderr
    # A reload still reaches sshd (the worker replaces the files by rename).
    mark = g.log_mark()
    g.write_config({"ryan": RYAN, "dave": 1002}, [])
    assert g.wait_for_log(r"reloaded: 2 user\(s\)", mark, timeout=10), g.log_since(mark)
    r = run_as(0, 0, read, "/etc/passwd", caps=SSHD_CAPS, mount_ns_of=sshd)
    assert "dave:*:1002:1002:" in r.stdout, r


def test_sshd_mount_tree_read_only_in_host_mode(gw_factory, keys, tmp_path):
    """Host mode: sshd stays uid 0 and, with only its three capabilities,
    still owns every root-owned file it can reach. Shown writable from the
    gateway's side first, then EROFS from sshd's namespace: the key store (a
    planted key would let anyone in) and a root-owned host folder."""
    g = gw_factory(Layout(users={"ryan": RYAN}, maps=[], volumes={}), "sshd-ro",
                   {"ryan": [pub(keys["ryan_ed25519"])]})
    sshd = g.sshd_pid()
    keyfile = g.state / "authorized_keys" / "ryan"
    host_dir = HOSTILE_ROOT / "root-owned-probe"
    host_dir.mkdir(mode=0o755, exist_ok=True)
    probe = host_dir / "x"
    probe.write_text("")
    os.chmod(probe, 0o644)
    r = run_as(0, 0, TRY_WRITE, str(probe), caps=SSHD_CAPS)  # unrestricted: the host side
    assert r.stdout.split() == [str(probe), "ok"], r.stdout + r.stderr
    r = run_as(0, 0, TRY_WRITE, str(keyfile), str(probe), caps=SSHD_CAPS, mount_ns_of=sshd)
    got = dict(line.split() for line in r.stdout.splitlines())
    assert got == {str(keyfile): "EROFS", str(probe): "EROFS"}, r.stdout + r.stderr
