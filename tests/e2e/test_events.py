"""Upload events through real parts: OpenSSH sftp uploads into a host-mode
gateway whose supervisor delivers to a real HTTP receiver on loopback
(tests/support/event_receiver.py, which checks each signature with the
shared secret) and to a real command. What must hold: one upload event per
upload, in order, with the right fields and a valid signature; none lost
while the endpoint is down, across a kill -9 of the worker or a restart of
the gateway; a failing command never holds an upload back."""
from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from gwtest.clients import Target, sftp_batch
from gwtest.events import Receiver, event_of, secret_hex, uploads
from gwtest.files import pub, random_file
from gwtest.gateway import Gateway, Layout
from gwtest.procs import wait_gone
from gwtest.session import RYAN, WEB_OWNER

MAPS = ["web:ryan:web", "site/public:ryan:public", "quiet:ryan:quiet:events=none"]
VOLUMES = {"web": WEB_OWNER, "site": WEB_OWNER, "quiet": WEB_OWNER}


def start_gateway(gw_factory, keys, name: str, extra: list[str], prepare=None) -> tuple[Gateway, Target]:
    layout = Layout(users={"ryan": RYAN}, maps=MAPS, volumes=VOLUMES, extra_args=extra)

    def make_folders(g: Gateway) -> None:
        (g.volumes / "site" / "public").mkdir(parents=True, exist_ok=True)
        os.chown(g.volumes / "site" / "public", *WEB_OWNER)
        if prepare:
            prepare(g)

    g = gw_factory(layout, name, {"ryan": [pub(keys["ryan_ed25519"])]}, prepare=make_folders)
    return g, Target(g.port, "ryan", keys["ryan_ed25519"])


@pytest.fixture
def receiver(tmp_path):
    r = Receiver(tmp_path / "receiver", secret_hex()).start()
    yield r
    r.stop()


def webhook_args(r: Receiver, *more: str) -> list[str]:
    return ["--event-url", r.url, "--event-secret-file", str(r.secret_file), *more]


def put_files(t: Target, files: list[tuple[str, str]]) -> None:
    r = sftp_batch(t, [f"put {local} {remote}" for local, remote in files], timeout=120)
    assert r.returncode == 0, r.stderr


def test_each_upload_is_one_signed_event_with_its_facts(gw_factory, keys, receiver, tmp_path):
    g, ryan = start_gateway(gw_factory, keys, "events", webhook_args(receiver))
    src = tmp_path / "a.bin"
    random_file(src, 123_457)
    put_files(ryan, [(src, "web/a.bin"), (src, "public/b.bin"), (src, "web/a.bin"), (src, "quiet/c.bin")])
    got = receiver.wait_for(3)
    time.sleep(1)  # nothing more may come: quiet has events=none
    got = receiver.received()
    assert all(r["signature_valid"] for r in got), got
    ups = uploads(got)
    facts = [(e["mapping"], e["path"], e["volume"], e["volume_path"], e["size"], e["replaced"]) for e in ups]
    expected = [
        ("ryan:web", "/ryan/web/a.bin", "web", "a.bin", 123_457, False),
        ("ryan:public", "/ryan/public/b.bin", "site", "public/b.bin", 123_457, False),
        ("ryan:web", "/ryan/web/a.bin", "web", "a.bin", 123_457, True),
    ]
    assert sorted(facts) == sorted(expected), ups
    # In order within a mapping; two mappings' deliveries run side by side.
    assert [f for f in facts if f[0] == "ryan:web"] == [expected[0], expected[2]], ups
    assert all(e["user"] == "ryan" for e in ups)
    ids = [e["id"] for e in ups]
    assert len(set(ids)) == len(ids), f"event ids repeat: {ids}"
    for r in got:  # the headers name the event the body carries
        assert r["headers"]["x-gateway-delivery"] == event_of(r)["id"]
        assert r["headers"]["x-gateway-event"] == event_of(r)["kind"]
    assert not any(e["mapping"] == "ryan:quiet" for e in map(event_of, got)), got


