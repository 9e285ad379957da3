"""The ``harness`` fixture: the registration service in-process on a fresh nats-server, once
on SQLite and once on PostgreSQL; a personal data key for handler-level tests."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from registration_support import Harness, running_harness

from trainops_registration.adapters import personal_data


@pytest.fixture(autouse=True)
def personal_data_key() -> personal_data.Keyring:
    """A key for the tests that call the handlers without a service (a service installs the
    installation's own key when it is built)."""
    return personal_data.install(secrets.token_hex(32))


@pytest.fixture
async def harness(
    database_url: str, fresh_nats_server: Any, tmp_path: Path
) -> AsyncIterator[Harness]:
    async for running in running_harness(database_url, fresh_nats_server, tmp_path):
        yield running
