"""The ``conn`` fixture the handler tests share: registration's tables and the plumbing tables
on an in-memory SQLite connection, inside one open transaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from seat_counters import sqlite_engine
from sqlalchemy.engine import Connection

from trainops_registration.adapters.tables import metadata
from trainops_shared.tables import metadata as plumbing_metadata


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
