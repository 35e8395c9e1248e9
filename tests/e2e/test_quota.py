"""Quotas and the per-mapping umask through real clients: OpenSSH sftp (put,
df), sshfs (df, statvfs), paramiko (statvfs@openssh.com) and rclone (about),
against a gateway of its own with a 4 MiB, 20-file limit on `web`, no limit
on `plain` and `umask=0027` on `private`. What the gateway counts is read
from the worker's <state>/quota.json; what the volume holds, from the
backing folder itself. Evasion attempts are in tests/hostile."""
from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import time

import pytest

from gwtest.clients import Target, paramiko_sftp, run, sftp_batch, sftp_outputs, sshfs_mount
from gwtest.files import pub, random_file, sha256
from gwtest.gateway import Gateway, Layout
from gwtest.quota import KiB, MiB, Usage, folder_usage, paramiko_statvfs, quota_status, reported, wait_quota
from gwtest.session import RYAN, WEB_OWNER

LIMIT, FILES = 4 * MiB, 20
MAPS = [f"web:ryan:web:quota=4M:files={FILES}", "plain:ryan:plain", "private:ryan:private:umask=0027"]
RESCAN = 1  # seconds: --quota-rescan, so that the consumer test is quick


def audit_path(g: Gateway):
    return g.folder / "audit.log"


@pytest.fixture
def limited(gw_factory, keys) -> tuple[Gateway, Target]:
    layout = Layout(users={"ryan": RYAN}, maps=MAPS, volumes={v: WEB_OWNER for v in ("web", "plain", "private")},
                    extra_args=["--quota-rescan", str(RESCAN)])

    def prepare(g: Gateway) -> None:
        g.extra_args += ["--audit-log", str(audit_path(g))]

    g = gw_factory(layout, "quota", {"ryan": [pub(keys["ryan_ed25519"])]}, prepare=prepare)
    entry = wait_quota(g.state, "web", counted=True)
    assert entry.get("counted") is True, f"web not counted within 5 s: {quota_status(g.state)}"
    assert (entry["bytes_limit"], entry["files_limit"]) == (LIMIT, FILES), entry
    return g, Target(g.port, "ryan", keys["ryan_ed25519"])


def settled(folder, want: list[str], timeout: float = 5.0) -> list[str]:
    """The names in a backing folder once the release of an ended upload
    (which reaches the gateway after the client exited) has run."""
    deadline = time.monotonic() + timeout
    while (names := sorted(os.listdir(folder))) != want and time.monotonic() < deadline:
        time.sleep(0.05)
    return names


def audit_records(g: Gateway) -> list[dict]:
    text = audit_path(g).read_text() if audit_path(g).exists() else ""
    return [json.loads(line[line.index("{"):]) for line in text.splitlines()]


def assert_usage(g: Gateway, want: Usage) -> None:
    """The gateway's figure for `web` and the backing folder's both read `want`."""
    entry = wait_quota(g.state, "web", bytes=want.bytes, files=want.files)
    assert reported(entry) == want, f"the gateway counts {reported(entry)}, expected {want}"
    assert folder_usage(g.volumes / "web") == want


def test_put_over_the_limit_fails_and_publishes_nothing(limited, tmp_path):
    g, ryan = limited
    web = g.volumes / "web"
    big, fits, more = tmp_path / "big", tmp_path / "fits", tmp_path / "more"
    random_file(big, LIMIT + MiB)
    digest = random_file(fits, 3 * MiB)
    random_file(more, 2 * MiB)
    r = sftp_batch(ryan, [f"put {big} web/big.bin"])
    assert r.returncode == 1, f"a put of {LIMIT + MiB} bytes into a {LIMIT}-byte limit succeeded:\n{r.stdout}"
    assert "big.bin" in r.stderr, r.stderr
    assert settled(web, []) == [], "a refused upload left its final name or a temporary"
    assert_usage(g, Usage(0, 0))
    # What fits goes in whole.
    r = sftp_batch(ryan, [f"put {fits} web/fits.bin"])
    assert r.returncode == 0, r.stderr
    assert sha256(web / "fits.bin") == digest
    assert_usage(g, Usage(3 * MiB, 1))
    # The limit counts what is there already: 3 + 2 MiB does not fit in 4.
    r = sftp_batch(ryan, [f"put {more} web/more.bin"])
    assert r.returncode == 1, "a put past what is left of the limit succeeded"
    assert settled(web, ["fits.bin"]) == ["fits.bin"]
    assert sha256(web / "fits.bin") == digest
    assert_usage(g, Usage(3 * MiB, 1))
    # Each refusal is audited with its reason.
    refused = {(rec["path"], rec["result"]) for rec in audit_records(g) if rec.get("reason") == "quota"}
    assert refused == {("/ryan/web/big.bin", "EDQUOT"), ("/ryan/web/more.bin", "EDQUOT")}, audit_records(g)


