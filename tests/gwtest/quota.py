"""Quotas as the tests observe them: the worker's <state>/quota.json, what a
backing folder really holds (counted the way the limit is defined), and df
as an SFTP client asks for it (statvfs@openssh.com)."""
from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

MiB = 1 << 20
KiB = 1 << 10


@dataclass(frozen=True)
class Usage:
    bytes: int
    files: int


def quota_status(state: Path) -> dict[str, dict]:
    """The folders of <state>/quota.json by name ("web", "web/sub", "~ryan");
    {} while the worker has not written it. The worker replaces the file
    atomically, so a read never sees half of it."""
    try:
        text = (Path(state) / "quota.json").read_text()
    except FileNotFoundError:
        return {}
    return {f["folder"]: f for f in json.loads(text)["folders"]}


def wait_quota(state: Path, folder: str, timeout: float = 5.0, **want) -> dict:
    """Waits until the folder's entry has every field of `want` (e.g.
    counted=True, bytes=1024), since the worker rewrites the file at most
    once a second; returns the entry read last (which may differ: the caller
    asserts on it, so a failure shows what the gateway reported)."""
    deadline = time.monotonic() + timeout
    while True:
        entry = quota_status(state).get(folder, {})
        if all(entry.get(k) == v for k, v in want.items()) or time.monotonic() >= deadline:
            return entry
        time.sleep(0.05)


def reported(entry: dict) -> Usage:
    return Usage(entry.get("bytes", -1), entry.get("files", -1))


def folder_usage(folder: Path, racing: bool = False) -> Usage:
    """What is below `folder` (not the folder itself), as a limit counts it:
    files and symlinks by st_size, folders 0 bytes, every entry one file, a
    hard-linked file once; never follows a symlink. With `racing`, entries
    that go while it reads are skipped (a sample taken while clients write)."""
    seen: set[tuple[int, int]] = set()
    size, files = 0, 0
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except FileNotFoundError:
                if racing:
                    continue
                raise
            if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
                if (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
            files += 1
            if not stat.S_ISDIR(st.st_mode):
                size += st.st_size
    return Usage(size, files)


STATVFS_FIELDS = ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail", "f_files", "f_ffree", "f_favail",
                  "f_fsid", "f_flag", "f_namemax")


def paramiko_statvfs(sftp, path: str) -> dict[str, int]:
    """statvfs@openssh.com through a paramiko SFTPClient (paramiko has no
    helper for it): the server's struct statvfs, by field name."""
    from paramiko.sftp import CMD_EXTENDED, CMD_EXTENDED_REPLY
    t, msg = sftp._request(CMD_EXTENDED, "statvfs@openssh.com", path)
    assert t == CMD_EXTENDED_REPLY, f"statvfs@openssh.com answered with packet type {t}"
    return {name: msg.get_int64() for name in STATVFS_FIELDS}
