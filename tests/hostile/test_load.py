"""Load: LOAD_SESSIONS concurrent OpenSSH sftp sessions (default 32), each
uploading then downloading LOAD_FILES files (default 25; LOAD_FILES=200 is
the full run) of a fixed mix of sizes from 1 KiB to 8 MiB, mostly small,
LOAD_ROUNDS times (default 2) on one gateway.
Every file is checked by sha256 after the round trip and on the backing
store: 0 lost, 0 corrupt. The worker's memory and descriptors must come back
near their idle level once the files are removed, and the run is bounded in
time. Figures are printed (see README.md)."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gwtest.clients import Target, can_login, ssh_options
from gwtest.files import pub
from gwtest.gateway import Layout
from gwtest.procs import fd_count, status_kib, thread_count
from gwtest.session import GARY, RYAN, WEB_OWNER
from hostile import FD_SLACK, FILES_OWNER, HOSTILE_ROOT, fd_kinds, open_files_under, temporaries, wait_for

KIB, MIB = 1 << 10, 1 << 20
SESSIONS = int(os.environ.get("LOAD_SESSIONS", "32"))
FILES = int(os.environ.get("LOAD_FILES", "25"))
# The size mix, cycled with a per-session offset: 12 of 20 sizes are at most
# 64 KiB; odd sizes on purpose (no block multiples); mean about 0.85 MiB.
MIX = [1 * KIB, 1 * KIB + 1, 2 * KIB, 3 * KIB + 7, 4 * KIB, 7 * KIB, 12 * KIB, 16 * KIB - 1, 32 * KIB, 48 * KIB + 5,
       64 * KIB, 100 * KIB, 128 * KIB + 3, 256 * KIB, 512 * KIB - 9, 768 * KIB, 1 * MIB, 2 * MIB + 11, 4 * MIB, 8 * MIB]
# Bounded in time: generous against the figures measured here (README), so
# that only a hang or a collapse fails it.
DEADLINE = 60.0 + 0.25 * SESSIONS * FILES
# Back near idle after the run: descriptors within FD_SLACK (extra FUSE
# threads and a few cached descriptors, see hostile.py), no open backing
# file, and resident memory within RSS_SLACK_KIB of idle (per-thread malloc
# arenas of up to 16 FUSE threads keep some freed memory).
RSS_SLACK_KIB = 32 * 1024
# The same work again (LOAD_ROUNDS, default 2) may not grow the worker by
# more than this, beyond what more FUSE threads cost (each thread that the
# second round added brings its stack, malloc arena, /dev/fuse clone and
# splice pipe): a leak per file or per session would.
ROUNDS = int(os.environ.get("LOAD_ROUNDS", "2"))
ROUND_GROWTH_KIB = 2 * 1024
THREAD_RSS_KIB = 1024


def size_of(session: int, index: int) -> int:
    return MIX[(session * 7 + index) % len(MIX)]


@dataclass
class Session:
    number: int
    user: str
    remote: str         # folder in the user's view, relative to the home
    backing: Path       # the same folder on the backing store
    local: Path
    files: dict[str, tuple[int, str]] = field(default_factory=dict)  # name -> (size, sha256)
    proc: subprocess.Popen | None = None
    log: Path | None = None


def make_files(s: Session, pool: bytes) -> int:
    """Unique content per file: a header naming it, then a slice of a random
    pool at an offset of its own (so no two files are alike)."""
    src = s.local / "src"
    src.mkdir(parents=True)
    total = 0
    for i in range(FILES):
        size = size_of(s.number, i)
        name = f"f{i:04d}-{size}.bin"
        header = f"session {s.number} file {i} size {size}\n".encode()
        offset = (s.number * 7919 + i * 104729) % (len(pool) - 8 * MIB)
        data = (header + pool[offset:offset + size])[:size]
        (src / name).write_bytes(data)
        s.files[name] = (size, hashlib.sha256(data).hexdigest())
        total += size
    return total


def sha256_file(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(MIB), b""):
            h.update(chunk)
    return h.hexdigest()


class Sampler:
    """Samples the worker's VmRSS, descriptors and threads every 100 ms."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak_rss = self.peak_fds = self.peak_threads = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak_rss = max(self.peak_rss, status_kib(self.pid, "VmRSS"))
                self.peak_fds = max(self.peak_fds, fd_count(self.pid))
                self.peak_threads = max(self.peak_threads, thread_count(self.pid))
            except (OSError, AssertionError):
                pass
            self.stop.wait(0.1)

    def finish(self):
        self.stop.set()
        self.thread.join(timeout=5)


