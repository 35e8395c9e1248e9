"""Faults: the FUSE worker killed or hung under a live upload, atomic
uploads (a consumer of the volume never sees a partial file, an interrupted
upload leaves nothing under its final name, resumed uploads work), and a
full backing filesystem. Each test runs its own gateway, so a killed worker
never disturbs another test. Timings are measured and printed."""
from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import threading
import time

import pytest

from gwtest.clients import Target, can_login, login_time, paramiko_sftp, sftp_batch, sftp_outputs
from gwtest.files import pub, random_file, sha256
from gwtest.gateway import Layout
from gwtest.mounts import abort_fuse_connection, fuse_mounted
from gwtest.procs import proc_state
from gwtest.session import GARY, RYAN, WEB_OWNER
from hostile import FILES_OWNER, AuditLog, SftpProcess, temporaries, timed_login, wait_for, wait_worker

MIB = 1 << 20
# sftp -l is in Kbit/s: 40,000 Kbit/s is about 5 MB/s, so a 24 MiB upload
# runs about 5 s, long enough to act on it mid-way, short enough for CI.
RATE_KBIT = 40_000
UPLOAD = 24 * MIB


@pytest.fixture
def fault_gateway(gw_factory, keys):
    layout = Layout(users={"ryan": RYAN, "gary": GARY}, maps=["web:ryan:web", "files:gary:files"],
                    volumes={"web": WEB_OWNER, "files": FILES_OWNER})
    g = gw_factory(layout, "faults", {"ryan": [pub(keys["ryan_ed25519"])], "gary": [pub(keys["gary_ed25519"])]},
                   audit=True)
    return g, Target(g.port, "ryan", keys["ryan_ed25519"]), Target(g.port, "gary", keys["gary_ed25519"])


@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    d = tmp_path_factory.mktemp("payload")
    big = d / "big.bin"
    return big, random_file(big, UPLOAD)


def wait_upload_started(folder, min_bytes: int = 2 * MIB, timeout: float = 15.0) -> str:
    """Waits until a temporary of an atomic upload holds min_bytes; returns its name."""
    def ready():
        for n in temporaries(folder):
            try:
                if os.stat(folder / n).st_size >= min_bytes:
                    return n
            except FileNotFoundError:
                pass
        return None
    return wait_for(ready, timeout, what=f"an upload temporary of {min_bytes} bytes in {folder}")


# -- the worker killed or hung -----------------------------------------------------------

def test_kill9_worker_during_upload(fault_gateway, payload, measure):
    g, ryan, gary = fault_gateway
    big, _ = payload
    web = g.volumes / "web"
    old, sshd = g.worker_pid(), g.listener_pid()
    assert old and sshd and can_login(ryan)  # unrestricted
    mark = g.log_mark()
    up = SftpProcess(ryan, [f"put {big} web/big.bin"], limit_kbit=RATE_KBIT)
    try:
        wait_upload_started(web)
        assert up.running()
        os.kill(old, signal.SIGKILL)
        killed = time.monotonic()
        # The client's end is awaited in the background while logins are polled.
        result = {}
        waiter = threading.Thread(target=lambda: result.update(r=up.finish(timeout=30), t=time.monotonic()))
        waiter.start()
        back = login_time(ryan, True, deadline=10, connect_timeout=3, attempt_timeout=15)
        back_total = time.monotonic() - killed
        new = wait_worker(g, other_than=old)
        waiter.join(timeout=40)
        rc, out, err = result["r"]
        client_error = result["t"] - killed
    finally:
        up.kill()
    measure(f"kill -9 of the worker mid-upload: the client failed after {client_error:.2f} s "
            f"({err.strip().splitlines()[-1] if err.strip() else 'no message'}); "
            f"logins work again {back_total:.2f} s after the kill")
    assert rc == 1, (rc, out, err)
    assert err == 'write remote "/ryan/web/big.bin": Failure\nclose remote: Failure\n', err
    assert back is not None and back_total < 5.0, f"logins did not come back within 5 s ({back_total:.2f} s)"
    assert g.listener_pid() == sshd, "sshd was restarted"
    assert new != old and g.wait_for_log(rf"worker {new} serving again", mark, timeout=5), g.log_since(mark)
    assert fuse_mounted(g.view), "the new worker did not remount the view"
    # Nothing under the final name, neither on the volume nor through the view
    # (which hides temporaries); the interrupted upload's temporary (last
    # written before the new worker started) is removed by the new worker on
    # the mapping's first lookup, which that listing made.
    assert not (web / "big.bin").exists()
    with paramiko_sftp(ryan) as s:
        assert s.listdir("web") == []
    assert g.wait_for_log(r"left by an interrupted upload", mark, timeout=5), g.log_since(mark)
    assert temporaries(web) == [], os.listdir(web)
    # Another user was never affected after the restart either.
    assert can_login(gary)


