"""The programme staff's pages through the real app: every language, previews before saving,
refusals at the field that change nothing, and read-only pages for the other roles."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest
from litestar.testing import AsyncTestClient

from trainops_devtools.testing.polling import eventually
from trainops_devtools.testing.tokens import in_process_settings, token_for
from trainops_scheduling.app import build_spec
from trainops_shared.events import (
    Event,
    ParticipantProfile,
    ParticipantRegistered,
    RegistrationCancelled,
    encode_event,
)
from trainops_shared.service import create_app

pytestmark = pytest.mark.integration

STAFF = {"Authorization": f"Bearer {token_for(role='programme_staff')}"}
ADMIN = {"Authorization": f"Bearer {token_for(role='admin')}"}
COORDINATOR = {"Authorization": "Bearer " + token_for(role="coordinator", region="aktobe")}
REPORTING = {"Authorization": f"Bearer {token_for(role='reporting')}"}
TITLES = {"kk": "Кесте: сессиялар", "ru": "Расписание: сессии", "en": "Schedule: sessions"}
PAGES = (
    "/",
    "/calendar?view=week&date=2027-02-01",
    "/calendar?view=month&date=2027-02-01",
    "/programme/trainings",
    "/programme/trainers",
    "/programme/sessions/new",
)


@pytest.fixture
async def client(
    nats_url: str, database_url: str, tmp_path: Path
) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = in_process_settings(
        "scheduling", nats_url=nats_url, database_url=database_url, data_dir=tmp_path
    )
    app = create_app(build_spec(settings), settings)
    async with AsyncTestClient(app) as test_client:
        yield test_client


async def api(client: AsyncTestClient[Any], path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=STAFF)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]  # JSON object by contract


async def setup(client: AsyncTestClient[Any]) -> tuple[str, str, str]:
    """A training, a trainer and that trainer's in-person session in Aktobe on 1 Feb 2027."""
    training = await api(
        client,
        "/trainings",
        {
            "code": f"ethics-{uuid.uuid4().hex[:6]}",
            "title": {"en": "Ethical coverage", "ru": "Этичное освещение", "kk": "Әдепті жариялау"},
        },
    )
    trainer = await api(client, "/trainers", {"name": "Aigerim Sadykova", "home_city": "Almaty"})
    session = await api(
        client,
        "/sessions",
        {
            "training_id": training["id"],
            "mode": "in_person",
            "cities": ["aktobe"],
            "starts_at": "2027-02-01T10:00",
            "ends_at": "2027-02-01T13:00",
            "capacity": 20,
            "language": "ru",
            "trainer_ids": [trainer["id"]],
        },
    )
    return training["id"], trainer["id"], session["id"]


async def sessions_json(client: AsyncTestClient[Any]) -> list[dict[str, Any]]:
    response = await client.get("/sessions", headers=STAFF)
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]  # JSON array by contract


def new_form(training_id: str, trainer_id: str, **overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "training_id": training_id,
        "mode": "online",
        "cities": ["almaty", "aktobe"],
        "starts_at": "2027-02-03 10:00",
        "ends_at": "2027-02-03 12:00",
        "capacity": "40",
        "language": "kk",
        "trainer_ids": [trainer_id],
        "venue": "",
    }
    form.update(overrides)
    return form


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_every_page_in_each_language(client: AsyncTestClient[Any], lang: str) -> None:
    training_id, _, session_id = await setup(client)
    home = await client.get("/", params={"lang": lang}, headers=STAFF)
    assert home.status_code == 200, home.text
    assert home.headers["content-language"] == lang
    assert TITLES[lang] in home.text
    assert f'id="session-{session_id}"' in home.text
    # The Aktobe session in Aktobe's own time (UTC+5), training title in the page's language.
    assert "01.02.2027 10:00 UTC+5" in home.text
    title = {"kk": "Әдепті жариялау", "ru": "Этичное освещение", "en": "Ethical coverage"}[lang]
    assert title in home.text
    assert "Aigerim Sadykova" in home.text
    for path in (*PAGES, f"/programme/sessions/{session_id}"):
        page = await client.get(path, params={"lang": lang}, headers=STAFF)
        assert page.status_code == 200, (path, page.text[:500])
        assert page.headers["content-language"] == lang
        # Every link within this service leads to a page that exists.
        for href in set(re.findall(r'href="(/[^"#]*)"', page.text)):
            if not href.startswith(("/assets/", "/schema")):
                target = await client.get(href.replace("&amp;", "&"), headers=STAFF)
                assert target.status_code == 200, (path, href, target.status_code)
    week = await client.get("/calendar?view=week&date=2027-02-03", headers=STAFF)
    assert f'id="cal-{session_id}-aktobe"' in week.text
    assert "10:00–13:00" in week.text
    month = await client.get("/calendar?view=month&date=2027-02-20", headers=STAFF)
    assert f'id="cal-{session_id}-aktobe"' in month.text
    other_week = await client.get("/calendar?view=week&date=2027-02-08", headers=STAFF)
    assert f'id="cal-{session_id}-aktobe"' not in other_week.text
    assert "date=2027-02-01" in other_week.text  # the previous week's link
    filtered = await client.get("/", params={"city": "almaty"}, headers=STAFF)
    assert f'id="session-{session_id}"' not in filtered.text
    by_training = await client.get("/", params={"training_id": training_id}, headers=STAFF)
    assert f'id="session-{session_id}"' in by_training.text
    cancelled = await client.get("/", params={"status": "cancelled"}, headers=STAFF)
    assert f'id="session-{session_id}"' not in cancelled.text


