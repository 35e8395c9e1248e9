"""Small-file client, run as the benchmark user: one process per step, so the
step's CPU is this process's own and no fork per file distorts the timing.

  fileops.py create DIR FOLDERS FILES BYTES   mkdir DIR/dNNN, write FILES files
  fileops.py stat DIR FOLDERS FILES           lstat every file by path
"""

import os
import sys


def names(root, folders, files):
    per = files // folders
    for d in range(folders):
        folder = os.path.join(root, f"d{d:03d}")
        for i in range(per):
            yield folder, os.path.join(folder, f"f{i:05d}")


def create(root, folders, files, size):
    block = b"x" * size
    made = set()
    for folder, path in names(root, folders, files):
        if folder not in made:
            os.mkdir(folder)
            made.add(folder)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            if os.write(fd, block) != size:
                sys.exit(f"short write: {path}")
        finally:
            os.close(fd)


def stat_all(root, folders, files):
    n = 0
    for _, path in names(root, folders, files):
        os.lstat(path)
        n += 1
    if n != files // folders * folders:
        sys.exit("count mismatch")


def main():
    op, root, folders, files = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if op == "create":
        create(root, folders, files, int(sys.argv[5]))
    elif op == "stat":
        stat_all(root, folders, files)
    else:
        sys.exit(f"unknown op {op}")


if __name__ == "__main__":
    main()
