"""The rendered sshd configuration and the read-only etc/ tree, checked with
sshd itself, Debian's ssh-audit and root on the host."""
from __future__ import annotations

import errno
import json
import os
import re
import stat

import pytest

from gwtest.clients import Target, paramiko_transport, run

# ssh-audit 2.5 (Debian 12) predates the Terrapin fix and OpenSSH 9's
# defaults: it warns about these two although both are right. Anything
# else it warns or fails about is a finding.
KNOWN_FALSE_WARNINGS = {
    ("kex", "kex-strict-s-v00@openssh.com", "unknown algorithm"),
    ("kex", "sntrup761x25519-sha512@openssh.com", "using experimental algorithm"),
}
EXPECTED_ALGORITHMS = {
    "kex": ["sntrup761x25519-sha512@openssh.com", "curve25519-sha256", "curve25519-sha256@libssh.org",
            "diffie-hellman-group18-sha512", "diffie-hellman-group16-sha512", "kex-strict-s-v00@openssh.com"],
    "key": ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"],
    "enc": ["aes256-gcm@openssh.com", "aes128-gcm@openssh.com", "aes256-ctr", "aes192-ctr", "aes128-ctr"],
    "mac": ["hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "umac-128-etm@openssh.com"],
}


def openssh_version() -> tuple[int, int]:
    m = re.search(r"OpenSSH_(\d+)\.(\d+)", run(["/usr/sbin/sshd", "-V"]).stderr)
    assert m, "cannot tell sshd's version"
    return int(m.group(1)), int(m.group(2))


def expected_algorithms() -> dict[str, list[str]]:
    """What the gateway renders for the local OpenSSH (ML-KEM from 9.9 on)."""
    out = {k: list(v) for k, v in EXPECTED_ALGORITHMS.items()}
    if openssh_version() >= (9, 9):
        out["kex"].insert(0, "mlkem768x25519-sha256")
    return out


def sshd_config(gw) -> str:
    return str(gw.view / "etc" / "ssh" / "sshd_config")


def test_sshd_accepts_rendered_config(gw):
    r = run(["/usr/sbin/sshd", "-t", "-f", sshd_config(gw)])
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "", f"sshd -t complained: {r.stderr}"


def test_effective_sshd_settings(gw):
    """sshd's own view (-T) of the settings that matter, for an sftp user."""
    r = run(["/usr/sbin/sshd", "-T", "-f", sshd_config(gw), "-C", "user=ryan,host=client,addr=127.0.0.1"])
    assert r.returncode == 0, r.stderr
    algorithms = expected_algorithms()
    eff = {}
    for line in r.stdout.splitlines():
        key, _, value = line.partition(" ")
        eff.setdefault(key, value)
    expected = {
        "authenticationmethods": "publickey",
        "pubkeyauthentication": "yes",
        "passwordauthentication": "no",
        "kbdinteractiveauthentication": "no",
        "hostbasedauthentication": "no",
        "gssapiauthentication": "no",
        "usepam": "no",
        "permitrootlogin": "no",
        "disableforwarding": "yes",
        "allowagentforwarding": "no",
        "allowtcpforwarding": "no",
        "allowstreamlocalforwarding": "no",
        "x11forwarding": "no",
        "permittunnel": "no",
        "permittty": "no",
        "permituserrc": "no",
        "permituserenvironment": "no",
        "maxauthtries": "3",
        "logingracetime": "20",
        "maxstartups": "10:30:60",
        "persourcemaxstartups": "4",
        "compression": "no",
        "loglevel": "VERBOSE",
        "requiredrsasize": "3072",
        "chrootdirectory": f"{gw.view}/data/%u-chroot",
        "forcecommand": "internal-sftp -d /%u -u 0000",
        "subsystem": "sftp internal-sftp",
        "pubkeyacceptedalgorithms": "ssh-ed25519,rsa-sha2-512,rsa-sha2-256",
        "hostkeyalgorithms": "ssh-ed25519,rsa-sha2-512,rsa-sha2-256",
        "ciphers": ",".join(algorithms["enc"]),
        "macs": ",".join(algorithms["mac"]),
        "kexalgorithms": ",".join(algorithms["kex"][:-1]),  # the last, kex-strict, is implicit
        "authorizedkeysfile": f"{gw.view}/etc/ssh/authorized_keys/%u",
        "listenaddress": f"127.0.0.1:{gw.port}",
    }
    wrong = {k: (eff.get(k), v) for k, v in expected.items() if eff.get(k) != v}
    assert not wrong, f"effective settings (got, expected): {wrong}"
    assert eff.get("clientaliveinterval", "0") != "0"


def parse_ssh_audit(text: str) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    """Text output -> (category, algorithm, level, message) findings, and the
    algorithms ssh-audit recommends removing."""
    findings, removals, current = [], [], None
    head = re.compile(r"^\((\w+)\) (\S+)(?: \([^)]*\))?\s+-- \[(\w+)\] (.*?)\s*$")
    cont = re.compile(r"^\s+`- \[(\w+)\] (.*?)\s*$")
    rec = re.compile(r"^\(rec\) -(\S+?)\s*--")
    for line in text.splitlines():
        if m := rec.match(line):
            removals.append(m.group(1))
        elif m := head.match(line):
            current = (m.group(1), m.group(2))
            findings.append((*current, m.group(3), m.group(4)))
        elif (m := cont.match(line)) and current:
            findings.append((*current, m.group(1), m.group(2)))
    return findings, removals


def ssh_audit_version() -> tuple[int, ...]:
    """From the help banner, e.g. "# ssh-audit v2.5.0, https://..."."""
    m = re.search(r"ssh-audit v(\d+)\.(\d+)", run(["ssh-audit", "-h"]).stdout)
    assert m, "cannot tell ssh-audit's version"
    return int(m.group(1)), int(m.group(2))


def test_ssh_audit(gw):
    r = run(["ssh-audit", "-n", "-t", "10", "-p", str(gw.port), "127.0.0.1"], timeout=60)
    assert "(gen) banner: SSH-2.0-OpenSSH" in r.stdout, r.stdout + r.stderr
    findings, removals = parse_ssh_audit(r.stdout)
    seen = {(c, a) for c, a, _, _ in findings}
    # The parse saw every algorithm the server offers (not an empty pass).
    algorithms = expected_algorithms()
    for cat, algs in algorithms.items():
        for a in algs:
            assert (cat, a) in seen, f"ssh-audit output lacks ({cat}) {a}:\n{r.stdout}"
    fails = [f for f in findings if f[2] == "fail"]
    warns = {(c, a, msg) for c, a, level, msg in findings if level == "warn"}
    assert not fails, f"ssh-audit failures: {fails}"
    assert not warns - KNOWN_FALSE_WARNINGS, f"unexpected warnings: {warns - KNOWN_FALSE_WARNINGS}"
    assert "[fail]" not in r.stdout
    assert set(removals) <= {"sntrup761x25519-sha512@openssh.com"}, removals
    if ssh_audit_version() < (3, 0):
        # Debian 12's 2.5 raises exactly the two known false warnings: seeing
        # them proves the parse reads its warnings at all.
        assert warns == KNOWN_FALSE_WARNINGS, f"missing known warnings: {KNOWN_FALSE_WARNINGS - warns}"
        assert removals == ["sntrup761x25519-sha512@openssh.com"], removals

    # The JSON report lists exactly the algorithms offered.
    r = run(["ssh-audit", "-j", "-t", "10", "-p", str(gw.port), "127.0.0.1"], timeout=60)
    report = json.loads(r.stdout)
    offered = {
        "kex": [k["algorithm"] for k in report["kex"]],
        "key": [k["algorithm"] for k in report["key"]],
        "enc": report["enc"],
        "mac": report["mac"],
    }
    assert offered == algorithms
    assert report["compression"] == ["none"]
    assert {k.get("keysize") for k in report["key"] if k["algorithm"].startswith("rsa-")} == {4096}


def test_host_keys_generated_private_and_served(gw):
    keydir = gw.state / "host_keys"
    assert stat.S_IMODE(os.stat(gw.state).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(keydir).st_mode) == 0o700
    assert sorted(os.listdir(keydir)) == ["ssh_host_ed25519_key", "ssh_host_rsa_key"]
    etc = gw.view / "etc" / "ssh"
    for name in ("ssh_host_ed25519_key", "ssh_host_rsa_key"):
        st = os.stat(keydir / name)
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o600)
        served = os.stat(etc / name)
        assert (served.st_uid, stat.S_IMODE(served.st_mode)) == (0, 0o600)
        assert stat.S_IMODE(os.stat(etc / (name + ".pub")).st_mode) == 0o644
    rsa = run(["ssh-keygen", "-l", "-f", str(etc / "ssh_host_rsa_key.pub")]).stdout
    assert rsa.startswith("4096 "), rsa
    # What clients see is that key.
    tr = paramiko_transport(Target(gw.port, "ryan", gw.state))  # no key needed before authentication
    try:
        seen = tr.get_remote_server_key()
        served_pub = (etc / "ssh_host_ed25519_key.pub").read_text().split()
        assert (seen.get_name(), seen.get_base64()) == (served_pub[0], served_pub[1])
    finally:
        tr.close()