def test_sigstop_worker_logins_fail_fast_then_recover(fault_gateway, measure):
    g, ryan, gary = fault_gateway
    old, sshd = g.worker_pid(), g.listener_pid()
    assert can_login(ryan)  # unrestricted
    mark = g.log_mark()
    os.kill(old, signal.SIGSTOP)
    stopped = time.monotonic()
    try:
        # A patient client (30 s to connect and authenticate): only the
        # server side can end this attempt early.
        ok, took = timed_login(ryan, timeout=40, options=["ConnectTimeout=30"])
        failed_after = time.monotonic() - stopped
        watchdog = g.wait_for_log(r"watchdog: the view at .* did not answer within 3000 ms; aborting its connection",
                                  mark, timeout=10)
        # The watchdog killed the stopped worker; a SIGCONT is harmless either way.
        if proc_state(old) == "T":
            os.kill(old, signal.SIGCONT)
        back = login_time(ryan, True, deadline=15, connect_timeout=3, attempt_timeout=15)
        recovered = time.monotonic() - stopped
    finally:
        if proc_state(old) == "T":
            os.kill(old, signal.SIGCONT)
    measure(f"SIGSTOP of the worker: a login attempt {'succeeded' if ok else 'failed'} after {took:.2f} s "
            f"({failed_after:.2f} s after the stop); logins work again {recovered:.2f} s after the stop")
    assert not ok, "a login succeeded through a stopped worker"
    assert failed_after < 10.0, f"the login hung for {failed_after:.2f} s"
    assert back is not None, g.log_since(mark)
    assert watchdog, g.log_since(mark)
    new = g.worker_pid()
    assert new not in (None, old), "the hung worker was not replaced"
    assert g.listener_pid() == sshd and can_login(gary)


def test_connection_aborted_under_a_stopped_worker_is_replaced(fault_gateway, measure):
    """The kernel's own request timeout (fs.fuse.default_request_timeout,
    which a host can set for every FUSE mount) or an administrator's abort
    through /sys/fs/fuse/connections disconnects the view without the
    worker: every probe then gets ENOTCONN at once, so the hang check never
    fires, and a stopped worker never ends by itself. The watchdog replaces
    it after the stall window; before, the view stayed dead."""
    g, ryan, gary = fault_gateway
    old, sshd = g.worker_pid(), g.listener_pid()
    assert can_login(ryan)
    mark = g.log_mark()
    os.kill(old, signal.SIGSTOP)
    try:
        abort_fuse_connection(g.view)  # what the kernel does when a request outlives its timeout
        aborted = time.monotonic()
        ok, took = timed_login(ryan, timeout=20)
        back = login_time(ryan, True, deadline=25, connect_timeout=3, attempt_timeout=10)
        recovered = time.monotonic() - aborted
        replaced = g.wait_for_log(r"watchdog: the view at .* has had no FUSE connection for 6000 ms", mark, timeout=5)
    finally:
        if proc_state(old) == "T":
            os.kill(old, signal.SIGCONT)
    measure(f"FUSE connection aborted under a stopped worker: a login attempt {'succeeded' if ok else 'failed'} "
            f"after {took:.2f} s; logins work again {recovered:.2f} s after the abort")
    assert not ok, "a login succeeded through an aborted connection"
    assert back is not None, g.log_since(mark)
    assert replaced, g.log_since(mark)
    new = g.worker_pid()
    assert new not in (None, old), "the stopped worker was not replaced"
    assert g.listener_pid() == sshd and can_login(gary)


