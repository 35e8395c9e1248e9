"""Quota evasion: ways a user might store more than a folder's limit, against
a small one (8 MiB, 40 entries) on `web` (atomic uploads) and `raw` (written
in place, symlinks allowed). Sparse files, truncate up, fallocate through
sshfs, server-side copies (copy-data), many tiny files, hard links, an
overwrite racing a delete, eight sessions at once.

Every test samples the backing folder's real usage while it runs (a thread
walking it every few milliseconds, as a limit counts: st_size, entries, a
hard-linked file once) and asserts it never passed the limit by more than
one request (1 MiB), and, once the clients are done, that the gateway's own
figure (the worker's quota.json) is exactly what the folder holds. The
gateway's periodic rescan is left at its default (minutes), so nothing but
its own bookkeeping can make the figures agree. Each test runs a gateway of
its own and is bounded in time."""
from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from gwtest.clients import Target, paramiko_sftp, sftp_batch, sshfs_mount
from gwtest.files import pub, random_file
from gwtest.gateway import Gateway, Layout
from gwtest.quota import MiB, Usage, folder_usage, quota_status, reported, wait_quota
from gwtest.session import RYAN, WEB_OWNER
from hostile import RawSftp, SftpProcess

LIMIT, FILES = 8 * MiB, 40
REQUEST = MiB  # the bound: usage never passes a limit by more than one request
MAPS = [f"web:ryan:web:quota=8M:files={FILES}", f"raw:ryan:raw:quota=8M:files={FILES}:noatomic:symlinks"]


@pytest.fixture
def limited(gw_factory, keys) -> tuple[Gateway, Target]:
    layout = Layout(users={"ryan": RYAN}, maps=MAPS, volumes={"web": WEB_OWNER, "raw": WEB_OWNER})
    g = gw_factory(layout, "quota-evasion", {"ryan": [pub(keys["ryan_ed25519"])]}, audit=True)
    for folder in ("web", "raw"):
        entry = wait_quota(g.state, folder, counted=True)
        assert entry.get("counted") is True, f"{folder} not counted within 5 s: {quota_status(g.state)}"
    return g, Target(g.port, "ryan", keys["ryan_ed25519"])


class Sampler:
    """Walks a backing folder every few milliseconds in a thread and keeps
    the most it ever held (bytes and entries), and when."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.most = Usage(0, 0)
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            u = folder_usage(self.folder, racing=True)
            self.most = Usage(max(self.most.bytes, u.bytes), max(self.most.files, u.files))
            self.samples += 1
            time.sleep(0.002)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)


@contextlib.contextmanager
def watched(g: Gateway, *folders: str):
    """Samples the folders while the block runs, then asserts the bound and
    that the gateway's figure settles on what each folder holds."""
    samplers = {f: Sampler(g.volumes / f) for f in folders}
    with contextlib.ExitStack() as stack:
        for s in samplers.values():
            stack.enter_context(s)
        yield samplers
    problems = []
    for folder, s in samplers.items():
        assert s.samples > 0
        if s.most.bytes > LIMIT + REQUEST:
            problems.append(f"{folder} held {s.most.bytes} bytes at its most: "
                            f"{s.most.bytes - LIMIT} past the {LIMIT}-byte limit")
        if s.most.files > FILES:
            problems.append(f"{folder} held {s.most.files} entries at its most (limit {FILES})")
        try:
            assert_settled(g, folder)
        except AssertionError as e:
            problems.append(str(e))
    assert not problems, "\n".join(problems)


def assert_settled(g: Gateway, folder: str, timeout: float = 5.0) -> Usage:
    """Waits until the gateway's figure for `folder` is what the backing
    folder holds (releases of ended uploads reach the gateway after the
    client exited; quota.json is rewritten at most once a second)."""
    deadline = time.monotonic() + timeout
    while True:
        real = folder_usage(g.volumes / folder)
        counted = reported(quota_status(g.state).get(folder, {}))
        if counted == real:
            return real
        if time.monotonic() >= deadline:
            raise AssertionError(f"{folder}: the gateway counts {counted}, the folder holds {real} "
                                 f"({sorted(os.listdir(g.volumes / folder))})")
        time.sleep(0.05)


