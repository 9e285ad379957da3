"""The ``conn`` fixture the handler tests share: registration's tables and the plumbing tables
on an in-memory SQLite connection, inside one open transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_registration.adapters.tables import metadata
from trainops_shared.tables import metadata as plumbing_metadata


@pytest.fixture
def conn() -> Iterator[Connection]:
    """One connection in one transaction, as the service's write path gives a handler.

    pysqlite's own transaction handling is switched off (as ``trainops_shared.storage`` does)
    so that the handlers' SAVEPOINTs work.
    """
    engine = sa.create_engine("sqlite://")

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    with engine.connect() as connection:
        with connection.begin():
            metadata.create_all(connection)
            plumbing_metadata.create_all(connection)
        with connection.begin():
            yield connection
    engine.dispose()
