"""sshd runs with exactly SYS_CHROOT, SETUID and SETGID (and no_new_privs),
serves everything with them, and cannot serve a login without any one."""
from __future__ import annotations

import pytest

from gwtest.clients import Target, can_login, paramiko_sftp, sftp_batch
from gwtest.files import pub, random_file, sha256
from gwtest.gateway import Layout
from gwtest.procs import cap_mask, children, cmdline, descendants, pid_alive, proc_status

NEEDED = ["SYS_CHROOT", "SETUID", "SETGID"]


def sshd_listener(gw) -> int:
    """The sshd the gateway started: the pid it publishes in <state>/sshd.pid,
    checked against the gateway's children in /proc."""
    pid = gw.sshd_pid()
    assert pid > 0 and pid_alive(pid), gw.runtime()
    assert pid in children(gw.proc.pid), f"sshd {pid} is not a child of the gateway {gw.proc.pid}"
    assert cmdline(pid).startswith("sshd: /usr/sbin/sshd -D -e -f ") and "[listener]" in cmdline(pid), cmdline(pid)
    return pid


def caps(pid: int) -> dict[str, int]:
    st = proc_status(pid)
    out = {k: int(st[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}
    out["NoNewPrivs"] = int(st["NoNewPrivs"])
    out["Uid"] = int(st["Uid"].split()[0])
    return out


def test_sshd_has_exactly_the_needed_capabilities(gw, ryan, tmp_path):
    want = cap_mask(NEEDED)
    c = caps(sshd_listener(gw))
    assert c == {"CapInh": 0, "CapPrm": want, "CapEff": want, "CapBnd": want, "CapAmb": 0, "NoNewPrivs": 1,
                 "Uid": 0}, {k: hex(v) for k, v in c.items()}
    # With exactly these, login and a transfer work.
    src, back = tmp_path / "caps.bin", tmp_path / "caps.back"
    digest = random_file(src, 2_000_000)
    r = sftp_batch(ryan, [f"put {src} web/caps.bin", f"get web/caps.bin {back}", "rm web/caps.bin"])
    assert r.returncode == 0, r.stderr
    assert sha256(back) == digest
    # Every process of an open session keeps within the set; the one running
    # as the user has none at all.
    with paramiko_sftp(ryan) as s:
        assert "web" in s.listdir(".")
        session = descendants(sshd_listener(gw))
        assert session, "no per-connection sshd process"
        by_pid = {p: caps(p) for p in session if pid_alive(p)}
        for p, pc in by_pid.items():
            assert pc["CapBnd"] & ~want == 0 and pc["NoNewPrivs"] == 1, (p, cmdline(p), pc)
        users = [pc for pc in by_pid.values() if pc["Uid"] == 1000]
        assert users, f"no process runs as ryan: {[(p, cmdline(p)) for p in by_pid]}"
        for pc in users:
            assert pc["CapEff"] == pc["CapPrm"] == 0, pc


# What sshd logs when the capability is missing (see field notes).
MISSING = {
    "SYS_CHROOT": r'chroot\("/run/sshd"\): Operation not permitted',
    "SETGID": r"setgroups.*Operation not permitted",
    "SETUID": r"setresuid.*Operation not permitted",
}


@pytest.mark.parametrize("removed", [None, *NEEDED], ids=["none-removed", *NEEDED])
def test_login_fails_without_each_capability(gw_factory, keys, removed):
    """The same short-lived setup with all three (unrestricted), then without each one."""
    kept = [c for c in NEEDED if c != removed]
    layout = Layout(users={"ryan": 1000}, maps=[], volumes={}, capabilities=",".join(kept))
    name = f"caps-without-{removed.lower()}" if removed else "caps-all"
    g = gw_factory(layout, name, {"ryan": [pub(keys["ryan_ed25519"])]})
    # The instance reused the session's host keys instead of making new ones.
    assert "generated host key" not in g.log()
    c = caps(sshd_listener(g))
    assert (c["CapEff"], c["CapPrm"], c["CapBnd"], c["NoNewPrivs"]) == (cap_mask(kept),) * 3 + (1,), c
    mark = g.log_mark()
    t = Target(g.port, "ryan", keys["ryan_ed25519"])
    if removed is None:
        assert can_login(t), g.log_since(mark)
    else:
        assert not can_login(t, timeout=20), f"login worked without {removed}"
        assert g.wait_for_log(MISSING[removed], mark), g.log_since(mark)
    assert g.stop() == 0