SLOW_OWNER = (54330, 54330)
SLOW_LOOKUP_MS = 1000


@pytest.fixture
def slow_volume_gateway(gw_factory, keys):
    """ryan's `slow` volume is a slowfs mount (tests/hostile/slowfs: every
    lookup answers after a second, like a slow disk); the gateway has two
    worker threads, so a few clients keep both busy."""
    slowfs = os.environ.get("SLOWFS_BIN", "")
    if not os.access(slowfs, os.X_OK):
        pytest.fail("SLOWFS_BIN: the slowfs helper is not built (run this tier through ctest)", pytrace=False)
    started = []

    def prepare(g):
        env = dict(os.environ, SLOWFS_DELAY_MS=str(SLOW_LOOKUP_MS), SLOWFS_UID=str(SLOW_OWNER[0]))
        started.append(subprocess.Popen([slowfs, str(g.volumes / "slow")], env=env))
        wait_for(lambda: fuse_mounted(g.volumes / "slow"), 10, what="slowfs mounted")

    layout = Layout(users={"ryan": RYAN}, maps=["slow:ryan:slow", "web:ryan:web"],
                    volumes={"slow": SLOW_OWNER, "web": WEB_OWNER}, extra_args=["--threads", "2"])
    g = gw_factory(layout, "slow", {"ryan": [pub(keys["ryan_ed25519"])]}, prepare=prepare)
    try:
        yield g, Target(g.port, "ryan", keys["ryan_ed25519"])
    finally:
        subprocess.run(["umount", "-l", str(g.volumes / "slow")], timeout=10)  # the gateway may still hold it
        for p in started:
            p.terminate()
            p.wait(timeout=10)


def test_busy_worker_is_not_taken_for_hung(slow_volume_gateway, measure):
    """Every worker thread busy for longer than the watchdog's timeout with
    requests that take a second each but finish: the worker keeps serving
    and is not restarted (the watchdog judges by progress, not by the
    latency of its probe)."""
    g, ryan = slow_volume_gateway
    worker, sshd = g.worker_pid(), g.listener_pid()
    mark = g.log_mark()
    clients, duration = 16, 9.0  # one slowfs folder each (d0 ... d15); the probe queues behind ~14 lookups
    done, failures = [0] * clients, []

    def client(i: int, s):
        try:
            end, k = time.monotonic() + duration, 0
            while time.monotonic() < end:
                k += 1
                try:
                    s.stat(f"slow/d{i}/missing-{k}")  # reaches slowfs every time; one folder per client
                    failures.append(f"client {i}: slow/d{i}/missing-{k} exists")
                except FileNotFoundError:
                    done[i] += 1
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append(f"client {i}: {e!r}")

    with contextlib.ExitStack() as stack:
        # One login at a time (sshd limits concurrent unauthenticated connections).
        sessions = [stack.enter_context(paramiko_sftp(ryan)) for _ in range(clients)]
        threads = [threading.Thread(target=client, args=(i, s)) for i, s in enumerate(sessions)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=duration + 60)
        took = time.monotonic() - started
    log = g.log_since(mark)
    slow = "is slow to answer (every worker thread busy) but still serving requests" in log
    measure(f"busy worker: {clients} clients, {sum(done)} lookups of {SLOW_LOOKUP_MS} ms each on 2 threads "
            f"in {took:.1f} s; watchdog {'saw a slow but progressing view' if slow else 'saw nothing'}")
    assert not failures, failures
    assert sum(done) >= duration * 2 * 0.7, f"only {sum(done)} lookups finished"
    # The watchdog's probe really waited longer than its timeout, and still
    # the worker was judged by its progress.
    assert slow, log[-3000:]
    assert "did not answer within" not in log and "is hung" not in log, log[-3000:]
    assert (g.worker_pid(), g.listener_pid()) == (worker, sshd), "the worker or sshd was restarted"
    assert can_login(ryan)


