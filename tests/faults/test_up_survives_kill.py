"""``trainops up`` survives ``kill -9`` of any one of its processes: the dead one is restarted
and says why, and the others never refuse a request meanwhile (readiness probes and
authenticated reads)."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
from fault_support import UpProcess

from trainops_cli.api_client import TokenIssuer, poll
from trainops_cli.status import RunInfo
from trainops_devtools.testing.processes import SERVICES

pytestmark = pytest.mark.e2e


PROBES: dict[str, tuple[str, str, tuple[int, ...]]] = {
    "registration": ("admin", "/registrations", (200,)),
    "scheduling": ("programme_staff", "/trainings", (200,)),
    "feedback": ("programme_staff", f"/sessions/{uuid.UUID(int=7)}/invitations", (200, 404)),
    "reporting": ("reporting", "/reports/summary", (200,)),
    "identity": ("reporting", "/me", (200,)),
}
"""One authenticated read per service (role, path, the answers that count as served)."""


class Poller(threading.Thread):
    """Asks every service but one for ``/ready`` without pause, and for an authenticated read
    four times a second (under the per-principal rate limit); records every refusal."""

    def __init__(self, up: UpProcess, skip: str) -> None:
        super().__init__(daemon=True)
        self.up = up
        self.names = [name for name in up.urls if name != skip]
        self.tokens = TokenIssuer(data_dir=up.data_dir)
        self.stop = threading.Event()
        self.answered = 0
        self.refused: list[str] = []

    def _read(self, name: str, client: httpx.Client) -> None:
        role, path, served = PROBES[name]
        headers = {"Authorization": f"Bearer {self.tokens(role)}"}
        try:
            response = client.get(f"{self.up.urls[name]}{path}", headers=headers, timeout=5.0)
        except httpx.HTTPError as exc:
            self.refused.append(f"{name} {path}: {type(exc).__name__}")
            return
        if response.status_code in served:
            self.answered += 1
        else:
            self.refused.append(f"{name} {path}: {response.status_code} {response.text[:100]}")

    def run(self) -> None:
        next_read = 0.0
        with httpx.Client() as client:
            while not self.stop.is_set():
                for name in self.names:
                    if self.up.ready(name, client):
                        self.answered += 1
                    else:
                        self.refused.append(f"{name} /ready at {time.monotonic():.2f}")
                if time.monotonic() >= next_read:
                    next_read = time.monotonic() + 0.25
                    for name in self.names:
                        self._read(name, client)


def test_kill_9_of_each_service_in_turn_restarts_it_while_the_others_keep_answering(
    trainops_up: Callable[..., UpProcess],
) -> None:
    up = trainops_up()
    # A fresh install has no accounts: the summary says how to make the first admin.
    assert f"Sign in with a browser: {up.urls['identity']}/sign-in" in up.text()
    assert "trainops users add admin --role admin --password-stdin" in up.text()
    for name in SERVICES:
        old_pid = up.child_pid(name)
        poller = Poller(up, skip=name)
        poller.start()
        try:
            os.kill(old_pid, signal.SIGKILL)
            back = f"{name} is back"
            poll(
                lambda: True if back in up.text() else None,  # noqa: B023 - polled right here
                timeout=60,
                what=f"trainops up to restart {name}",
                last=up.text,
            )
            with httpx.Client() as client:
                assert up.ready(name, client)
        finally:
            poller.stop.set()
            poller.join(10)
        assert up.child_pid(name) != old_pid
        assert poller.refused == [], f"refused while {name} was down: {poller.refused[:10]}"
        assert poller.answered > 0
        assert f"{name} killed by SIGKILL" in up.text()
    assert up.process.poll() is None, up.text()
    info = RunInfo.read(up.data_dir)
    assert info is not None and info.restarts == {**dict.fromkeys(SERVICES, 1), "nats": 0}


def test_kill_9_of_nats_server_restarts_it_with_its_store_and_the_services_recover(
    trainops_up: Callable[..., UpProcess],
) -> None:
    up = trainops_up()
    stream_dir = up.data_dir / "nats" / "jetstream"
    before = {p.name for p in stream_dir.rglob("*") if p.is_dir()}
    os.kill(up.child_pid("nats"), signal.SIGKILL)
    poll(
        lambda: True if "NATS is back" in up.text() else None,
        timeout=60,
        what="trainops up to restart nats-server",
        last=up.text,
    )
    poll(
        lambda: True if up.all_ready() else None,
        timeout=60,
        what="every service ready again",
        last=up.text,
    )
    assert before <= {p.name for p in stream_dir.rglob("*") if p.is_dir()}
    assert "nats exited" in up.text()
    assert up.process.poll() is None, up.text()


def test_a_crash_loop_stops_trainops_up_naming_the_service(
    trainops_up: Callable[..., UpProcess],
) -> None:
    up = trainops_up("--max-crashes", "2", "--crash-window", "120")
    for attempt in range(2):
        pid = up.child_pid("reporting")
        os.kill(pid, signal.SIGKILL)
        if attempt == 0:
            poll(
                lambda: True if "reporting is back" in up.text() else None,
                timeout=60,
                what="the first restart",
                last=up.text,
            )
    assert up.process.wait(60) == 1, up.text()
    text = up.text()
    assert "reporting crashed 2 times within 120 s (last: killed by SIGKILL)" in text
    assert "giving up" in text
