"""The authentication refusals both pytest tiers assert on a running gateway
(e2e: what the gateway serves; hostile: item 18 of the attack list)."""
from __future__ import annotations

import pytest

from .clients import Target, can_login, load_key, paramiko_transport, ssh
from .gateway import Gateway


def assert_only_publickey(t: Target) -> None:
    """The same account logs in with its key; password, keyboard-interactive
    and none are refused, both by OpenSSH's client and when paramiko actually
    sends them (the server names publickey as the only method that can continue)."""
    import paramiko
    assert can_login(t)  # unrestricted: the same account logs in with its key
    for method in ("password", "keyboard-interactive"):
        r = ssh(t, ["-T", "--", "true"],
                options=[f"PreferredAuthentications={method}", "PubkeyAuthentication=no", "NumberOfPasswordPrompts=1"])
        assert r.returncode == 255, r
        assert "Permission denied (publickey)." in r.stderr, r.stderr
    attempts = {
        "none": lambda tr: tr.auth_none(t.user),
        "password": lambda tr: tr.auth_password(t.user, t.user, fallback=False),
        "keyboard-interactive": lambda tr: tr.auth_interactive(t.user, lambda *a: [t.user] * len(a[2])),
    }
    for method, attempt in attempts.items():
        tr = paramiko_transport(t)
        try:
            with pytest.raises(paramiko.BadAuthenticationType) as e:
                attempt(tr)
            assert e.value.allowed_types == ["publickey"], (method, e.value.allowed_types)
            assert not tr.is_authenticated()
        finally:
            tr.close()


def assert_sha1_signatures_refused(gw: Gateway, rsa: Target) -> None:
    """An RSA key the gateway accepts cannot sign with SHA-1 (ssh-rsa): not
    through OpenSSH's client (sshd logs why), not through paramiko."""
    import paramiko
    mark = gw.log_mark()
    assert not can_login(rsa, options=["PubkeyAcceptedAlgorithms=ssh-rsa"])
    assert gw.wait_for_log(r"signature algorithm ssh-rsa not in PubkeyAcceptedAlgorithms", mark), gw.log_since(mark)
    tr = paramiko_transport(rsa, disabled_algorithms={"pubkeys": ["rsa-sha2-512", "rsa-sha2-256"]})
    try:
        with pytest.raises(paramiko.AuthenticationException):
            tr.auth_publickey(rsa.user, load_key(rsa.key))
        assert not tr.is_authenticated()
    finally:
        tr.close()