def test_removes_renames_and_folders_are_events_too(gw_factory, keys, receiver, tmp_path):
    g, ryan = start_gateway(gw_factory, keys, "kinds", webhook_args(receiver))
    src = tmp_path / "x"
    random_file(src, 10)
    r = sftp_batch(ryan, ["mkdir web/d", f"put {src} web/d/x", "rename web/d/x web/d/y", "rm web/d/y", "rmdir web/d"])
    assert r.returncode == 0, r.stderr
    got = [event_of(r) for r in receiver.wait_for(5)]
    assert [(e["kind"], e["path"]) for e in got] == [
        ("mkdir", "/ryan/web/d"), ("upload", "/ryan/web/d/x"), ("rename", "/ryan/web/d/x"),
        ("remove", "/ryan/web/d/y"), ("remove", "/ryan/web/d")], got
    assert (got[2]["to"], got[2]["to_volume_path"]) == ("/ryan/web/d/y", "d/y")
    assert [got[3]["type"], got[4]["type"]] == ["file", "folder"]


def test_nothing_is_lost_while_the_endpoint_is_down(gw_factory, keys, receiver, tmp_path):
    g, ryan = start_gateway(gw_factory, keys, "down", webhook_args(receiver, "--event-timeout", "2"))
    src = tmp_path / "f"
    random_file(src, 1000)
    put_files(ryan, [(src, "web/before")])
    assert len(receiver.wait_for(1)) == 1
    receiver.stop()  # down: connection refused, retried with backoff
    t0 = time.monotonic()
    put_files(ryan, [(src, f"web/down{i}") for i in range(5)])
    assert time.monotonic() - t0 < 15, "uploads waited for the endpoint"
    time.sleep(3)
    receiver.start(status=500)  # up but failing: non-2xx is retried too
    time.sleep(3)
    receiver.stop()
    receiver.start(status=200)
    got = receiver.wait_for(1 + 5 + 3, timeout=90)  # the 500s were received too, then retried
    delivered = [event_of(r) for r in got if r["status"] == 200]
    assert [e["path"] for e in uploads([r for r in got if r["status"] == 200])] == \
        ["/ryan/web/before"] + [f"/ryan/web/down{i}" for i in range(5)], delivered
    assert all(r["signature_valid"] for r in got)


def test_a_killed_worker_and_a_restarted_gateway_lose_nothing(gw_factory, keys, receiver, tmp_path):
    g, ryan = start_gateway(gw_factory, keys, "restart", webhook_args(receiver))
    src = tmp_path / "f"
    random_file(src, 1000)
    put_files(ryan, [(src, "web/one")])
    worker = g.worker_pid()
    os.kill(worker, signal.SIGKILL)
    assert wait_gone(worker, 5)
    deadline = time.monotonic() + 20
    while (g.worker_pid() in (None, worker) or not g.serving()) and time.monotonic() < deadline:
        time.sleep(0.1)
    put_files(ryan, [(src, "web/two")])
    receiver.stop()  # the gateway stops with an undelivered event spooled
    put_files(ryan, [(src, "web/three")])
    assert g.stop() == 0
    spool = g.state / "events"
    assert any(p.suffix == ".jsonl" and p.stat().st_size for p in spool.iterdir()), "nothing spooled"
    receiver.start()
    g.start(timeout=60)
    got = receiver.wait_for(3, timeout=60)
    time.sleep(1)
    paths = [e["path"] for e in uploads(receiver.received())]
    assert paths == ["/ryan/web/one", "/ryan/web/two", "/ryan/web/three"], paths


COMMAND = """#!/bin/sh
# An event command: what it was given, where the test can read it.
out={out}
{{
  echo "uid=$(id -u) gid=$(id -g)"
  grep -E '^(CapEff|NoNewPrivs):' /proc/self/status
  env | grep -E '^(GATEWAY_EVENT_|PATH=)' | sort
  echo "stdin=$(cat)"
}} > "$out/.$GATEWAY_EVENT_ID" && mv "$out/.$GATEWAY_EVENT_ID" "$out/$GATEWAY_EVENT_ID.txt"
exit {code}
"""


