"""A registration and a merge of the person it matched, interleaved on PostgreSQL.

The registration reads its match before the merge commits; without the participant lock it
would link itself to the row the merge is folding away. With it, it waits for the merge, matches
again, and (the merged row no longer matching) registers a new participant of its own city.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from trainops_devtools.testing.events import session_scheduled
from trainops_devtools.testing.polling import eventually
from trainops_registration.adapters.migrations import MIGRATIONS
from trainops_registration.adapters.tables import participants
from trainops_registration.api.views import registration_json
from trainops_registration.domain import ParticipantInput
from trainops_registration.domain.records import Registration
from trainops_registration.handlers import events, identity
from trainops_registration.handlers.registering import RegisterParticipant, register_participant
from trainops_shared.auth import Principal
from trainops_shared.storage import apply_migrations
from trainops_shared.tables import PLUMBING_MIGRATIONS

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

ADMIN = Principal("dev", "admin")
ALMATY = Principal("dev", "coordinator", "almaty")
AKTOBE = Principal("dev", "coordinator", "aktobe")


def schedule(conn: Connection) -> uuid.UUID:
    event = session_scheduled(capacity=5, starts_at=datetime(2021, 2, 1, 4, 0, tzinfo=UTC), hours=3)
    events.on_session_scheduled(conn, event)
    return event.session_id


def register(sid: uuid.UUID, city: str, principal: Principal) -> Any:
    participant = ParticipantInput(
        full_name="Dana Abenova", sector="ngo", city=city, language="ru", email="dana@mail.kz"
    )
    command = RegisterParticipant(session_id=sid, participant=participant)

    def run(conn: Connection) -> dict[str, Any]:
        registered = register_participant(conn, command, principal, render=registration_json)
        assert isinstance(registered, Registration)
        return registration_json(registered)

    return run


async def in_transaction(engine: AsyncEngine, fn: Any) -> Any:
    async with engine.begin() as conn:
        return await conn.run_sync(fn)


async def test_a_registration_waits_for_the_merge_of_its_match(
    postgres_database: Any,
) -> None:
    engine = create_async_engine(postgres_database())
    try:
        await in_transaction(
            engine, lambda c: apply_migrations(c, [PLUMBING_MIGRATIONS, MIGRATIONS])
        )
        s1, s2, s3 = [await in_transaction(engine, schedule) for _ in range(3)]
        old = await in_transaction(engine, register(s1, "aktobe", AKTOBE))
        new = await in_transaction(engine, register(s2, "almaty", ALMATY))

        merger = await engine.connect()
        try:
            await merger.begin()
            await merger.run_sync(
                lambda c: identity.merge_participants(
                    c,
                    identity.MergeParticipants(
                        keep=uuid.UUID(new["participant_id"]),
                        merge=uuid.UUID(old["participant_id"]),
                        reason="moved",
                    ),
                    ADMIN,
                )
            )
            # The merge is done but not committed; aktobe registers the person it is folding.
            registering = asyncio.create_task(
                in_transaction(engine, register(s3, "aktobe", AKTOBE))
            )

            async def waiting_for_a_lock() -> bool:
                async with engine.connect() as watcher:
                    waiting = await watcher.scalar(
                        sa.text(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                        )
                    )
                return bool(waiting) and not registering.done()

            await eventually(waiting_for_a_lock)
            await merger.commit()
        finally:
            await merger.close()
        body = await registering
        assert body["participant_id"] not in (old["participant_id"], new["participant_id"])
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(participants.c.city, participants.c.merged_into).where(
                        participants.c.participant_id == body["participant_id"]
                    )
                )
            ).one()
        assert (row.city, row.merged_into) == ("aktobe", None)
    finally:
        await engine.dispose()
