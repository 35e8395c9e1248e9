"""What is mounted where, from /proc/self/mountinfo."""
from __future__ import annotations

import os
from pathlib import Path


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as octal (\040).
    return field.encode().decode("unicode_escape") if "\\" in field else field


def mount_table() -> list[tuple[str, str, str]]:
    """(mount point, fs type, source) of every mount, bottom to top."""
    table = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            fstype, source = right.split()[:2]
            table.append((_unescape(left.split()[4]), fstype, source))
    return table


def mounts_at(path: Path | str) -> list[str]:
    """File system types mounted at path, bottom to top."""
    target = os.path.realpath(path)  # a dead FUSE mount resolves to itself
    return [fstype for point, fstype, _ in mount_table() if point == target]


def mounted(path: Path | str) -> bool:
    """Anything mounted at path (the gateway's FUSE view, or the shared
    bind mount it puts under the view in host mode)."""
    return bool(mounts_at(path))


def fuse_mounted(path: Path | str) -> bool:
    return any(t.startswith("fuse") for t in mounts_at(path))
