"""The three modes: what each workload moves, how often, and how long it may take."""

from dataclasses import dataclass, field

MiB = 1 << 20


@dataclass(frozen=True)
class Mode:
    name: str
    reps: int
    # local
    big_bytes: int             # sequential write / read
    files: int                 # small files created, found, stated, deleted
    folders: int
    file_bytes: int
    tree_files: int            # 0: all of /usr/include; else the first N files of it
    # sftp
    sftp_big_bytes: int
    sftp_small_files: int
    sftp_small_bytes: int
    parallel_sessions: int
    parallel_bytes: int        # per session
    sshfs_tree: bool
    ciphers: tuple = ("aes128-gcm@openssh.com", "aes256-ctr")
    sftp_backings: tuple = ("ext4", "tmpfs")
    # scale
    scale_users: tuple = (1, 100, 1000, 10000)
    mappings_per_user: int = 3
    stat_samples: int = 2000
    reloads: int = 5
    # quota: the scan's tree, folders x files per folder
    quota_tree: tuple = (1000, 1000)
    # bigdir: empty files in one folder
    bigdir_entries: int = 200000
    # bounds
    step_timeout: float = 900.0  # one timed step
    budget_note: str = ""
    extra: dict = field(default_factory=dict)


MODES = {
    "smoke": Mode(
        name="smoke", reps=1,
        big_bytes=8 * MiB, files=100, folders=10, file_bytes=4096, tree_files=150,
        sftp_big_bytes=8 * MiB, sftp_small_files=50, sftp_small_bytes=4096,
        parallel_sessions=8, parallel_bytes=1 * MiB, sshfs_tree=True,
        sftp_backings=("ext4",),
        scale_users=(1, 100), stat_samples=200, reloads=2,
        quota_tree=(10, 100), bigdir_entries=2000,
        step_timeout=60.0,
        budget_note="tiny sizes, 1 repetition: checks that every step works (CI); figures mean nothing",
    ),
    "quick": Mode(
        name="quick", reps=2,
        big_bytes=256 * MiB, files=2000, folders=20, file_bytes=4096, tree_files=5000,
        sftp_big_bytes=256 * MiB, sftp_small_files=500, sftp_small_bytes=4096,
        parallel_sessions=8, parallel_bytes=32 * MiB, sshfs_tree=True,
        scale_users=(1, 100, 1000, 10000), stat_samples=1000, reloads=3,
        quota_tree=(100, 1000), bigdir_entries=50000,
        step_timeout=600.0,
        budget_note="reduced sizes, 2 repetitions: a check of the harness, not figures for the README",
    ),
    "full": Mode(
        name="full", reps=5,
        big_bytes=1024 * MiB, files=10000, folders=100, file_bytes=4096, tree_files=0,
        sftp_big_bytes=1024 * MiB, sftp_small_files=2000, sftp_small_bytes=4096,
        parallel_sessions=8, parallel_bytes=128 * MiB, sshfs_tree=True,
        scale_users=(1, 100, 1000, 10000, 100000), stat_samples=2000, reloads=5,
        step_timeout=900.0,
        budget_note="the issue's sizes, 5 repetitions",
    ),
}
