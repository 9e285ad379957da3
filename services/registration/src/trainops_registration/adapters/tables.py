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


MIGRATIONS = MigrationSet(
    "registration",
    (Migration(1, "sessions copy, participants, registrations, idempotency keys", _create_v1),),
)
