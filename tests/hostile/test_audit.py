"""The audit trail (`--audit-log FILE`): for a known session of operations,
the file holds exactly the expected JSON lines (op, path in the user's view,
mapping, result, reason for refusals, bytes written at close), and nothing
else. Runs its own gateway, so no other test writes to its trail."""
from __future__ import annotations

import re
import time

import pytest

from gwtest.clients import Target, sftp_batch
from gwtest.files import pub, random_file
from gwtest.gateway import Layout
from gwtest.session import GARY, MUSIC_OWNER, RYAN, WEB_OWNER
from hostile import AuditLog

FIELDS = {"time", "user", "uid", "pid", "op", "path", "mapping", "result"}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def audited(gw_factory, keys, tmp_path):
    layout = Layout(users={"ryan": RYAN, "gary": GARY}, maps=["web:ryan:web", "other:ryan:other", "music:ryan:music:ro"],
                    volumes={"web": WEB_OWNER, "other": WEB_OWNER, "music": MUSIC_OWNER})

    def prepare(g):
        random_file(g.volumes / "music" / "song.ogg", 1000)
        __import__("os").chown(g.volumes / "music" / "song.ogg", *MUSIC_OWNER)

    g = gw_factory(layout, "audit", {"ryan": [pub(keys["ryan_ed25519"])]}, audit=True, prepare=prepare)
    return g, Target(g.port, "ryan", keys["ryan_ed25519"])


def canonical(rec: dict) -> tuple:
    return (rec["op"], rec["path"], rec["mapping"], rec["result"], rec.get("bytes"), rec.get("reason"), rec.get("to"))


def test_audit_lines_for_a_session(audited, tmp_path):
    g, ryan = audited
    src, empty = tmp_path / "a.bin", tmp_path / "empty"
    random_file(src, 3000)
    empty.write_bytes(b"")
    audit = AuditLog(g.audit_path)
    audit.set_mark()
    assert audit.records() == [], "lines before the first operation"
    r = sftp_batch(ryan, [
        f"put {src} web/a.bin",
        "mkdir web/d",
        "rename web/a.bin web/d/b.bin",
        "chmod 600 web/d/b.bin",
        "-symlink b.bin web/d/link",          # refused: no `symlinks` option
        f"-put {src} music/x.bin",            # refused: read-only mapping
        "-rm music/song.ogg",                 # refused: read-only mapping
        "-rename web/d/b.bin other/b.bin",    # refused: across mappings
        "rm web/d/b.bin",
        "rmdir web/d",
        f"put {src} home.bin",
        f"put {empty} web/empty",
        f"put {src} web/empty",               # an overwrite: no create, one write
        f"put {empty} web/empty",             # truncated to nothing: a write line of 0 bytes
    ])
    assert r.returncode == 0, r.stderr
    expected = [
        ("create", "/ryan/web/a.bin", "ryan:web", "ok", None, None, None),
        ("write", "/ryan/web/a.bin", "ryan:web", "ok", 3000, None, None),
        ("mkdir", "/ryan/web/d", "ryan:web", "ok", None, None, None),
        ("rename", "/ryan/web/a.bin", "ryan:web", "ok", None, None, "/ryan/web/d/b.bin"),
        ("setattr", "/ryan/web/d/b.bin", "ryan:web", "ok", None, None, None),
        ("symlink", "/ryan/web/d/link", "ryan:web", "EPERM", None, "symlinks are off for this mapping", None),
        ("create", "/ryan/music/x.bin", "ryan:music", "EROFS", None, "read-only mapping", None),
        ("unlink", "/ryan/music/song.ogg", "ryan:music", "EROFS", None, "read-only mapping", None),
        ("rename", "/ryan/web/d/b.bin", "ryan:web", "EXDEV", None, "rename across mappings", "/ryan/other/b.bin"),
        ("unlink", "/ryan/web/d/b.bin", "ryan:web", "ok", None, None, None),
        ("rmdir", "/ryan/web/d", "ryan:web", "ok", None, None, None),
        ("create", "/ryan/home.bin", "ryan:~", "ok", None, None, None),
        ("write", "/ryan/home.bin", "ryan:~", "ok", 3000, None, None),
        ("create", "/ryan/web/empty", "ryan:web", "ok", None, None, None),  # nothing written: no write line
        ("write", "/ryan/web/empty", "ryan:web", "ok", 3000, None, None),
        ("write", "/ryan/web/empty", "ryan:web", "ok", 0, None, None),
    ]
    # The last write line comes at the release, which the kernel sends after
    # the client's close returned (and so possibly after sftp exited).
    deadline = time.monotonic() + 5
    while len(recs := audit.records()) < len(expected) and time.monotonic() < deadline:
        time.sleep(0.05)
    got = [canonical(x) for x in recs]
    # The same lines. Compared as a multiset: a write line is written at
    # release, which the kernel sends after close() returned, so the next operation's line
    # can come first (reported; not asserted, being a race).
    assert sorted(got, key=repr) == sorted(expected, key=repr), "\n".join(map(str, got))
    # Every line: exactly the documented fields, one session's caller.
    pids = {x["pid"] for x in recs}
    assert len(pids) == 1 and next(iter(pids)) > 1, pids
    for x in recs:
        extra = {"bytes"} if x["op"] == "write" else set()
        extra |= {"reason"} if x["result"] != "ok" else set()
        extra |= {"to"} if x["op"] == "rename" else set()
        assert set(x) == FIELDS | extra, x
        assert (x["user"], x["uid"]) == ("ryan", RYAN) and TIME.match(x["time"]), x


def test_audit_rename_names_its_destination(audited, tmp_path):
    g, ryan = audited
    src = tmp_path / "f"
    src.write_bytes(b"x")
    audit = AuditLog(g.audit_path)
    audit.set_mark()
    assert sftp_batch(ryan, [f"put {src} web/src.bin", "rename web/src.bin web/dst.bin"]).returncode == 0
    renames = [x for x in audit.records() if x["op"] == "rename"]
    assert len(renames) == 1 and "/ryan/web/dst.bin" in renames[0].values(), renames