@pytest.fixture
def command_dir():
    """A folder nobody (the command's user) can reach: pytest's tmp_path is
    under a 0700 folder of root's."""
    folder = Path(tempfile.mkdtemp(prefix="gw-event-command-", dir="/run"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def write_command(folder, code: int):
    out = folder / "out"
    out.mkdir(parents=True)
    os.chmod(out, 0o777)  # the command runs as nobody
    script = folder / "on-event"
    script.write_text(COMMAND.format(out=out, code=code))
    script.chmod(0o755)
    return script, out


def test_a_command_gets_the_event_as_nobody_without_privileges(gw_factory, keys, tmp_path, command_dir):
    script, out = write_command(command_dir, 0)
    g, ryan = start_gateway(gw_factory, keys, "command", ["--event-command", str(script), "--event-kinds", "upload"])
    src = tmp_path / "f"
    random_file(src, 4321)
    put_files(ryan, [(src, "public/f.bin")])
    deadline = time.monotonic() + 20
    while not list(out.glob('*.txt')) and time.monotonic() < deadline:
        time.sleep(0.05)
    records = [p.read_text() for p in out.glob('*.txt')]
    assert len(records) == 1, f"{len(records)} runs of the command:\n{g.log_tail()}"
    (record,) = records
    lines = record.splitlines()
    assert "uid=65534 gid=65534" in lines, record
    assert "CapEff:\t0000000000000000" in lines and "NoNewPrivs:\t1" in lines, record
    env = dict(line.split("=", 1) for line in lines if line.startswith(("GATEWAY_EVENT_", "PATH=")))
    assert (env["GATEWAY_EVENT_KIND"], env["GATEWAY_EVENT_USER"], env["GATEWAY_EVENT_MAPPING"]) == \
        ("upload", "ryan", "ryan:public")
    assert (env["GATEWAY_EVENT_PATH"], env["GATEWAY_EVENT_VOLUME"], env["GATEWAY_EVENT_VOLUME_PATH"],
            env["GATEWAY_EVENT_SIZE"]) == ("/ryan/public/f.bin", "site", "public/f.bin", "4321")
    event = json.loads(lines[-1].removeprefix("stdin="))
    assert event["id"] == env["GATEWAY_EVENT_ID"] and event["size"] == 4321
    assert set(env) <= {"PATH"} | {k for k in env if k.startswith("GATEWAY_EVENT_")}, env


def test_a_failing_command_never_holds_uploads_back(gw_factory, keys, tmp_path, command_dir):
    script, out = write_command(command_dir, 1)
    g, ryan = start_gateway(gw_factory, keys, "failing", ["--event-command", str(script)])
    src = tmp_path / "f"
    random_file(src, 100_000)
    t0 = time.monotonic()
    for i in range(10):
        put_files(ryan, [(src, f"web/f{i}")])
    took = time.monotonic() - t0
    assert took < 20, f"10 uploads took {took:.1f} s with a failing command"
    assert sorted(os.listdir(g.volumes / "web")) == sorted(f"f{i}" for i in range(10))
    # It was tried, and is retried (the first event of the mapping holds the others, in order).
    deadline = time.monotonic() + 10
    while len(list(out.glob('*.txt'))) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(out.glob('*.txt')), "the command never ran"
    assert "exit 1" in g.log(), g.log_tail()


def test_deliveries_are_counted_in_the_metrics(gw_factory, keys, receiver, tmp_path):
    """The event families move by exactly what happened, the page passes
    `promtool check metrics`, and every event family the alert rules use
    is on it."""
    from gwtest import metrics
    from gwtest.gateway import free_port
    port = free_port()
    g, ryan = start_gateway(gw_factory, keys, "evmetrics",
                            webhook_args(receiver, "--metrics-listen", f"127.0.0.1:{port}"))
    src = tmp_path / "f"
    random_file(src, 10)
    put_files(ryan, [(src, f"web/m{i}") for i in range(3)])
    assert len(receiver.wait_for(3)) == 3
    url = f"http://127.0.0.1:{port}/metrics"
    deadline = time.monotonic() + 10
    while True:
        text = metrics.fetch(url)
        page = metrics.parse(text)
        delivered = sum(v for labels, v in page.series("sftp_gateway_event_deliveries_total")
                        if labels["result"] == "ok")
        if delivered >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert delivered == 3, text
    assert page.get("sftp_gateway_events_recorded_total", kind="upload") == 3
    assert page.get("sftp_gateway_events_spooled_total", kind="upload") == 3
    assert page.get("sftp_gateway_events_dropped_total") == 0
    r = metrics.promtool_check(text)
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr
    rules = (Path(__file__).resolve().parents[2] / "monitoring" / "gateway.rules.yml").read_text()
    for family in ("event_deliveries_total", "event_pending", "events_dropped_total"):
        assert f"sftp_gateway_{family}" in rules
        assert f"# TYPE sftp_gateway_{family} " in text, family
