"""A gateway's metrics read as Prometheus reads them: the page fetched over
HTTP (or the --metrics-file), parsed by prometheus_client's parser (Debian's
python3-prometheus-client) and, where asked, linted by promtool (Debian's
prometheus package). Shared by the e2e tier and scripts/metrics-screenshot.
"""
from __future__ import annotations

import shutil
import subprocess
import urllib.request
from dataclasses import dataclass, field

PREFIX = "sftp_gateway_"


def missing() -> list[str]:
    """What reading and checking metrics needs and this machine lacks."""
    out = []
    try:
        import prometheus_client.parser  # noqa: F401  (only whether it imports)
    except ImportError:
        out.append("python3-prometheus-client")
    if shutil.which("promtool") is None:
        out.append("promtool (Debian package prometheus)")
    return out


def fetch(url: str, timeout: float = 10) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        assert r.status == 200, f"{url}: HTTP {r.status}"
        content_type = r.headers.get("Content-Type", "")
        assert content_type == "text/plain; version=0.0.4; charset=utf-8", content_type
        return r.read().decode("utf-8")


@dataclass
class Page:
    """The samples of one page by (name, labels), and each family's type."""
    text: str
    samples: dict[tuple[str, frozenset], float] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)

    def value(self, name: str, **labels) -> float | None:
        return self.samples.get((name, frozenset(labels.items())))

    def get(self, name: str, **labels) -> float:
        """The sample's value; a series not on the page counts 0 (an error
        result appears with its first occurrence)."""
        v = self.value(name, **labels)
        return 0.0 if v is None else v

    def series(self, name: str) -> list[tuple[dict, float]]:
        return [(dict(labels), v) for (n, labels), v in self.samples.items() if n == name]


def parse(text: str) -> Page:
    """Parses with prometheus_client; every family must be ours and typed."""
    from prometheus_client.parser import text_string_to_metric_families
    page = Page(text)
    for family in text_string_to_metric_families(text):
        assert family.name.startswith(PREFIX), family.name
        assert family.type in ("counter", "gauge", "histogram"), (family.name, family.type)
        page.types[family.name] = family.type
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in page.samples, f"duplicate series {s.name}{s.labels}"
            page.samples[key] = s.value
    return page


def scrape(url: str) -> Page:
    return parse(fetch(url))


def promtool_check(text: str) -> subprocess.CompletedProcess:
    """`promtool check metrics` on the page (stdin): exit 0 and no output
    when the page is well-formed and follows Prometheus' naming lint."""
    return subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
