"""The gateway's metrics, scraped from a real gateway served to real sftp
clients: a known sequence of operations moves the counters by exactly what
it did; the page passes prometheus_client's parser and `promtool check
metrics`; the alert rules pass `promtool check rules` and their own cases;
the endpoint answers GET /metrics only and a silent client cannot hold it;
the metrics file appears, follows the counters and goes with the gateway;
the supervisor's worker restarts and the worker's reloads are counted.

Each test starts its own gateway, so no other test's traffic is counted.
Without promtool or python3-prometheus-client the module is skipped (exit
77), and fails with CI=true.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from gwtest import metrics
from gwtest import prerequisites as gate
from gwtest.clients import Target, can_login, paramiko_sftp, sftp_batch
from gwtest.files import pub, random_file
from gwtest.gateway import Layout, free_port
from gwtest.session import MUSIC_OWNER, WEB_OWNER

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "monitoring" / "gateway.rules.yml"
RULE_TESTS = REPO / "monitoring" / "gateway.rules.test.yml"
SONG = 54_321  # bytes of music/song.ogg, placed on the volume, never read through the view before
QUOTA = 300 * 1024


@pytest.fixture(scope="module", autouse=True)
def metrics_prerequisites():
    gate.require(metrics.missing())


class Served:
    """A gateway with metrics on: its /metrics URL and metrics file."""

    def __init__(self, g, url: str):
        self.g, self.url = g, url
        self.file = g.folder / "gateway.prom"

    def scrape(self) -> metrics.Page:
        return metrics.scrape(self.url)


@pytest.fixture
def served(gw_factory, keys) -> Served:
    port = free_port()
    layout = Layout(users={"ryan": 1000, "gary": 1001},
                    maps=[f"web:ryan:web:quota={QUOTA // 1024}K", "music:ryan:music:ro", "music:gary:music:ro"],
                    volumes={"web": WEB_OWNER, "music": MUSIC_OWNER},
                    extra_args=["--metrics-listen", f"127.0.0.1:{port}"])

    def prepare(g):
        g.extra_args += ["--metrics-file", str(g.folder / "gateway.prom")]
        song = g.volumes / "music" / "song.ogg"
        random_file(song, SONG)
        os.chown(song, *MUSIC_OWNER)

    g = gw_factory(layout, "metrics", {"ryan": [pub(keys["ryan_ed25519"])], "gary": [pub(keys["gary_ed25519"])]},
                   prepare=prepare)
    return Served(g, f"http://127.0.0.1:{port}/metrics")


def requests(page: metrics.Page, request: str, result: str = "ok") -> float:
    return page.get("sftp_gateway_requests_total", request=request, result=result)


def mapping(page: metrics.Page, name: str, label: str, **more) -> float:
    user = label.split(":")[0]
    return page.get(name, user=user, mapping=label, **more)


def batch(t: Target, commands: list[str]) -> None:
    r = sftp_batch(t, commands)
    assert r.returncode == 0, f"sftp batch failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"


def test_counters_move_by_exactly_the_operations(served, keys, tmp_path):
    ryan = Target(served.g.port, "ryan", keys["ryan_ed25519"])
    local = tmp_path / "a.bin"
    random_file(local, 100_000)
    before = served.scrape()
    assert before.get("sftp_gateway_users") == 2
    assert before.get("sftp_gateway_mappings") == 5  # two homes, ryan's web and music, gary's music
    assert before.get("sftp_gateway_quota_limit_bytes", folder="web") == QUOTA
    assert before.get("sftp_gateway_quota_used_bytes", folder="web") == 0

    # A new file uploaded, a song downloaded, a folder made; an upload into
    # the read-only mapping refused ('-': the batch goes on after it).
    batch(ryan, [f"put {local} web/a.bin", f"get music/song.ogg {tmp_path / 'song.ogg'}", "mkdir web/d",
                 f"-put {local} music/x.bin"])
    after = served.scrape()
    delta = lambda name, **labels: after.get(name, **labels) - before.get(name, **labels)  # noqa: E731
    assert delta("sftp_gateway_uploads_total", user="ryan", mapping="ryan:web", outcome="published") == 1
    for outcome in ("discarded", "cancelled", "dropped"):
        assert delta("sftp_gateway_uploads_total", user="ryan", mapping="ryan:web", outcome=outcome) == 0
    assert delta("sftp_gateway_written_bytes_total", user="ryan", mapping="ryan:web") == 100_000
    assert delta("sftp_gateway_read_bytes_total", user="ryan", mapping="ryan:music") == SONG
    assert delta("sftp_gateway_read_bytes_total", user="ryan", mapping="ryan:web") == 0
    assert delta("sftp_gateway_written_bytes_total", user="ryan", mapping="ryan:music") == 0
    assert delta("sftp_gateway_read_bytes_total", user="gary", mapping="gary:music") == 0
    assert delta("sftp_gateway_requests_total", request="create", result="ok") == 1
    assert delta("sftp_gateway_requests_total", request="create", result="EROFS") == 1
    assert delta("sftp_gateway_requests_total", request="mkdir", result="ok") == 1
    assert delta("sftp_gateway_refusals_total", reason="read_only_mapping") == 1
    assert delta("sftp_gateway_refusals_total", reason="quota") == 0
    assert after.get("sftp_gateway_quota_used_bytes", folder="web") == 100_000
    assert after.get("sftp_gateway_quota_used_files", folder="web") == 2  # a.bin and d
    assert after.get("sftp_gateway_uploads_in_progress") == 0
    # No event sink: no event family at all.
    assert not [name for name in after.types if "event" in name], sorted(after.types)

    # Every answered request is timed once, in its class: outside the
    # metadata class (where the watchdog's probe lookups land meanwhile)
    # the histogram's count is exactly the class's requests.
    classes = {"read": ["read", "lseek"], "write": ["write", "flush", "fsync", "fallocate"],
               "dir": ["opendir", "readdir", "readdirplus"]}
    for cls, kinds in classes.items():
        answered = sum(v for labels, v in after.series("sftp_gateway_requests_total") if labels["request"] in kinds)
        assert after.get("sftp_gateway_request_duration_seconds_count", **{"class": cls}) == answered, cls
    assert delta("sftp_gateway_request_duration_seconds_count", **{"class": "write"}) >= 4  # 100 kB in 32 kB writes

    # A handle held open is the user's; given back at the close.
    with paramiko_sftp(ryan) as s:
        f = s.open("web/a.bin", "r")
        held = served.scrape()
        assert held.get("sftp_gateway_open_handles", user="ryan") == 1
        assert held.get("sftp_gateway_open_handles", user="gary") == 0
        assert held.get("sftp_gateway_open_handles_per_user_limit") > 0
        f.close()
    assert served.scrape().get("sftp_gateway_open_handles", user="ryan") == 0

    # An upload over the folder's quota fails: discarded, its space given back.
    big = tmp_path / "big.bin"
    random_file(big, 250_000)
    before = served.scrape()
    batch(ryan, [f"-put {big} web/big.bin"])
    after = served.scrape()
    assert delta("sftp_gateway_uploads_total", user="ryan", mapping="ryan:web", outcome="discarded") == 1
    assert delta("sftp_gateway_uploads_total", user="ryan", mapping="ryan:web", outcome="published") == 0
    assert delta("sftp_gateway_refusals_total", reason="quota") >= 1  # one per write refused
    assert delta("sftp_gateway_requests_total", request="write", result="EDQUOT") >= 1
    assert after.get("sftp_gateway_quota_used_bytes", folder="web") == 100_000
    assert after.get("sftp_gateway_quota_used_files", folder="web") == 2


def test_page_and_rules_pass_promtool(served, keys, tmp_path):
    ryan = Target(served.g.port, "ryan", keys["ryan_ed25519"])
    local = tmp_path / "x.bin"
    random_file(local, 10_000)
    batch(ryan, [f"put {local} web/x.bin", "-mkdir music/no"])  # errors and refusals on the page too
    text = metrics.fetch(served.url)
    page = metrics.parse(text)
    assert page.types["sftp_gateway_request_duration_seconds"] == "histogram"
    assert page.types["sftp_gateway_requests"] == "counter"  # the parser names a counter's family without _total
    assert page.get("sftp_gateway_requests_total", request="mkdir", result="EROFS") == 1
    r = metrics.promtool_check(text)
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr
    r = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["promtool", "test", "rules", str(RULE_TESTS)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    # Every family the rules use is one the gateway exposes.
    rules = RULES.read_text()
    for family in ("worker_restarts_total", "watchdog_verdicts_total", "quota_used_bytes", "quota_limit_bytes",
                   "quota_used_files", "quota_limit_files", "reload_last_success", "open_handles",
                   "open_handles_per_user_limit"):
        assert f"sftp_gateway_{family}" in rules
        assert f"# TYPE sftp_gateway_{family} " in text, family


def raw_request(port: int, data: bytes, timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        if data:
            s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_endpoint_answers_get_metrics_only(served):
    port = int(served.url.split(":")[2].split("/")[0])
    assert raw_request(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 200 OK\r\n")
    assert raw_request(port, b"GET / HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert raw_request(port, b"GET /etc/passwd HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 404 ")
    post = raw_request(port, b"POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
    assert post.startswith(b"HTTP/1.1 405 Method Not Allowed\r\n") and b"\r\nAllow: GET\r\n" in post
    assert raw_request(port, b"HEAD /metrics HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 405 ")
    assert raw_request(port, b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert raw_request(port, b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 10_000).startswith(b"HTTP/1.1 431 ")
    # A client that connects and says nothing gets 408 after the head's time
    # limit (2 s); a scrape behind it waits no longer than that and the
    # lingering close (1 s).
    with socket.create_connection(("127.0.0.1", port), timeout=10) as silent:
        t0 = time.monotonic()
        page = served.scrape()
        waited = time.monotonic() - t0
        assert page.get("sftp_gateway_users") == 2
        assert waited < 5, f"a scrape behind a silent client took {waited:.1f} s"
        assert silent.recv(100).startswith(b"HTTP/1.1 408 Request Timeout\r\n")


def test_metrics_file_follows_the_counters_and_goes_with_the_gateway(served, keys, tmp_path):
    ryan = Target(served.g.port, "ryan", keys["ryan_ed25519"])
    assert served.file.exists(), "the metrics file is written before the view is mounted"
    assert (served.file.stat().st_mode & 0o777) == 0o644  # node_exporter runs as another user
    first = metrics.parse(served.file.read_text())
    assert first.get("sftp_gateway_users") == 2
    local = tmp_path / "f.bin"
    random_file(local, 4096)
    batch(ryan, [f"put {local} web/f.bin"])
    deadline = time.monotonic() + 12  # written every 5 s
    while time.monotonic() < deadline:
        page = metrics.parse(served.file.read_text())
        if page.get("sftp_gateway_written_bytes_total", user="ryan", mapping="ryan:web") == 4096:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the metrics file did not show the upload within 12 s")
    assert page.get("sftp_gateway_uploads_total", user="ryan", mapping="ryan:web", outcome="published") == 1
    assert served.g.stop() == 0
    assert not served.file.exists(), "a stopped gateway left figures that look current"


def wait_for(what: str, check, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except OSError:
            pass  # the endpoint between two workers
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")


def test_reloads_and_worker_restarts_are_counted(served, keys):
    g = served.g
    ryan = Target(g.port, "ryan", keys["ryan_ed25519"])
    page = served.scrape()
    assert page.get("sftp_gateway_reloads_total", result="ok") == 0
    assert page.get("sftp_gateway_reload_last_success") == 1
    assert page.get("sftp_gateway_worker_restarts_total") == 0
    assert page.get("sftp_gateway_watchdog_verdicts_total", verdict="hung") == 0
    started = page.get("sftp_gateway_worker_start_time_seconds")
    assert abs(started - time.time()) < 120

    good = g.config.read_text()
    g.config.write_text(good + "map = web:gary:web\n")  # a valid change: reloaded
    wait_for("a reload counted", lambda: served.scrape().get("sftp_gateway_reloads_total", result="ok") == 1)
    g.config.write_text(good + "map = nosuch:gary:x\n")  # a missing volume: refused
    wait_for("a refused reload counted",
             lambda: served.scrape().get("sftp_gateway_reloads_total", result="refused") == 1)
    assert served.scrape().get("sftp_gateway_reload_last_success") == 0
    g.config.write_text(good)
    wait_for("the last reload good again", lambda: served.scrape().get("sftp_gateway_reload_last_success") == 1)

    # The worker killed: the supervisor's count goes on, the new worker's
    # own counters start again.
    assert can_login(ryan)
    assert requests(served.scrape(), "getattr") > 0
    mark = g.log_mark()
    os.kill(g.worker_pid(), signal.SIGKILL)
    assert g.wait_for_log(r"worker \d+ serving again", mark, timeout=10), g.log_since(mark)
    page = wait_for("the new worker's page", lambda: served.scrape())
    assert page.get("sftp_gateway_worker_restarts_total") == 1
    assert page.get("sftp_gateway_worker_start_time_seconds") > started
    assert page.get("sftp_gateway_reloads_total", result="ok") == 0  # the worker's own, from zero
    assert page.get("sftp_gateway_watchdog_verdicts_total", verdict="hung") == 0  # a crash, not a hang
