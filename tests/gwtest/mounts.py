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


def fuse_connection(path: Path | str) -> str | None:
    """The FUSE connection id (the minor device number, as named under
    /sys/fs/fuse/connections) of the topmost FUSE mount at path; read from
    mountinfo, since a stat of the mount would wait on its daemon."""
    target = os.path.realpath(path)
    found = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            fields = left.split()
            if _unescape(fields[4]) == target and right.startswith("fuse"):
                found = fields[2].split(":")[1]
    return found


def abort_fuse_connection(path: Path | str) -> None:
    """Aborts the FUSE connection of the mount at path, as the kernel's
    request timeout does (fusectl mounted first if it is not)."""
    conn = fuse_connection(path)
    assert conn is not None, f"no FUSE mount at {path}"
    connections = Path("/sys/fs/fuse/connections")
    if not (connections / conn).exists():
        import subprocess
        subprocess.run(["mount", "-t", "fusectl", "fusectl", str(connections)], check=False, timeout=10)
    (connections / conn / "abort").write_text("1")