@contextlib.contextmanager
def sessions(t: Target, n: int):
    """n SFTP sessions, logged in one after another (sshd's
    PerSourceMaxStartups 4 drops a burst of logins from one address), so
    that the threads using them start writing together."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(paramiko_sftp(t)) for _ in range(n)]


def run_threads(target, args: list[tuple], timeout: float = 40.0) -> None:
    """Runs target(*a) for each a at once, released together by a barrier."""
    barrier = threading.Barrier(len(args))

    def body(*a):
        barrier.wait(10)
        target(*a)

    threads = [threading.Thread(target=body, args=a, daemon=True) for a in args]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), f"threads still running after {timeout} s"


def refused(action) -> bool:
    """True when the SFTP request failed (paramiko raises IOError/OSError)."""
    try:
        action()
    except OSError:
        return True
    return False


def test_sparse_writes_and_truncates_count_their_size(limited):
    """A write far past the end, or a size set past the limit, would make a
    sparse file that occupies little disk but counts its full st_size."""
    g, ryan = limited
    raw, web = g.volumes / "raw", g.volumes / "web"
    with watched(g, "raw", "web"), paramiko_sftp(ryan) as s:
        closed = {}
        for where in ("raw", "web"):
            f = s.open(f"{where}/sparse", "w")
            for offset in (1 << 40, LIMIT, LIMIT + REQUEST + 1):
                f.seek(offset)
                assert refused(lambda: (f.write(b"x"), f.flush())), f"{where}: a write at {offset} succeeded"
            f.seek(LIMIT - 1)
            f.write(b"x")  # ends exactly at the limit: fine, sparse or not
            f.flush()
            f.seek(LIMIT)
            assert refused(lambda: (f.write(b"y"), f.flush())), f"{where}: one byte past the limit was accepted"
            closed[where] = not refused(f.close)
        # In place, what fitted stays: sparse on disk, counted whole.
        assert closed["raw"], "closing the in-place file failed"
        st = os.stat(raw / "sparse")
        assert st.st_size == LIMIT and st.st_blocks * 512 < LIMIT, st
        assert_settled(g, "raw")
        # An atomic upload that met the limit is discarded.
        assert not (web / "sparse").exists(), f"published after a refused write (close ok: {closed['web']})"
        s.truncate("raw/sparse", 0)
        # Truncate up: SETSTAT (paramiko's truncate) and FSETSTAT (a handle's).
        for size in (1 << 40, LIMIT + 1, 2 * LIMIT):
            assert refused(lambda: s.truncate("raw/sparse", size)), f"SETSTAT size={size} succeeded"
            with s.open("raw/sparse", "r+") as f:
                assert refused(lambda: f.truncate(size)), f"FSETSTAT size={size} succeeded"
            assert (raw / "sparse").stat().st_size == 0
        s.truncate("raw/sparse", LIMIT)  # up to the limit: fine
        assert (raw / "sparse").stat().st_size == LIMIT
        assert_settled(g, "raw")
        assert refused(lambda: s.open("raw/more", "w").close()) is False  # an empty file: no bytes
        assert refused(lambda: s.truncate("raw/more", 1)), "one byte past a full limit was accepted"
        s.remove("raw/sparse")
        s.remove("raw/more")
    assert folder_usage(raw) == Usage(0, 0)


def test_fallocate_through_sshfs(limited, tmp_path, measure):
    """fallocate(1) with and without --keep-size, and posix_fallocate, through
    an sshfs mount of the limited folder. sshfs (3.7) has no fallocate, so
    the kernel answers EOPNOTSUPP and glibc's posix_fallocate falls back to
    writing a byte into every block: plain writes past the end, which the
    limit stops (the mount tier covers fallocate(2) reaching the gateway)."""
    g, ryan = limited
    with watched(g, "raw"), sshfs_mount(ryan, tmp_path / "mnt", remote="raw") as mnt:
        (mnt / "keep").touch()  # fallocate -n does not create its file
        results = {}
        for name, args in (("big", ["-l", "64M"]), ("keep", ["-n", "-l", "64M"]), ("tera", ["-l", "1T"])):
            r = subprocess.run(["fallocate", *args, str(mnt / name)], capture_output=True, text=True, timeout=30)
            results[name] = (r.returncode, r.stderr.strip())
        assert all(rc != 0 for rc, _ in results.values()), results
        fd = os.open(mnt / "emulated", os.O_CREAT | os.O_WRONLY, 0o644)
        # sshfs writes ahead of the server's replies: the refusal may come
        # back from posix_fallocate or only from close.
        emulated = refused(lambda: os.posix_fallocate(fd, 0, 64 * MiB))
        closed = not refused(lambda: os.close(fd))
        assert emulated or not closed, "64 MiB allocated by writes into an 8 MiB limit"
        results["emulated"] = os.stat(g.volumes / "raw" / "emulated").st_size
    measure(f"fallocate through sshfs: {results}")


def test_copy_data_counts_what_it_copies(limited, tmp_path):
    """OpenSSH's sftp `cp` copies on the server (copy-data) when both sides
    have it: the server advertises it, and each copy counts."""
    g, ryan = limited
    raw = RawSftp(ryan)
    try:
        raw.init()
        assert "copy-data" in raw.extensions, sorted(raw.extensions)
    finally:
        raw.close()
    three = tmp_path / "three"
    random_file(three, 3 * MiB)
    with watched(g, "web", "raw"):
        r = sftp_batch(ryan, [f"put {three} web/a", "cp web/a web/b", "cp web/a raw/a"])
        assert r.returncode == 0, r.stderr
        assert reported(wait_quota(g.state, "web", bytes=6 * MiB)) == Usage(6 * MiB, 2)
        assert reported(wait_quota(g.state, "raw", bytes=3 * MiB)) == Usage(3 * MiB, 1)
        # A third copy does not fit in `web`: refused, nothing published.
        r = sftp_batch(ryan, ["cp web/a web/c"])
        assert r.returncode == 1, "a server-side copy past the limit succeeded"
        r = sftp_batch(ryan, ["cp web/a raw/b", "cp raw/a raw/c"])
        assert r.returncode == 1, "a server-side copy past the limit succeeded"
    assert sorted(os.listdir(g.volumes / "web")) == ["a", "b"]


def test_many_tiny_files_stop_at_the_file_limit(limited):
    """Four sessions at once create empty files, folders and symlinks, twice
    as many as the limit allows: exactly FILES are made."""
    g, ryan = limited
    made = []

    def create(s, worker: int) -> None:
        for i in range(FILES // 2):
            path = f"raw/t{worker}-{i}"
            kinds = (lambda: s.open(path, "w").close(), lambda: s.mkdir(path), lambda: s.symlink("t", path))
            if not refused(kinds[i % 3]):
                made.append(path)

    with watched(g, "raw"), sessions(ryan, 4) as ss:
        run_threads(create, [(s, w) for w, s in enumerate(ss)])
        assert len(made) == FILES, f"{len(made)} entries made with a limit of {FILES}"
        assert folder_usage(g.volumes / "raw").files == FILES
        # Removing one makes room for exactly one.
        s = ss[0]
        s.remove(next(p for p in made if (g.volumes / p).is_file() and not (g.volumes / p).is_symlink()))
        s.open("raw/one-more", "w").close()
        assert refused(lambda: s.open("raw/two-more", "w").close())
        assert refused(lambda: s.mkdir("raw/two-more"))
        assert refused(lambda: s.symlink("t", "raw/two-more"))


def test_hard_links_count_once_and_free_at_the_last(limited, tmp_path):
    """sftp `ln` (hardlink@openssh.com): a file with three names counts once;
    removing names frees nothing until the last one goes."""
    g, ryan = limited
    web = g.volumes / "web"
    three, four, two = tmp_path / "three", tmp_path / "four", tmp_path / "two"
    random_file(three, 3 * MiB)
    random_file(four, 4 * MiB)
    random_file(two, 2 * MiB)
    with watched(g, "web"):
        r = sftp_batch(ryan, [f"put {three} web/a", "ln web/a web/b", "ln web/a web/c"])
        assert r.returncode == 0, r.stderr
        assert os.stat(web / "a").st_nlink == 3
        assert reported(wait_quota(g.state, "web", bytes=3 * MiB, files=1)) == Usage(3 * MiB, 1)
        # Counted once: 3 + 4 MiB fit in 8.
        assert sftp_batch(ryan, [f"put {four} web/d"]).returncode == 0
        # Two names of three gone: the file is still there and still counts.
        assert sftp_batch(ryan, ["rm web/a", "rm web/b"]).returncode == 0
        assert reported(wait_quota(g.state, "web", bytes=7 * MiB, files=2)) == Usage(7 * MiB, 2)
        assert sftp_batch(ryan, [f"put {two} web/e"]).returncode == 1, "2 MiB more fit where 1 MiB was left"
        # The last name frees it.
        assert sftp_batch(ryan, ["rm web/c"]).returncode == 0
        assert reported(wait_quota(g.state, "web", bytes=4 * MiB, files=1)) == Usage(4 * MiB, 1)
        assert sftp_batch(ryan, [f"put {two} web/e"]).returncode == 0
    assert sorted(os.listdir(web)) == ["d", "e"]


def test_overwrite_racing_a_delete(limited, measure):
    """One session keeps replacing a name (an atomic upload published over it
    in `web`, an in-place O_TRUNC rewrite in `raw`) with files of changing
    sizes while another keeps deleting it, for a few seconds."""
    g, ryan = limited
    counts = {"written": 0, "removed": 0}
    errors: list[str] = []
    stop = [0.0]

    def overwrite(s, where: str) -> None:
        n = 0
        while time.monotonic() < stop[0]:
            n += 1
            try:
                with s.open(f"{where}/x", "w") as f:
                    f.write(os.urandom((n % 5 + 1) * 256 * 1024))
                counts["written"] += 1
            except OSError:
                pass  # the name removed under it: fine, the figures must still agree
            except Exception as e:  # noqa: BLE001 (reported below, not swallowed)
                errors.append(repr(e))
                return

    def delete(s, where: str) -> None:
        while time.monotonic() < stop[0]:
            try:
                s.remove(f"{where}/x")
                counts["removed"] += 1
            except OSError:
                pass

    with watched(g, "web", "raw"), sessions(ryan, 4) as ss:
        stop[0] = time.monotonic() + 6
        run_threads(lambda fn, s, where: fn(s, where),
                    [(fn, ss[2 * i + j], where) for i, where in enumerate(("web", "raw"))
                     for j, fn in enumerate((overwrite, delete))])
    assert not errors, errors
    assert counts["written"] > 10 and counts["removed"] > 10, counts
    measure(f"overwrite racing a delete for 6 s: {counts}")


def test_writes_through_a_handle_whose_name_another_session_removed(limited):
    """The steps of the race above, one at a time: session A opens a name
    for writing (a new file, or an overwrite of an old one), session B
    removes the name, A writes 256 KiB and closes. Once A's handle is closed
    the bytes are nowhere (an unlinked file, a discarded upload), so the
    gateway's figure must be what the folder holds."""
    g, ryan = limited
    with watched(g, "web", "raw"), sessions(ryan, 2) as (a, b):
        for where in ("web", "raw"):
            for old in (False, True):
                if old:
                    with a.open(f"{where}/x", "w") as f:
                        f.write(b"o" * 100_000)
                f = a.open(f"{where}/x", "w")
                b.remove(f"{where}/x")
                f.write(b"n" * 256 * 1024)
                f.flush()
                refused(f.close)  # whatever close says, the figures must agree afterwards


