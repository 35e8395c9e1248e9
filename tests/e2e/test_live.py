"""Live changes while a session is busy: a user and a key added through the
config file and the key folder log in within 2 s, a removed user cannot,
and the running transfer is undisturbed."""
from __future__ import annotations

import os
import subprocess
import time

from gwtest.clients import Target, can_login, login_time, sftp_batch, sftp_outputs, ssh_options
from gwtest.files import pub, random_file, sha256
from gwtest.gateway import Layout
from gwtest.session import WEB_OWNER

BIG = 200 * 1024 * 1024
# sftp -l is in Kbit/s: 320000 -> about 40 MB/s, so the 200 MiB upload
# takes ~5 s and is certainly still running while the new user logs in.
RATE_KBIT = 320_000
DEADLINE = 2.0


def test_add_and_remove_user_during_transfer(gw_factory, keys, tmp_path, capsys):
    layout = Layout(users={"ryan": 1000}, maps=["web:ryan:web"], volumes={"web": WEB_OWNER})
    g = gw_factory(layout, "live", {"ryan": [pub(keys["ryan_ed25519"])]})
    ryan = Target(g.port, "ryan", keys["ryan_ed25519"])
    carol = Target(g.port, "carol", keys["carol_ed25519"])
    assert not can_login(carol), "carol logs in before she exists"

    big = tmp_path / "big.bin"
    digest = random_file(big, BIG)
    stored = g.volumes / "web" / "big.bin"
    mark = g.log_mark()
    upload = subprocess.Popen(
        ["sftp", *ssh_options(ryan.key), "-P", str(g.port), "-l", str(RATE_KBIT), "-b", "-", f"ryan@{ryan.host}"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    upload.stdin.write(f"put {big} web/big.bin\n")
    upload.stdin.close()
    upload.stdin = None  # communicate() must not touch it again
    try:
        # The transfer is under way before anything changes: the gateway has
        # logged the create. (The backing store shows the file only once it
        # is complete, and the kernel's writeback cache flushes late.)
        assert g.wait_for_log(r'"op":"create","path":"/ryan/web/big\.bin"', mark, timeout=10), g.log_since(mark)
        time.sleep(0.3)  # some data on the wire
        assert upload.poll() is None, "the upload ended early"

        # Add carol: her account and a mapping of the already served volume
        # in the config file, then her key with `gateway keys add`.
        added = time.monotonic()
        g.write_config({"ryan": 1000, "carol": 1002}, ["web:ryan:web", "web:carol:shared:ro"])
        g.keys_add("carol", pub(keys["carol_ed25519"]))
        took = login_time(carol, True, DEADLINE - (time.monotonic() - added))
        total = time.monotonic() - added
        in_flight = upload.poll() is None
        with capsys.disabled():
            print(f"\n[live] new user logged in {total:.3f} s after the change (upload still running: {in_flight})")
        assert took is not None, f"carol could not log in within {DEADLINE} s:\n{g.log_tail()}"
        assert total < DEADLINE
        if not in_flight:
            out, err = upload.communicate(timeout=10)
            raise AssertionError(f"the upload had finished (status {upload.returncode}): "
                                 f"the change did not overlap it\n{out}\n{err}")
        out, err = upload.communicate(timeout=60)
        assert upload.returncode == 0, f"the upload failed: {err}"
    finally:
        if upload.poll() is None:
            upload.kill()
            upload.wait(timeout=10)
    assert stored.stat().st_size == BIG
    assert sha256(stored) == digest, "the upload was damaged"
    st = os.stat(stored)
    assert (st.st_uid, st.st_gid) == WEB_OWNER
    # carol's new read-only mapping of the already served volume shows it.
    r = sftp_batch(carol, ["ls -1a shared"])
    assert r.returncode == 0, r.stderr
    assert "shared/big.bin" in sftp_outputs(r.stdout)[0]

    # Remove carol again: she cannot log in, her tree is gone, ryan is unaffected.
    removed = time.monotonic()
    g.write_config({"ryan": 1000}, ["web:ryan:web"])
    took = login_time(carol, False, DEADLINE)
    with capsys.disabled():
        print(f"[live] removed user refused {time.monotonic() - removed:.3f} s after the change")
    assert took is not None, f"carol still logs in {DEADLINE} s after her removal:\n{g.log_tail()}"
    deadline = time.monotonic() + DEADLINE
    while (g.view / "data" / "carol-chroot").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(os.listdir(g.view / "data")) == ["ryan-chroot"]
    assert "carol" not in (g.view / "etc" / "passwd").read_text()
    assert can_login(ryan)
    assert g.runtime().get("last_reload") == "ok", g.runtime()


def wait_reloads(g, above: int, timeout: float = DEADLINE) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rt = g.runtime()
        if int(rt.get("reloads", "0")) > above:
            return rt
        time.sleep(0.05)
    raise AssertionError(f"no reload within {timeout} s: {g.runtime()}\n{g.log_tail()}")


def test_keys_reload_commands_and_a_broken_config(gw_factory, keys):
    layout = Layout(users={"ryan": 1000, "gary": 1001}, maps=["web:ryan:web"], volumes={"web": WEB_OWNER})
    g = gw_factory(layout, "reload", {"ryan": [pub(keys["ryan_ed25519"])]})
    ryan = Target(g.port, "ryan", keys["ryan_ed25519"])
    gary = Target(g.port, "gary", keys["gary_ed25519"])
    assert can_login(ryan)
    assert not can_login(gary)

    # A key added for an existing user works within 2 s, by the tool or by
    # hand; removed keys lock out as fast.
    g.keys_add("gary", pub(keys["gary_ed25519"]))
    assert login_time(gary, True, DEADLINE) is not None, g.log_tail()
    fingerprint = subprocess.run(["ssh-keygen", "-l", "-f", str(pub(keys["gary_ed25519"]))], capture_output=True,
                                 text=True, timeout=10).stdout.split()[1]
    r = g.keys("remove", "--user", "gary", fingerprint)
    assert r.returncode == 0, r.stdout + r.stderr
    assert login_time(gary, False, DEADLINE) is not None, "gary still logs in with his key removed"
    r = g.keys("clear", "--user", "ryan")
    assert r.returncode == 0, r.stdout + r.stderr
    assert login_time(ryan, False, DEADLINE) is not None, "ryan still logs in with his keys cleared"
    g.set_keys("ryan", [pub(keys["ryan_ed25519"])])  # a hand edit of the key file
    assert login_time(ryan, True, DEADLINE) is not None
    g.keys_add("gary", pub(keys["gary_ed25519"]))
    assert login_time(gary, True, DEADLINE) is not None

    # A broken config file is refused as a whole: the served tree stays.
    before = int(g.runtime()["reloads"])
    mark = g.log_mark()
    with open(g.config, "w") as f:
        f.write("users = ryan:1000,gary:notanumber\nmap = web:ryan:web\n")
    rt = wait_reloads(g, before)
    assert rt["last_reload"] != "ok", rt
    assert g.wait_for_log(r"reload refused", mark), g.log_since(mark)
    assert can_login(ryan) and can_login(gary), "a refused reload changed the served tree"
    assert sorted(os.listdir(g.view / "data")) == ["gary-chroot", "ryan-chroot"]

    # Fixed, with a new mapping: `gateway reload` reports success.
    g.write_config({"ryan": 1000, "gary": 1001}, ["web:ryan:web", "web:gary:web"])
    wait_reloads(g, before + 1)
    before = int(g.runtime()["reloads"])
    r = subprocess.run([g.binary, "reload", "--config", str(g.config), "--state-dir", str(g.state)],
                       capture_output=True, text=True, timeout=15)
    assert r.returncode == 0 and r.stdout.strip() == "reload: ok", (r.returncode, r.stdout, r.stderr)
    assert int(g.runtime()["reloads"]) == before + 1
    r = sftp_batch(gary, ["ls -1a"])
    assert r.returncode == 0 and "web" in sftp_outputs(r.stdout)[0], r.stdout + r.stderr

    # SIGHUP reloads; it does not end the gateway (libfuse's default would).
    before = int(g.runtime()["reloads"])
    g.proc.send_signal(1)
    wait_reloads(g, before)
    time.sleep(0.2)
    assert g.proc.poll() is None, "SIGHUP ended the gateway"
    assert can_login(ryan)


def test_keys_take_the_users_of_the_running_gateway(gw_factory, keys):
    """`gateway keys` given no users (no --users, SFTP_USERS or --config)
    takes them from the gateway serving with its state folder, as that
    gateway serves them; with no gateway there it says where to give them."""
    g = gw_factory(Layout(users={"ryan": 1000}, maps=[], volumes={}), "keys-users", {})
    carol = Target(g.port, "carol", keys["carol_ed25519"])
    carol_pub = str(pub(keys["carol_ed25519"]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SFTP_")}

    def gateway_keys(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([g.binary, "keys", *args, "--state-dir", str(g.state)], capture_output=True, text=True,
                              timeout=15, stdin=subprocess.DEVNULL, env=env)

    # carol is added to the config file; once the gateway serves her, her
    # key goes in without the users repeated, and she logs in.
    before = int(g.runtime()["reloads"])
    g.write_config({"ryan": 1000, "carol": 1002}, [])
    assert wait_reloads(g, before)["last_reload"] == "ok", g.log_tail()
    r = gateway_keys("add", "--user", "carol", carol_pub)
    assert r.returncode == 0 and r.stdout.startswith("added carol ssh-ed25519 "), (r.returncode, r.stdout, r.stderr)
    assert login_time(carol, True, DEADLINE) is not None, g.log_tail()

    # A refused reload leaves the served users, and so the ones keys knows.
    before = int(g.runtime()["reloads"])
    g.write_config({"ryan": 1000, "carol": 1002, "dave": "notanumber"}, [])
    assert wait_reloads(g, before)["last_reload"] != "ok"
    r = gateway_keys("list")
    assert r.returncode == 0 and r.stdout.splitlines()[0] == "ryan (no keys)", (r.stdout, r.stderr)
    assert r.stdout.splitlines()[1].startswith("carol ssh-ed25519 "), r.stdout
    r = gateway_keys("add", "--user", "dave", carol_pub)
    assert (r.returncode, r.stderr) == (2, "gateway: unknown user 'dave' (configured: ryan, carol)\n"), r

    # No gateway serving: a clear error, exit 2, nothing written.
    assert g.stop() == 0
    r = gateway_keys("clear", "--user", "carol")
    assert (r.returncode, r.stderr) == (2, "gateway: no users given (--users, SFTP_USERS or --config) and no gateway "
                                           f"is serving with state folder {g.state}\n"), r
    assert (g.state / "authorized_keys" / "carol").read_text().startswith("ssh-ed25519 ")


def test_an_unchanged_reload_rewrites_nothing_and_still_sees_key_edits(gw_factory, keys):
    """A reload with the config file unchanged leaves sshd's account files
    alone (same inode, same mtime), yet a key file edited in place, with the
    same size and its mtime put back, is served anew: the keys are cached by
    inode, size, mtime and ctime, and the kernel always moves ctime."""
    layout = Layout(users={"ryan": 1000, "gary": 1001}, maps=["web:ryan:web"], volumes={"web": WEB_OWNER})
    g = gw_factory(layout, "unchanged", {"ryan": [pub(keys["ryan_ed25519"])]})
    etc = g.state / "sshd-etc"
    names = ["passwd", "group", "shadow", "gshadow", "nsswitch.conf"]

    def identities():
        return {n: (os.stat(etc / n).st_ino, os.stat(etc / n).st_mtime_ns) for n in names}

    before = identities()
    for _ in range(2):
        n = int(g.runtime()["reloads"])
        g.proc.send_signal(1)
        assert wait_reloads(g, n)["last_reload"] == "ok", g.log_tail()
    assert identities() == before, "an unchanged reload rewrote sshd's account files"

    # gary's key, by hand; read once by a reload after its ctime has aged
    # past the cache's 2 s "racily clean" window.
    served = g.view / "etc" / "ssh" / "authorized_keys" / "gary"
    stored = g.state / "authorized_keys" / "gary"

    def key_line(name, width):
        kind, blob = pub(keys[name]).read_text().split()[:2]
        line = f"{kind} {blob} "
        return line + "x" * (width - len(line) - 1) + "\n"

    first, second = key_line("gary_ed25519", 120), key_line("carol_ed25519", 120)
    assert len(first) == len(second) and first != second
    stored.write_text(first)
    deadline = time.monotonic() + DEADLINE
    while served.read_text() != first and time.monotonic() < deadline:
        time.sleep(0.05)
    assert served.read_text() == first, g.log_tail()
    time.sleep(2.5)
    n = int(g.runtime()["reloads"])
    g.proc.send_signal(1)
    wait_reloads(g, n)

    # In place: same inode, same size, the old mtime restored.
    st = os.stat(stored)
    with open(stored, "r+") as f:
        f.write(second)
    os.utime(stored, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = os.stat(stored)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (st.st_ino, st.st_size, st.st_mtime_ns)
    n = int(g.runtime()["reloads"])
    g.proc.send_signal(1)
    wait_reloads(g, n)
    deadline = time.monotonic() + DEADLINE
    while served.read_text() != second and time.monotonic() < deadline:
        time.sleep(0.05)
    assert served.read_text() == second, "an in-place key edit with the same size and mtime was not served"
    assert identities() == before, "a key change rewrote sshd's account files"
