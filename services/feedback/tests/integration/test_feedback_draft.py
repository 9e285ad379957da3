"""The feedback form's server-side draft through the public API, on a real nats-server and on
SQLite and PostgreSQL: answers saved as the participant goes come back on a reload, a
submission clears them, and a used or expired link takes no draft."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from test_feedback_api import SCRIPTED_CSP, Eventually, _completed_session

from trainops_feedback.adapters.tables import drafts, invitations
from trainops_feedback.domain.tokens import hash_token

pytestmark = pytest.mark.integration


async def test_draft_is_restored_cleared_by_submitting_and_refused_once_closed(
    open_client: Callable[[], Any], events: Any, bus: Any, eventually: Eventually, db: Any
) -> None:
    async with open_client() as client:
        _, tokens, (_, ru_reg, en_reg) = await _completed_session(client, events, bus, eventually)
        token = tokens[str(ru_reg.registration_id)]

        saved = await client.put(
            f"/f/{token}/draft",
            json={"answers": {"overall": "4", "trainer": 5, "relevance": "", "comment": "Хорошо"}},
        )
        assert saved.status_code == 200, saved.text
        assert saved.json() == {"answers": {"overall": 4, "trainer": 5, "comment": "Хорошо"}}
        assert saved.headers["cache-control"] == "no-store"

        page = await client.get(f"/f/{token}")
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == SCRIPTED_CSP
        assert 'id="overall-4" name="overall" value="4" required checked' in page.text
        assert 'id="trainer-5" name="trainer" value="5" required checked' in page.text
        assert 'value="3" required checked' not in page.text
        assert ">Хорошо</textarea>" in page.text
        assert f'data-draft="/f/{token}/draft"' in page.text
        assert '<script src="/assets/answers.js" defer></script>' in page.text

        # A malformed answer is refused by name and the saved draft stays as it was.
        for bad, field in [
            ({"overall": "9"}, "answers.overall"),
            ({"speed": 3}, "answers.speed"),
            ({"comment": "x" * 2001}, "comment"),
        ]:
            refused = await client.put(f"/f/{token}/draft", json={"answers": bad})
            assert refused.status_code == 422, refused.text
            assert refused.json()["field"] == field
        assert (await client.put(f"/f/{token}/draft", json={"other": 1})).status_code in (
            400,
            422,
        )
        huge = {"answers": {"comment": "x" * 40_000}}
        assert (await client.put(f"/f/{token}/draft", json=huge)).status_code == 422
        again = await client.get(f"/f/{token}")
        assert ">Хорошо</textarea>" in again.text

        # Submitting the form clears the draft in the same transaction.
        done = await client.post(
            f"/f/{token}",
            data={"lang": "ru", "overall": "4", "relevance": "3", "trainer": "5"}
            | {"knowledge_gain": "2"},
        )
        assert done.status_code == 201, done.text
        assert f'data-answers-done="/f/{token}"' in done.text
        assert done.headers["content-security-policy"] == SCRIPTED_CSP
        left = await db.run(
            lambda conn: conn.execute(
                sa.select(sa.func.count()).where(drafts.c.token_hash == hash_token(token))
            ).scalar()
        )
        assert left == 0

        # A used link takes no draft (409), nor an expired or unknown one (404).
        used = await client.put(f"/f/{token}/draft", json={"answers": {"overall": 1}})
        assert used.status_code == 409, used.text
        expired_token = tokens[str(en_reg.registration_id)]
        await db.run(
            lambda conn: conn.execute(
                invitations.update()
                .where(invitations.c.registration_id == str(en_reg.registration_id))
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        )
        expired = await client.put(f"/f/{expired_token}/draft", json={"answers": {"overall": 1}})
        assert expired.status_code == 404, expired.text
        unknown = await client.put(f"/f/{'B' * 43}/draft", json={"answers": {"overall": 1}})
        assert unknown.status_code == 404
        stored = await db.run(
            lambda conn: conn.execute(sa.select(drafts.c.token_hash)).scalars().all()
        )
        assert hash_token(expired_token) not in stored
        assert hash_token(token) not in stored
        # A draft never holds the token itself, only its hash.
        assert token not in stored and expired_token not in stored
