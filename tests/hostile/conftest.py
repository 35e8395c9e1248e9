"""Fixtures of the hostile suite: a real gateway with its real sshd on a
loopback port (listening on 127.0.0.1 and 127.0.0.2), and short-lived extra
gateways for the fault, audit and load tests (so that killing a worker or
filling a disk never disturbs another test). The helpers are the gwtest
package (tests/gwtest) and hostile.py; every folder lives under /run/gw-hostile.

Prerequisites are the e2e tier's (root, /dev/fuse, sshd and the clients,
paramiko, the gateway binary) plus util-linux's setpriv, nsenter, prlimit and
unshare, and getent; a missing one skips the run (exit status 77), or fails
it with CI=true.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from gwtest import prerequisites as gate
from gwtest import session
from gwtest.clients import Target
from gwtest.files import generate_keys
from gwtest.gateway import Fleet, Gateway, Layout, prepare_root
from hostile import (EXTRA_PROGRAMS, HOSTILE_ROOT, SECOND_ADDRESS, SESSION_MAPS, SESSION_VOLUMES, HostileGateway,
                     SilentClient)


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
    prepare_root(HOSTILE_ROOT)
    folder, keys = generate_keys(HOSTILE_ROOT, session.KEY_SPECS, "hostile")
    yield keys
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def gw(keys, gateway_binary_path) -> HostileGateway:
    """The shared gateway (gwtest.session) with more mappings. ryan: home,
    `web` (atomic), `other`, `music` (ro), `links` (symlinks); gary: home,
    `music` (ro), `files`. A silent client connects right after the start, so
    that the grace-time test (item 16) measures it without waiting on its own."""
    layout = session.session_layout(SESSION_MAPS, SESSION_VOLUMES)
    g = HostileGateway.create(HOSTILE_ROOT, gateway_binary_path, layout, name="hostile")
    g.extra_args += ["--listen", SECOND_ADDRESS, "--audit-log", str(g.audit_path)]
    try:
        session.populate(g, keys)
        g.start()
        deadline = time.monotonic() + 10
        while f"Server listening on {SECOND_ADDRESS} port {g.port}." not in g.log():
            assert time.monotonic() < deadline, g.log_tail()
            time.sleep(0.05)
        g.silent = SilentClient(g.port)
    except BaseException:
        g.close()
        raise
    yield g
    try:
        rc = g.stop()
        assert rc == 0, f"gateway exited with {rc} on SIGTERM:\n{g.log_tail()}"
    finally:
        g.close()


@pytest.fixture
def gw_factory(gateway_binary_path, gw):
    """Starts short-lived gateways (gwtest.gateway.Fleet: own port and folders,
    the session's host keys), optionally with an audit trail or a lower
    open-file limit; stops them all at the end of the test and checks they
    exit 0."""
    fleet = Fleet(HOSTILE_ROOT, gateway_binary_path, gw.state / "host_keys", cls=HostileGateway)

    def make(layout: Layout, name: str, keys_for: dict[str, list[Path]], audit: bool = False,
             nofile: int | None = None, prepare=None) -> HostileGateway:
        def setup(g: HostileGateway) -> None:
            if audit:
                g.extra_args += ["--audit-log", str(g.audit_path)]
            if prepare:
                prepare(g)
        return fleet.start(layout, name, keys_for, prepare=setup, nofile=nofile)

    yield make
    fleet.close(check_status=True)


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
        # The session gateway's log, and that of a test's own gateway (a
        # fixture may hand one over in a tuple with its clients).
        for name, value in item.funcargs.items():
            for g in (value if isinstance(value, tuple) else (value,)):
                if isinstance(g, Gateway):
                    rep.sections.append((f"{name} log (last lines)", g.log_tail(60)))


def pytest_report_header(config):
    return f"hostile suite: folders under {HOSTILE_ROOT}, logs kept in {HOSTILE_ROOT / 'logs'}"


@pytest.fixture
def measure(capsys):
    """A measured figure, printed even without -s (and kept in ctest's output)."""
    def report(text: str) -> None:
        with capsys.disabled():
            print(f"\n[hostile] {text}", flush=True)
    return report
