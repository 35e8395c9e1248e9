"""A folder laid out and updated as the kubelet's atomic writer does for a
ConfigMap or Secret volume (kubernetes pkg/volume/util/atomic_writer.go): the
files in a hidden timestamped folder, `..data` linking to it, each key a link
`<key> -> ..data/<key>` made once. An update writes a new folder, links
`..data_tmp` to it, renames that over `..data` (the one atomic step), then
removes the old folder. tests/support/projected_volume.cpp is the same for
the C++ tests."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path


def publish(volume: Path, files: dict[str, str | bytes], mode: int = 0o644) -> None:
    """Makes the volume's content exactly `files` (key -> content)."""
    volume.mkdir(parents=True, exist_ok=True)
    data = volume / "..data"
    old = os.readlink(data) if data.is_symlink() else None
    folder = f"..{time.strftime('%Y_%m_%d_%H_%M_%S')}.{time.monotonic_ns()}"
    (volume / folder).mkdir(mode=0o755)
    for key, content in files.items():
        path = volume / folder / key
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        os.chmod(path, mode)
    os.symlink(folder, volume / "..data_tmp")
    os.rename(volume / "..data_tmp", data)
    for key in files:
        if not (volume / key).is_symlink():
            os.symlink(f"..data/{key}", volume / key)
    for entry in volume.iterdir():
        if not entry.name.startswith("..") and entry.name not in files:
            entry.unlink()
    if old:
        shutil.rmtree(volume / old)
