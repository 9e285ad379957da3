"""The identity service's own tables and their versioned migrations.

The password store lives here and nowhere else: no other service holds a copy, and this
database holds no programme or participant data.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_shared.storage import Migration, MigrationSet

metadata = sa.MetaData()

_Uuid = sa.String(36)
_Time = sa.DateTime(timezone=True)

accounts = sa.Table(
    "id_accounts",
    metadata,
    sa.Column("account_id", _Uuid, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("region", sa.String(64), nullable=True),
    # Argon2id in PHC format (parameters and salt included); NULL: no password sign-in.
    sa.Column("password_hash", sa.String(200), nullable=True),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", _Time, nullable=False),
    sa.Column("changed_at", _Time, nullable=False),
)

sessions = sa.Table(
    "id_sessions",
    metadata,
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("account_id", _Uuid, nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("method", sa.String(32), nullable=False),
    sa.Column("created_at", _Time, nullable=False),
    sa.Column("last_seen_at", _Time, nullable=False),
    sa.Column("idle_expires_at", _Time, nullable=False),
    sa.Column("absolute_expires_at", _Time, nullable=False),
    sa.Column("revoked_at", _Time, nullable=True),
    sa.Index("ix_id_sessions_account", "account_id"),
)

api_tokens = sa.Table(
    "id_api_tokens",
    metadata,
    sa.Column("token_id", _Uuid, primary_key=True),
    sa.Column("account_id", _Uuid, nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    # sha256 hex of the token; the token itself is shown once and never stored.
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", _Time, nullable=False),
    sa.Column("expires_at", _Time, nullable=False),
    sa.Column("revoked_at", _Time, nullable=True),
    sa.Index("ix_id_api_tokens_account", "account_id"),
)

sign_in_failures = sa.Table(
    "id_sign_in_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # "account:<sha256 of the typed username>" or "address:<client address>"
    sa.Column("key", sa.String(100), nullable=False),
    sa.Column("at", _Time, nullable=False),
    sa.Index("ix_id_sign_in_failures_key", "key", "at"),
)


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn)


MIGRATIONS = MigrationSet(
    "identity",
    (Migration(1, "accounts, sessions, api tokens, sign-in failures", _create_v1),),
)