def test_a_put_right_after_a_refused_one_under_the_same_name(limited, tmp_path):
    """A client retrying with a smaller file (or another client putting one)
    under the name whose upload was just refused and discarded: the new
    upload is published whole, or refused; it never reports success for a
    file that is not there."""
    g, ryan = limited
    web = g.volumes / "web"
    big, fits = tmp_path / "big", tmp_path / "fits"
    random_file(big, LIMIT + MiB)
    digest = random_file(fits, MiB)
    for attempt, commands in enumerate(([f"-put {big} web/x", f"put {fits} web/x"],  # one session
                                        [f"put {big} web/y"])):                      # then another, at once
        r = sftp_batch(ryan, commands)
        if attempt == 1:
            assert r.returncode == 1
            r = sftp_batch(ryan, [f"put {fits} web/y"])
        assert r.returncode == 0, r.stderr
    assert settled(web, ["x", "y"]) == ["x", "y"], "sftp reported a put as done that published nothing"
    assert sha256(web / "x") == digest and sha256(web / "y") == digest
    assert_usage(g, Usage(2 * MiB, 2))


def df_rows(stdout: str) -> list[list[str]]:
    """The figures line of each `df` in an sftp batch (the line after its header)."""
    return [out[1].split() for out in sftp_outputs(stdout) if len(out) == 2]


