"""The column types every service's tables use for instants and identifiers.

Both hide a difference between SQLite and PostgreSQL that otherwise leaks into domain code:

* :class:`UtcDateTime` — SQLite has no time-zone type and returns naive datetimes, PostgreSQL's
  ``timestamptz`` returns aware ones in the session's zone. This type always writes UTC and
  always reads back an aware UTC ``datetime``, so comparisons never mix naive and aware values.
* :class:`UUIDType` — ``sa.Uuid`` semantics (native ``uuid`` on PostgreSQL, 32 hex characters on
  SQLite, ``uuid.UUID`` objects in Python), accepting a ``str`` on the way in as well, so code
  that still passes ``str(some_id)`` keeps working while it is converted.

>>> import sqlalchemy as sa
>>> metadata = sa.MetaData()
>>> sessions = sa.Table(
...     "sessions",
...     metadata,
...     sa.Column("session_id", UUIDType(), primary_key=True),
...     sa.Column("starts_at", UtcDateTime(), nullable=False),
... )

Moving a table whose ids are ``String(36)`` to :class:`UUIDType` is a data migration, not only
a type change (SQLite rows hold ``"1b4e28ba-2fa1-11d2-883f-0016d3cca427"``, ``sa.Uuid`` reads
``"1b4e28ba2fa111d2883f0016d3cca427"``). Call :func:`convert_string_uuid_columns` from a new
migration of the service, listing every such column, then declare the columns
:class:`UUIDType`. On PostgreSQL drop foreign keys between the converted columns first and
recreate them afterwards (PostgreSQL refuses to change a referenced column's type under a
constraint); on SQLite foreign keys compare the stored text and keep working once both sides are
converted in the same migration.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.types import TypeDecorator

from trainops_shared.timeutil import as_utc

__all__ = ["UUIDType", "UtcDateTime", "convert_string_uuid_columns"]


class UtcDateTime(TypeDecorator[datetime]):
    """An instant: stored as UTC, read back aware in UTC on every backend.

    A naive value on the way in is taken to be UTC (see :func:`~trainops_shared.timeutil.as_utc`);
    an aware one in another zone is converted, never stored with its local wall-clock time.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UtcDateTime expects a datetime, not {type(value).__name__}")
        utc = as_utc(value)
        # SQLite stores the text without an offset; writing naive UTC keeps it comparable as text.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    @property
    def python_type(self) -> type[datetime]:
        return datetime


class UUIDType(TypeDecorator[uuid.UUID]):
    """An identifier: ``sa.Uuid`` storage, ``uuid.UUID`` in Python, a ``str`` accepted on input.

    A string that is not a UUID raises ``ValueError`` before anything reaches the database.
    """

    impl = sa.Uuid(as_uuid=True)
    cache_ok = True

    def process_bind_param(self, value: uuid.UUID | str | None, dialect: Dialect) -> Any:
        if value is None or isinstance(value, uuid.UUID):
            return value
        if isinstance(value, str):
            return uuid.UUID(value)
        raise TypeError(f"UUIDType expects a UUID or its string, not {type(value).__name__}")

    def process_result_value(self, value: Any, dialect: Dialect) -> uuid.UUID | None:
        if value is None or isinstance(value, uuid.UUID):
            return value
        return uuid.UUID(str(value))

    @property
    def python_type(self) -> type[uuid.UUID]:
        return uuid.UUID


def _quoted(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def convert_string_uuid_columns(conn: Connection, columns: Iterable[tuple[str, str]]) -> None:
    """Rewrite ``(table, column)`` pairs stored as ``String(36)`` into ``sa.Uuid``'s storage.

    PostgreSQL: ``ALTER COLUMN ... TYPE uuid USING column::uuid`` (a value that is not a UUID
    fails the migration, which then rolls back whole). SQLite: the text loses its dashes and
    becomes lower case, which is what ``sa.Uuid`` writes and reads there; the declared column
    type stays as it was, and SQLite's type affinity makes that irrelevant.
    """
    for table, column in columns:
        t, c = _quoted(conn, table), _quoted(conn, column)
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text(f"ALTER TABLE {t} ALTER COLUMN {c} TYPE uuid USING {c}::uuid"))
        elif conn.dialect.name == "sqlite":
            conn.execute(
                sa.text(f"UPDATE {t} SET {c} = lower(replace({c}, '-', '')) WHERE {c} IS NOT NULL")
            )
        else:
            raise ValueError(f"no UUID conversion for dialect {conn.dialect.name!r}")