# -- atomic uploads ----------------------------------------------------------------------

def test_atomic_upload_is_hidden_until_complete(fault_gateway, payload, measure):
    g, ryan, gary = fault_gateway
    big, digest = payload
    web = g.volumes / "web"
    up = SftpProcess(ryan, [f"put {big} web/atomic.bin"], limit_kbit=RATE_KBIT)
    samples = 0
    try:
        tmp = wait_upload_started(web, min_bytes=1 * MIB)
        # While it runs: never the final name on the volume, one growing temporary.
        sizes = []
        while up.running():
            names = os.listdir(web)
            if "atomic.bin" in names:
                # Published at the close, which can come just before the client
                # exits: then only ever the whole file (the rename is atomic).
                size = os.stat(web / "atomic.bin").st_size
                assert size == UPLOAD, f"the final name appeared mid-upload at {size} bytes: {names}"
                break
            assert temporaries(web) == [tmp], names
            try:
                sizes.append(os.stat(web / tmp).st_size)
            except FileNotFoundError:
                break  # renamed into place between the two looks
            samples += 1
            time.sleep(0.1)
        # Through the view the upload shows under its final name, and never the temporary.
        rc, out, err = up.finish(timeout=60)
    finally:
        up.kill()
    assert rc == 0, err
    assert samples >= 10 and sizes == sorted(sizes) and sizes[-1] > sizes[0], (samples, sizes[:3], sizes[-3:])
    assert sha256(web / "atomic.bin") == digest and temporaries(web) == []
    st = os.stat(web / "atomic.bin")
    assert (st.st_uid, st.st_gid, st.st_size) == (*WEB_OWNER, UPLOAD)
    measure(f"atomic upload: {samples} looks at the volume during a {UPLOAD // MIB} MiB upload, "
            f"never the final name, one temporary growing to {sizes[-1] // MIB} MiB")


def test_atomic_upload_shown_under_final_name_in_the_view(fault_gateway, payload):
    g, ryan, gary = fault_gateway
    big, digest = payload
    web = g.volumes / "web"
    up = SftpProcess(ryan, [f"put {big} web/shown.bin"], limit_kbit=RATE_KBIT)
    try:
        wait_upload_started(web, min_bytes=1 * MIB)
        r = sftp_batch(ryan, ["ls -1a web"])
        assert r.returncode == 0, r.stderr
        listed = sorted(os.path.basename(x.strip()) for x in sftp_outputs(r.stdout)[0])
        assert listed == [".", "..", "shown.bin"], listed
        rc, _, err = up.finish(timeout=60)
        assert rc == 0, err
    finally:
        up.kill()
    assert sha256(web / "shown.bin") == digest


def test_killed_client_leaves_no_file_under_its_final_name(fault_gateway, payload):
    g, ryan, gary = fault_gateway
    big, _ = payload
    web = g.volumes / "web"
    up = SftpProcess(ryan, [f"put {big} web/killed.bin"], limit_kbit=RATE_KBIT)
    try:
        wait_upload_started(web)
        up.kill()
        up.proc.wait(timeout=10)
    finally:
        up.kill()
    # sshd notices the dead client and ends the session (closing the file).
    assert g.wait_for_log(r"Close session: user ryan|Connection reset by 127\.0\.0\.1|Disconnected from user ryan",
                          timeout=10)
    time.sleep(1.0)
    names = os.listdir(web)
    partial = os.stat(web / "killed.bin").st_size if "killed.bin" in names else None
    assert "killed.bin" not in names, f"a partial upload of {partial} of {UPLOAD} bytes is under its final name"


