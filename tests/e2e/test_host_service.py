"""The gateway as a service (host mode under systemd, one container in a
Kubernetes pod): SIGTERM drains (sshd stops taking logins, running
transfers finish within --drain-timeout, then the rest is ended and the
view unmounted), and `gateway status` sees the view from outside the
gateway's own mount namespace."""
from __future__ import annotations

import json
import signal
import subprocess
import time

from gwtest.clients import Target, can_login, sftp_batch, ssh_options
from gwtest.files import pub, random_file, sha256
from gwtest.gateway import Gateway, Layout
from gwtest.mounts import fuse_mounted
from gwtest.session import WEB_OWNER

LAYOUT = dict(users={"ryan": 1000}, maps=["web:ryan:web"], volumes={"web": WEB_OWNER})


def slow_put(t: Target, local, remote: str, rate_kbit: int) -> subprocess.Popen:
    """sftp uploading local at about rate_kbit Kbit/s, in the background."""
    batch = local.with_suffix(".batch")
    batch.write_text(f"put {local} {remote}\n")
    argv = ["sftp", *ssh_options(t.key), "-l", str(rate_kbit), "-P", str(t.port), "-b", str(batch),
            f"{t.user}@{t.host}"]
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_upload_start(g: Gateway, folder: str, timeout: float = 10) -> None:
    """Until the upload's temporary shows in the backing folder."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.name.startswith(".gw-upload-") for p in (g.volumes / folder).iterdir()):
            return
        time.sleep(0.05)
    raise AssertionError("the upload did not start:\n" + g.log_tail())


def test_sigterm_lets_a_running_upload_finish_and_refuses_new_logins(gw_factory, keys, tmp_path):
    g = gw_factory(Layout(**LAYOUT), "drain", {"ryan": [pub(keys["ryan_ed25519"])]})
    ryan = Target(g.port, "ryan", keys["ryan_ed25519"])
    local = tmp_path / "site.tar"
    digest = random_file(local, 24 * 1024 * 1024)
    upload = slow_put(ryan, local, "web/site.tar", 64_000)  # about 8 MB/s: 3 s
    wait_for_upload_start(g, "web")
    mark = g.log_mark()
    g.proc.send_signal(signal.SIGTERM)
    assert g.wait_for_log(r"draining: sshd takes no new logins", mark), g.log_since(mark)
    assert not can_login(ryan, timeout=10), "a new login was accepted while draining"
    out, err = upload.communicate(timeout=60)
    assert upload.returncode == 0, f"the running upload was cut: {err}"
    assert sha256(g.volumes / "web/site.tar") == digest
    assert g.proc.wait(timeout=30) == 0, g.log_tail()
    assert g.wait_for_log(r"draining: every session ended", mark), g.log_since(mark)
    assert not fuse_mounted(g.view), "the view is still mounted"


def test_a_transfer_longer_than_the_drain_timeout_is_ended(gw_factory, keys, tmp_path):
    layout = Layout(**LAYOUT, extra_args=["--drain-timeout", "1"])
    g = gw_factory(layout, "drain-timeout", {"ryan": [pub(keys["ryan_ed25519"])]})
    ryan = Target(g.port, "ryan", keys["ryan_ed25519"])
    local = tmp_path / "big.bin"
    random_file(local, 32 * 1024 * 1024)
    upload = slow_put(ryan, local, "web/big.bin", 8_000)  # about 1 MB/s: 30 s
    wait_for_upload_start(g, "web")
    mark = g.log_mark()
    started = time.monotonic()
    g.proc.send_signal(signal.SIGTERM)
    assert g.proc.wait(timeout=20) == 0, g.log_tail()
    assert time.monotonic() - started < 8, "the drain did not stop at its timeout"
    assert g.wait_for_log(r"draining: ending \d+ session process\(es\) still running", mark), g.log_since(mark)
    upload.communicate(timeout=30)
    assert upload.returncode != 0, "an upload cut by the shutdown reported success"
    assert not (g.volumes / "web/big.bin").exists(), "a cut upload was published under its name"
    assert not fuse_mounted(g.view), "the view is still mounted"


class PrivateNamespaceGateway(Gateway):
    """Started in a mount namespace of its own, as systemd's ProtectSystem=
    and friends start a service: its mounts are invisible here."""

    def args(self) -> list[str]:
        return ["unshare", "--mount", "--propagation", "private", *super().args()]


def test_status_sees_the_view_of_a_gateway_in_its_own_mount_namespace(gateway_binary_path, keys, gw, tmp_path):
    from gwtest.gateway import Fleet
    from conftest import E2E_ROOT
    fleet = Fleet(E2E_ROOT, gateway_binary_path, gw.state / "host_keys", cls=PrivateNamespaceGateway)
    try:
        g = fleet.start(Layout(**LAYOUT), "namespaced", {"ryan": [pub(keys["ryan_ed25519"])]})
        assert can_login(Target(g.port, "ryan", keys["ryan_ed25519"])), g.log_tail()
        assert not fuse_mounted(g.view), "the test should not see the gateway's mount"
        r = subprocess.run([g.binary, "status", "--format", "json", *g.serve_options()], capture_output=True,
                           text=True, timeout=15, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stdout + r.stderr
        assert json.loads(r.stdout)["mounted"] is True, r.stdout
    finally:
        fleet.close()
