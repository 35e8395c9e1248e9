"""Fixtures for the end-to-end tests: a real gateway with its real sshd on a
loopback port, served to real clients.

A missing prerequisite (root, /dev/fuse, sshd, clients, paramiko) skips the
whole run (exit status 77, ctest's SKIP_RETURN_CODE); with CI=true it fails.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import prerequisites as prerequisites_gate  # noqa: E402
from clients import Target  # noqa: E402
from gateway import E2E_ROOT, LOG_DIR, Gateway, Layout  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
IN_CI = prerequisites_gate.IN_CI

RYAN, GARY = 1000, 1001
WEB_OWNER = (54321, 54321)    # a volume owned by someone other than its sftp user
MUSIC_OWNER = (54322, 54322)  # mapped read-only
SESSION_LAYOUT = Layout(
    users={"ryan": RYAN, "gary": GARY},
    maps=["web:ryan:web", "music:ryan:music:ro", "music:gary:music:ro"],
    volumes={"web": WEB_OWNER, "music": MUSIC_OWNER},
)
PROGRAMS = ["/usr/sbin/sshd", "ssh", "sftp", "ssh-keygen", "sshfs", "lftp", "ssh-audit", "fusermount3"]


def gateway_binary() -> str | None:
    env = os.environ.get("GATEWAY_BIN")
    if env:
        return env
    for build in ("build", "build-gw"):
        p = REPO / build / "gateway" / "gateway"
        if p.is_file():
            return str(p)
    return None


def missing_prerequisites() -> list[str]:
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    if not os.access("/dev/fuse", os.R_OK | os.W_OK):
        missing.append("/dev/fuse")
    for prog in PROGRAMS:
        if shutil.which(prog) is None:
            missing.append(prog)
    try:
        import paramiko  # noqa: F401  (only whether it imports)
    except ImportError:
        missing.append("python3-paramiko")
    binary = gateway_binary()
    if binary is None or not os.access(binary, os.X_OK):
        missing.append(f"the gateway binary (GATEWAY_BIN={binary})")
    return missing


@pytest.fixture(scope="session", autouse=True)
def prerequisites():
    prerequisites_gate.require(missing_prerequisites())


def pytest_sessionfinish(session, exitstatus):
    prerequisites_gate.finish(session, exitstatus)


# -- files -------------------------------------------------------------------

def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def random_file(path: Path, size: int) -> str:
    """Writes size random bytes to path; returns their sha256."""
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(os.urandom(n))
            left -= n
    return sha256(path)


# -- keys --------------------------------------------------------------------

KEY_SPECS = {
    "ryan_ed25519": ["-t", "ed25519"],
    "ryan_rsa3072": ["-t", "rsa", "-b", "3072"],
    "ryan_rsa2048": ["-t", "rsa", "-b", "2048"],
    "ryan_ecdsa": ["-t", "ecdsa", "-b", "256"],
    "gary_ed25519": ["-t", "ed25519"],
    "carol_ed25519": ["-t", "ed25519"],
}


@pytest.fixture(scope="session")
def keys(prerequisites) -> dict[str, Path]:
    E2E_ROOT.mkdir(mode=0o755, exist_ok=True)
    shutil.rmtree(LOG_DIR, ignore_errors=True)  # the previous run's logs
    import tempfile
    d = Path(tempfile.mkdtemp(prefix="keys-", dir=E2E_ROOT))
    out = {}
    for name, spec in KEY_SPECS.items():
        path = d / name
        subprocess.run(["ssh-keygen", "-q", *spec, "-N", "", "-C", f"e2e-{name}", "-f", str(path)],
                       check=True, timeout=30, stdin=subprocess.DEVNULL)
        out[name] = path
    yield out
    shutil.rmtree(d, ignore_errors=True)


def pub(key: Path) -> Path:
    return key.with_name(key.name + ".pub")


# -- gateways ------------------------------------------------------------------

@pytest.fixture(scope="session")
def gw(keys) -> Gateway:
    """The shared gateway: ryan (home, `web` rw on a volume owned by 54321,
    `music` ro) and gary (`music` ro). Keys go in with `gateway keys add`;
    ryan's RSA-2048 and ECDSA keys are appended by hand (the tool refuses
    them) to show the gateway does not serve them either."""
    g = Gateway(gateway_binary(), SESSION_LAYOUT, name="session")
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
    except BaseException:
        g.kill()
        g.cleanup()
        raise
    yield g
    try:
        rc = g.stop()
        assert rc == 0, f"gateway exited with {rc} on SIGTERM:\n{g.log_tail()}"
        assert not (g.state / "runtime").exists(), "the runtime state file outlived the gateway"
        assert not (g.state / "sshd.pid").exists(), "the sshd pid file outlived the gateway"
    finally:
        g.kill()
        g.cleanup()


@pytest.fixture(autouse=True)
def session_gateway_alive(request):
    """A gateway that died earlier would fail every later test with
    "connection refused": say so once, plainly."""
    if "gw" in request.fixturenames:
        g = request.getfixturevalue("gw")
        if g.proc.poll() is not None:
            pytest.fail(f"the session gateway exited earlier (status {g.proc.returncode}):\n{g.log_tail()}")
    yield


@pytest.fixture
def gw_factory(gateway_binary_path, gw):
    """Starts short-lived extra gateways (own port, own folders) reusing the
    session gateway's host keys; stops them all at the end of the test."""
    started: list[Gateway] = []

    def make(layout: Layout, name: str, keys_for: dict[str, list[Path]]) -> Gateway:
        g = Gateway(gateway_binary_path, layout, name=name, seed_host_keys=gw.state / "host_keys")
        for user, pubs in keys_for.items():
            for p in pubs:
                g.keys_add(user, p)
        started.append(g)
        return g.start()

    yield make
    errors = []
    for g in started:
        try:
            if g.proc and g.proc.poll() is None:
                g.stop()
        except AssertionError as e:
            errors.append(str(e))
        finally:
            g.kill()
            g.cleanup()
    assert not errors, "\n".join(errors)


@pytest.fixture(scope="session")
def gateway_binary_path(prerequisites) -> str:
    return gateway_binary()


@pytest.fixture
def ryan(gw, keys) -> Target:
    return Target(gw.port, "ryan", keys["ryan_ed25519"])


@pytest.fixture
def ryan_rsa(gw, keys) -> Target:
    return Target(gw.port, "ryan", keys["ryan_rsa3072"])


@pytest.fixture
def gary(gw, keys) -> Target:
    return Target(gw.port, "gary", keys["gary_ed25519"])


# -- failure reports -----------------------------------------------------------

@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and "gw" in item.funcargs:
        g = item.funcargs["gw"]
        rep.sections.append(("gateway log (last lines)", g.log_tail(60)))
