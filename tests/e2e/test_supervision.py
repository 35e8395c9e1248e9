"""Host mode supervises sshd: a crashed sshd comes back, `gateway status`
tells the truth about it, and sshd does not outlive the gateway."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from gwtest.clients import Target, can_login
from gwtest.files import pub
from gwtest.gateway import Layout
from gwtest.procs import cmdline, pid_alive


def status(g) -> dict:
    r = subprocess.run([g.binary, "status", "--format", "json", "--config", str(g.config), "--state-dir", str(g.state),
                        "--mountpoint", str(g.view), "--data-dir", str(g.data), "--volumes-dir", str(g.volumes)],
                       capture_output=True, text=True, timeout=15)
    assert r.stdout, r.stderr
    return json.loads(r.stdout)


def kill_sshd_and_wait_for_restart(g) -> int:
    old = g.listener_pid()
    assert old and pid_alive(old)
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        new = g.listener_pid()
        if new and new != old:
            return new
        time.sleep(0.05)
    raise AssertionError(f"sshd was not restarted within 5 s:\n{g.log_tail()}")


@pytest.fixture
def small(gw_factory, keys):
    g = gw_factory(Layout(users={"ryan": 1000}, maps=[], volumes={}), "supervise",
                   {"ryan": [pub(keys["ryan_ed25519"])]})
    return g, Target(g.port, "ryan", keys["ryan_ed25519"])


def test_worker_restarted_after_a_crash(small):
    """The FUSE worker dies: the supervisor mounts a new one, sshd keeps
    running (same pid) and new logins work again."""
    g, ryan = small
    old, sshd = g.worker_pid(), g.listener_pid()
    assert old and sshd and can_login(ryan)
    mark = g.log_mark()
    os.kill(old, signal.SIGKILL)
    assert g.wait_for_log(r"worker \d+ serving again", mark, timeout=10), g.log_since(mark)
    deadline = time.monotonic() + 5
    while not can_login(ryan) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert can_login(ryan), g.log_since(mark)
    assert g.worker_pid() not in (None, old)
    assert g.listener_pid() == sshd, "sshd was restarted with the worker"


def test_sshd_restarted_after_a_crash(small):
    g, ryan = small
    s = status(g)
    assert (s["running"], s["mounted"], s["sshd_managed"], s["sshd_running"]) == (True, True, True, True), s
    assert [u["name"] for u in s["users"]] == ["ryan"] and s["users"][0]["keys"] == 1
    mark = g.log_mark()
    kill_sshd_and_wait_for_restart(g)
    assert g.wait_for_log(r"sshd \(pid \d+\) exited with status 137; restarting", mark)
    deadline = time.monotonic() + 5
    while not can_login(ryan) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert can_login(ryan), g.log_since(mark)


def test_status_follows_a_restarted_sshd(small):
    g, ryan = small
    new = kill_sshd_and_wait_for_restart(g)
    time.sleep(0.5)
    s = status(g)
    assert (g.sshd_pid(), s.get("sshd_pid"), s["sshd_running"]) == (new, new, True), \
        f"sshd.pid says {g.sshd_pid()}, status says {s}, the listener is {new}"


def test_sshd_does_not_outlive_a_killed_gateway(small):
    g, ryan = small
    sshd = g.listener_pid()
    assert sshd
    g.proc.kill()
    g.proc.wait(timeout=10)
    deadline = time.monotonic() + 3
    while pid_alive(sshd) and "sshd" in cmdline(sshd) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert not (pid_alive(sshd) and "sshd" in cmdline(sshd)), f"sshd {sshd} still runs after the gateway died"
    finally:
        g.kill()  # ends the process group (the orphaned sshd too) and removes the dead mount