def source_address(n: int) -> str:
    # One loopback source address per session: sshd's PerSourceMaxStartups 4
    # would otherwise throttle 32 logins from 127.0.0.1.
    return f"127.0.1.{n + 1}"


def start_session(t: Target, s: Session, commands: list[str]) -> None:
    s.log = s.local / f"sftp-{time.monotonic_ns()}.log"
    argv = ["sftp", *ssh_options(t.key, [f"BindAddress={source_address(s.number)}", "ConnectTimeout=20"]),
            "-P", str(t.port), "-b", "-", f"{t.user}@{t.host}"]
    with open(s.log, "w") as log:
        s.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, text=True)
    s.proc.stdin.write("\n".join(commands) + "\n")
    s.proc.stdin.close()


LOGIN_WINDOW = 6  # logins in flight at once: under sshd's MaxStartups 10:30:60, which drops the excess


def logged_in(s: Session) -> bool:
    # sftp echoes each batch command once the session is up.
    return s.proc.poll() is not None or "sftp> " in s.log.read_text()


def run_all(targets: dict[str, Target], sessions: list[Session], commands_of, deadline: float) -> float:
    """Starts every session, at most LOGIN_WINDOW logging in at a time, and
    waits for all: the transfers of the first ones overlap the later logins."""
    start = time.monotonic()
    for i, s in enumerate(sessions):
        while sum(not logged_in(x) for x in sessions[:i]) >= LOGIN_WINDOW:
            assert time.monotonic() - start < deadline, "logins did not progress"
            time.sleep(0.01)
        start_session(targets[s.user], s, commands_of(s))
    failed = []
    for s in sessions:
        left = max(1.0, deadline - (time.monotonic() - start))
        try:
            rc = s.proc.wait(timeout=left)
        except subprocess.TimeoutExpired:
            for x in sessions:
                if x.proc.poll() is None:
                    x.proc.kill()
            raise AssertionError(f"the load did not finish within {deadline:.0f} s")
        if rc != 0:
            failed.append(f"session {s.number} ({s.user}) exited {rc}:\n" + s.log.read_text()[-1500:])
    assert not failed, "\n".join(failed)
    return time.monotonic() - start


@pytest.fixture
def load_gateway(gw_factory, keys):
    layout = Layout(users={"ryan": RYAN, "gary": GARY}, maps=["web:ryan:web", "files:gary:files"],
                    volumes={"web": WEB_OWNER, "files": FILES_OWNER})
    g = gw_factory(layout, "load", {"ryan": [pub(keys["ryan_ed25519"])], "gary": [pub(keys["gary_ed25519"])]})
    return g, {"ryan": Target(g.port, "ryan", keys["ryan_ed25519"]), "gary": Target(g.port, "gary", keys["gary_ed25519"])}


@pytest.mark.load
def test_concurrent_sessions_lose_and_corrupt_nothing(load_gateway, measure):
    g, targets = load_gateway
    local_root = HOSTILE_ROOT / f"load-local-{os.getpid()}"
    shutil.rmtree(local_root, ignore_errors=True)
    local_root.mkdir(mode=0o700)
    try:
        run_load(g, targets, local_root, measure)
    finally:
        shutil.rmtree(local_root, ignore_errors=True)


