"""The versioned migrations of the reporting read model (tables in ``adapters.tables``).

Kept apart from the table definitions because two of them backfill the cube with
``adapters.cube.rebuild_cube``, which itself reads the tables: tables ← cube ← migrations,
one direction only.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.cube import rebuild_cube
from trainops_reporting.adapters.tables import (
    cube,
    facts,
    feedback_responses,
    ix_facts_window_pg,
    ix_facts_window_sqlite,
    metadata,
    participants,
    people,
    report_state,
    sessions,
    surveys,
    trainers,
    trainings,
)
from trainops_shared.storage import Migration, MigrationSet

V1_TABLES: tuple[sa.Table, ...] = (
    trainings,
    trainers,
    sessions,
    surveys,
    participants,
    facts,
    feedback_responses,
    report_state,
)


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn, tables=V1_TABLES)
    conn.execute(report_state.insert().values(id=1, generation=0))


def _create_v2(conn: Connection) -> None:
    """The cube tables, built from the facts already projected; the covering window index.

    A database created at v1 by an older build has the non-covering SQLite index
    ``ix_report_facts_window`` (on PostgreSQL that name is the covering index, unchanged).
    """
    if conn.dialect.name == "sqlite":
        conn.execute(sa.text("DROP INDEX IF EXISTS ix_report_facts_window"))
    own = ix_facts_window_sqlite if conn.dialect.name == "sqlite" else ix_facts_window_pg
    own.create(conn, checkfirst=True)
    metadata.create_all(conn, tables=(people, cube))
    rebuild_cube(conn)


def _create_v3(conn: Connection) -> None:
    """One counted response per invitation (per registration), enforced by a unique index.

    Responses counted before it (several per registration, e.g. forged with new response ids)
    are reduced to the first submitted, and the facts' feedback sums and the cube are
    recomputed from what is left.
    """
    table = feedback_responses.name
    if "invitation_id" not in {c["name"] for c in sa.inspect(conn).get_columns(table)}:
        conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN invitation_id {_uuid_type(conn)}"))
    conn.execute(
        sa.text(
            f"DELETE FROM {table} WHERE response_id IN ("
            f" SELECT response_id FROM ("
            f"  SELECT response_id, ROW_NUMBER() OVER ("
            f"   PARTITION BY registration_id ORDER BY submitted_at, response_id) AS n"
            f"  FROM {table}) ranked WHERE n > 1)"
        )
    )
    answers = feedback_responses.c
    per_registration = facts.c.registration_id == answers.registration_id
    conn.execute(
        facts.update().values(
            feedback_count=sa.select(sa.func.count()).where(per_registration).scalar_subquery(),
            overall_sum=sa.select(sa.func.coalesce(sa.func.sum(answers.overall), 0))
            .where(per_registration)
            .scalar_subquery(),
            overall_count=sa.select(sa.func.count(answers.overall))
            .where(per_registration)
            .scalar_subquery(),
        )
    )
    conn.execute(
        sa.text(
            "CREATE UNIQUE INDEX IF NOT EXISTS ux_report_feedback_registration "
            f"ON {table} (registration_id)"
        )
    )
    rebuild_cube(conn)


def _uuid_type(conn: Connection) -> str:
    return "UUID" if conn.dialect.name == "postgresql" else "CHAR(32)"


MIGRATIONS = MigrationSet(
    "reporting",
    (
        Migration(1, "reporting read model: sessions, facts, feedback, state", _create_v1),
        Migration(2, "pre-aggregated people and cube tables; covering window index", _create_v2),
        Migration(3, "one counted feedback response per invitation (registration)", _create_v3),
    ),
)
