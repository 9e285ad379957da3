"""One NATS outage, two log lines: lost (with the reason) and restored (with its duration);
the reconnect attempts in between are counted, not logged."""

from __future__ import annotations

import asyncio
from typing import Any

import nats.errors
import pytest

from trainops_shared.broker import ConnectionWatch

pytestmark = pytest.mark.unit


class RecordingLogger:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.lines.append(("warning", event, fields))

    def info(self, event: str, **fields: Any) -> None:
        self.lines.append(("info", event, fields))


def _watch() -> tuple[ConnectionWatch, RecordingLogger]:
    logger = RecordingLogger()
    return ConnectionWatch("trainops-test", logger), logger  # type: ignore[arg-type]  # duck-typed


async def test_an_outage_with_many_failed_attempts_is_two_lines() -> None:
    watch, logger = _watch()
    await watch.error_cb(nats.errors.UnexpectedEOF())
    await watch.disconnected_cb()
    for _ in range(20):
        await watch.error_cb(ConnectionRefusedError(111, "Connect call failed"))
        await watch.disconnected_cb()
    await asyncio.sleep(0.01)
    await watch.reconnected_cb()
    assert [(level, event) for level, event, _ in logger.lines] == [
        ("warning", "nats_connection_lost"),
        ("info", "nats_connection_restored"),
    ]
    lost, restored = logger.lines[0][2], logger.lines[1][2]
    assert lost["client"] == "trainops-test" and "UnexpectedEOF" in lost["reason"]
    assert restored["failed_attempts"] == 20 and restored["outage_s"] > 0
    assert watch.connected and watch.outages == 1


async def test_errors_while_connected_are_logged_and_a_second_outage_counts_again() -> None:
    watch, logger = _watch()
    await watch.error_cb(nats.errors.Error("nats: permissions violation for publish"))
    assert logger.lines[-1][1] == "nats_error"
    await watch.reconnected_cb()  # nothing was lost: nothing to say
    assert len(logger.lines) == 1
    for _ in range(2):
        await watch.disconnected_cb()
        assert not watch.connected
        await watch.reconnected_cb()
    assert watch.outages == 2
    assert [event for _, event, _ in logger.lines[1:]] == [
        "nats_connection_lost",
        "nats_connection_restored",
    ] * 2


async def test_a_close_we_asked_for_is_not_an_outage() -> None:
    # nats-py calls the disconnected callback on close() too, with no error before it.
    watch, logger = _watch()
    await watch.disconnected_cb()
    assert logger.lines == []
