"""What a service writes to its log file is JSON lines, through outages too."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from trainops_devtools.testing.polling import eventually

pytestmark = pytest.mark.integration


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


async def test_every_log_line_is_json_with_service_level_and_event(
    service_processes, fresh_nats_server
):
    [reporting] = service_processes.start(["reporting"], nats_url=fresh_nats_server.url).values()
    async with httpx.AsyncClient(base_url=reporting.url, timeout=10) as client:
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/reports/summary")).status_code == 401
        assert (await client.get("/no-such-route")).status_code in (401, 404)
    # A broker outage makes the consumer, the relay and nats-py itself log warnings and errors;
    # each of those lines must be JSON too, not a stdlib "WARNING - name - {...}" line.
    offset = reporting.log_path.stat().st_size
    fresh_nats_server.kill()
    started = time.monotonic()

    async def outage_logged() -> bool:
        text = reporting.log_path.read_bytes()[offset:].decode()
        return any(('"warning"' in line or '"error"' in line) for line in _lines(text))

    await eventually(outage_logged, timeout=30, what="warnings during the NATS outage")
    fresh_nats_server.restart()
    assert time.monotonic() - started < 60
    reporting.stop()
    lines = _lines(reporting.log_path.read_bytes()[reporting.log_offset :].decode())
    assert lines
    for line in lines:
        record = json.loads(line)
        assert record["service"] == "reporting", line
        assert {"level", "event"} <= record.keys(), line