def test_sftp_df_shows_the_limit_and_the_disk_without_one(limited, tmp_path):
    g, ryan = limited
    one = tmp_path / "one"
    random_file(one, MiB)
    r = sftp_batch(ryan, [f"put {one} web/one.bin", "df web", "df -i web", "df -h web", "df plain", "df"])
    assert r.returncode == 0, r.stderr
    kib, inodes, human, plain, home = df_rows(r.stdout)
    # Size, Used, Avail, (root), %Capacity: KiB, files, then human-readable.
    assert kib[:4] == [str(LIMIT // KiB), str(MiB // KiB), str((LIMIT - MiB) // KiB), str((LIMIT - MiB) // KiB)], kib
    assert inodes[:3] == [str(FILES), "1", str(FILES - 1)], inodes
    assert (human[0], human[2]) == ("4.0MB", "3.0MB"), human
    # No limit: the disk the backing folder is on, as without quotas.
    for row, backing in ((plain, g.volumes / "plain"), (home, g.home_backing("ryan"))):
        disk = os.statvfs(backing)
        assert int(row[0]) == disk.f_blocks * disk.f_frsize // KiB, (row, disk)
        assert int(row[2]) * KiB > LIMIT


def test_sshfs_df_shows_the_limit(limited, tmp_path):
    g, ryan = limited
    one = tmp_path / "one"
    random_file(one, MiB)
    assert sftp_batch(ryan, [f"put {one} web/one.bin"]).returncode == 0
    assert_usage(g, Usage(MiB, 1))
    with sshfs_mount(ryan, tmp_path / "mnt") as mnt:
        st = os.statvfs(mnt / "web")
        assert st.f_blocks * st.f_frsize == LIMIT, st
        assert st.f_bavail * st.f_frsize == LIMIT - MiB, st
        r = run(["df", "-B1", "--output=size,used,avail", str(mnt / "web")])
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines()[1].split() == [str(LIMIT), str(MiB), str(LIMIT - MiB)], r.stdout
        r = run(["df", "-h", "--output=size,avail", str(mnt / "web")])
        assert r.stdout.splitlines()[1].split() == ["4.0M", "3.0M"], r.stdout
        # sshfs asks about the folder it mounted: the home has no limit.
        disk = os.statvfs(g.home_backing("ryan"))
        st = os.statvfs(mnt)
        assert st.f_blocks * st.f_frsize == disk.f_blocks * disk.f_frsize, (st, disk)
    # sshfs mounted on `web` itself shows the limit at its root.
    with sshfs_mount(ryan, tmp_path / "mnt-web", remote="web") as mnt:
        st = os.statvfs(mnt)
        assert (st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize) == (LIMIT, LIMIT - MiB), st
        # Writing through sshfs past the limit fails. SFTP v3 has no status
        # for a quota: OpenSSH's server sends EDQUOT as SSH_FX_FAILURE, which
        # sshfs turns into EPERM, or into EIO for a write it had already
        # acknowledged (it writes ahead of the replies).
        with pytest.raises(OSError) as e:
            with open(mnt / "big.bin", "wb") as f:
                for _ in range(4):
                    f.write(os.urandom(MiB))
        assert e.value.errno in (errno.EPERM, errno.EIO), e.value
    assert settled(g.volumes / "web", ["one.bin"]) == ["one.bin"]
    assert_usage(g, Usage(MiB, 1))


def test_paramiko_statvfs_shows_the_limit(limited, tmp_path):
    g, ryan = limited
    with paramiko_sftp(ryan) as s:
        with s.open("web/two.bin", "wb") as f:
            f.write(os.urandom(2 * MiB))
        assert_usage(g, Usage(2 * MiB, 1))
        st = paramiko_statvfs(s, "web")
        assert st["f_blocks"] * st["f_frsize"] == LIMIT, st
        assert st["f_bavail"] * st["f_frsize"] == LIMIT - 2 * MiB, st
        assert (st["f_files"], st["f_favail"]) == (FILES, FILES - 1), st
        st = paramiko_statvfs(s, "web/two.bin")  # any path below the folder: its limit
        assert st["f_blocks"] * st["f_frsize"] == LIMIT, st
        st = paramiko_statvfs(s, "plain")
        disk = os.statvfs(g.volumes / "plain")
        assert st["f_blocks"] * st["f_frsize"] == disk.f_blocks * disk.f_frsize, (st, disk)


def known_hosts(g: Gateway, path) -> None:
    """A known_hosts file naming the gateway's own host keys (read from its
    state folder: nothing trusted on first use)."""
    lines = []
    for key in sorted((g.state / "host_keys").iterdir()):
        r = run(["ssh-keygen", "-y", "-f", str(key)])
        assert r.returncode == 0, r.stderr
        lines.append(f"[127.0.0.1]:{g.port} {r.stdout.split()[0]} {r.stdout.split()[1]}")
    path.write_text("\n".join(lines) + "\n")


def rclone_about(g: Gateway, ryan: Target, remote_path: str, tmp_path) -> dict:
    """`rclone about --json` on an sftp remote defined by environment
    variables: key authentication, the gateway's host keys, no shell (the
    gateway serves none, so rclone must not try one)."""
    hosts = tmp_path / "known_hosts"
    known_hosts(g, hosts)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "RCLONE_CONFIG": "/dev/null",
           "RCLONE_CONFIG_GW_TYPE": "sftp", "RCLONE_CONFIG_GW_HOST": ryan.host,
           "RCLONE_CONFIG_GW_PORT": str(ryan.port), "RCLONE_CONFIG_GW_USER": ryan.user,
           "RCLONE_CONFIG_GW_KEY_FILE": str(ryan.key), "RCLONE_CONFIG_GW_KNOWN_HOSTS_FILE": str(hosts),
           "RCLONE_CONFIG_GW_SHELL_TYPE": "none", "RCLONE_CONFIG_GW_DISABLE_HASHCHECK": "true"}
    r = subprocess.run(["rclone", "about", "--json", "--contimeout", "5s", "--timeout", "10s", f"gw:{remote_path}"],
                       capture_output=True, text=True, timeout=30, env=env, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, f"rclone about gw:{remote_path}: {r.returncode}\n{r.stderr}"
    return json.loads(r.stdout)


def test_rclone_about_shows_the_limit(limited, tmp_path):
    g, ryan = limited
    one = tmp_path / "one"
    random_file(one, MiB)
    assert sftp_batch(ryan, [f"put {one} web/one.bin"]).returncode == 0
    assert_usage(g, Usage(MiB, 1))
    about = rclone_about(g, ryan, "web", tmp_path)
    assert (about.get("total"), about.get("free"), about.get("used")) == (LIMIT, LIMIT - MiB, MiB), about
    about = rclone_about(g, ryan, "plain", tmp_path)
    disk = os.statvfs(g.volumes / "plain")
    assert about.get("total") == disk.f_blocks * disk.f_frsize, (about, disk)


def status_quota(g: Gateway, folder: str) -> dict:
    """The folder's entry in `gateway status --format json`."""
    r = subprocess.run([g.binary, "status", "--format", "json", *g.serve_options()], capture_output=True, text=True,
                       timeout=15, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, f"gateway status: {r.returncode}\n{r.stdout}{r.stderr}"
    return next((q for q in json.loads(r.stdout).get("quotas", []) if q["folder"] == folder), {})


def test_consumer_writes_are_caught_by_the_rescan(limited, tmp_path):
    """The consumer container writes into the volume behind the gateway's
    back; --quota-rescan 1 counts it, and a put that no longer fits fails."""
    g, ryan = limited
    web = g.volumes / "web"
    two = tmp_path / "two"
    random_file(two, 2 * MiB)
    assert sftp_batch(ryan, [f"put {two} web/first.bin"]).returncode == 0  # fits now
    consumer = web / "consumer.log"
    random_file(consumer, 2 * MiB + 512 * KiB)
    os.chown(consumer, *WEB_OWNER)
    entry = wait_quota(g.state, "web", timeout=RESCAN + 5, bytes=4 * MiB + 512 * KiB, files=2)
    assert reported(entry) == Usage(4 * MiB + 512 * KiB, 2), f"the rescan did not count the consumer's file: {entry}"
    shown = status_quota(g, "web")
    assert (shown.get("bytes"), shown.get("bytes_limit"), shown.get("files")) == (4 * MiB + 512 * KiB, LIMIT, 2), shown
    r = sftp_batch(ryan, [f"put {two} web/second.bin"])
    assert r.returncode == 1, "a put into a folder already past its limit succeeded"
    assert settled(web, ["consumer.log", "first.bin"]) == ["consumer.log", "first.bin"]
    # The consumer cleans up: the next count gives the space back.
    consumer.unlink()
    entry = wait_quota(g.state, "web", timeout=RESCAN + 5, bytes=2 * MiB, files=1)
    assert reported(entry) == Usage(2 * MiB, 1), entry
    assert sftp_batch(ryan, [f"put {two} web/second.bin"]).returncode == 0
    assert_usage(g, Usage(4 * MiB, 2))


def test_mapping_umask_applies_to_new_files_and_folders(limited, tmp_path):
    """umask=0027 on `private`, the default 0022 on `plain`; the client's
    own mode (a 0600 local file, which sftp's put sends) is kept under either."""
    g, ryan = limited
    shared, secret = tmp_path / "shared", tmp_path / "secret"
    random_file(shared, 1000)
    random_file(secret, 1000)
    os.chmod(shared, 0o644)
    os.chmod(secret, 0o600)
    cmds = []
    for m in ("private", "plain"):
        cmds += [f"put {shared} {m}/shared.txt", f"put {secret} {m}/secret.txt", f"mkdir {m}/dir"]
    r = sftp_batch(ryan, cmds)
    assert r.returncode == 0, r.stderr
    want = {"private": {"shared.txt": 0o640, "secret.txt": 0o600, "dir": 0o750},
            "plain": {"shared.txt": 0o644, "secret.txt": 0o600, "dir": 0o755}}
    got = {m: {n: stat.S_IMODE(os.lstat(g.volumes / m / n).st_mode) for n in names} for m, names in want.items()}
    assert got == want, {m: {n: oct(v) for n, v in d.items()} for m, d in got.items()}
    # The client sees the same modes.
    r = sftp_batch(ryan, ["ls -l private"])
    modes = {line.split()[-1].rsplit("/", 1)[-1]: line.split()[0] for line in sftp_outputs(r.stdout)[0]}
    assert modes == {"dir": "drwxr-x---", "secret.txt": "-rw-------", "shared.txt": "-rw-r-----"}, modes
