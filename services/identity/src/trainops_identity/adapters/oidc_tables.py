"""Tables of organisation sign-in: external identities and sign-ins in progress.

They are a migration set of their own (component ``identity_oidc``), so they evolve on their own
version line beside the accounts' tables and an installation without organisation sign-in
still has them, empty, ready for the day it is configured.

* ``id_oidc_identities``: who the provider vouched for (issuer + ``sub``), the account they
  are linked to, or none yet (a pending person, admin-assigns mode). ``label`` is what the
  provider calls them, shown to admins so they can recognise the person.
* ``id_oidc_attempts``: one row per started sign-in, found by the SHA-256 of its ``state``
  (a database reader learns no usable state) and deleted when the callback uses it: a state
  works once. The PKCE verifier and the nonce never leave the server.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_shared.storage import Migration, MigrationSet

metadata = sa.MetaData()

_Time = sa.DateTime(timezone=True)

oidc_identities = sa.Table(
    "id_oidc_identities",
    metadata,
    sa.Column("identity_id", sa.String(36), primary_key=True),
    sa.Column("issuer", sa.String(300), nullable=False),
    sa.Column("subject", sa.String(255), nullable=False),
    # NULL while pending: the provider vouched for the person, no admin gave them access yet.
    sa.Column("account_id", sa.String(36), nullable=True, unique=True),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("first_seen_at", _Time, nullable=False),
    sa.Column("last_seen_at", _Time, nullable=False),
    sa.UniqueConstraint("issuer", "subject", name="uq_id_oidc_identities_issuer_subject"),
)

oidc_attempts = sa.Table(
    "id_oidc_attempts",
    metadata,
    sa.Column("state_hash", sa.String(64), primary_key=True),
    sa.Column("nonce", sa.String(128), nullable=False),
    sa.Column("code_verifier", sa.String(128), nullable=False),
    sa.Column("next_url", sa.String(2000), nullable=True),
    sa.Column("created_at", _Time, nullable=False),
    sa.Column("expires_at", _Time, nullable=False),
    sa.Index("ix_id_oidc_attempts_expires", "expires_at"),
)


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn)


OIDC_MIGRATIONS = MigrationSet(
    "identity_oidc",
    (Migration(1, "external identities and sign-in attempts", _create_v1),),
)