def run_load(g, targets, local_root: Path, measure) -> None:
    # Sessions alternate between ryan (an atomic volume mapping, stored as
    # 54321) and gary (his home, not atomic, stored as himself).
    sessions = []
    for n in range(SESSIONS):
        if n % 2 == 0:
            sessions.append(Session(n, "ryan", f"web/s{n:02d}", g.volumes / "web" / f"s{n:02d}", local_root / f"s{n:02d}"))
        else:
            sessions.append(Session(n, "gary", f"s{n:02d}", g.data / "gary" / f"s{n:02d}", local_root / f"s{n:02d}"))
    pool = os.urandom(16 * MIB)
    total_bytes = sum(make_files(s, pool) for s in sessions)
    del pool
    # Idle: after one login of each user (homes looked up, threads started).
    assert can_login(targets["ryan"]) and can_login(targets["gary"])
    worker = g.worker_pid()
    time.sleep(1.5)
    idle = (status_kib(worker, "VmRSS"), fd_count(worker), thread_count(worker))
    after = []
    for round_ in range(1, ROUNDS + 1):
        after.append(one_round(g, targets, sessions, total_bytes, worker, idle, round_, measure))
    # A second round of the same work must not leave the worker bigger: what
    # stays after the first (arenas, threads, cached descriptors) is reused.
    for prev, cur in zip(after, after[1:]):
        more_threads = max(0, cur[2] - prev[2])
        assert cur[0] <= prev[0] + ROUND_GROWTH_KIB + THREAD_RSS_KIB * more_threads, \
            f"VmRSS grew from {prev[0]} to {cur[0]} KiB in one more round ({more_threads} more threads)"
        assert cur[3] <= prev[3] + 8, f"backing descriptors grew from {prev[3]} to {cur[3]} in one more round"
    assert g.worker_pid() == worker, "the worker was restarted during the load"


def one_round(g, targets, sessions: list[Session], total_bytes: int, worker: int, idle, round_: int, measure):
    idle_rss, idle_fds, idle_threads = idle
    for s in sessions:
        shutil.rmtree(s.local / "back", ignore_errors=True)

    def transfer(s: Session) -> list[str]:
        (s.local / "back").mkdir()
        return ([f"mkdir {s.remote}"] + [f"put {s.local / 'src' / n} {s.remote}/{n}" for n in s.files] +
                [f"get {s.remote}/{n} {s.local / 'back' / n}" for n in s.files])

    sampler = Sampler(worker)
    try:
        took = run_all(targets, sessions, transfer, DEADLINE)
    finally:
        sampler.finish()

    # 0 lost, 0 corrupt: after the round trip and on the backing store.
    lost, corrupt, wrong_owner = [], [], []
    for s in sessions:
        owner = WEB_OWNER if s.user == "ryan" else (GARY, GARY)
        for name, (size, digest) in s.files.items():
            for where in (s.local / "back" / name, s.backing / name):
                if not where.exists():
                    lost.append(str(where))
                elif where.stat().st_size != size or sha256_file(where) != digest:
                    corrupt.append(str(where))
            st = os.stat(s.backing / name) if (s.backing / name).exists() else None
            if st and (st.st_uid, st.st_gid) != owner:
                wrong_owner.append(f"{s.backing / name}: {st.st_uid}:{st.st_gid}")
        assert sorted(os.listdir(s.backing)) == sorted(s.files), f"session {s.number}: extra or missing files"
    assert temporaries(g.volumes / "web") == []
    files = SESSIONS * FILES
    measure(f"load round {round_}: {SESSIONS} sessions x {FILES} files ({files} files, {total_bytes / MIB:.0f} MiB "
            f"each way) in {took:.1f} s: {2 * files / took:.1f} files/s, {2 * total_bytes / MIB / took:.1f} MiB/s "
            f"up+down; lost {len(lost)}, corrupt {len(corrupt)}")
    assert lost == [] and corrupt == [], (lost[:5], corrupt[:5])
    assert wrong_owner == [], wrong_owner[:5]
    assert took < DEADLINE

    # Remove everything through the view again (concurrently), then settle.
    def remove(s: Session) -> list[str]:
        return [f"rm {s.remote}/{n}" for n in s.files] + [f"rmdir {s.remote}"]

    run_all(targets, sessions, remove, DEADLINE)
    assert all(not s.backing.exists() for s in sessions)

    def settled():
        return (open_files_under(worker, g.volumes, g.data) == [] and fd_count(worker) <= idle_fds + FD_SLACK
                and status_kib(worker, "VmRSS") <= idle_rss + RSS_SLACK_KIB)

    try:
        wait_for(settled, 15, interval=0.5, what="the worker back near idle")
    finally:
        after = (status_kib(worker, "VmRSS"), fd_count(worker), thread_count(worker), fd_kinds(worker)["other"])
        measure(f"load round {round_}: worker VmRSS {idle_rss / 1024:.1f} MiB idle, {sampler.peak_rss / 1024:.1f} MiB "
                f"peak, {after[0] / 1024:.1f} MiB after; fds {idle_fds} idle, {sampler.peak_fds} peak, {after[1]} "
                f"after; threads {idle_threads} idle, {sampler.peak_threads} peak, {after[2]} after")
    return after
