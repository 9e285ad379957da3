"""Fixtures of the fault tests: ``trainops up`` itself as a process, on ports and a data
directory of the test's own (never 8001-8004 or 4222)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fault_support import UpProcess, free_port_block

from trainops_cli.api_client import poll
from trainops_devtools.testing.processes import SERVICES


@pytest.fixture
def trainops_up(tmp_path: Path) -> Iterator[Callable[..., UpProcess]]:
    """``trainops_up(*extra_args)``: ``trainops up`` started and ready; stopped with SIGINT (as
    Ctrl-C) at teardown, and its exit code checked to be 0."""
    started: list[UpProcess] = []

    def start(*extra: str) -> UpProcess:
        base = free_port_block(len(SERVICES))
        nats_port = free_port_block(1)
        data_dir = tmp_path / f"up{len(started)}"
        output = tmp_path / f"up{len(started)}.out"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("NATS_URL", None)
        env.pop("TRAINOPS_DATA_DIR", None)
        with output.open("wb") as sink:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "trainops_cli.main",
                    "up",
                    "--data-dir",
                    str(data_dir),
                    "--base-port",
                    str(base),
                    "--nats-port",
                    str(nats_port),
                    "--ready-timeout",
                    "90",
                    *extra,
                ],
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        up = UpProcess(process, output, data_dir, base, nats_port)
        up.urls = {name: f"http://127.0.0.1:{base + i}" for i, name in enumerate(SERVICES)}
        started.append(up)
        poll(
            lambda: True if "trainops is up" in up.text() or process.poll() is not None else None,
            timeout=120,
            what="trainops up to say it is up",
            last=up.text,
        )
        assert process.poll() is None, f"trainops up exited:\n{up.text()}"
        assert up.all_ready(), up.text()
        return up

    try:
        yield start
    finally:
        for up in started:
            if up.process.poll() is None:
                up.process.send_signal(signal.SIGINT)
                try:
                    code = up.process.wait(60)
                except subprocess.TimeoutExpired:
                    up.process.kill()
                    up.process.wait()
                    raise AssertionError(
                        f"trainops up did not stop on SIGINT:\n{up.text()}"
                    ) from None
                assert code == 0, f"trainops up exited {code} on SIGINT:\n{up.text()}"
