"""Fixtures of the hostile suite: a real gateway with its real sshd on a
loopback port (listening on 127.0.0.1 and 127.0.0.2), the e2e tier's helpers
imported from tests/e2e, and short-lived extra gateways for the fault, audit
and load tests (so that killing a worker or filling a disk never disturbs
another test).

Prerequisites are the e2e tier's (root, /dev/fuse, sshd and the clients,
paramiko, the gateway binary) plus util-linux's setpriv, nsenter, prlimit and
unshare, and getent; a missing one skips the run (exit status 77), or fails
it with CI=true.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import hostile  # noqa: E402  (puts tests/e2e on sys.path, moves the e2e root to /run/gw-hostile)
import prerequisites as prerequisites_gate  # noqa: E402
from clients import Target  # noqa: E402
from gateway import Layout  # noqa: E402
from hostile import HOSTILE_ROOT, HostileGateway  # noqa: E402


def _load_e2e_conftest():
    # Imported under another name: this folder's conftest owns `conftest`.
    spec = importlib.util.spec_from_file_location("e2e_conftest", hostile.E2E_DIR / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


e2e = _load_e2e_conftest()
IN_CI = e2e.IN_CI
sha256 = e2e.sha256
random_file = e2e.random_file
pub = e2e.pub

RYAN, GARY = 1000, 1001
WEB_OWNER = (54321, 54321)     # ryan's `web`, atomic (the default for volumes)
OTHER_OWNER = (54321, 54321)   # ryan's `other`: a second mapping of the same owner (cross-mapping moves)
MUSIC_OWNER = (54322, 54322)   # `music`, read-only for ryan and gary
LINKS_OWNER = (54323, 54323)   # ryan's `links`, with the `symlinks` option
FILES_OWNER = (54324, 54324)   # gary's `files`
SESSION_MAPS = ["web:ryan:web", "other:ryan:other", "music:ryan:music:ro", "music:gary:music:ro",
                "links:ryan:links:symlinks", "files:gary:files"]
SESSION_VOLUMES = {"web": WEB_OWNER, "other": OTHER_OWNER, "music": MUSIC_OWNER, "links": LINKS_OWNER,
                   "files": FILES_OWNER}
SECOND_ADDRESS = "127.0.0.2"   # sshd listens here too: a source address of its own
SILENT_ADDRESS = "127.0.0.3"   # the client that never sends its version string
LOGIN_GRACE = 20               # the rendered LoginGraceTime

EXTRA_PROGRAMS = ["setpriv", "nsenter", "prlimit", "mount", "umount", "unshare", "getent"]


@pytest.fixture(scope="session", autouse=True)
def prerequisites():
    prerequisites_gate.require(e2e.missing_prerequisites() + [p for p in EXTRA_PROGRAMS if shutil.which(p) is None])


def pytest_sessionfinish(session, exitstatus):
    prerequisites_gate.finish(session, exitstatus)


@pytest.fixture(scope="session")
def gateway_binary_path(prerequisites) -> str:
    return e2e.gateway_binary()


KEY_SPECS = {
    "ryan_ed25519": ["-t", "ed25519"],
    "ryan_rsa3072": ["-t", "rsa", "-b", "3072"],
    "ryan_rsa2048": ["-t", "rsa", "-b", "2048"],
    "ryan_ecdsa": ["-t", "ecdsa", "-b", "256"],
    "gary_ed25519": ["-t", "ed25519"],
}


@pytest.fixture(scope="session")
def keys(prerequisites) -> dict[str, Path]:
    HOSTILE_ROOT.mkdir(mode=0o755, exist_ok=True)
    os.chmod(HOSTILE_ROOT, 0o755)
    shutil.rmtree(hostile.e2e_gateway.LOG_DIR, ignore_errors=True)  # the previous run's logs
    d = Path(tempfile.mkdtemp(prefix="keys-", dir=HOSTILE_ROOT))
    out = {}
    for name, spec in KEY_SPECS.items():
        path = d / name
        subprocess.run(["ssh-keygen", "-q", *spec, "-N", "", "-C", f"hostile-{name}", "-f", str(path)],
                       check=True, timeout=30, stdin=subprocess.DEVNULL)
        out[name] = path
    yield out
    shutil.rmtree(d, ignore_errors=True)


class SilentClient:
    """Connects from SILENT_ADDRESS, reads sshd's version string and then
    says nothing; records when sshd drops the connection."""

    def __init__(self, port: int):
        self.started = time.monotonic()
        self.sock = hostile.free_source_socket(SILENT_ADDRESS, port)
        self.sock.settimeout(60)
        self.banner = b""
        self.closed_after: float | None = None
        self.error: str | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while True:
                chunk = self.sock.recv(4096)
                if not chunk:
                    self.closed_after = time.monotonic() - self.started
                    return
                self.banner += chunk
        except OSError as e:  # a reset counts as dropped too
            self.closed_after = time.monotonic() - self.started
            self.error = repr(e)
        finally:
            self.sock.close()

    def wait(self, timeout: float) -> None:
        self.thread.join(timeout)


@pytest.fixture(scope="session")
def gw(keys, gateway_binary_path) -> HostileGateway:
    """The shared gateway. ryan: home, `web` (atomic), `other`, `music` (ro),
    `links` (symlinks); gary: home, `music` (ro), `files`. ryan's RSA-2048
    and ECDSA keys are appended to his key file by hand (`gateway keys add`
    refuses them). A silent client connects right after the start, so that
    the grace-time test (item 16) measures it without waiting on its own."""
    layout = Layout(users={"ryan": RYAN, "gary": GARY}, maps=list(SESSION_MAPS), volumes=dict(SESSION_VOLUMES))
    g = HostileGateway(gateway_binary_path, layout, name="hostile")
    layout.extra_args += ["--listen", SECOND_ADDRESS, "--audit-log", str(g.audit_path)]
    music = g.volumes / "music"
    random_file(music / "song.ogg", 300_000)
    os.chown(music / "song.ogg", *MUSIC_OWNER)
    for user, key in (("ryan", "ryan_ed25519"), ("ryan", "ryan_rsa3072"), ("gary", "gary_ed25519")):
        g.keys_add(user, pub(keys[key]))
    with open(g.state / "authorized_keys" / "ryan", "a") as f:
        for key in ("ryan_rsa2048", "ryan_ecdsa"):
            f.write(pub(keys[key]).read_text())
    try:
        g.start()
        deadline = time.monotonic() + 10
        while f"Server listening on {SECOND_ADDRESS} port {g.port}." not in g.log():
            assert time.monotonic() < deadline, g.log_tail()
            time.sleep(0.05)
        g.silent = SilentClient(g.port)
    except BaseException:
        g.kill()
        g.cleanup()
        raise
    yield g
    try:
        rc = g.stop()
        assert rc == 0, f"gateway exited with {rc} on SIGTERM:\n{g.log_tail()}"
    finally:
        g.kill()
        g.cleanup()


@pytest.fixture
def gw_factory(gateway_binary_path, gw):
    """Starts short-lived gateways (own port and folders, the session's host
    keys); stops them all at the end of the test and checks they exit 0."""
    started: list[HostileGateway] = []

    def make(layout: Layout, name: str, keys_for: dict[str, list[Path]], audit: bool = False,
             nofile: int | None = None, prepare=None) -> HostileGateway:
        g = HostileGateway(gateway_binary_path, layout, name=name, seed_host_keys=gw.state / "host_keys",
                           nofile=nofile)
        if audit:
            layout.extra_args += ["--audit-log", str(g.audit_path)]
        for user, pubs in keys_for.items():
            for p in pubs:
                g.keys_add(user, p)
        if prepare:
            prepare(g)
        started.append(g)
        return g.start()

    yield make
    errors = []
    for g in started:
        try:
            if g.proc and g.proc.poll() is None:
                rc = g.stop()
                if rc != 0:
                    errors.append(f"{g.root.name}: exit status {rc} on SIGTERM")
        except AssertionError as e:
            errors.append(str(e))
        finally:
            g.kill()
            g.cleanup()
    assert not errors, "\n".join(errors)


@pytest.fixture
def ryan(gw, keys) -> Target:
    return Target(gw.port, "ryan", keys["ryan_ed25519"])


@pytest.fixture
def gary(gw, keys) -> Target:
    return Target(gw.port, "gary", keys["gary_ed25519"])


@pytest.fixture
def web(gw) -> Path:
    return gw.volumes / "web"


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for name in ("gw",):
            g = item.funcargs.get(name)
            if g is not None:
                rep.sections.append((f"{name} log (last lines)", g.log_tail(60)))


def pytest_report_header(config):
    return f"hostile suite: folders under {HOSTILE_ROOT}, logs kept in {HOSTILE_ROOT / 'logs'}"


def report(capsys, text: str) -> None:
    """A measured figure, printed even without -s (and kept in ctest's output)."""
    with capsys.disabled():
        print(f"\n[hostile] {text}", flush=True)


@pytest.fixture
def measure(capsys):
    return lambda text: report(capsys, text)


def sock_ok(port: int, host: str) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False
