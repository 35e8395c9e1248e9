"""Host mode against a host that changes its own account files (issue 11):
tools like useradd and vipw replace /etc/passwd by rename, a host account may
share an sftp user's name with a locked password, and the gateway rewrites
sshd's files on every reload. sshd must keep resolving the gateway's accounts,
and only those; `gateway status` must say when it does not.

The real /etc is never touched: the gateway runs in a mount namespace of its
own with a copy of /etc bind-mounted over /etc (the issue's reproduction), and
the tests change the copy."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from gwtest.clients import Target, can_login
from gwtest.files import pub
from gwtest.gateway import Layout
from gwtest.session import RYAN
from hostile import HOSTILE_ROOT, TRY_WRITE, HostileGateway, run_as

ACCOUNT_FILES = ("passwd", "group", "shadow", "gshadow", "nsswitch.conf")


class EtcCopyGateway(HostileGateway):
    """A gateway started as in the issue: `unshare -m --propagation private`,
    a copy of /etc bind-mounted over /etc, then exec of `gateway serve` (the
    pid stays the gateway's). Its view is mounted in that namespace only, so
    readiness and `gateway status` are looked at from inside it."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.etc = self.folder / "host-etc"  # the "host's" /etc
        subprocess.run(["cp", "-a", "/etc", str(self.etc)], check=True, timeout=60)

    def args(self) -> list[str]:
        return ["unshare", "-m", "--propagation", "private", "sh", "-c", 'mount --bind "$0" /etc && exec "$@"',
                str(self.etc), *super().args()]

    def view_mounted(self) -> bool:
        try:
            text = Path(f"/proc/{self.proc.pid}/mountinfo").read_text()
        except OSError:
            return False
        return any(line.split()[4] == str(self.view) and " - fuse" in line for line in text.splitlines())

    def ready(self) -> bool:
        return (self.view_mounted() and f"Server listening on 127.0.0.1 port {self.port}." in self.log()
                and self.sshd_pid() > 0)

    def status(self, fmt: str = "json") -> subprocess.CompletedProcess:
        """`gateway status` as the host's administrator runs it: in the
        gateway's namespace, where the view is mounted and /etc is the copy."""
        return subprocess.run(["nsenter", "-t", str(self.proc.pid), "-m", "--", self.binary, "status",
                               "--format", fmt, "--config", str(self.config), "--state-dir", str(self.state),
                               "--mountpoint", str(self.view), "--data-dir", str(self.data),
                               "--volumes-dir", str(self.volumes)],
                              capture_output=True, text=True, timeout=15, stdin=subprocess.DEVNULL)


@pytest.fixture
def host(gw, keys):
    """One gateway (user ryan, no volumes) on a private copy of /etc."""
    g = EtcCopyGateway.create(HOSTILE_ROOT, gw.binary, Layout(users={"ryan": RYAN}, maps=[], volumes={}), name="host-etc",
                       seed_host_keys=gw.state / "host_keys")
    g.keys_add("ryan", pub(keys["ryan_ed25519"]))
    try:
        g.start()
        yield g, Target(g.port, "ryan", keys["ryan_ed25519"])
        rc = g.stop()
        assert rc == 0, f"gateway exited with {rc} on SIGTERM:\n{g.log_tail()}"
    finally:
        g.kill()
        g.cleanup()


def replace_by_rename(path: Path, text: str | None = None) -> None:
    """What useradd and vipw do: a new file next to the old one (same owner
    and mode, `cp -p`), renamed over it (`mv`)."""
    new = path.with_name(path.name + ".new")
    subprocess.run(["cp", "-p", str(path), str(new)], check=True, timeout=10)
    if text is not None:
        new.write_text(text)
    subprocess.run(["mv", str(new), str(path)], check=True, timeout=10)


def login_or_why(g, t: Target) -> str | None:
    """None when the login works, else what sshd logged about it."""
    mark = g.log_mark()
    if can_login(t):
        return None
    time.sleep(0.3)
    return g.log_since(mark)[-1500:] or "(sshd logged nothing)"


def test_host_renaming_its_account_files_keeps_logins(host):
    """The issue's reproduction: replacing the host's passwd and group by
    rename used to detach sshd's bind mounts (`Invalid user ryan`)."""
    g, ryan = host
    assert login_or_why(g, ryan) is None
    for name in ("passwd", "group"):
        replace_by_rename(g.etc / name)
    assert login_or_why(g, ryan) is None
    # sshd's /etc, the host's entries behind it and the gateway's files are
    # all read-only for root on the sshd side (it keeps uid 0).
    sshd = g.sshd_pid()
    targets = ["/etc/.gateway-host-etc/hostname", "/etc/passwd", "/etc/shadow"]
    r = run_as(0, 0, TRY_WRITE, *targets, caps="SYS_CHROOT,SETUID,SETGID", mount_ns_of=sshd)
    assert dict(line.split() for line in r.stdout.splitlines()) == {t: "EROFS" for t in targets}, r
    r = run_as(0, 0, "import os\ntry: os.mkdir('/etc/x'); print('ok')\nexcept OSError as e: print(e.errno)",
               caps="SYS_CHROOT,SETUID,SETGID", mount_ns_of=sshd)
    assert r.stdout.split() == ["30"], r  # EROFS
    # The host's own view did change: this namespace's /etc is the copy.
    r = subprocess.run(["nsenter", "-t", str(g.proc.pid), "-m", "--", "stat", "-c", "%i", "/etc/passwd"],
                       capture_output=True, text=True, timeout=10)
    assert r.stdout.strip() == str((g.etc / "passwd").stat().st_ino), r


def test_host_account_named_like_an_sftp_user_with_a_locked_password(host):
    """A host account `ryan` whose shadow entry is locked (`!`), added as
    useradd does (shadow, then passwd, each by rename): sshd (UsePAM no) took
    the locked state from the host's shadow (`account is locked`)."""
    g, ryan = host
    assert login_or_why(g, ryan) is None
    shadow = (g.etc / "shadow").read_text()
    replace_by_rename(g.etc / "shadow", shadow + "ryan:!:20000:0:99999:7:::\n")
    assert login_or_why(g, ryan) is None
    passwd = (g.etc / "passwd").read_text()
    replace_by_rename(g.etc / "passwd", passwd + f"ryan:x:{RYAN + 500}:{RYAN + 500}::/home/ryan:/bin/sh\n")
    group = (g.etc / "group").read_text()
    replace_by_rename(g.etc / "group", group + f"ryan:x:{RYAN + 500}:\n")
    assert login_or_why(g, ryan) is None
    assert "locked" not in g.log(), g.log_tail()


def test_accounts_only_from_the_gateways_files(host, keys):
    """The host's name service switch here asks systemd's userdb too
    (`passwd: files systemd`), which reads records in /etc/userdb without
    systemd running. An account defined there is the host's: sshd must not
    know it (`Invalid user`), whereas with the host's switch it took the
    account, with a locked password, from there."""
    g, ryan = host
    userdb = g.etc / "userdb"
    userdb.mkdir(exist_ok=True)
    (userdb / "mallory.user").write_text(json.dumps({"userName": "mallory", "uid": 4242, "gid": 4242,
                                                      "homeDirectory": "/mallory", "shell": "/bin/sh"}))
    # The host itself does resolve it (in the gateway's namespace).
    r = subprocess.run(["nsenter", "-t", str(g.proc.pid), "-m", "--", "getent", "passwd", "mallory"],
                       capture_output=True, text=True, timeout=10)
    if not r.stdout.startswith("mallory:x:4242:"):
        pytest.fail(f"the host does not resolve /etc/userdb records ({r}): this test needs libnss-systemd "
                    "and `passwd: files systemd` in /etc/nsswitch.conf (Debian's default with systemd)")
    mark = g.log_mark()
    assert not can_login(Target(g.port, "mallory", keys["ryan_ed25519"]))
    assert g.wait_for_log(r"Invalid user mallory from 127\.0\.0\.1", mark, timeout=5), g.log_since(mark)
    assert login_or_why(g, ryan) is None


class NscdCountingGateway(EtcCopyGateway):
    """EtcCopyGateway with a name service cache daemon in its namespace: a
    socket at /run/nscd/socket (a folder of the test's bound over /run/nscd)
    that counts the connections made by sshd's processes."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.nscd = self.folder / "nscd"
        self.nscd.mkdir()

    def args(self) -> list[str]:
        return ["unshare", "-m", "--propagation", "private", "sh", "-c",
                'mount --bind "$0" /etc && mount --bind "$1" /run/nscd && shift && exec "$@"',
                str(self.etc), str(self.nscd), *super(EtcCopyGateway, self).args()]


def test_host_name_service_cache_is_not_asked(gw, keys):
    """glibc asks a running nscd before nsswitch.conf: the host's cache
    would answer sshd with the host's accounts. sshd's namespace hides it."""
    made_run_nscd = not Path("/run/nscd").exists()
    Path("/run/nscd").mkdir(exist_ok=True)  # the mount point; removed again below
    g = NscdCountingGateway.create(HOSTILE_ROOT, gw.binary, Layout(users={"ryan": RYAN}, maps=[], volumes={}),
                                   name="host-nscd",
                            seed_host_keys=gw.state / "host_keys")
    g.keys_add("ryan", pub(keys["ryan_ed25519"]))
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(g.nscd / "socket"))
    os.chmod(g.nscd / "socket", 0o666)
    server.listen(64)
    server.settimeout(0.2)
    askers: list[str] = []
    done = threading.Event()

    def serve():
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except socket.timeout:
                continue
            pid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
            try:
                askers.append(Path(f"/proc/{pid}/comm").read_text().strip())
            except OSError:
                askers.append("?")
            conn.close()  # no answer: glibc falls back to nsswitch.conf

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        g.start()
        ryan = Target(g.port, "ryan", keys["ryan_ed25519"])
        # The socket answers a connection from the test's namespace
        # (the fake cache works), ...
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.connect(str(g.nscd / "socket"))
        deadline = time.monotonic() + 5
        while not askers and time.monotonic() < deadline:
            time.sleep(0.05)
        assert askers, "the counting nscd socket never saw the probe"
        askers.clear()
        # ... and no process of sshd's asks it while ryan logs in.
        assert login_or_why(g, ryan) is None
        time.sleep(0.3)
        assert not [a for a in askers if a.startswith("sshd")], askers
    finally:
        done.set()
        thread.join(timeout=5)
        server.close()
        g.kill()
        g.cleanup()
        if made_run_nscd:
            os.rmdir("/run/nscd")


def test_status_reads_sshds_own_namespace(host):
    """`gateway status` says sshd is healthy only while sshd's /etc links to
    the gateway's files. Undoing sshd's private /etc inside its namespace
    (what the host's renames used to do to the old bind mounts) makes logins
    fail, and status must report it, text and JSON, with a non-zero exit,
    while the host's /etc, where status itself runs, is unchanged."""
    g, ryan = host
    r = g.status()
    assert r.returncode == 0, r
    s = json.loads(r.stdout)
    assert (s["sshd_managed"], s["sshd_running"], s["sshd_healthy"], s["sshd_problem"]) == (True, True, True, ""), s
    text = g.status("text")
    assert text.returncode == 0 and "sshd: running (host mode), with the gateway's accounts" in text.stdout, text
    sshd = g.sshd_pid()
    for name in ACCOUNT_FILES:  # sshd's /etc, seen from its namespace
        target = os.readlink(f"/proc/{sshd}/root/etc/{name}")
        assert target == str(g.state / "sshd-etc" / name), (name, target)
    # Break it: sshd's /etc becomes the host's again.
    subprocess.run(["nsenter", "-t", str(sshd), "-m", "--", "umount", "-l", "/etc"], check=True, timeout=10)
    why = login_or_why(g, ryan)
    assert why and "Invalid user ryan" in why, why
    r = g.status()
    s = json.loads(r.stdout)
    assert r.returncode == 1 and s["sshd_running"] and not s["sshd_healthy"], r
    assert s["sshd_problem"] == f"sshd's /etc/passwd is the host's file, not a link to {g.state}/sshd-etc/passwd", s
    text = g.status("text")
    assert text.returncode == 1 and f"sshd: unhealthy (host mode): {s['sshd_problem']}" in text.stdout, text


# -- a reader of sshd's passwd during reloads ---------------------------------------------------

READER = r"""
import base64, hashlib, json, os, sys, time
seen, errors, reads = {}, 0, 0
stop = time.monotonic() + float(sys.argv[1])
while time.monotonic() < stop and not os.path.exists(sys.argv[2]):
    try:
        with open("/etc/passwd", "rb") as f:
            data = f.read()
        seen.setdefault(hashlib.sha256(data).hexdigest(), data)
        reads += 1
    except OSError:
        errors += 1
# Everything but the view is read-only here: the findings go to stdout.
print(json.dumps({"reads": reads, "errors": errors, "seen": sorted(seen),
                  "samples": {d: base64.b64encode(seen[d][-200:]).decode() for d in sorted(seen)[:8]}}))
"""


def test_reader_of_sshds_passwd_never_sees_a_partial_file(gw_factory, measure):
    """A reader inside sshd's namespace reads /etc/passwd as fast as it can
    while the configuration flips between two user lists (different names
    from the first line on, different lengths) and the gateway reloads. Every
    content it saw must be one of the two whole files: rewriting in place
    let it see the new head on the old tail, or a cut file."""
    import base64
    import hashlib
    a = {f"a{i:04d}": 20000 + i for i in range(3000)}
    b = {f"b{i:04d}": 30000 + i for i in range(2500)}
    g = gw_factory(Layout(users=a, maps=[], volumes={}), "accounts-reload", {})
    scratch = Path(tempfile.mkdtemp(prefix="reader-", dir=HOSTILE_ROOT))
    stop_flag = scratch / "stop"
    reader = subprocess.Popen(["nsenter", "-t", str(g.sshd_pid()), "-m", "--", "/usr/bin/python3", "-c", READER,
                               "120", str(stop_flag)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wholes = {hashlib.sha256((g.state / "sshd-etc" / "passwd").read_bytes()).hexdigest()}
    flips = 30
    try:
        for i in range(flips):
            users = b if i % 2 == 0 else a
            mark = g.log_mark()
            g.write_config(users, [])
            assert g.wait_for_log(rf"reloaded: {len(users)} user\(s\)", mark, timeout=30), g.log_since(mark)
            wholes.add(hashlib.sha256((g.state / "sshd-etc" / "passwd").read_bytes()).hexdigest())
    finally:
        stop_flag.touch()
        out, err = reader.communicate(timeout=60)
        shutil.rmtree(scratch, ignore_errors=True)
    assert reader.returncode == 0, err
    found = json.loads(out)
    partial = [d for d in found["seen"] if d not in wholes]
    measure(f"accounts: {found['reads']} reads of sshd's /etc/passwd during {flips} reloads, "
            f"{len(found['seen'])} distinct contents ({len(partial)} partial), {found['errors']} failed reads")
    assert len(wholes) == 2, "the two user lists did not give two passwd files"
    assert found["errors"] == 0, f"{found['errors']} reads of /etc/passwd failed"
    assert not partial, [base64.b64decode(found["samples"][d]) for d in partial if d in found["samples"]][:2]
    assert len(found["seen"]) == 2, "the reader did not see both files: it did not run during the reloads"
