"""The prerequisite gate of the Python tiers (e2e, hostile): a missing
prerequisite skips the whole run, which then exits 77 like the Catch2 tiers,
or fails it with CI=true (a CI run never passes without testing)."""
from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI") == "true"

_skipped = False


def require(missing: list[str]) -> None:
    """Called from a session-scoped autouse fixture with what is missing."""
    global _skipped
    if not missing:
        return
    msg = "prerequisite missing: " + ", ".join(missing)
    if IN_CI:
        pytest.fail(msg + " (CI=true: failing instead of skipping)", pytrace=False)
    _skipped = True
    pytest.skip(msg)


def finish(session, exitstatus) -> None:
    """Called from pytest_sessionfinish: a run that could not test anything reports 77."""
    if _skipped and exitstatus == 0:
        session.exitstatus = 77