def test_host_key_fingerprints_printed_at_start(gw):
    etc = gw.view / "etc" / "ssh"
    for name in ("ssh_host_ed25519_key", "ssh_host_rsa_key"):
        fp = run(["ssh-keygen", "-l", "-f", str(etc / (name + ".pub"))]).stdout.split()[1]
        assert re.search(rf"host key {name}: {re.escape(fp)}", gw.log()), f"{name} {fp} not printed at start"


def test_served_authorized_keys_and_accounts(gw, keys):
    ak = gw.view / "etc" / "ssh" / "authorized_keys"
    for user, uid in (("ryan", 1000), ("gary", 1001)):
        st = os.stat(ak / user)
        # sshd reads it as the user and insists on no group/world write.
        assert st.st_uid in (0, uid) and stat.S_IMODE(st.st_mode) == 0o644, (user, st.st_uid, oct(st.st_mode))
    assert (ak / "gary").read_text() == keys["gary_ed25519"].with_name("gary_ed25519.pub").read_text()
    passwd = {line.split(":")[0]: line.split(":") for line in (gw.view / "etc" / "passwd").read_text().splitlines()}
    assert passwd["ryan"] == ["ryan", "*", "1000", "1000", passwd["ryan"][4], "/ryan", "/usr/sbin/nologin"]
    assert passwd["gary"][1:4] == ["*", "1001", "1001"]
    groups = (gw.view / "etc" / "group").read_text().splitlines()
    assert all(g.endswith(":") for g in groups), f"a group has members: {groups}"


