"""The ``conn`` fixture the handler tests share: registration's tables and the plumbing tables
on an in-memory SQLite connection, inside one open transaction; and a personal data key."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from seat_counters import sqlite_engine
from sqlalchemy.engine import Connection

from trainops_registration.adapters import personal_data
from trainops_registration.adapters.tables import metadata
from trainops_shared.tables import metadata as plumbing_metadata


@pytest.fixture(autouse=True)
def personal_data_key() -> personal_data.Keyring:
    """A key of this test's own for the sealed personal fields (the service installs the
    installation's key at start-up; these tests call the handlers without a service)."""
    return personal_data.install(secrets.token_hex(32))


@pytest.fixture
def conn() -> Iterator[Connection]:
    """One connection in one transaction, as the service's write path gives a handler."""
    engine = sqlite_engine()
    with engine.connect() as connection:
        with connection.begin():
            metadata.create_all(connection)
            plumbing_metadata.create_all(connection)
        with connection.begin():
            yield connection
    engine.dispose()
