"""Every answer reported, through the public APIs of feedback and reporting on one real
nats-server (SQLite and PostgreSQL): staff publish a knowledge test, participants take the
pre-test, attend, take the post-test and answer the feedback form; reporting then shows the
knowledge gain, per-item means equal to what was sent, and comments only from k of them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from trainops_devtools.nats_server import NatsServer
from trainops_devtools.testing.polling import eventually
from trainops_devtools.testing.tokens import TEST_JWT_ENV, token_for
from trainops_feedback.app import build_spec as feedback_spec
from trainops_reporting.app import build_spec as reporting_spec
from trainops_shared.events import (
    AttendanceRecorded,
    Event,
    ParticipantProfile,
    ParticipantRegistered,
    SessionCompleted,
    SessionScheduled,
    TrainingDefined,
    encode_event,
)
from trainops_shared.service import create_app
from trainops_shared.settings import load_settings

pytestmark = pytest.mark.integration

K = 3
STAFF = {"Authorization": f"Bearer {token_for(role='programme_staff')}"}
REPORTING = {"Authorization": f"Bearer {token_for(role='reporting')}"}
ALMATY = {"Authorization": f"Bearer {token_for(role='coordinator', region='almaty')}"}
TEXTS = {"kk": "Сұрақ", "ru": "Вопрос", "en": "Question"}


def choice(key: str, right: str, wrong: str) -> dict[str, Any]:
    return {
        "key": key,
        "kind": "single",
        "text": TEXTS,
        "scored": True,
        "options": [
            {"key": right, "text": TEXTS, "correct": True},
            {"key": wrong, "text": TEXTS},
        ],
    }


TEST = {
    "purpose": "knowledge_test",
    "title": TEXTS,
    "items": [choice("q1", "a", "b"), choice("q2", "c", "d"), choice("q3", "e", "f")],
}
RIGHT = {"q1": "a", "q2": "c", "q3": "e"}
WRONG = {"q1": "b", "q2": "d", "q3": "f"}


def answers(right: int) -> dict[str, str]:
    """The first ``right`` of the three questions answered correctly."""
    keys = list(RIGHT)
    return {key: (RIGHT if i < right else WRONG)[key] for i, key in enumerate(keys)}


async def publish(nats_url: str, *events: Event) -> None:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for event in events:
            await js.publish(
                event.subject,
                encode_event(event),
                headers={"Nats-Msg-Id": str(event.event_id)},
                timeout=5,
            )
    finally:
        await nc.close()


@pytest.fixture
def databases(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> list[str]:
    """One database per service on the backend of ``database_url``."""
    if database_url.startswith("sqlite"):
        return [f"sqlite+aiosqlite:///{tmp_path / name}.db" for name in ("fb", "rp")]
    factory: Callable[[], str] = request.getfixturevalue("postgres_database")
    return [database_url, factory()]


async def started(
    stack: AsyncExitStack, service: str, nats_url: str, database: str, data_dir: Path
) -> AsyncTestClient[Litestar]:
    env = {
        "NATS_URL": nats_url,
        "DATABASE_URL": database,
        "TRAINOPS_DATA_DIR": str(data_dir),
        "TRAINOPS_PUBLIC_URL": "https://feedback.example.kz",
        **TEST_JWT_ENV,
    }
    settings = load_settings(service, env)
    spec = feedback_spec(settings) if service == "feedback" else reporting_spec(settings)
    client: AsyncTestClient[Litestar] = AsyncTestClient(create_app(spec, settings))
    return await stack.enter_async_context(client)


@pytest.fixture
async def apps(
    databases: list[str],
    fresh_nats_server: NatsServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[str, AsyncTestClient[Litestar], AsyncTestClient[Litestar]]]:
    monkeypatch.setenv("REPORT_MIN_CELL", str(K))
    url = fresh_nats_server.url
    async with AsyncExitStack() as stack:
        feedback = await started(stack, "feedback", url, databases[0], tmp_path / "fb")
        reporting = await started(stack, "reporting", url, databases[1], tmp_path / "rp")
        yield url, feedback, reporting


def registration(session_id: uuid.UUID) -> ParticipantRegistered:
    registration_id = uuid.uuid4()
    return ParticipantRegistered(
        aggregate_id=registration_id,
        registration_id=registration_id,
        session_id=session_id,
        participant_id=uuid.uuid4(),
        status="confirmed",
        profile=ParticipantProfile(
            city="almaty", sector="media", sex="female", age_band="25-34", language="ru"
        ),
    )


async def links(
    feedback: AsyncTestClient[Litestar], session_id: uuid.UUID, kind: str, count: int
) -> dict[str, str] | None:
    response = await feedback.get(f"/sessions/{session_id}/invitations", headers=ALMATY)
    if response.status_code == 404:
        return None  # the session's event has not arrived yet
    assert response.status_code == 200, response.text
    found = {
        row["registration_id"]: row["url"].rsplit("/", 1)[1]
        for row in response.json()
        if row["kind"] == kind
    }
    return found if len(found) == count else None


async def test_gain_items_and_comments_reach_the_report(
    apps: tuple[str, AsyncTestClient[Litestar], AsyncTestClient[Litestar]],
) -> None:
    nats_url, feedback, reporting = apps
    training = TrainingDefined(
        aggregate_id=(training_id := uuid.uuid4()),
        training_id=training_id,
        code="media-literacy",
        title=TEXTS,
    )
    starts_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    session = SessionScheduled(
        aggregate_id=(session_id := uuid.uuid4()),
        session_id=session_id,
        training_id=training_id,
        mode="in_person",
        cities=["almaty"],
        timezone="Asia/Almaty",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=6),
        capacity=30,
        language="ru",
    )
    people = [registration(session_id) for _ in range(4)]
    created = await feedback.post(
        "/surveys",
        json={**TEST, "code": "media-test", "training_id": str(training_id)},
        headers=STAFF,
    )
    assert created.status_code == 201, created.text
    survey = created.json()["survey_id"]
    published = await feedback.post(f"/surveys/{survey}/versions/1/publish", headers=STAFF)
    assert published.status_code == 200, published.text
    await publish(nats_url, training, session, *people)

    pre = await eventually(lambda: links(feedback, session_id, "pre_test", 4), timeout=60)
    token = {p.participant_id: pre[str(p.registration_id)] for p in people}
    # Pre-tests: 0, 1 and 2 of 3 right; the fourth person takes only the post-test.
    for person, right in zip(people[:3], (0, 1, 2), strict=True):
        sent = await feedback.post(
            "/tests", json={"token": token[person.participant_id], "answers": answers(right)}
        )
        assert sent.status_code == 201, sent.text

    attendance = [
        AttendanceRecorded(
            aggregate_id=p.registration_id,
            aggregate_version=2,
            registration_id=p.registration_id,
            session_id=session_id,
            participant_id=p.participant_id,
            attended=True,
        )
        for p in people
    ]
    completed = SessionCompleted(
        aggregate_id=session_id, aggregate_version=2, session_id=session_id
    )
    await publish(nats_url, *attendance, completed)

    post = await eventually(lambda: links(feedback, session_id, "post_test", 4), timeout=60)
    forms = await eventually(lambda: links(feedback, session_id, "feedback", 4), timeout=60)
    # Post-tests: 2, 3, 2 and 3 right.
    for person, right in zip(people, (2, 3, 2, 3), strict=True):
        sent = await feedback.post(
            "/tests",
            json={"token": post[str(person.registration_id)], "answers": answers(right)},
        )
        assert sent.status_code == 201, sent.text
    overall = [5, 4, 4, 2]
    trainer = [3, 3, 5, 5]
    for n, person in enumerate(people):
        body: dict[str, Any] = {
            "token": forms[str(person.registration_id)],
            "answers": {
                "overall": overall[n],
                "relevance": 4,
                "trainer": trainer[n],
                "knowledge_gain": 3,
            },
        }
        if n < 3:
            body["comment"] = f"Comment number {3 - n}"
        sent = await feedback.post("/responses", json=body)
        assert sent.status_code == 201, sent.text

    async def report(path: str, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        response = await reporting.get(path, headers=REPORTING)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if ready(body) else None

    gain = await eventually(
        lambda: report(
            f"/reports/knowledge-gain?training_id={training_id}", lambda b: bool(b["pairs"])
        ),
        timeout=60,
    )
    # Three pairs (the fourth person has no pre-test): pre 0, 1/3, 2/3; post 2/3, 1, 2/3.
    assert gain == {
        "period": "all",
        "training_id": str(training_id),
        "k": K,
        "pairs": 3,
        "mean_pre": 33.33,
        "mean_post": 77.78,
        "mean_gain": 44.44,
        "share_improved": 0.6667,
        "suppressed": None,
    }
    # k is the server's setting: a request for another threshold is refused, never served.
    larger_k = await reporting.get(
        f"/reports/knowledge-gain?training_id={training_id}&k=4", headers=REPORTING
    )
    assert larger_k.status_code == 422, larger_k.text
    assert larger_k.json()["field"] == "k"

    def all_answered(body: dict[str, Any]) -> bool:
        return any(i["item"] == "overall" and i["respondents"] == 4 for i in body["items"])

    items = await eventually(
        lambda: report(f"/reports/items?training_id={training_id}", all_answered), timeout=60
    )
    by_item = {i["item"]: i for i in items["items"]}
    assert by_item["overall"]["mean"] == round(sum(overall) / 4, 2)
    assert by_item["trainer"]["mean"] == round(sum(trainer) / 4, 2)
    assert by_item["relevance"]["mean"] == 4.0
    assert [c["count"] for c in by_item["relevance"]["cells"]] == [0, 0, 0, 4, 0]
    # overall: one 2, two 4s, one 5 (k=3): every non-zero count is below k.
    assert [(c["value"], c["count"], c["suppressed"]) for c in by_item["overall"]["cells"]] == [
        ("1", 0, None),
        ("2", None, "primary"),
        ("3", 0, None),
        ("4", None, "primary"),
        ("5", None, "primary"),
    ]
    assert "materials" not in by_item, "an unanswered item has no figure"

    def three(body: dict[str, Any]) -> bool:
        return len(body["comments"]) == 3

    shown = await eventually(
        lambda: report(f"/reports/comments?session_id={session_id}", three), timeout=60
    )
    assert shown["comments"] == ["Comment number 1", "Comment number 2", "Comment number 3"]
    assert shown["respondents"] == 4
    assert set(shown) == {
        "period",
        "training_id",
        "session_id",
        "k",
        "respondents",
        "comments",
        "suppressed",
    }, "nothing that could attribute a comment"
    other_k = await reporting.get(
        f"/reports/comments?session_id={session_id}&k=4", headers=REPORTING
    )
    assert other_k.status_code == 422 and other_k.json()["field"] == "k", other_k.text

    page = await reporting.get(f"/evidence?training_id={training_id}&lang=en", headers=REPORTING)
    assert page.status_code == 200, page.text
    assert "Reports: knowledge, survey items, comments" in page.text
    assert "44.44" in page.text and "66.67" in page.text  # gain and share improved (%)
    assert page.text.index("Comment number 1") < page.text.index("Comment number 3")
    assert str(people[0].participant_id) not in page.text
    small = await reporting.get("/evidence?period=1999&lang=ru", headers=REPORTING)
    assert small.status_code == 400