async def test_sessions_that_ended_are_listed_after_the_coming_ones(
    client: AsyncTestClient[Any],
) -> None:
    training_id, _, upcoming_id = await setup(client)
    older, newer = [
        await api(
            client,
            "/sessions",
            {
                "training_id": training_id,
                "mode": "online",
                "cities": ["almaty"],
                "starts_at": f"2020-12-{day}T10:00",
                "ends_at": f"2020-12-{day}T12:00",
                "capacity": 10,
                "language": "kk",
            },
        )
        for day in (21, 22)
    ]
    home = await client.get("/", headers=STAFF)
    upcoming, past = home.text.split('id="past-title"', 1)
    assert f'id="session-{upcoming_id}"' in upcoming
    assert f'id="session-{older["id"]}"' not in upcoming
    # The latest past session first.
    assert past.index(f'id="session-{newer["id"]}"') < past.index(f'id="session-{older["id"]}"')


async def test_new_session_is_previewed_then_saved(client: AsyncTestClient[Any]) -> None:
    training_id, trainer_id, _ = await setup(client)
    form = new_form(training_id, trainer_id)
    preview = await client.post(
        "/programme/sessions/new", data=form, params={"lang": "en"}, headers=STAFF
    )
    assert preview.status_code == 200, preview.text
    assert 'id="preview-ok"' in preview.text
    assert 'id="confirm-form"' in preview.text
    assert "03.02.2027 10:00 UTC+5" in preview.text
    assert len(await sessions_json(client)) == 1, "the preview saved something"
    saved = await client.post(
        "/programme/sessions/new",
        data={**form, "confirm": "1"},
        headers=STAFF,
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    found = await sessions_json(client)
    assert len(found) == 2
    created = next(s for s in found if s["mode"] == "online")
    assert saved.headers["location"] == f"/programme/sessions/{created['id']}?saved=1"
    assert created["cities"] == ["almaty", "aktobe"]
    assert created["capacity"] == 40


async def test_trainer_clash_is_shown_and_nothing_is_saved(client: AsyncTestClient[Any]) -> None:
    training_id, trainer_id, session_id = await setup(client)
    form = new_form(
        training_id, trainer_id, starts_at="2027-02-01 11:00", ends_at="2027-02-01 12:00"
    )
    for confirm in ("", "1"):
        clash = await client.post(
            "/programme/sessions/new", data={**form, "confirm": confirm}, headers=STAFF
        )
        assert clash.status_code == 409, clash.text
        assert f'id="clash-{session_id}"' in clash.text
        assert f'href="/programme/sessions/{session_id}"' in clash.text
        assert 'id="confirm-form"' not in clash.text
    assert len(await sessions_json(client)) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("capacity", "0"),
        ("capacity", "many"),
        ("starts_at", "tomorrow"),
        ("training_id", ""),
        ("cities", []),
    ],
)
async def test_bad_new_session_is_refused_at_the_field(
    client: AsyncTestClient[Any], field: str, value: Any
) -> None:
    training_id, trainer_id, _ = await setup(client)
    form = {**new_form(training_id, trainer_id), field: value, "confirm": "1"}
    refused = await client.post("/programme/sessions/new", data=form, headers=STAFF)
    assert refused.status_code == 422, refused.text
    assert f'id="f-{field}-error"' in refused.text
    # The form keeps what was typed.
    assert 'value="2027-02-03 12:00"' in refused.text
    assert len(await sessions_json(client)) == 1


