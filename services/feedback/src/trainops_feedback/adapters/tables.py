"""The feedback service's own tables and their versioned migrations.

Sessions, trainings and registrations are local copies built from scheduling and registration
events (event-carried state): the feedback service never asks another service anything. Each
projected row keeps the ``aggregate_version`` it last applied, so a late or redelivered older
event can never roll it back.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_shared.columns import UtcDateTime, UUIDType, convert_string_uuid_columns
from trainops_shared.storage import Migration, MigrationSet

metadata = sa.MetaData()

_Uuid = UUIDType()
"""Ids are ``uuid.UUID`` in Python, native ``uuid`` on PostgreSQL (text until migration 2)."""
_Time = UtcDateTime()
"""Same DDL as ``DateTime(timezone=True)``; reads back aware UTC on SQLite too."""

trainings = sa.Table(
    "fb_trainings",
    metadata,
    sa.Column("training_id", _Uuid, primary_key=True),
    sa.Column("code", sa.String(100), nullable=False),
    sa.Column("title", sa.JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

sessions = sa.Table(
    "fb_sessions",
    metadata,
    sa.Column("session_id", _Uuid, primary_key=True),
    sa.Column("training_id", _Uuid, nullable=False),
    sa.Column("cities", sa.JSON, nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("starts_at", _Time, nullable=False),
    sa.Column("ends_at", _Time, nullable=False),
    # scheduled | cancelled | completed
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

registrations = sa.Table(
    "fb_registrations",
    metadata,
    sa.Column("registration_id", _Uuid, primary_key=True),
    sa.Column("session_id", _Uuid, nullable=False),
    sa.Column("participant_id", _Uuid, nullable=False),
    sa.Column("city", sa.String(100), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    # confirmed | waitlisted | cancelled
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attended", sa.Boolean, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("ix_fb_registrations_session", "session_id", "city"),
)

invitations = sa.Table(
    "fb_invitations",
    metadata,
    sa.Column("invitation_id", _Uuid, primary_key=True),
    # One invitation per registration, ever: the unique key makes a second one impossible.
    sa.Column("registration_id", _Uuid, nullable=False, unique=True),
    sa.Column("session_id", _Uuid, nullable=False),
    sa.Column("survey_id", _Uuid, nullable=False),
    # sha256 hex of the token; the token itself is never stored.
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", _Time, nullable=False),
    sa.Column("expires_at", _Time, nullable=False),
    sa.Column("revoked_at", _Time, nullable=True),
    sa.Column("used_at", _Time, nullable=True),
    sa.Index("ix_fb_invitations_session", "session_id"),
)

mailed_links = sa.Table(
    "fb_mailed_links",
    metadata,
    # The link registration mailed to the participant of a registration: a second key to the
    # same single-use invitation. Only the sha256 hex of its token ever reaches this service.
    sa.Column("link_id", _Uuid, primary_key=True),
    sa.Column("registration_id", _Uuid, nullable=False, unique=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("issued_at", _Time, nullable=False),
)

surveys = sa.Table(
    "fb_surveys",
    metadata,
    sa.Column("survey_id", _Uuid, primary_key=True),
    sa.Column("code", sa.String(100), nullable=False, unique=True),
    sa.Column("items", sa.JSON, nullable=False),
    sa.Column("published_at", _Time, nullable=False),
)

responses = sa.Table(
    "fb_responses",
    metadata,
    sa.Column("response_id", _Uuid, primary_key=True),
    sa.Column("invitation_id", _Uuid, nullable=False, unique=True),
    sa.Column("survey_id", _Uuid, nullable=False),
    sa.Column("session_id", _Uuid, nullable=False),
    sa.Column("registration_id", _Uuid, nullable=False),
    sa.Column("participant_id", _Uuid, nullable=False),
    sa.Column("answers", sa.JSON, nullable=False),
    # Free text may name people: it stays here and never travels in an event.
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("submitted_at", _Time, nullable=False),
    sa.Index("ix_fb_responses_session", "session_id"),
)


definitions = sa.Table(
    "fb_definitions",
    metadata,
    sa.Column("survey_id", _Uuid, primary_key=True),
    sa.Column("code", sa.String(100), nullable=False, unique=True),
    # feedback | knowledge_test
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("training_id", _Uuid, nullable=True),
    sa.Column("created_at", _Time, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    # The newest published version. Publishing updates this row, so a consumer transaction
    # (serializable) that locked it on an older snapshot fails and retries on a fresh one.
    sa.Column("published_version", sa.Integer, nullable=True),
)

definition_versions = sa.Table(
    "fb_definition_versions",
    metadata,
    sa.Column("survey_id", _Uuid, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    # draft | published (a published row is never updated again)
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("updated_at", _Time, nullable=False),
    sa.Column("published_at", _Time, nullable=True),
)

test_invitations = sa.Table(
    "fb_test_invitations",
    metadata,
    sa.Column("invitation_id", _Uuid, primary_key=True),
    sa.Column("registration_id", _Uuid, nullable=False),
    # pre | post: one of each per registration, ever
    sa.Column("phase", sa.String(8), nullable=False),
    sa.Column("session_id", _Uuid, nullable=False),
    sa.Column("survey_id", _Uuid, nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", _Time, nullable=False),
    sa.Column("expires_at", _Time, nullable=False),
    sa.Column("used_at", _Time, nullable=True),
    sa.UniqueConstraint("registration_id", "phase", name="ux_fb_test_invitations_phase"),
    sa.Index("ix_fb_test_invitations_session", "session_id"),
)

test_responses = sa.Table(
    "fb_test_responses",
    metadata,
    sa.Column("response_id", _Uuid, primary_key=True),
    sa.Column("invitation_id", _Uuid, nullable=False, unique=True),
    sa.Column("survey_id", _Uuid, nullable=False),
    sa.Column("survey_version", sa.Integer, nullable=False),
    sa.Column("session_id", _Uuid, nullable=False),
    sa.Column("participant_id", _Uuid, nullable=False),
    sa.Column("phase", sa.String(8), nullable=False),
    sa.Column("answers", sa.JSON, nullable=False),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("max_score", sa.Integer, nullable=False),
    sa.Column("submitted_at", _Time, nullable=False),
)

drafts = sa.Table(
    "fb_drafts",
    metadata,
    # The hash of the link's token, as in the invitations: a dump yields no working link.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("answers", sa.JSON, nullable=False),
    sa.Column("saved_at", _Time, nullable=False),
)

V4_TABLES = (definitions, definition_versions, test_invitations, test_responses, drafts)
"""Created by migration 4; migration 1 leaves them out."""


def v1_metadata() -> sa.MetaData:
    """The tables as migration 1 created them: every id a ``String(36)`` of the dashed form.

    Migration 1 must keep creating exactly that, so a fresh install and an upgraded one go
    through the same conversion and end with the same schema.
    """
    v1 = sa.MetaData()
    for table in metadata.sorted_tables:
        if table in V4_TABLES:
            continue
        copy = table.to_metadata(v1)
        for column in copy.columns:
            if isinstance(column.type, UUIDType):
                column.type = sa.String(36)
    return v1


UUID_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (table.name, column.name)
    for table in metadata.sorted_tables
    if table not in V4_TABLES
    for column in table.columns
    if isinstance(column.type, UUIDType)
)
"""Every id column of the service (no foreign keys between them, so one pass converts all)."""


def _create_v1(conn: Connection) -> None:
    v1_metadata().create_all(conn)


def _uuid_ids(conn: Connection) -> None:
    convert_string_uuid_columns(conn, UUID_COLUMNS)


def _mailed_links_v3(conn: Connection) -> None:
    """The mailed links' hashes; a fresh database made the table in v1 already."""
    mailed_links.create(conn, checkfirst=True)


MIGRATIONS = MigrationSet(
    "feedback",
    (
        Migration(
            1,
            "trainings, sessions, registrations, invitations, surveys, responses",
            _create_v1,
        ),
        Migration(2, "ids as UUIDs (native uuid on PostgreSQL)", _uuid_ids),
        Migration(3, "the hashes of the feedback links registration mails", _mailed_links_v3),
        Migration(
            4,
            "versioned survey definitions, knowledge tests, drafts",
            lambda conn: metadata.create_all(conn, tables=V4_TABLES),
        ),
    ),
)
