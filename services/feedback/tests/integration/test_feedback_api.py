"""The feedback service on a real nats-server, on SQLite and on PostgreSQL.

Scheduling and registration events are published to JetStream the way their producers' relays
do; the app's consumers build invitations from them. Then participants answer through the JSON
API and the HTML form, and the FEEDBACK stream is read back.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import msgspec
import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient

from trainops_devtools.testing.tokens import token_for
from trainops_feedback.adapters.tables import invitations, responses, surveys
from trainops_feedback.handlers.surveys import DEFAULT_SURVEY_ID
from trainops_shared.events import FeedbackSubmitted, SurveyPublished, encode_event

pytestmark = pytest.mark.integration

T = TypeVar("T")

Eventually = Callable[..., Awaitable[Any]]
PUBLIC_URL = "https://feedback.example.kz"
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
SCRIPTED_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; "
    "style-src 'unsafe-inline'; form-action 'self'"
)


def auth(role: str, region: str | None = None) -> dict[str, str]:
    token = token_for(role=role, region=region)
    return {"Authorization": f"Bearer {token}"}


ADMIN = auth("admin")
STAFF = auth("programme_staff")
REPORTING = auth("reporting")
ALMATY = auth("coordinator", "almaty")
AKTOBE = auth("coordinator", "aktobe")


async def listing(
    client: AsyncTestClient[Litestar], session_id: uuid.UUID, headers: dict[str, str]
) -> dict[str, str]:
    response = await client.get(f"/sessions/{session_id}/invitations", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return {row["registration_id"]: row["url"] for row in response.json()}


def token_of(url: str) -> str:
    assert url.startswith(f"{PUBLIC_URL}/f/"), url
    return url.rsplit("/", 1)[1]


async def test_invitations_follow_attendance_and_completion(
    open_client: Callable[[], Any],
    events: Any,
    bus: Any,
    eventually: Eventually,
    db: Any,
) -> None:
    training = events.training()
    session = events.session(training.training_id)
    sid = session.session_id
    almaty_kk = events.register(sid, city="almaty", language="kk")
    aktobe_ru = events.register(sid, city="aktobe", language="ru")
    absent = events.register(sid, city="almaty", language="en")
    late = events.register(sid, city="almaty")
    flipped = events.register(sid, city="aktobe")
    cancelled = events.register(sid, city="almaty")

    async with open_client() as client:
        # Registration events first: they refer to a session not known yet (RetryLater).
        await bus.publish(
            almaty_kk,
            aktobe_ru,
            absent,
            late,
            flipped,
            cancelled,
            events.attend(almaty_kk),
            events.attend(aktobe_ru),
            events.attend(absent, attended=False),
            events.attend(flipped),
            events.attend(cancelled),
        )
        await bus.publish(events.cancel(cancelled))
        not_found = await client.get(f"/sessions/{sid}/invitations", headers=ADMIN)
        assert not_found.status_code == 404
        assert not_found.json()["field"] == "session_id"
        await bus.publish(training, session)

        async def session_known() -> bool:
            r = await client.get(f"/sessions/{sid}/invitations", headers=ADMIN)
            return bool(r.status_code == 200 and r.json() == [])

        await eventually(session_known)
        completed = events.complete(sid)
        await bus.publish(completed)

        expected = {str(almaty_kk.registration_id), str(aktobe_ru.registration_id)}
        expected.add(str(flipped.registration_id))

        async def invited() -> dict[str, str] | None:
            rows = await listing(client, sid, STAFF)
            return rows if set(rows) == expected else None

        urls = await eventually(invited)
        assert len(set(urls.values())) == 3

        # Attendance recorded after completion still invites; flipped to false revokes.
        await bus.publish(events.attend(late), events.attend(flipped, attended=False))
        expected = (expected | {str(late.registration_id)}) - {str(flipped.registration_id)}

        async def settled() -> dict[str, str] | None:
            rows = await listing(client, sid, ADMIN)
            return rows if set(rows) == expected else None

        after = await eventually(settled)
        # Listing again shows the very same links (derived, not re-drawn).
        for registration_id, url in urls.items():
            if registration_id in after:
                assert after[registration_id] == url

        # A duplicate delivery (same event id) and a stale version change nothing.
        stale = events.attend(late, attended=False)
        stale = type(stale)(**{**_fields(stale), "aggregate_version": 1, "event_id": uuid.uuid4()})
        await bus.publish(completed, stale)
        # Re-flip: the revoked invitation comes back (same link), never a second one.
        await bus.publish(events.attend(flipped, attended=True))
        expected = expected | {str(flipped.registration_id)}
        final = await eventually(settled)
        assert final[str(flipped.registration_id)] == urls[str(flipped.registration_id)]
        assert str(late.registration_id) in final

        count = await db.run(
            lambda conn: conn.execute(
                sa.select(invitations.c.registration_id, sa.func.count())
                .where(invitations.c.session_id == str(sid))
                .group_by(invitations.c.registration_id)
            ).all()
        )
        # Never two for one registration (a revoked one, e.g. of the cancelled registration
        # when the cancellation arrived after completion, still counts as its one invitation).
        per_registration = {str(row[0]): row[1] for row in count}
        assert set(per_registration) >= expected
        assert set(per_registration.values()) == {1}
        stored = await db.run(
            lambda conn: conn.execute(sa.select(invitations.c.token_hash)).scalars().all()
        )
        for url in final.values():
            assert token_of(url) not in stored  # only hashes are stored

        # Region rules: a coordinator sees only their region's participants; reporting 403.
        almaty_rows = await listing(client, sid, ALMATY)
        assert set(almaty_rows) == {str(almaty_kk.registration_id), str(late.registration_id)}
        aktobe_rows = await listing(client, sid, AKTOBE)
        assert set(aktobe_rows) == {
            str(aktobe_ru.registration_id),
            str(flipped.registration_id),
        }
        forbidden = await client.get(f"/sessions/{sid}/invitations", headers=REPORTING)
        assert forbidden.status_code == 403
        anonymous = await client.get(f"/sessions/{sid}/invitations")
        assert anonymous.status_code == 401
        unknown = await client.get(f"/sessions/{uuid.uuid4()}/invitations", headers=ALMATY)
        assert unknown.status_code == 404


def _fields(event: Any) -> dict[str, Any]:
    return {name: getattr(event, name) for name in event.__struct_fields__}


async def _completed_session(
    client: AsyncTestClient[Litestar], events: Any, bus: Any, eventually: Eventually
) -> tuple[uuid.UUID, dict[str, str], list[Any]]:
    training = events.training()
    session = events.session(training.training_id)
    regs = [
        events.register(session.session_id, city="almaty", language="kk"),
        events.register(session.session_id, city="aktobe", language="ru"),
        events.register(session.session_id, city="almaty", language="en"),
    ]
    await bus.publish(training, session, *regs, *(events.attend(r) for r in regs))
    await bus.publish(events.complete(session.session_id))

    async def invited() -> dict[str, str] | None:
        r = await client.get(f"/sessions/{session.session_id}/invitations", headers=ADMIN)
        if r.status_code != 200 or len(r.json()) != len(regs):
            return None
        return {row["registration_id"]: token_of(row["url"]) for row in r.json()}

    tokens = await eventually(invited)
    return session.session_id, tokens, regs


async def test_submissions_json_and_form(
    open_client: Callable[[], Any],
    events: Any,
    bus: Any,
    eventually: Eventually,
    db: Any,
) -> None:
    async with open_client() as client:
        sid, tokens, (kk_reg, ru_reg, en_reg) = await _completed_session(
            client, events, bus, eventually
        )
        kk_token = tokens[str(kk_reg.registration_id)]
        ru_token = tokens[str(ru_reg.registration_id)]
        en_token = tokens[str(en_reg.registration_id)]
        answers = {"overall": 5, "relevance": 4, "trainer": 5, "knowledge_gain": 4}

        # JSON: invalid answers → 422 naming the field, nothing changes.
        bad = await client.post(
            "/responses", json={"token": kk_token, "answers": {**answers, "trainer": 9}}
        )
        assert bad.status_code == 422, bad.text
        assert bad.json()["field"] == "answers.trainer"
        assert bad.json()["errors"][0]["code"] == "out_of_range"
        created = await client.post(
            "/responses",
            json={"token": kk_token, "answers": answers, "comment": "Керемет тренинг!"},
        )
        assert created.status_code == 201, created.text
        response_id = created.json()["id"]
        again = await client.post("/responses", json={"token": kk_token, "answers": answers})
        assert again.status_code == 409, again.text
        assert again.json()["field"] == "token"
        unknown = await client.post("/responses", json={"token": "A" * 43, "answers": answers})
        assert unknown.status_code == 404
        assert unknown.json()["error"] == "not_found"
        missing = await client.post("/responses", json={"answers": answers})
        assert missing.status_code == 422
        assert missing.json()["field"] == "token", missing.text

        # The form page: the participant's language, switchable, with the safety headers.
        page = await client.get(f"/f/{ru_token}")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"] == SCRIPTED_CSP
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-store"
        assert '<html lang="ru">' in page.text
        assert "Этичное освещение проблем детей" in page.text
        assert 'id="feedback-form"' in page.text
        kk_page = await client.get(f"/f/{ru_token}", params={"lang": "kk"})
        assert '<html lang="kk">' in kk_page.text
        assert "Балалар мәселелерін әдепті жариялау" in kk_page.text

        # Form: a missing required answer → 422 page with that question marked, choices kept.
        form = {"lang": "en", "overall": "4", "relevance": "3", "trainer": "5"}
        invalid = await client.post(f"/f/{ru_token}", data=form)
        assert invalid.status_code == 422
        assert 'id="error-knowledge_gain"' in invalid.text
        assert 'id="overall-4" name="overall" value="4" required checked' in invalid.text
        assert invalid.headers["content-security-policy"] == SCRIPTED_CSP
        ok = await client.post(
            f"/f/{ru_token}",
            data={**form, "knowledge_gain": "2", "comment": "<script>alert(1)</script>"},
        )
        assert ok.status_code == 201, ok.text
        assert 'id="thanks"' in ok.text
        assert '<html lang="en">' in ok.text
        twice = await client.post(f"/f/{ru_token}", data={**form, "knowledge_gain": "2"})
        assert twice.status_code == 409
        assert 'id="already-submitted"' in twice.text
        used_page = await client.get(f"/f/{ru_token}")
        assert used_page.status_code == 409
        nowhere = await client.get(f"/f/{'B' * 43}")
        assert nowhere.status_code == 404
        assert 'id="not-found"' in nowhere.text
        assert nowhere.headers["content-security-policy"] == CSP
        junk = await client.get("/f/%3Cscript%3E")
        assert junk.status_code == 404
        assert "<script>" not in junk.text
        huge = await client.post(
            f"/f/{en_token}",
            content=b"comment=" + b"x" * 20_000,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert huge.status_code == 413
        assert 'id="error"' in huge.text
        not_form = await client.post(f"/f/{en_token}", json={"overall": 5})
        assert not_form.status_code == 415

        # Expired links answer 404 on the page and in the API.
        past = datetime.now(UTC) - timedelta(seconds=1)
        await db.run(
            lambda conn: conn.execute(
                invitations.update()
                .where(invitations.c.registration_id == str(en_reg.registration_id))
                .values(expires_at=past)
            )
        )
        expired_page = await client.get(f"/f/{en_token}")
        assert expired_page.status_code == 404
        expired = await client.post("/responses", json={"token": en_token, "answers": answers})
        assert expired.status_code == 404

        # Stored: two responses; the comment stays here and never travels.
        stored = await db.run(
            lambda conn: conn.execute(
                sa.select(responses).where(responses.c.session_id == str(sid))
            ).all()
        )
        by_registration = {str(row.registration_id): row for row in stored}
        assert set(by_registration) == {str(kk_reg.registration_id), str(ru_reg.registration_id)}
        kk_row = by_registration[str(kk_reg.registration_id)]
        assert str(kk_row.response_id) == response_id
        assert kk_row.comment == "Керемет тренинг!"
        assert kk_row.language == "kk"
        ru_row = by_registration[str(ru_reg.registration_id)]
        assert ru_row.comment == "<script>alert(1)</script>"
        assert ru_row.answers == {"overall": 4, "relevance": 3, "trainer": 5, "knowledge_gain": 2}
        assert ru_row.language == "en"

        async def submitted() -> list[FeedbackSubmitted] | None:
            found = [
                e
                for e in await bus.stream("FEEDBACK", "feedback.>")
                if isinstance(e, FeedbackSubmitted) and e.session_id == sid
            ]
            return found if len(found) == 2 else None

        published = {e.registration_id: e for e in await eventually(submitted)}
        kk_event = published[kk_reg.registration_id]
        assert kk_event.response_id == uuid.UUID(response_id)
        assert kk_event.participant_id == kk_reg.participant_id
        assert kk_event.survey_id == DEFAULT_SURVEY_ID
        assert kk_event.answers == answers
        assert kk_event.language == "kk"
        assert kk_event.has_comment is True
        assert "comment" not in msgspec.json.decode(encode_event(kk_event))
        assert published[ru_reg.registration_id].language == "en"


async def test_survey_published_once_across_restarts(
    open_client: Callable[[], Any], bus: Any, eventually: Eventually, db: Any
) -> None:
    for _ in range(2):
        async with open_client():
            rows = await db.run(
                lambda conn: conn.execute(sa.select(surveys.c.survey_id, surveys.c["items"])).all()
            )
            assert rows == [
                (
                    DEFAULT_SURVEY_ID,
                    ["overall", "relevance", "trainer", "knowledge_gain", "materials"],
                )
            ]

    async def published() -> list[SurveyPublished] | None:
        found = [
            e
            for e in await bus.stream("FEEDBACK", "feedback.>")
            if isinstance(e, SurveyPublished) and e.survey_id == DEFAULT_SURVEY_ID
        ]
        return found or None

    found = await eventually(published)
    assert len(found) == 1
    assert found[0].code == "post_training_v1"
