"""Smoke test of ``trainops bench``: the command runs end to end and writes the JSON shape.

No timing thresholds and no completion requirements: figures depend on the machine and on its
load. Only the document's shape, the units, the absence of failed requests and the internal
consistency of what is reported are checked; ``--smoke`` uses the smallest sizes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

RUNNER = """
import sys
from trainops_cli.main import build_parser
args = build_parser().parse_args(sys.argv[1:])
sys.exit(args.func(args))
"""


def _bench(tmp_path: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUNNER, "bench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_bench_smoke_write_path_and_relay(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = _bench(
        tmp_path,
        "--smoke",
        "--only",
        "write_path,relay",
        "--out",
        str(out),
        "--workdir",
        str(tmp_path / "work"),
    )
    assert done.returncode == 0, done.stderr[-4000:]
    printed = json.loads(done.stdout)
    written = json.loads(out.read_text(encoding="utf-8"))
    assert printed == written
    assert set(written) == {"meta", "write_path", "relay"}
    assert written["meta"]["mode"] == "smoke"
    assert written["meta"]["machine"]["cores"] >= 1
    assert written["meta"]["total_s"] > 0

    write = written["write_path"]
    for part in ("baseline_bare_litestar", "sqlite"):
        figures = write[part]
        assert figures["requests"] > 0
        assert figures["errors"] == 0, figures["status_counts"]
        assert set(figures["latency_ms"]) >= {"p50", "p99"}
    assert "ratio_to_baseline" in write["sqlite"]
    assert "skipped" in write["postgresql"]
    assert "req_per_s" in write["units"]

    relay = written["relay"]
    backlog = relay["backlog_rows"]
    assert backlog > 0
    assert relay["baseline_raw_publish_async"]["stored"] == backlog
    figures = relay["relay"]
    assert isinstance(figures["completed"], bool)
    assert 0 <= figures["published"] <= backlog
    assert figures["stream_messages_added"] >= figures["published"]
    if figures["completed"]:
        assert figures["published"] == backlog
    assert "ratio_to_baseline" in relay


def test_bench_failure_is_recorded_and_json_written(tmp_path: Path) -> None:
    """A benchmark that cannot run records its error; the document is still written."""
    out = tmp_path / "bench.json"
    blocker = tmp_path / "work" / "relay"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("a file where the relay benchmark wants its directory")
    done = _bench(
        tmp_path, "--smoke", "--only", "relay", "--out", str(out), "--workdir", str(blocker.parent)
    )
    assert done.returncode == 1
    written = json.loads(out.read_text(encoding="utf-8"))
    assert "error" in written["relay"]
    assert "relay" in done.stderr


def test_bench_rejects_unknown_names(tmp_path: Path) -> None:
    done = _bench(tmp_path, "--quick", "--only", "nonsense", timeout=60)
    assert done.returncode == 2
    assert "unknown benchmark" in done.stderr