def test_eight_sessions_writing_at_once(limited, tmp_path, measure):
    """Eight paramiko sessions write 4 MiB each in place (32 MiB into 8), then
    eight OpenSSH sftp processes put 2 MiB each as atomic uploads."""
    g, ryan = limited
    outcomes: dict[int, str] = {}
    chunk = os.urandom(32 * 1024)

    def write(s, i: int) -> None:
        with s.open(f"raw/w{i}", "w") as f:
            try:
                for _ in range(4 * MiB // len(chunk)):
                    f.write(chunk)
                    f.flush()
                outcomes[i] = "ok"
            except OSError:
                outcomes[i] = "refused"

    with watched(g, "raw") as sampled, sessions(ryan, 8) as ss:
        run_threads(write, [(s, i) for i, s in enumerate(ss)])
    total = folder_usage(g.volumes / "raw").bytes
    assert len(outcomes) == 8 and list(outcomes.values()).count("ok") <= 2, outcomes
    # Each writer stopped within one of its writes of the limit.
    assert LIMIT - len(chunk) < total <= LIMIT, total
    measure(f"8 in-place writers: {total} bytes stored, at most {sampled['raw'].most.bytes} seen; {outcomes}")

    two = tmp_path / "two"
    random_file(two, 2 * MiB)
    with watched(g, "web") as sampled:
        # Each from a source address of its own: sshd's PerSourceMaxStartups 4.
        procs = [SftpProcess(ryan, [f"put {two} web/p{i}"], options=[f"BindAddress=127.0.2.{i + 1}"])
                 for i in range(8)]
        results = [p.finish(50) for p in procs]
    published = sorted(os.listdir(g.volumes / "web"))
    codes = [rc for rc, _, _ in results]
    assert all(rc in (0, 1) for rc in codes), results
    assert codes.count(0) == len(published) <= LIMIT // (2 * MiB), (codes, published)
    assert all(os.stat(g.volumes / "web" / n).st_size == 2 * MiB for n in published)
    measure(f"8 sftp puts of 2 MiB at once: {len(published)} published, at most {sampled['web'].most.bytes} bytes seen")
