#!/usr/bin/python3
"""Projects files into a folder exactly as the kubelet's AtomicWriter
(kubernetes pkg/volume/util/atomic_writer.go) does for ConfigMap and Secret
volumes, so the test changes a podman ConfigMap volume the way a cluster
changes a mounted ConfigMap. podman 4.3.1 writes plain files instead (no
`..data`, no links, no swap).

  atomic_writer.py DIR KEY=FILE...   the payload: each KEY gets FILE's bytes

The kubelet's steps, in its order:
  1. the payload goes into a new timestamped folder `..<UTC time>.<random>`
     (files mode 0644 unless told otherwise, like defaultMode);
  2. a link `..data_tmp -> ..<ts>` is made and renamed over `..data` (the
     atomic step: a reader sees the old payload or the new one);
  3. a user-visible link `KEY -> ..data/KEY` is made for each new key (an
     existing one is left alone: it already points through ..data);
  4. user-visible links of keys no longer in the payload are removed;
  5. the previous timestamped folder is removed.
Plain files a non-kubelet writer left (podman's) are removed first.
"""
import os
import shutil
import sys
import tempfile
import time


def project(target, payload, mode=0o644):
    data = os.path.join(target, "..data")
    old_ts = os.readlink(data) if os.path.islink(data) else None
    if old_ts is None:  # podman's plain files: what the kubelet never leaves
        for name in os.listdir(target):
            path = os.path.join(target, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
    ts_dir = tempfile.mkdtemp(prefix=time.strftime("..%Y_%m_%d_%H_%M_%S.", time.gmtime()), dir=target)
    os.chmod(ts_dir, 0o755)
    for key, content in payload.items():
        path = os.path.join(ts_dir, key)
        with open(path, "wb") as f:
            f.write(content)
        os.chmod(path, mode)
    tmp = os.path.join(target, "..data_tmp")
    os.symlink(os.path.basename(ts_dir), tmp)
    os.rename(tmp, data)
    for key in payload:
        visible = os.path.join(target, key)
        if not os.path.lexists(visible):
            os.symlink(os.path.join("..data", key), visible)
    for name in os.listdir(target):
        if not name.startswith("..") and name not in payload:
            os.unlink(os.path.join(target, name))
    if old_ts:
        shutil.rmtree(os.path.join(target, old_ts))


def main():
    target, items = sys.argv[1], sys.argv[2:]
    payload = {}
    for item in items:
        key, _, path = item.partition("=")
        with open(path, "rb") as f:
            payload[key] = f.read()
    project(target, payload)


if __name__ == "__main__":
    main()
