"""SQLAlchemy Core tables of the scheduling service and its versioned migrations.

Sessions keep their cities and trainers twice: as JSON lists on the row (order matters: the first
city is where the organisers are) and as link tables, because "sessions in Aktobe" and "sessions of
this trainer overlapping 10:00-13:00" must be index lookups, and JSON containment is not portable
between SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_shared.columns import UtcDateTime
from trainops_shared.storage import Migration, MigrationSet
from trainops_shared.text_repair import TextColumn, repair_text_columns

metadata = sa.MetaData()

_Time = UtcDateTime()
"""Same DDL as ``DateTime(timezone=True)``; reads back aware UTC on SQLite too."""

trainings = sa.Table(
    "trainings",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("title", sa.JSON, nullable=False),
    sa.Column("target_sectors", sa.JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", _Time, nullable=False),
)

trainers = sa.Table(
    "trainers",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("home_city", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", _Time, nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("training_id", sa.Uuid, sa.ForeignKey("trainings.id"), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("cities", sa.JSON, nullable=False),
    sa.Column("venue", sa.String(300), nullable=True),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("starts_at", _Time, nullable=False),
    sa.Column("ends_at", _Time, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("trainer_ids", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("cancel_reason", sa.String(1000), nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", _Time, nullable=False),
    sa.Column("updated_at", _Time, nullable=False),
    # Seat quotas as SeatQuota objects; NULL for sessions stored before quotas existed.
    sa.Column("quotas", sa.JSON, nullable=True),
    sa.Index("ix_sessions_starts_at", "starts_at", "id"),
    sa.Index("ix_sessions_training", "training_id", "starts_at"),
    sa.Index("ix_sessions_status", "status", "starts_at"),
)

session_cities = sa.Table(
    "session_cities",
    metadata,
    sa.Column(
        "session_id", sa.Uuid, sa.ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("city", sa.String(64), primary_key=True),
    sa.Column("starts_at", _Time, nullable=False),
    sa.Index("ix_session_cities_city", "city", "starts_at"),
)

session_trainers = sa.Table(
    "session_trainers",
    metadata,
    sa.Column(
        "session_id", sa.Uuid, sa.ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("trainer_id", sa.Uuid, sa.ForeignKey("trainers.id"), primary_key=True),
    sa.Index("ix_session_trainers_trainer", "trainer_id", "session_id"),
)


calendar_feeds = sa.Table(
    "calendar_feeds",
    metadata,
    # A subscribable calendar of a city's or a trainer's sessions. Calendar apps cannot send a
    # bearer token, so the feed's URL holds a random token; only its SHA-256 is kept here, and a
    # revoked feed stays (revoked_at set) so its URL keeps answering 404.
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("subject", sa.String(64), nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", _Time, nullable=False),
    sa.Column("revoked_at", _Time, nullable=True),
    sa.Index("ix_calendar_feeds_creator", "created_by", "created_at"),
)


projection_metadata = sa.MetaData()

registration_counts = sa.Table(
    "registration_counts",
    projection_metadata,
    sa.Column("session_id", sa.Uuid, primary_key=True),
    sa.Column("confirmed", sa.Integer, nullable=False),
    sa.Column("waitlisted", sa.Integer, nullable=False),
)
"""Per session, how many people registration holds as confirmed and as waitlisted: the sum of
its public events (no registration, participant or profile is kept). A session scheduled here
and one only registration has heard of are the same key; no foreign key, events may come first."""


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn)


def _quotas_v4(conn: Connection) -> None:
    """A session's seat quotas (JSON list; sessions from before have none) and the calendar
    feeds. On a fresh database v1 made both already."""
    if "quotas" not in {c["name"] for c in sa.inspect(conn).get_columns("sessions")}:
        conn.exec_driver_sql("ALTER TABLE sessions ADD COLUMN quotas JSON")
    calendar_feeds.create(conn, checkfirst=True)


def _create_v2(conn: Connection) -> None:
    projection_metadata.create_all(conn)


def _clean_text_v3(conn: Connection) -> None:
    """Titles, trainer names and places, and cancellation reasons stored before control and bidi
    characters were refused lose those characters (``trainops_shared.text_repair``); only
    counts are logged."""
    repair_text_columns(conn, trainings, "id", (TextColumn("title", json_texts=True),))
    repair_text_columns(conn, trainers, "id", (TextColumn("name"), TextColumn("home_city")))
    repair_text_columns(
        conn,
        sessions,
        "id",
        (
            TextColumn("venue", nullable=True),
            TextColumn("cancel_reason", multiline=True, nullable=True),
        ),
    )


MIGRATIONS = MigrationSet(
    "scheduling",
    (
        Migration(1, "trainings, trainers, sessions and their city/trainer links", _create_v1),
        Migration(2, "registration counts per session, from registration's events", _create_v2),
        Migration(3, "control and bidi characters out of stored titles and names", _clean_text_v3),
        Migration(4, "seat quotas of sessions, calendar feeds", _quotas_v4),
    ),
)
