"""``trainops demo`` against services started by the test (so CI covers the command): it loads a
small programme (40 people), waits until reporting shows exactly what it sent (it fails
otherwise), prints the report; a second run finds the programme loaded and only reports."""

from __future__ import annotations

from typing import Any

import pytest

from trainops_cli import demo
from trainops_cli.main import build_parser

pytestmark = pytest.mark.e2e


def _run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    assert args.func is demo.run
    return int(args.func(args))


def test_demo_loads_the_programme_and_prints_the_report(
    start_system: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("JWT_SECRET", "JWT_PRIVATE_KEY_FILE", "JWT_ISSUER", "JWT_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)
    system = start_system("sqlite", report_env={})  # production defaults: k=5
    urls = system.urls.as_dict()
    argv = ["demo", "--participants", "40", "--seed", "7", "--timeout", "90"]
    for name, url in urls.items():
        argv += [f"--{name}-url", url]
    # The demo signs its tokens with the key of the install it talks to.
    argv += ["--data-dir", str(system.harness.data_dir)]

    assert _run(argv) == 0, system.logs()
    first = capsys.readouterr().out
    assert "using the running system" in first
    assert "reporting has caught up" in first
    assert "2020-12-22T10:00+06:00 in Almaty = 2020-12-22T09:00+05:00 in Aktobe" in first
    assert "Programme summary (GET /reports/summary)" in first
    assert "Donor report by city and sex" in first
    for title in ("Registered", "Attended", "Feedback responses"):
        assert f"\n{title}\n" in first
    summary = system.client.summary()
    assert summary["sessions_scheduled"] == 11 and summary["sessions_delivered"] == 11
    assert f"{summary['registered']:>8}" in first

    # Idempotent-ish: the second run neither crashes nor loads the programme twice.
    assert _run(argv) == 0, system.logs()
    second = capsys.readouterr().out
    assert "loaded already" in second
    assert system.client.summary() == summary
    assert "Donor report by city and sex" in second
