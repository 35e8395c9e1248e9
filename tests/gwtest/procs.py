"""Reading processes from /proc: state, parentage, command line, status fields.

The gateway's supervisor, worker and sshd are found and checked through
these, never by name alone (pkill-style matching would reach other runs).
"""
from __future__ import annotations

import os
import time

# Linux capability numbers (include/uapi/linux/capability.h).
CAP_NUMBERS = {"SETGID": 6, "SETUID": 7, "SYS_CHROOT": 18}


def cap_mask(names) -> int:
    mask = 0
    for n in names:
        mask |= 1 << CAP_NUMBERS[n]
    return mask


def stat_fields(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name, from the state on
    (the name may hold spaces and parentheses: split after the last ')').
    Raises OSError when the process is gone."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    return text[text.rindex(")") + 2:].split()


def proc_state(pid: int) -> str | None:
    """R, S, D, T, Z...; None when the process is gone."""
    try:
        return stat_fields(pid)[0]
    except OSError:
        return None


def pid_alive(pid: int) -> bool:
    """True while pid exists (a zombie too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_gone(pid: int, timeout: float) -> bool:
    """Waits up to timeout for pid to disappear; True when it did."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def children(pid: int) -> list[int]:
    """Direct children of pid, of every thread ([] when it is gone)."""
    kids = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return kids


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        for kid in children(todo.pop()):
            out.append(kid)
            todo.append(kid)
    return out


def cmdline(pid: int) -> str:
    """The command line, arguments joined by spaces; "" when the process is gone."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def proc_status(pid: int) -> dict[str, str]:
    """/proc/PID/status as a dict (Uid, CapBnd, NoNewPrivs, VmRSS...)."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def status_kib(pid: int, key: str) -> int:
    """A kB figure of /proc/PID/status (VmRSS, VmHWM) in KiB."""
    value = proc_status(pid).get(key)
    if value is None:
        raise KeyError(f"no {key} in /proc/{pid}/status")
    return int(value.split()[0])


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def thread_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))
