"""Files the tests write and compare, and the client keys they log in with."""
from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path


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


def pub(key: Path) -> Path:
    """The public half of a key made by ssh-keygen."""
    return key.with_name(key.name + ".pub")


def generate_keys(parent: Path, specs: dict[str, list[str]], comment: str) -> tuple[Path, dict[str, Path]]:
    """Makes one key per spec (name -> ssh-keygen type arguments) with
    ssh-keygen, in a new folder under parent; returns the folder and
    name -> private key path (pub() gives the public one)."""
    folder = Path(tempfile.mkdtemp(prefix="keys-", dir=parent))
    keys = {}
    for name, spec in specs.items():
        path = folder / name
        subprocess.run(["ssh-keygen", "-q", *spec, "-N", "", "-C", f"{comment}-{name}", "-f", str(path)],
                       check=True, timeout=30, stdin=subprocess.DEVNULL)
        keys[name] = path
    return folder, keys
