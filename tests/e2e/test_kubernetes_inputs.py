"""The inputs of a Kubernetes pod, as the kubelet lays them out: the config
file from a ConfigMap volume, authorized keys from a Secret volume
(--authorized-keys-dir), host keys from the Secret `gateway keys host-secret`
prints (--host-keys-dir). A ConfigMap or Secret change is a `..data` swap;
the running gateway follows it within 2 s."""
from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

from gwtest.clients import Target, can_login, login_time, ssh_options
from gwtest.files import pub
from gwtest.gateway import Layout
from gwtest.projected import publish
from gwtest.session import WEB_OWNER

DEADLINE = 2.0


def host_secret(binary: str, folder: Path) -> tuple[str, list[str]]:
    """`gateway keys host-secret`, its data keys written into folder as a
    Secret volume would hold them; returns the YAML and the known_hosts lines."""
    r = subprocess.run([binary, "keys", "host-secret", "--namespace", "sftp"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    data, in_data = {}, False
    for line in r.stdout.splitlines():
        if line == "data:":
            in_data = True
        elif in_data and line.startswith("  "):
            key, value = line.strip().split(": ", 1)
            data[key] = base64.b64decode(value)
    assert sorted(data) == ["ssh_host_ed25519_key", "ssh_host_rsa_key"], r.stdout
    publish(folder, data)
    known = [line.split(" ", 1)[1] for line in r.stderr.splitlines() if line.startswith("HOST ")]
    assert len(known) == 2, r.stderr
    return r.stdout, known


def test_configmap_config_secret_keys_and_shared_host_keys(gw_factory, keys, gateway_binary_path, tmp_path):
    yaml, known = host_secret(gateway_binary_path, tmp_path / "host-keys")
    assert "kind: Secret" in yaml and "namespace: sftp" in yaml
    config, authorized = tmp_path / "config", tmp_path / "authorized-keys"
    layout = Layout(users={"ryan": 1000}, maps=["web:ryan:web"], volumes={"web": WEB_OWNER},
                    extra_args=["--host-keys-dir", str(tmp_path / "host-keys"),
                                "--authorized-keys-dir", str(authorized)])
    ryan_pub = pub(keys["ryan_ed25519"]).read_text()
    gary_pub = pub(keys["gary_ed25519"]).read_text()

    def as_in_a_pod(g):
        publish(config, {"gateway.conf": "users = ryan:1000\nmap = web:ryan:web\n"})
        publish(authorized, {"ryan": ryan_pub})
        g.config = config / "gateway.conf"

    g = gw_factory(layout, "kube", {}, prepare=as_in_a_pod)
    ryan = Target(g.port, "ryan", keys["ryan_ed25519"])
    gary = Target(g.port, "gary", keys["gary_ed25519"])

    # The Secret's host key, checked strictly against the one known_hosts line.
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{g.port} {known[0]}\n")
    strict = ["StrictHostKeyChecking=yes", f"UserKnownHostsFile={known_hosts}", "HostKeyAlgorithms=ssh-ed25519"]
    assert can_login(ryan, options=strict), g.log_tail()
    assert (g.view / "etc/ssh/ssh_host_ed25519_key.pub").read_text().strip() == known[0]

    # A ConfigMap change (a new user) and a Secret change (its key): live.
    publish(config, {"gateway.conf": "users = ryan:1000,gary:1001\nmap = web:ryan:web,web:gary:web\n"})
    publish(authorized, {"ryan": ryan_pub, "gary": gary_pub})
    assert login_time(gary, True, DEADLINE) is not None, g.log_tail()
    # A key dropped from the Secret locks its user out as fast.
    publish(authorized, {"gary": gary_pub})
    assert login_time(ryan, False, DEADLINE) is not None, "ryan still logs in with his key gone from the Secret"
    # `gateway keys add` keys are served beside the Secret's.
    g.keys_add("ryan", pub(keys["ryan_ed25519"]))
    assert login_time(ryan, True, DEADLINE) is not None, g.log_tail()


def test_kubernetes_inputs_that_cannot_be_used_are_refused_before_mounting(gateway_binary_path, tmp_path):
    (tmp_path / "host-keys").mkdir()
    (tmp_path / "host-keys/ssh_host_ed25519_key").write_text("not a key\n")
    for extra, expected in [
        (["--host-keys-dir", str(tmp_path / "host-keys")], "host-keys-dir: cannot read host key"),
        (["--host-keys-dir", str(tmp_path / "missing")], "host-keys-dir: cannot read " + str(tmp_path / "missing")),
        (["--authorized-keys-dir", str(tmp_path / "missing")], "authorized-keys-dir: cannot read"),
    ]:
        r = subprocess.run([gateway_binary_path, "check", "--users", "ryan:1000", "--openssh-version", "9.2",
                            "--data-dir", str(tmp_path), "--state-dir", str(tmp_path / "state"), *extra],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (extra, r.stdout, r.stderr)
        assert expected in r.stdout + r.stderr, (extra, r.stdout, r.stderr)
