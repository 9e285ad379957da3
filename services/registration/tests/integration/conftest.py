"""The ``harness`` fixture: the registration service in-process on a fresh nats-server, once
on SQLite and once on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from registration_support import Harness, running_harness


@pytest.fixture
async def harness(
    database_url: str, fresh_nats_server: Any, tmp_path: Path
) -> AsyncIterator[Harness]:
    async for running in running_harness(database_url, fresh_nats_server, tmp_path):
        yield running
