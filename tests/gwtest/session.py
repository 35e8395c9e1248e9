"""The session gateway both pytest tiers start once per run: ryan (home,
`web` rw on a volume owned by 54321, `music` ro) and gary (`music` ro), each
tier adding its own mappings to the same layout."""
from __future__ import annotations

import os
from pathlib import Path

from .files import pub, random_file
from .gateway import Gateway, Layout

RYAN, GARY = 1000, 1001
WEB_OWNER = (54321, 54321)    # a volume owned by someone other than its sftp user
MUSIC_OWNER = (54322, 54322)  # mapped read-only

# The client keys: the accepted kinds, and the ones the gateway refuses.
KEY_SPECS = {
    "ryan_ed25519": ["-t", "ed25519"],
    "ryan_rsa3072": ["-t", "rsa", "-b", "3072"],
    "ryan_rsa2048": ["-t", "rsa", "-b", "2048"],
    "ryan_ecdsa": ["-t", "ecdsa", "-b", "256"],
    "gary_ed25519": ["-t", "ed25519"],
}


def session_layout(maps: list[str] = (), volumes: dict[str, tuple[int, int]] | None = None) -> Layout:
    """ryan and gary with `web` and `music`, plus the tier's own maps and volumes."""
    return Layout(users={"ryan": RYAN, "gary": GARY},
                  maps=["web:ryan:web", "music:ryan:music:ro", "music:gary:music:ro", *maps],
                  volumes={"web": WEB_OWNER, "music": MUSIC_OWNER, **(volumes or {})})


def populate(g: Gateway, keys: dict[str, Path]) -> None:
    """Before the start: a song in `music`; ryan's ed25519 and RSA-3072 keys
    and gary's ed25519 key go in with `gateway keys add`; ryan's RSA-2048 and
    ECDSA keys are appended by hand (the tool refuses them) to show the
    gateway does not serve them either."""
    music = g.volumes / "music"
    random_file(music / "song.ogg", 300_000)
    os.chown(music / "song.ogg", *MUSIC_OWNER)
    for user, key in (("ryan", "ryan_ed25519"), ("ryan", "ryan_rsa3072"), ("gary", "gary_ed25519")):
        g.keys_add(user, pub(keys[key]))
    with open(g.state / "authorized_keys" / "ryan", "a") as f:
        for key in ("ryan_rsa2048", "ryan_ecdsa"):
            f.write(pub(keys[key]).read_text())
