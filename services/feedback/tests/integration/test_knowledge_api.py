"""Versioned definitions, knowledge tests and drafts through the public API, on a real
nats-server and on SQLite and PostgreSQL: staff write and publish a test, registration and
attendance events issue the pre- and post-test links, participants answer (a draft first),
and the FEEDBACK stream carries the scores tied only to the pseudonymous participant id."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from trainops_devtools.testing.tokens import token_for
from trainops_shared.events import (
    CommentGiven,
    KnowledgeTestSubmitted,
    SurveyPublished,
)

pytestmark = pytest.mark.integration

STAFF = {"Authorization": f"Bearer {token_for(role='programme_staff')}"}
ADMIN = {"Authorization": f"Bearer {token_for(role='admin')}"}
REPORTING = {"Authorization": f"Bearer {token_for(role='reporting')}"}
ALMATY = {"Authorization": f"Bearer {token_for(role='coordinator', region='almaty')}"}


def texts(en: str) -> dict[str, str]:
    return {"kk": f"{en} (kk)", "ru": f"{en} (ru)", "en": en}


def option(key: str, correct: bool = False) -> dict[str, Any]:
    return {"key": key, "text": texts(key.replace("_", " ")), "correct": correct}


def knowledge_test(training_id: uuid.UUID, code: str = "media-test") -> dict[str, Any]:
    return {
        "code": code,
        "purpose": "knowledge_test",
        "training_id": str(training_id),
        "title": texts("Media literacy test"),
        "items": [
            {
                "key": "source",
                "kind": "single",
                "text": texts("How do you check a photo's source?"),
                "scored": True,
                "options": [option("reverse_image", True), option("trust_caption")],
            },
            {
                "key": "red_flags",
                "kind": "multiple",
                "text": texts("Which are warning signs?"),
                "scored": True,
                "options": [option("no_author", True), option("all_caps", True), option("long")],
            },
            {
                "key": "ethics",
                "kind": "single",
                "text": texts("May a child's face be shown without consent?"),
                "scored": True,
                "options": [option("yes"), option("no", True)],
            },
            {"key": "confidence", "kind": "likert", "text": texts("How confident are you?")},
            {
                "key": "remark",
                "kind": "text",
                "text": texts("Anything to add?"),
                "required": False,
            },
        ],
    }


async def links(
    client: AsyncTestClient[Litestar], session_id: uuid.UUID, kind: str
) -> dict[str, str]:
    response = await client.get(f"/sessions/{session_id}/invitations", headers=ALMATY)
    assert response.status_code == 200, response.text
    return {
        row["registration_id"]: row["url"].rsplit("/", 1)[1]
        for row in response.json()
        if row["kind"] == kind
    }


async def test_definition_versions_are_checked_and_frozen_once_published(
    open_client: Callable[[], Any],
) -> None:
    training_id = uuid.uuid4()
    async with open_client() as client:
        bad = knowledge_test(training_id)
        bad["items"][0]["options"] = [option("only", False), option("other")]
        bad["items"][1]["text"] = {"en": "English only"}
        response = await client.post("/surveys", json=bad, headers=STAFF)
        assert response.status_code == 422, response.text
        fields = {e["field"] for e in response.json()["errors"]}
        assert {"items[0].options", "items[1].text"} <= fields, fields

        assert (await client.post("/surveys", json=bad, headers=REPORTING)).status_code == 403
        assert (await client.post("/surveys", json=bad, headers=ALMATY)).status_code == 403

        created = await client.post("/surveys", json=knowledge_test(training_id), headers=STAFF)
        assert created.status_code == 201, created.text
        body = created.json()
        survey_id, version = body["survey_id"], body["version"]
        assert (version, body["status"], body["max_score"]) == (1, "draft", 3)
        again = await client.post("/surveys", json=knowledge_test(training_id), headers=STAFF)
        assert again.status_code == 409

        edit = {"title": texts("Media literacy test, v1"), "items": body["items"]}
        url = f"/surveys/{survey_id}/versions/1"
        edited = await client.put(url, json=edit, headers=STAFF)
        assert edited.status_code == 200, edited.text
        assert edited.json()["title"]["en"] == "Media literacy test, v1"

        published = await client.post(f"{url}/publish", headers=STAFF)
        assert published.status_code == 200, published.text
        assert published.json()["status"] == "published"
        assert (await client.post(f"{url}/publish", headers=STAFF)).status_code == 409
        frozen = await client.put(url, json={**edit, "title": texts("changed")}, headers=STAFF)
        assert frozen.status_code == 409
        versions = await client.get(f"/surveys/{survey_id}/versions", headers=STAFF)
        assert versions.json()[0]["title"]["en"] == "Media literacy test, v1"

        second = await client.post(f"/surveys/{survey_id}/versions", headers=ADMIN)
        assert second.status_code == 201
        assert (second.json()["version"], second.json()["status"]) == (2, "draft")
        listed = await client.get("/surveys", headers=STAFF)
        assert [(r["code"], r["version"]) for r in listed.json()] == [("media-test", 2)]


def answers(right: int) -> dict[str, Any]:
    """Answers with the first ``right`` of the three scored items correct."""
    chosen: dict[str, Any] = {
        "source": "trust_caption",
        "red_flags": ["no_author"],
        "ethics": "yes",
        "confidence": 3,
    }
    correct = {"source": "reverse_image", "red_flags": ["all_caps", "no_author"], "ethics": "no"}
    for key in list(correct)[:right]:
        chosen[key] = correct[key]
    return chosen


async def test_pre_and_post_tests_are_scored_by_their_version(
    open_client: Callable[[], Any], events: Any, bus: Any, eventually: Any
) -> None:
    training = events.training()
    future = datetime.now(UTC) + timedelta(days=3)
    session = events.session(training.training_id, starts_at=future)
    sid = session.session_id
    first = events.register(sid, city="almaty", language="kk")
    second = events.register(sid, city="almaty", language="en")

    async with open_client() as client:
        await bus.publish(training, session, first)
        created = await client.post(
            "/surveys", json=knowledge_test(training.training_id), headers=STAFF
        )
        survey_id = created.json()["survey_id"]
        publish = await client.post(f"/surveys/{survey_id}/versions/1/publish", headers=STAFF)
        assert publish.status_code == 200, publish.text
        # Registered before and after the test was published: both get a pre-test link.
        await bus.publish(second)

        async def both_invited() -> dict[str, str] | None:
            found = await links(client, sid, "pre_test")
            return found if len(found) == 2 else None

        pre = await eventually(both_invited, timeout=30)
        token = pre[str(first.registration_id)]

        page = await client.get(f"/t/{token}")
        assert page.status_code == 200, page.text
        assert "Which are warning signs? (kk)" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]

        draft = await client.put(
            f"/t/{token}/draft", json={"answers": {"source": "reverse_image", "remark": "Hi"}}
        )
        assert draft.status_code == 200, draft.text
        reloaded = await client.get(f"/t/{token}")
        assert 'value="reverse_image" required checked' in reloaded.text
        assert ">Hi</textarea>" in reloaded.text
        bad_draft = await client.put(f"/t/{token}/draft", json={"answers": {"source": "nope"}})
        assert bad_draft.status_code == 422

        wrong = await client.post("/tests", json={"token": token, "answers": {"source": "x"}})
        assert wrong.status_code == 422
        submitted = await client.post("/tests", json={"token": token, "answers": answers(1)})
        assert submitted.status_code == 201, submitted.text
        assert set(submitted.json()) == {"id"}, "the participant is never told a score"
        assert (
            await client.post("/tests", json={"token": token, "answers": answers(1)})
        ).status_code == 409
        assert (await client.get(f"/t/{token}")).status_code == 409

        form = await client.post(
            f"/t/{pre[str(second.registration_id)]}",
            content="source=reverse_image&red_flags=no_author&red_flags=all_caps&ethics=no"
            "&confidence=5&remark=Great+examples",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert form.status_code == 201, form.text
        assert 'id="thanks"' in form.text

        await bus.publish(events.attend(first), events.complete(sid))

        async def post_link() -> dict[str, str] | None:
            found = await links(client, sid, "post_test")
            return found or None

        post = await eventually(post_link, timeout=30)
        assert list(post) == [str(first.registration_id)], "only who attended gets a post-test"
        post_token = post[str(first.registration_id)]
        ok = await client.post("/tests", json={"token": post_token, "answers": answers(3)})
        assert ok.status_code == 201, ok.text

        async def scored() -> list[KnowledgeTestSubmitted] | None:
            found = await bus.stream("FEEDBACK", "feedback.>")
            tests = [
                e for e in found if isinstance(e, KnowledgeTestSubmitted) and e.session_id == sid
            ]
            return tests if len(tests) == 3 else None

        results = await eventually(scored, timeout=30)

    by_key = {(str(e.participant_id), e.phase): (e.score, e.max_score) for e in results}
    assert by_key == {
        (str(first.participant_id), "pre"): (1, 3),
        (str(second.participant_id), "pre"): (3, 3),
        (str(first.participant_id), "post"): (3, 3),
    }
    every = await bus.stream("FEEDBACK", "feedback.>")
    published = [
        e for e in every if isinstance(e, SurveyPublished) and str(e.survey_id) == survey_id
    ]
    assert published and published[0].item_kinds["red_flags"] == "multiple"
    assert "correct" not in str(published[0]), "correct options never leave feedback"
    comments = [e for e in every if isinstance(e, CommentGiven) and e.session_id == sid]
    assert [c.text for c in comments] == ["Great examples"]
    assert str(second.participant_id) not in str(comments[0])


async def test_no_feedback_route_answers_with_a_score(open_client: Callable[[], Any]) -> None:
    """Staff never see one person's score: no response schema of the service has one."""
    async with open_client() as client:
        schema = (await client.get("/schema/openapi.json")).json()

    def names(node: Any) -> set[str]:
        if isinstance(node, dict):
            found = set(node.get("properties", {})) if "properties" in node else set()
            for value in node.values():
                found |= names(value)
            return found
        if isinstance(node, list):
            return set().union(*(names(v) for v in node)) if node else set()
        return set()

    responses = [
        op.get("responses", {}) for path in schema["paths"].values() for op in path.values()
    ]
    response_fields = names(responses) | names(schema.get("components", {}).get("schemas", {}))
    assert "score" not in response_fields
