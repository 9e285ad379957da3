"""``trainops status`` against a running ``trainops up``: every service's state, each durable
consumer's lag and each outbox's unsent rows; a dead service shows as down and the exit code
says so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from fault_support import UpProcess

from trainops_cli.api_client import ServiceUrls, TokenIssuer, TrainopsClient, poll
from trainops_cli.status import RunInfo
from trainops_devtools.testing.processes import SERVICES

pytestmark = pytest.mark.e2e


def _status(up: UpProcess) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainops_cli.main",
            "status",
            "--json",
            "--data-dir",
            str(up.data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, json.loads(done.stdout)


def test_status_shows_states_consumer_lag_and_outbox_backlog(
    trainops_up: Callable[..., UpProcess],
) -> None:
    up = trainops_up()
    run_file = up.data_dir / "run.json"
    assert run_file.stat().st_mode & 0o777 == 0o600
    assert RunInfo.read(up.data_dir) is not None

    def settled() -> tuple[int, dict[str, Any]] | None:
        # Consumers are created as the services start; wait until every one is listed.
        code, answer = _status(up)
        return (code, answer) if code == 0 and len(answer["consumers"]) >= 5 else None

    code, answer = poll(settled, timeout=60, what="a healthy status with every consumer")
    assert answer["up_running"] and answer["healthy"] and answer["nats_error"] is None
    states = {s["name"]: s for s in answer["services"]}
    assert set(states) == set(SERVICES)
    assert all(s["state"] == "ready" for s in states.values())
    for name in SERVICES:
        assert states[name]["restarts"] == 0
        assert states[name]["outbox_unsent"] == 0, states[name]
        assert states[name]["outbox_error"] is None
    # Only registration mails participants: its mail backlog is shown (nothing yet).
    assert states["registration"]["mail"] == {}
    assert all(states[name]["mail"] is None for name in SERVICES if name != "registration")
    durable = {(c["stream"], c["consumer"]) for c in answer["consumers"]}
    assert ("REGISTRATION", "reporting") in durable and ("SCHEDULING", "feedback") in durable
    assert all(c["lag"] == c["pending"] + c["ack_pending"] for c in answer["consumers"])

    # NATS frozen: a write commits, its event waits in the outbox, and status shows both.
    client = TrainopsClient(ServiceUrls.from_mapping(up.urls), TokenIssuer(data_dir=up.data_dir))
    nats_pid = up.child_pid("nats")
    os.kill(nats_pid, signal.SIGSTOP)
    try:
        client.define_training("status-backlog", {"en": "Backlog"}, ["media"])
        code, answer = _status(up)
    finally:
        os.kill(nats_pid, signal.SIGCONT)
    assert code == 1 and answer["nats_error"], answer
    states = {s["name"]: s for s in answer["services"]}
    assert states["scheduling"]["outbox_unsent"] == 1, states["scheduling"]
    poll(
        lambda: True if _status(up)[1]["services"][1]["outbox_unsent"] == 0 else None,
        timeout=60,
        what="the outbox drained once NATS answers again",
    )
    client.close()

    os.kill(up.child_pid("reporting"), signal.SIGSTOP)
    try:
        code, answer = _status(up)
        assert code == 1
        states = {s["name"]: s for s in answer["services"]}
        assert states["reporting"]["state"] == "down"
        assert states["registration"]["state"] == "ready"
    finally:
        os.kill(up.child_pid("reporting"), signal.SIGCONT)

    table = subprocess.run(
        [sys.executable, "-m", "trainops_cli.main", "status", "--data-dir", str(up.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "registration" in table.stdout and "ack pending" in table.stdout, table.stdout
    assert "mail: 0 waiting to be sent, 0 failed, 0 sent" in table.stdout, table.stdout
    assert "@" not in table.stdout  # no credentials in what is shown


def test_status_without_a_running_system_says_so(tmp_path: Any) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "trainops_cli.main", "status", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "is not running" in done.stderr