async def test_session_changes_are_previewed_then_saved(client: AsyncTestClient[Any]) -> None:
    _, _, session_id = await setup(client)
    path = f"/programme/sessions/{session_id}"
    move = {"action": "reschedule", "starts_at": "2027-02-02 09:00", "ends_at": "2027-02-02 11:00"}
    preview = await client.post(path, data=move, params={"lang": "ru"}, headers=STAFF)
    assert preview.status_code == 200, preview.text
    assert "Время изменится:" in preview.text
    assert "02.02.2027 09:00 UTC+5" in preview.text
    unchanged = (await client.get(f"/sessions/{session_id}", headers=STAFF)).json()
    assert unchanged["version"] == 1
    saved = await client.post(
        path, data={**move, "confirm": "1"}, headers=STAFF, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    moved = (await client.get(f"/sessions/{session_id}", headers=STAFF)).json()
    assert moved["starts_at_utc"] == "2027-02-02T04:00:00Z"

    seats = await client.post(path, data={"action": "capacity", "capacity": "35"}, headers=STAFF)
    assert "20 → 35" in seats.text
    await client.post(
        path, data={"action": "capacity", "capacity": "35", "confirm": "1"}, headers=STAFF
    )
    assert (await client.get(f"/sessions/{session_id}", headers=STAFF)).json()["capacity"] == 35

    no_reason = await client.post(
        path, data={"action": "cancel", "reason": " ", "confirm": "1"}, headers=STAFF
    )
    assert no_reason.status_code == 422
    assert 'id="f-reason-error"' in no_reason.text
    bad_time = await client.post(
        path,
        data={
            "action": "reschedule",
            "starts_at": "2027-02-02 12:00",
            "ends_at": "2027-02-02 11:00",
            "confirm": "1",
        },
        headers=STAFF,
    )
    assert bad_time.status_code == 422
    assert 'id="f-ends_at-error"' in bad_time.text or 'id="f-starts_at-error"' in bad_time.text
    state = (await client.get(f"/sessions/{session_id}", headers=STAFF)).json()
    assert (state["status"], state["version"]) == ("scheduled", 3)

    cancel = {"action": "cancel", "reason": "Trainer ill", "confirm": "1"}
    done = await client.post(path, data=cancel, headers=STAFF, follow_redirects=False)
    assert done.status_code == 303
    page = await client.get(path, params={"lang": "en"}, headers=STAFF)
    assert "Cancelled: Trainer ill" in page.text
    assert 'id="not-scheduled"' in page.text
    late = await client.post(path, data={"action": "complete", "confirm": "1"}, headers=STAFF)
    assert late.status_code == 409
    assert "cannot complete a session that is cancelled" in late.text
    missing = await client.post(
        f"/programme/sessions/{uuid.uuid4()}", data={"action": "complete"}, headers=STAFF
    )
    assert missing.status_code == 404


async def test_trainings_and_trainers_forms(client: AsyncTestClient[Any]) -> None:
    added = await client.post(
        "/programme/trainings",
        data={
            "code": "fact-check",
            "title_en": "Fact checking",
            "title_kk": "Фактчекинг",
            "target_sectors": ["media", "ngo"],
        },
        headers=STAFF,
    )
    assert added.status_code == 200, added.text
    assert "Fact checking" in (await client.get("/programme/trainings", headers=STAFF)).text
    again = await client.post(
        "/programme/trainings", data={"code": "fact-check", "title_en": "Again"}, headers=STAFF
    )
    assert again.status_code == 409
    assert 'id="f-code-error"' in again.text
    bad = await client.post(
        "/programme/trainings", data={"code": "no spaces", "title_en": "X"}, headers=STAFF
    )
    assert bad.status_code == 422
    assert 'id="f-code-error"' in bad.text
    untitled = await client.post("/programme/trainings", data={"code": "ok-code"}, headers=STAFF)
    assert untitled.status_code == 422
    assert 'id="f-title_en-error"' in untitled.text
    trainings = (await client.get("/trainings", headers=STAFF)).json()
    assert [t["code"] for t in trainings] == ["fact-check"]

    nameless = await client.post(
        "/programme/trainers", data={"name": "", "home_city": "Almaty"}, headers=STAFF
    )
    assert nameless.status_code == 422
    assert 'id="f-name-error"' in nameless.text
    assert (await client.get("/trainers", headers=STAFF)).json() == []
    trainer = await client.post(
        "/programme/trainers",
        data={"name": "Daniyar Ospanov", "home_city": "Shymkent"},
        headers=ADMIN,
    )
    assert trainer.status_code == 200
    assert "Daniyar Ospanov" in (await client.get("/programme/trainers", headers=STAFF)).text


@pytest.mark.parametrize("headers", [COORDINATOR, REPORTING], ids=["coordinator", "reporting"])
async def test_other_roles_read_but_never_change(
    client: AsyncTestClient[Any], headers: dict[str, str]
) -> None:
    training_id, trainer_id, session_id = await setup(client)
    home = await client.get("/", params={"lang": "en"}, headers=headers)
    assert home.status_code == 200
    assert f'id="session-{session_id}"' in home.text
    assert 'id="read-only"' in home.text
    assert "/programme/sessions/new" not in home.text
    page = await client.get(f"/programme/sessions/{session_id}", headers=headers)
    assert page.status_code == 200
    assert "reschedule-form" not in page.text
    assert (await client.get("/programme/sessions/new", headers=headers)).status_code == 403
    posts = [
        ("/programme/sessions/new", {**new_form(training_id, trainer_id), "confirm": "1"}),
        (f"/programme/sessions/{session_id}", {"action": "cancel", "reason": "x", "confirm": "1"}),
        ("/programme/trainings", {"code": "sneaky", "title_en": "Sneaky"}),
        ("/programme/trainers", {"name": "Sneaky", "home_city": "Almaty"}),
    ]
    for path, form in posts:
        refused = await client.post(path, data=form, headers=headers)
        assert refused.status_code == 403, (path, refused.text)
    assert len(await sessions_json(client)) == 1
    assert (await client.get(f"/sessions/{session_id}", headers=STAFF)).json()["status"] == (
        "scheduled"
    )


async def publish(nats_url: str, *events: Event) -> None:
    """Into JetStream as registration's outbox relay publishes them (de-duplicated by id)."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for event in events:
            headers = {"Nats-Msg-Id": str(event.event_id)}
            await js.publish(event.subject, encode_event(event), headers=headers)
    finally:
        await nc.close()


def registration(session_id: str, status: str, version: int = 1, **ids: Any) -> dict[str, Any]:
    registration_id = ids.get("registration_id", uuid.uuid4())
    return {
        "aggregate_id": registration_id,
        "aggregate_version": version,
        "registration_id": registration_id,
        "session_id": uuid.UUID(session_id),
        "participant_id": ids.get("participant_id", uuid.uuid4()),
        **({"status": status} if status else {}),
    }


async def test_previews_show_how_many_people_a_change_affects(
    client: AsyncTestClient[Any], nats_url: str
) -> None:
    _, _, session_id = await setup(client)
    profile = ParticipantProfile(
        city="aktobe", sector="media", sex="female", age_band="25-34", language="ru"
    )
    seated = [
        ParticipantRegistered(profile=profile, **registration(session_id, "confirmed"))
        for _ in range(3)
    ]
    waiting = ParticipantRegistered(
        profile=profile, waitlist_position=1, **registration(session_id, "waitlisted")
    )
    first = seated[0]
    same = {"registration_id": first.registration_id, "participant_id": first.participant_id}
    left = RegistrationCancelled(
        previous_status="confirmed", **registration(session_id, "", 2, **same)
    )
    # The cancellation comes twice (a relay retry): counted once.
    await publish(nats_url, *seated, waiting, left, left)
    path = f"/programme/sessions/{session_id}"

    async def counted() -> str:
        page = await client.get(path, params={"lang": "en"}, headers=STAFF)
        shown = (
            'id="session-confirmed">2<' in page.text and 'id="session-waitlisted">1<' in page.text
        )
        return page.text if shown else ""

    await eventually(counted, what="registration counts on the session page")
    cancel = await client.post(path, data={"action": "cancel", "reason": "Flood"}, headers=STAFF)
    assert "This change affects 2 confirmed people and 1 on the waiting list." in cancel.text
    seats = await client.post(
        path, data={"action": "capacity", "capacity": "1"}, params={"lang": "ru"}, headers=STAFF
    )
    assert "Подтверждённых участников на 1 больше, чем новое число мест." in seats.text
    home = await client.get("/", headers=STAFF)
    row = home.text.split(f'id="session-{session_id}"', 1)[1].split("</tr>", 1)[0]
    assert 'class="num confirmed">2<' in row and 'class="num waitlisted">1<' in row