def test_killed_client_during_an_overwrite_leaves_the_old_file(fault_gateway, payload, tmp_path):
    g, ryan, gary = fault_gateway
    big, _ = payload
    web = g.volumes / "web"
    old = tmp_path / "old.bin"
    old_digest = random_file(old, 1 * MIB)
    assert sftp_batch(ryan, [f"put {old} web/kept.bin"]).returncode == 0
    ino = os.stat(web / "kept.bin").st_ino
    mark = g.log_mark()
    up = SftpProcess(ryan, [f"put {big} web/kept.bin"], limit_kbit=RATE_KBIT)
    try:
        wait_upload_started(web)
        assert sha256(web / "kept.bin") == old_digest  # mid-upload: the old file, whole
        up.kill()
        up.proc.wait(timeout=10)
    finally:
        up.kill()
    assert g.wait_for_log(r"Close session: user ryan|Connection reset by 127\.0\.0\.1|Disconnected from user ryan",
                          since=mark, timeout=10)
    wait_for(lambda: temporaries(web) == [], 10, what="the overwrite's temporary removed")
    assert sha256(web / "kept.bin") == old_digest
    assert os.stat(web / "kept.bin").st_ino == ino
    # Through the view too, at once.
    with paramiko_sftp(ryan) as s:
        assert s.stat("web/kept.bin").st_size == 1 * MIB
        with s.open("web/kept.bin") as f:
            assert hashlib.sha256(f.read()).hexdigest() == old_digest


def test_resumed_upload_appends(fault_gateway, tmp_path, payload):
    g, ryan, gary = fault_gateway
    big, digest = payload
    web = g.volumes / "web"
    half = tmp_path / "half.bin"
    with open(big, "rb") as src, open(half, "wb") as dst:
        dst.write(src.read(UPLOAD // 2 + 12345))
    # The first part lands (atomically) under its final name...
    r = sftp_batch(ryan, [f"put {half} web/resumed.bin"])
    assert r.returncode == 0, r.stderr
    assert os.stat(web / "resumed.bin").st_size == UPLOAD // 2 + 12345
    ino = os.stat(web / "resumed.bin").st_ino
    # ...and `reput` appends the rest to the same file.
    r = sftp_batch(ryan, [f"reput {big} web/resumed.bin"])
    assert r.returncode == 0, r.stderr
    assert sha256(web / "resumed.bin") == digest
    assert os.stat(web / "resumed.bin").st_ino == ino, "the resumed upload replaced the file instead of appending"
    assert temporaries(web) == []
    # Appending with paramiko (open "a") works as well.
    with paramiko_sftp(ryan) as s:
        with s.open("web/resumed.bin", "a") as f:
            f.write(b"tail")
    assert os.stat(web / "resumed.bin").st_size == UPLOAD + 4
    with open(web / "resumed.bin", "rb") as f:
        f.seek(UPLOAD)
        assert f.read() == b"tail"


def test_overwrite_of_an_existing_file_is_never_partial(fault_gateway, payload, tmp_path):
    g, ryan, gary = fault_gateway
    big, digest = payload
    web = g.volumes / "web"
    old = tmp_path / "old.bin"
    random_file(old, UPLOAD)
    assert sftp_batch(ryan, [f"put {old} web/site.bin"]).returncode == 0
    up = SftpProcess(ryan, [f"put {big} web/site.bin"], limit_kbit=RATE_KBIT)
    partial = []
    try:
        while up.running():
            size = os.stat(web / "site.bin").st_size
            if size != UPLOAD:
                partial.append(size)
            time.sleep(0.1)
        rc, _, err = up.finish(timeout=60)
        assert rc == 0, err
    finally:
        up.kill()
    assert partial == [], f"a consumer saw site.bin at {len(partial)} partial sizes, e.g. {partial[:3]}"
    assert sha256(web / "site.bin") == digest  # the finished upload replaced the old file


# -- a full backing filesystem -----------------------------------------------------------------

TINY = 8 * MIB
TINY_OWNER = (54325, 54325)


@pytest.fixture
def full_disk_gateway(gw_factory, keys):
    """`tiny` is an 8 MiB tmpfs mounted as ryan's volume; gary's `files` and
    ryan's `web` are on the ordinary disk."""
    mounted = []

    def prepare(g):
        tiny = g.volumes / "tiny"
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TINY},mode=0755,uid={TINY_OWNER[0]},gid={TINY_OWNER[1]}",
                        "gw-hostile-tiny", str(tiny)], check=True, timeout=10)
        mounted.append(tiny)

    layout = Layout(users={"ryan": RYAN, "gary": GARY}, maps=["tiny:ryan:tiny", "web:ryan:web", "files:gary:files"],
                    volumes={"tiny": TINY_OWNER, "web": WEB_OWNER, "files": FILES_OWNER})
    g = gw_factory(layout, "full", {"ryan": [pub(keys["ryan_ed25519"])], "gary": [pub(keys["gary_ed25519"])]},
                   audit=True, prepare=prepare)
    try:
        yield g, Target(g.port, "ryan", keys["ryan_ed25519"]), Target(g.port, "gary", keys["gary_ed25519"])
    finally:
        for m in mounted:  # lazily: the gateway may still hold it until it stops
            subprocess.run(["umount", "-l", str(m)], timeout=10)


