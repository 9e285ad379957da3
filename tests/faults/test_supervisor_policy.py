"""The supervisor's decisions, on fake processes and a fake clock: restart after a backoff that
doubles per consecutive crash, say why (signal or exit code, the run's own error lines), give up
only on a crash loop, and never restart a process that is still running."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest

from trainops_devtools.supervisor import (
    CrashLoop,
    RestartPolicy,
    Supervisor,
    SystemHandle,
    exit_reason,
    relevant_lines,
)
from trainops_devtools.testing.processes import ServiceProcess

pytestmark = pytest.mark.unit


class FakeProcess:
    """What the supervisor uses of a :class:`ServiceProcess`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.running = True
        self.code: int | None = None
        self.starts = 0
        self.is_ready = True
        self.log = json.dumps({"event": "service_starting", "level": "info"})
        self.process: object | None = object()

    def is_running(self) -> bool:
        return self.running

    @property
    def returncode(self) -> int | None:
        return None if self.running else self.code

    def log_tail(self, lines: int = 60) -> str:
        return self.log

    def start(self) -> FakeProcess:
        self.starts += 1
        self.running = True
        self.log = json.dumps({"event": "service_starting", "level": "info"})
        return self

    def ready(self) -> bool:
        return self.is_ready

    def kill(self) -> None:
        self.running = False
        self.code = -9

    def die(self, code: int, *lines: str) -> None:
        self.running = False
        self.code = code
        self.log = "\n".join([self.log, *lines])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _system(*names: str) -> tuple[SystemHandle, dict[str, FakeProcess]]:
    fakes = {name: FakeProcess(name) for name in names}
    handle = SystemHandle(
        data_dir=Path("/nonexistent"),
        host="127.0.0.1",
        nats_url="nats://127.0.0.1:1",
        nats_description="external",
        services=cast(dict[str, ServiceProcess], fakes),
        database_urls={},
    )
    return handle, fakes


def _supervisor(handle: SystemHandle, clock: Clock, said: list[str], **policy: Any) -> Supervisor:
    return Supervisor(handle, RestartPolicy(**policy), say=said.append, clock=clock)


def test_a_dead_service_is_restarted_after_a_doubling_backoff_and_the_others_untouched() -> None:
    handle, fakes = _system("registration", "reporting")
    clock, said = Clock(), list[str]()
    supervisor = _supervisor(handle, clock, said, initial_backoff_s=0.5, max_backoff_s=4.0)
    error = json.dumps({"event": "boom", "level": "error", "exception": "Traceback ..."})
    fakes["reporting"].die(-9)
    supervisor.check()
    assert "reporting killed by SIGKILL" in said[-1] and "restarting in 0.5 s" in said[-1]
    assert fakes["reporting"].starts == 0
    clock.now += 0.5
    supervisor.check()  # restarted now, ready on the next pass
    assert fakes["reporting"].starts == 1
    supervisor.check()
    assert "reporting is back (restart 1" in said[-1]
    for expected_delay in (1.0, 2.0, 4.0):
        fakes["reporting"].die(3, error)
        clock.now += 1
        supervisor.check()
        assert f"restarting in {expected_delay:.1f} s" in said[-1]
        assert "exit code 3" in said[-1] and '"event": "boom"' in said[-1]
        clock.now += expected_delay
        supervisor.check()
        supervisor.check()
    assert fakes["registration"].starts == 0
    assert supervisor.restarts() == {"registration": 0, "reporting": 4}


def test_five_crashes_within_the_window_stop_with_the_reason_and_log_lines() -> None:
    handle, fakes = _system("feedback")
    clock, said = Clock(), list[str]()
    supervisor = _supervisor(handle, clock, said, max_crashes=5, window_s=60.0)
    with pytest.raises(CrashLoop) as caught:
        for _ in range(5):
            fakes["feedback"].die(1, "Traceback (most recent call last):", "  ValueError: bad")
            supervisor.check()
            clock.now += 11
            supervisor.check()
            supervisor.check()
    assert caught.value.name == "feedback"
    message = str(caught.value)
    assert "feedback crashed 5 times within 60 s (last: exit code 1)" in message
    assert "ValueError: bad" in message
    assert fakes["feedback"].starts == 4


def test_crashes_spread_over_more_than_the_window_never_stop_the_system() -> None:
    handle, fakes = _system("scheduling")
    clock, said = Clock(), list[str]()
    supervisor = _supervisor(handle, clock, said, max_crashes=3, window_s=60.0)
    for _ in range(10):
        fakes["scheduling"].die(-9)
        supervisor.check()
        assert "restarting in 0.5 s" in said[-1]  # ready for a whole window: no doubling
        clock.now += 1
        supervisor.check()
        supervisor.check()
        clock.now += 60
    assert fakes["scheduling"].starts == 10


def test_a_restart_that_never_gets_ready_counts_as_a_crash() -> None:
    handle, fakes = _system("registration")
    clock, said = Clock(), list[str]()
    supervisor = _supervisor(handle, clock, said, ready_timeout_s=30.0)
    fakes["registration"].die(-9)
    supervisor.check()
    clock.now += 1
    fakes["registration"].is_ready = False
    supervisor.check()
    clock.now += 31
    supervisor.check()
    assert "not ready within 30 s of its restart" in said[-1]
    assert not fakes["registration"].running


def test_exit_reasons_and_relevant_lines() -> None:
    assert exit_reason(-9) == "killed by SIGKILL"
    assert exit_reason(-15) == "killed by SIGTERM"
    assert exit_reason(2) == "exit code 2"
    log = "\n".join(
        [
            json.dumps({"event": "request", "level": "info"}),
            json.dumps({"event": "db_failed", "level": "error"}),
            json.dumps({"event": "request", "level": "info"}),
        ]
    )
    assert relevant_lines(log) == [json.dumps({"event": "db_failed", "level": "error"})]
    quiet = "\n".join(json.dumps({"event": f"e{i}", "level": "info"}) for i in range(10))
    assert relevant_lines(quiet) == quiet.splitlines()[-3:]
