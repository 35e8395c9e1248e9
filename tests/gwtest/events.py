"""The webhook receiver (tests/support/event_receiver.py) as a process a test
starts on loopback, stops and starts again on the same port (an endpoint that
is down for a while), and reads: every request it got, in arrival order, with
whether its signature was valid."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

RECEIVER = Path(__file__).resolve().parents[1] / "support" / "event_receiver.py"


class Receiver:
    def __init__(self, folder: Path, secret: str, status: int = 200):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.secret_file = self.folder / "secret"
        self.secret_file.write_text(secret + "\n")
        self.secret_file.chmod(0o600)
        self.out = self.folder / "events.jsonl"
        self.port_file = self.folder / "port"
        self.status = status
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self, status: int | None = None) -> "Receiver":
        """Listens (on the port it had before, if any) and returns once it does."""
        if status is not None:
            self.status = status
        self.port_file.unlink(missing_ok=True)
        args = [sys.executable, str(RECEIVER), "--port", str(self.port), "--port-file", str(self.port_file),
                "--secret-file", str(self.secret_file), "--out", str(self.out), "--status", str(self.status)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(self.folder / "log", "ab"))
        deadline = time.monotonic() + 10
        while not (self.port_file.exists() and self.port_file.read_text().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the receiver did not start: {(self.folder / 'log').read_text()}")
            time.sleep(0.02)
        self.port = int(self.port_file.read_text())
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc = None

    def received(self) -> list[dict]:
        if not self.out.exists():
            return []
        return [json.loads(line) for line in self.out.read_text().splitlines() if line.strip()]

    def wait_for(self, count: int, timeout: float = 20) -> list[dict]:
        """The requests received once there are at least `count` (or at the timeout)."""
        deadline = time.monotonic() + timeout
        while len(got := self.received()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return got


def event_of(request: dict) -> dict:
    """The event a received request carried."""
    return request["event"]


def uploads(requests: list[dict]) -> list[dict]:
    return [event_of(r) for r in requests if event_of(r)["kind"] == "upload"]


def secret_hex() -> str:
    return os.urandom(16).hex()