ETC_FILES = ["passwd", "group", "ssh/sshd_config", "ssh/authorized_keys/ryan", "ssh/ssh_host_ed25519_key"]


def expect_erofs(action, *args):
    with pytest.raises(OSError) as e:
        action(*args)
    assert e.value.errno == errno.EROFS, f"{action.__name__}{args}: {e.value}"


def test_root_cannot_write_etc_on_the_host(gw, tmp_path):
    etc = gw.view / "etc"
    before = {f: (etc / f).read_bytes() for f in ETC_FILES}  # unrestricted: root reads them all
    assert b"ryan" in before["passwd"]
    for f in ETC_FILES:
        p = etc / f
        expect_erofs(lambda q: open(q, "r+b"), p)
        expect_erofs(lambda q: open(q, "ab"), p)
        expect_erofs(lambda q: os.open(q, os.O_WRONLY | os.O_TRUNC), p)
        expect_erofs(os.unlink, p)
        expect_erofs(os.chmod, p, 0o666)
        expect_erofs(os.chown, p, 1000, 1000)
        expect_erofs(os.truncate, p, 0)
        expect_erofs(os.utime, p, (0, 0))
        expect_erofs(os.rename, p, etc / "renamed")
        expect_erofs(os.setxattr, p, "user.x", b"1")
    for d in (etc, etc / "ssh", etc / "ssh" / "authorized_keys"):
        expect_erofs(lambda q: open(q / "new-file", "wb"), d)
        expect_erofs(os.mkdir, d / "new-dir")
        expect_erofs(os.symlink, "/etc/shadow", d / "new-link")
        expect_erofs(os.rmdir, d)
    expect_erofs(os.link, etc / "passwd", etc / "hardlink")
    src = tmp_path / "outside"
    src.write_text("x")
    expect_erofs(os.rename, etc / "ssh" / "sshd_config", etc / "sshd_config")
    # The shell tools say the same.
    for argv in (["touch", str(etc / "passwd")], ["touch", str(etc / "new")], ["rm", "-f", str(etc / "group")],
                 ["cp", str(src), str(etc / "ssh" / "sshd_config")], ["mkdir", str(etc / "d")]):
        r = run(argv, timeout=10)
        assert r.returncode != 0 and "Read-only file system" in r.stderr, f"{argv}: {r.returncode} {r.stderr}"
    assert {f: (etc / f).read_bytes() for f in ETC_FILES} == before
    assert sorted(os.listdir(etc)) == ["group", "passwd", "ssh"]
