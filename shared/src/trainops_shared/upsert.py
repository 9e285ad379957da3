"""Keep a local copy of another context's aggregate, never letting it move backwards.

Projections (registration's copy of a session, feedback's and reporting's copies) receive events
at least once and not always in order: JetStream redelivers, and a late older event must not
overwrite a newer state. Every copy row carries the ``aggregate_version`` it last applied, and
these two statements apply a change only when its version is newer, in one round trip, on SQLite
and PostgreSQL alike (``INSERT ... ON CONFLICT DO UPDATE ... WHERE excluded.version >
table.version``; both dialects report an update the ``WHERE`` skipped as zero rows).

>>> import sqlalchemy as sa
>>> md = sa.MetaData()
>>> copies = sa.Table(
...     "session_copies", md,
...     sa.Column("session_id", sa.Integer, primary_key=True),
...     sa.Column("status", sa.String(20), nullable=False),
...     sa.Column("version", sa.Integer, nullable=False),
... )
>>> engine = sa.create_engine("sqlite://")
>>> md.create_all(engine)
>>> with engine.begin() as conn:
...     new = {"session_id": 1, "status": "scheduled", "version": 2}
...     first = upsert_if_newer(conn, copies, new)
...     old = {"session_id": 1, "status": "draft", "version": 1}
...     stale = upsert_if_newer(conn, copies, old)
...     moved = update_if_newer(conn, copies, {"session_id": 1}, {"status": "done"}, version=3)
...     conn.execute(sa.select(copies.c.status, copies.c.version)).one()
('done', 3)
>>> first, stale, moved
(True, False, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

__all__ = ["update_if_newer", "upsert_if_newer"]


def _key_columns(table: sa.Table, key: Iterable[str] | None) -> tuple[str, ...]:
    names = tuple(key) if key is not None else tuple(c.name for c in table.primary_key.columns)
    if not names:
        raise ValueError(f"table {table.name!r} has no primary key: name the key columns")
    return names


def upsert_if_newer(
    conn: Connection,
    table: sa.Table,
    values: Mapping[str, Any],
    *,
    version_column: str = "version",
    key: Iterable[str] | None = None,
    update: Iterable[str] | None = None,
) -> bool:
    """Insert ``values`` as a new row, or update the existing row if ``values`` is newer.

    ``key`` names the conflict columns (default: the primary key; a unique constraint's columns
    also work). ``update`` names the columns an existing row takes over (default: every given
    column except the key); the version column is always among them. Returns whether the row
    was inserted or updated: ``False`` means the stored copy is as new or newer and nothing
    changed.
    """
    keys = _key_columns(table, key)
    if version_column not in values:
        raise ValueError(f"values must carry the version column {version_column!r}")
    missing = [k for k in keys if k not in values]
    if missing:
        raise ValueError(f"values must carry the key column(s) {', '.join(missing)}")
    unknown = sorted(set(values) - set(table.c.keys()))
    if unknown:
        raise ValueError(f"table {table.name!r} has no column(s) {', '.join(unknown)}")
    names = [c for c in (update if update is not None else values) if c not in keys]
    if version_column not in names:
        names.append(version_column)
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).values(dict(values))
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(dict(values))
    else:
        raise ValueError(f"no versioned upsert for dialect {dialect!r}")
    version = table.c[version_column]
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c[k] for k in keys],
        set_={name: stmt.excluded[name] for name in names},
        where=stmt.excluded[version_column] > version,
    )
    return bool(conn.execute(stmt).rowcount == 1)


def update_if_newer(
    conn: Connection,
    table: sa.Table,
    key: Mapping[str, Any],
    changes: Mapping[str, Any],
    *,
    version: int,
    version_column: str = "version",
) -> bool:
    """Apply ``changes`` (and ``version``) to the row ``key`` names, if ``version`` is newer.

    For events that change part of a copy that must already exist (a capacity change, a
    cancellation). Returns whether a row changed: ``False`` when the row is missing or already
    at ``version`` or later.
    """
    if not key:
        raise ValueError("key must name the row")
    condition = sa.and_(
        *(table.c[name] == value for name, value in key.items()),
        table.c[version_column] < version,
    )
    result = conn.execute(
        table.update().where(condition).values({**changes, version_column: version})
    )
    return bool(result.rowcount == 1)
