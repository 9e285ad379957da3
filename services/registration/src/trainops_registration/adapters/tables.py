"""The registration service's tables and their versioned migrations.

Personal data (name, e-mail, phone, organisation) lives only in ``participants``; everything
else refers to a person by the pseudonymous ``participant_id``. ``sessions`` is this service's
own copy of scheduling's sessions, built from events (it never calls scheduling), with the
``version`` of the last scheduling event applied so that late redeliveries never roll it back.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_shared.storage import Migration, MigrationSet

metadata = sa.MetaData()

_UUID = sa.String(36)
_Time = sa.DateTime(timezone=True)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("session_id", _UUID, primary_key=True),
    sa.Column("training_id", _UUID, nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("cities", sa.JSON, nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("starts_at", _Time, nullable=False),
    sa.Column("ends_at", _Time, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", _Time, nullable=False),
    # Seat counters of the session's registrations, kept in the same transaction as every status
    # change (register, cancel, promote, cascade cancel), so that deciding "confirmed or
    # waitlisted" reads one locked row instead of counting a session's registrations each time.
    # Waitlist positions stay 1..n (every exit closes the gap), so the last position is the
    # number waiting; both are kept because the seat rules speak of the last position.
    sa.Column("confirmed_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("waitlisted_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_waitlist_position", sa.Integer, nullable=False, server_default="0"),
)

participants = sa.Table(
    "participants",
    metadata,
    sa.Column("participant_id", _UUID, primary_key=True),
    sa.Column("full_name", sa.String(200), nullable=False),
    sa.Column("name_key", sa.String(400), nullable=False),
    sa.Column("email", sa.String(254), nullable=True),
    sa.Column("phone", sa.String(20), nullable=True),
    sa.Column("organisation", sa.String(200), nullable=True),
    sa.Column("city", sa.String(64), nullable=False),
    sa.Column("sector", sa.String(16), nullable=False),
    sa.Column("sex", sa.String(16), nullable=False),
    sa.Column("age_band", sa.String(16), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("created_at", _Time, nullable=False),
    sa.Column("updated_at", _Time, nullable=False),
    # One person per e-mail and per phone: concurrent first registrations of the same person
    # (two coordinators at once) cannot create two participant ids.
    sa.Index(
        "ux_participants_email",
        "email",
        unique=True,
        sqlite_where=sa.text("email IS NOT NULL"),
        postgresql_where=sa.text("email IS NOT NULL"),
    ),
    sa.Index(
        "ux_participants_phone",
        "phone",
        unique=True,
        sqlite_where=sa.text("phone IS NOT NULL"),
        postgresql_where=sa.text("phone IS NOT NULL"),
    ),
    sa.Index("ix_participants_name_key_city", "name_key", "city"),
)

registrations = sa.Table(
    "registrations",
    metadata,
    sa.Column("registration_id", _UUID, primary_key=True),
    sa.Column("session_id", _UUID, nullable=False),
    sa.Column("participant_id", _UUID, nullable=False),
    # The region the registration belongs to (the participant's city when registered): every
    # coordinator query filters on it, so it is a column of its own rather than a join.
    sa.Column("city", sa.String(64), nullable=False),
    sa.Column("sector", sa.String(16), nullable=False),
    sa.Column("sex", sa.String(16), nullable=False),
    sa.Column("age_band", sa.String(16), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("waitlist_position", sa.Integer, nullable=True),
    sa.Column("attended", sa.Boolean, nullable=True),
    sa.Column("cancel_cause", sa.String(32), nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", _Time, nullable=False),
    sa.Column("updated_at", _Time, nullable=False),
    # Seat counting and waitlist order of one session.
    sa.Index("ix_registrations_session_status", "session_id", "status", "waitlist_position"),
    # Listing a region's registrations, newest first.
    sa.Index("ix_registrations_city_created", "city", "created_at"),
    # At most one live registration of a person per session (the duplicate 409's safety net).
    sa.Index(
        "ux_registrations_live",
        "participant_id",
        "session_id",
        unique=True,
        sqlite_where=sa.text("status <> 'cancelled'"),
        postgresql_where=sa.text("status <> 'cancelled'"),
    ),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("subject", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response", sa.JSON, nullable=False),
    sa.Column("created_at", _Time, nullable=False),
)


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn)


_SEAT_COUNTERS = ("confirmed_count", "waitlisted_count", "last_waitlist_position")


def _seat_counters_v2(conn: Connection) -> None:
    """Add the seat counters to ``sessions`` (if v1 predates them) and fill them from the rows.

    v1 is ``create_all`` of the current tables, so on a fresh database the columns exist
    already; on a database created before v2 they are added here. Either way the backfill makes
    them agree with the registrations (a no-op on a fresh database).
    """
    present = {c["name"] for c in sa.inspect(conn).get_columns("sessions")}
    for name in _SEAT_COUNTERS:
        if name not in present:
            conn.exec_driver_sql(
                f"ALTER TABLE sessions ADD COLUMN {name} INTEGER NOT NULL DEFAULT 0"
            )
    r = registrations.c

    def count(status: str) -> sa.ScalarSelect[int]:
        return (
            sa.select(sa.func.count())
            .where(r.session_id == sessions.c.session_id, r.status == status)
            .scalar_subquery()
        )

    last = (
        sa.select(sa.func.coalesce(sa.func.max(r.waitlist_position), 0))
        .where(r.session_id == sessions.c.session_id, r.status == "waitlisted")
        .scalar_subquery()
    )
    conn.execute(
        sessions.update().values(
            confirmed_count=count("confirmed"),
            waitlisted_count=count("waitlisted"),
            last_waitlist_position=last,
        )
    )


MIGRATIONS = MigrationSet(
    "registration",
    (
        Migration(1, "sessions copy, participants, registrations, idempotency keys", _create_v1),
        Migration(2, "seat counters on the sessions copy, backfilled", _seat_counters_v2),
    ),
)
