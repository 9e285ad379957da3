"""The versioned migrations of the reporting read model (tables in ``adapters.tables``).

Versions 2 and 3 once also created and backfilled a pre-aggregated person/cell cube
(``report_people``, ``report_cube``); no report reads it (every published figure is cut from the
disclosure universe, built from the facts), while keeping it cost more than half of the
projection's time per event. They now do the rest of their work only, and version 4 drops the
two tables from databases that still have them; a fresh database never creates them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.snapshots import create_snapshots_v6
from trainops_reporting.adapters.tables import (
    EVIDENCE_TABLES,
    facts,
    feedback_responses,
    ix_facts_window_pg,
    ix_facts_window_sqlite,
    metadata,
    participant_merges,
    participants,
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
    """The covering window index.

    A database created at v1 by an older build has the non-covering SQLite index
    ``ix_report_facts_window`` (on PostgreSQL that name is the covering index, unchanged).
    """
    if conn.dialect.name == "sqlite":
        conn.execute(sa.text("DROP INDEX IF EXISTS ix_report_facts_window"))
    own = ix_facts_window_sqlite if conn.dialect.name == "sqlite" else ix_facts_window_pg
    own.create(conn, checkfirst=True)


def _create_v3(conn: Connection) -> None:
    """One counted response per invitation (per registration), enforced by a unique index.

    Responses counted before it (several per registration, e.g. forged with new response ids)
    are reduced to the first submitted, and the facts' feedback sums are recomputed from what is
    left.
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


def _drop_cube_v4(conn: Connection) -> None:
    """The unread pre-aggregates go: no report reads them, and every event paid to keep them."""
    for table in ("report_cube", "report_people"):
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))


def _create_evidence_v7(conn: Connection) -> None:
    """Per-item answers, knowledge-test scores and comments. Responses projected before it
    kept only their ``overall`` item: a rebuild from the streams fills the rest in."""
    metadata.create_all(conn, tables=EVIDENCE_TABLES)


def _create_merges_v8(conn: Connection) -> None:
    """Merged participants (``registration.participants_merged.v1``), so that a merged person's
    registrations count under one id, whatever order the events arrive in."""
    participant_merges.create(conn, checkfirst=True)


def _uuid_type(conn: Connection) -> str:
    return "UUID" if conn.dialect.name == "postgresql" else "CHAR(32)"


MIGRATIONS = MigrationSet(
    "reporting",
    (
        Migration(1, "reporting read model: sessions, facts, feedback, state", _create_v1),
        Migration(2, "covering window index (once also the cube tables)", _create_v2),
        Migration(3, "one counted feedback response per invitation (registration)", _create_v3),
        Migration(4, "drop the unread people and cube pre-aggregates", _drop_cube_v4),
        Migration(6, "frozen report snapshots with their provenance", create_snapshots_v6),
        Migration(
            7, "every item reported: item answers, test scores, comments", _create_evidence_v7
        ),
        Migration(8, "merged participants: one id per person", _create_merges_v8),
    ),
)