def test_full_backing_filesystem(full_disk_gateway, tmp_path, measure):
    g, ryan, gary = full_disk_gateway
    tiny = g.volumes / "tiny"
    keep = tiny / "keep.bin"
    keep_digest = random_file(keep, 1 * MIB)
    os.chown(keep, *TINY_OWNER)
    big, small = tmp_path / "16m.bin", tmp_path / "small.bin"
    random_file(big, 16 * MIB)
    small_digest = random_file(small, 256 * 1024)
    worker, sshd = g.worker_pid(), g.listener_pid()
    # Unrestricted: a small upload to the tiny volume works.
    r = sftp_batch(ryan, [f"put {small} tiny/small.bin", "rm tiny/small.bin"])
    assert r.returncode == 0, r.stderr
    audit = AuditLog(g.audit_path)
    audit.set_mark()
    r = sftp_batch(ryan, [f"put {big} tiny/too-big.bin"])
    measure(f"full filesystem: the upload ended with status {r.returncode}: {r.stderr.strip()}")
    assert r.returncode == 1
    assert r.stderr.strip() in ('write remote "/ryan/tiny/too-big.bin": Failure',
                               'write remote "/ryan/tiny/too-big.bin": Failure\nclose remote: Failure') or \
        "No space left on device" in r.stderr, r.stderr
    # The existing file is intact; the gateway and every other mapping go on.
    assert sha256(keep) == keep_digest
    r = sftp_batch(gary, [f"put {small} files/during.bin", f"get files/during.bin {tmp_path / 'g.back'}"])
    assert r.returncode == 0 and sha256(tmp_path / "g.back") == small_digest, r.stderr
    r = sftp_batch(ryan, [f"put {small} web/during.bin", f"get tiny/keep.bin {tmp_path / 'k.back'}"])
    assert r.returncode == 0 and sha256(tmp_path / "k.back") == keep_digest, r.stderr
    assert (g.worker_pid(), g.listener_pid()) == (worker, sshd)
    assert can_login(ryan) and can_login(gary)


def test_full_backing_filesystem_leaves_no_partial_file(full_disk_gateway, tmp_path):
    g, ryan, gary = full_disk_gateway
    tiny = g.volumes / "tiny"
    big = tmp_path / "16m.bin"
    random_file(big, 16 * MIB)
    audit = AuditLog(g.audit_path)
    audit.set_mark()
    r = sftp_batch(ryan, [f"put {big} tiny/too-big.bin"])
    assert r.returncode == 1
    time.sleep(0.5)
    assert sorted(os.listdir(tiny)) == [], "a failed upload left a file (or its temporary) behind"
    writes = [a for a in audit.records() if a["op"] == "write"]
    assert [a["result"] for a in writes] == ["ENOSPC"], writes
