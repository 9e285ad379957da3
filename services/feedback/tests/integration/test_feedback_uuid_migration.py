"""Migration 2 turns the text ids of an existing feedback database into UUIDs, keeping every link.

A database written by migration 1 (ids as dashed ``String(36)``) is upgraded on SQLite and on
PostgreSQL; afterwards every row reads back with ``uuid.UUID`` ids, the links sent before the
upgrade still open their invitation, the listing derives the same links, and the one-invitation-
per-registration rule still holds.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from trainops_feedback.adapters import invitations as invitation_repo
from trainops_feedback.adapters.tables import MIGRATIONS, metadata, responses, v1_metadata
from trainops_feedback.domain.tokens import InvitationTokens, hash_token
from trainops_feedback.handlers import commands
from trainops_shared.auth import Principal
from trainops_shared.columns import UUIDType
from trainops_shared.storage import MigrationSet, open_database
from trainops_shared.tables import PLUMBING_MIGRATIONS

pytestmark = pytest.mark.integration

TOKENS = InvitationTokens("migration-test-link-key")
NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)
IDS = {name: uuid.uuid4() for name in ("training", "session", "registration", "participant")}
INVITATION = uuid.uuid4()
SURVEY = uuid.uuid4()
RESPONSE = uuid.uuid4()


def _write_v1_rows(conn: Connection) -> None:
    """What migration 1's code wrote: every id as ``str(uuid)``."""
    v1 = v1_metadata().tables
    conn.execute(
        v1["fb_trainings"]
        .insert()
        .values(training_id=str(IDS["training"]), code="ethics", title={"en": "Ethics"}, version=1)
    )
    conn.execute(
        v1["fb_sessions"]
        .insert()
        .values(
            session_id=str(IDS["session"]),
            training_id=str(IDS["training"]),
            cities=["almaty"],
            language="ru",
            timezone="Asia/Almaty",
            starts_at=NOW - timedelta(hours=8),
            ends_at=NOW,
            status="completed",
            version=2,
        )
    )
    conn.execute(
        v1["fb_registrations"]
        .insert()
        .values(
            registration_id=str(IDS["registration"]),
            session_id=str(IDS["session"]),
            participant_id=str(IDS["participant"]),
            city="almaty",
            language="kk",
            status="confirmed",
            attended=True,
            version=2,
        )
    )
    conn.execute(
        v1["fb_invitations"]
        .insert()
        .values(
            invitation_id=str(INVITATION),
            registration_id=str(IDS["registration"]),
            session_id=str(IDS["session"]),
            survey_id=str(SURVEY),
            token_hash=TOKENS.token_hash(str(INVITATION)),
            created_at=NOW,
            expires_at=NOW + timedelta(days=60),
        )
    )
    conn.execute(
        v1["fb_surveys"]
        .insert()
        .values(survey_id=str(SURVEY), code="post_training_v1", items=["overall"], published_at=NOW)
    )
    conn.execute(
        v1["fb_responses"]
        .insert()
        .values(
            response_id=str(RESPONSE),
            invitation_id=str(uuid.uuid4()),
            survey_id=str(SURVEY),
            session_id=str(IDS["session"]),
            registration_id=str(uuid.uuid4()),
            participant_id=str(uuid.uuid4()),
            answers={"overall": 5},
            comment=None,
            language="ru",
            submitted_at=NOW,
        )
    )


async def test_text_ids_become_uuids_and_every_link_still_works(database_url: str) -> None:
    first = open_database(database_url)
    await first.start([PLUMBING_MIGRATIONS, MigrationSet("feedback", MIGRATIONS.migrations[:1])])
    try:
        await first.write(_write_v1_rows)
    finally:
        await first.close()

    upgraded = open_database(database_url)
    await upgraded.start([PLUMBING_MIGRATIONS, MIGRATIONS])
    try:
        view = await upgraded.read(
            lambda conn: invitation_repo.find_invitation(conn, hash_token(TOKENS.token(INVITATION)))
        )
        assert view is not None
        assert (view.invitation_id, view.registration_id, view.session_id) == (
            INVITATION,
            IDS["registration"],
            IDS["session"],
        )
        assert (view.survey_id, view.participant_id) == (SURVEY, IDS["participant"])
        assert view.training_title == {"en": "Ethics"}

        links = await upgraded.read(
            lambda conn: commands.list_invitations(
                conn, IDS["session"], Principal("a", "admin"), TOKENS, "https://x.kz"
            )
        )
        assert [(link.registration_id, link.url) for link in links] == [
            (IDS["registration"], f"https://x.kz/f/{TOKENS.token(INVITATION)}")
        ]
        stored = await upgraded.read(
            lambda conn: conn.execute(sa.select(responses.c.response_id)).scalars().all()
        )
        assert stored == [RESPONSE]

        if database_url.startswith("postgresql"):
            types = await upgraded.read(
                lambda conn: conn.execute(
                    sa.text(
                        "SELECT table_name, column_name, data_type FROM information_schema.columns"
                        " WHERE table_name LIKE 'fb_%' AND column_name LIKE '%_id'"
                    )
                ).all()
            )
            every_id = {
                (table.name, column.name)
                for table in metadata.sorted_tables
                for column in table.columns
                if isinstance(column.type, UUIDType)
            }
            assert {(t, c) for t, c, kind in types if kind == "uuid"} == every_id

        # The unique registration key survived the conversion: still one invitation each.
        with pytest.raises(IntegrityError):
            await upgraded.write(
                lambda conn: invitation_repo.insert_invitations(
                    conn,
                    [
                        {
                            "invitation_id": uuid.uuid4(),
                            "registration_id": IDS["registration"],
                            "session_id": IDS["session"],
                            "survey_id": SURVEY,
                            "token_hash": "0" * 64,
                            "created_at": NOW,
                            "expires_at": NOW,
                        }
                    ],
                )
            )
    finally:
        await upgraded.close()
