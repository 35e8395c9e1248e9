"""Fixtures for the end-to-end tests: a real gateway with its real sshd on a
loopback port, served to real clients. The helpers are the gwtest package
(tests/gwtest); every folder lives under /run/gw-e2e.

A missing prerequisite (root, /dev/fuse, sshd, clients, rclone, paramiko) skips the
whole run (exit status 77, ctest's SKIP_RETURN_CODE); with CI=true it fails.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gwtest import prerequisites as gate
from gwtest import session
from gwtest.clients import Target
from gwtest.files import generate_keys
from gwtest.gateway import Fleet, Gateway, prepare_root

E2E_ROOT = Path("/run/gw-e2e")
KEY_SPECS = {**session.KEY_SPECS, "carol_ed25519": ["-t", "ed25519"]}
EXTRA_PROGRAMS = ["rclone"]  # `rclone about` (test_quota.py)


@pytest.fixture(scope="session", autouse=True)
def prerequisites():
    gate.require(gate.missing(EXTRA_PROGRAMS))


def pytest_sessionfinish(session, exitstatus):
    gate.finish(session, exitstatus)


@pytest.fixture(scope="session")
def gateway_binary_path(prerequisites) -> str:
    return gate.gateway_binary()


@pytest.fixture(scope="session")
def keys(prerequisites) -> dict[str, Path]:
    prepare_root(E2E_ROOT)
    folder, keys = generate_keys(E2E_ROOT, KEY_SPECS, "e2e")
    yield keys
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def gw(keys, gateway_binary_path) -> Gateway:
    """The shared gateway (gwtest.session: ryan with `web` and `music`, gary
    with `music`)."""
    g = Gateway.create(E2E_ROOT, gateway_binary_path, session.session_layout(), name="session")
    try:
        session.populate(g, keys)
        g.start()
    except BaseException:
        g.close()
        raise
    yield g
    try:
        rc = g.stop()
        assert rc == 0, f"gateway exited with {rc} on SIGTERM:\n{g.log_tail()}"
        assert not (g.state / "runtime").exists(), "the runtime state file outlived the gateway"
        assert not (g.state / "sshd.pid").exists(), "the sshd pid file outlived the gateway"
    finally:
        g.close()


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
    """Starts short-lived extra gateways (gwtest.gateway.Fleet: own port, own
    folders, the session gateway's host keys); stops them all at the end of
    the test."""
    fleet = Fleet(E2E_ROOT, gateway_binary_path, gw.state / "host_keys")
    yield fleet.start
    fleet.close()


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
    if not rep.failed:
        return
    # The session gateway's log, and that of a test's own gateway (a
    # fixture may hand one over in a tuple with its clients).
    for name, value in item.funcargs.items():
        for g in (value if isinstance(value, tuple) else (value,)):
            if isinstance(g, Gateway):
                rep.sections.append((f"{name}: gateway log (last lines)", g.log_tail(60)))
