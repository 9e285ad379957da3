"""The plumbing tables every service has: the outbox, the inbox (processed events) and the
audit log (who changed what, read by admins through ``GET /audit``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_shared.columns import UtcDateTime
from trainops_shared.storage import Migration, MigrationSet

metadata = sa.MetaData()

# BIGINT on PostgreSQL; INTEGER on SQLite so that it aliases the rowid and autoincrements.
_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    # W3C trace context of the span that wrote the row; the relay sends it as a NATS header.
    sa.Column("traceparent", sa.String(55), nullable=True),
    sa.Index(
        "ix_outbox_unsent",
        "id",
        sqlite_where=sa.text("sent_at IS NULL"),
        postgresql_where=sa.text("sent_at IS NULL"),
    ),
)

processed_events = sa.Table(
    "processed_events",
    metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("stream_seq", sa.BigInteger, nullable=True),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
)


AUDIT_ACTOR_LENGTH = 200
AUDIT_NAME_LENGTH = 64

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(AUDIT_ACTOR_LENGTH), nullable=False),
    sa.Column("actor_role", sa.String(32), nullable=True),
    sa.Column("action", sa.String(AUDIT_NAME_LENGTH), nullable=False),
    sa.Column("record_type", sa.String(AUDIT_NAME_LENGTH), nullable=False),
    sa.Column("record_id", sa.String(AUDIT_NAME_LENGTH), nullable=False),
    sa.Column("detail", sa.Text, nullable=True),
    sa.Index("ix_audit_log_occurred_at", "occurred_at"),
    sa.Index("ix_audit_log_actor", "actor", "id"),
    sa.Index("ix_audit_log_action", "action", "id"),
)
"""One row per state change a person caused (``trainops_shared.audit`` writes and reads it)."""


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn)


def _add_outbox_traceparent(conn: Connection) -> None:
    # A database created since the column exists got it from version 1's create_all already.
    if "traceparent" not in {c["name"] for c in sa.inspect(conn).get_columns("outbox")}:
        conn.execute(sa.text("ALTER TABLE outbox ADD COLUMN traceparent VARCHAR(55)"))


PLUMBING_MIGRATIONS = MigrationSet(
    "plumbing",
    (
        Migration(1, "outbox and processed_events", _create_v1),
        Migration(2, "outbox trace context", _add_outbox_traceparent),
        # A database created since the table exists got it from version 1's create_all already.
        Migration(3, "audit_log", lambda conn: audit_log.create(conn, checkfirst=True)),
    ),
)
