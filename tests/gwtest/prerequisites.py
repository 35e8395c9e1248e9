"""The prerequisite gate of the pytest tiers (e2e, hostile): a missing
prerequisite skips the whole run, which then exits 77 like the Catch2 tiers,
or fails it with CI=true (a CI run never passes without testing).

A tier's conftest calls require(missing(...)) from a session-scoped autouse
fixture and finish() from pytest_sessionfinish.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI") == "true"
REPO = Path(__file__).resolve().parents[2]

# What serving a real gateway to real clients takes (sshd, the clients, ssh-audit).
PROGRAMS = ["/usr/sbin/sshd", "ssh", "sftp", "ssh-keygen", "sshfs", "lftp", "ssh-audit", "fusermount3"]

_skipped = False


def gateway_binary() -> str | None:
    """$GATEWAY_BIN (set by ctest), else a binary in build/ or build-gw/."""
    env = os.environ.get("GATEWAY_BIN")
    if env:
        return env
    for build in ("build", "build-gw"):
        p = REPO / build / "gateway" / "gateway"
        if p.is_file():
            return str(p)
    return None


def missing(extra_programs: list[str] = ()) -> list[str]:
    """What is missing of root, /dev/fuse, PROGRAMS and extra_programs,
    python3-paramiko and the gateway binary."""
    out = []
    if os.geteuid() != 0:
        out.append("root")
    if not os.access("/dev/fuse", os.R_OK | os.W_OK):
        out.append("/dev/fuse")
    for prog in [*PROGRAMS, *extra_programs]:
        if shutil.which(prog) is None:
            out.append(prog)
    try:
        import paramiko  # noqa: F401  (only whether it imports)
    except ImportError:
        out.append("python3-paramiko")
    binary = gateway_binary()
    if binary is None or not os.access(binary, os.X_OK):
        out.append(f"the gateway binary (GATEWAY_BIN={binary})")
    return out


def require(missing_now: list[str]) -> None:
    """Skips the run (or fails it with CI=true) when anything is missing."""
    global _skipped
    if not missing_now:
        return
    msg = "prerequisite missing: " + ", ".join(missing_now)
    if IN_CI:
        pytest.fail(msg + " (CI=true: failing instead of skipping)", pytrace=False)
    _skipped = True
    pytest.skip(msg)


def finish(session, exitstatus) -> None:
    """Called from pytest_sessionfinish: a run that could not test anything reports 77."""
    if _skipped and exitstatus == 0:
        session.exitstatus = 77
