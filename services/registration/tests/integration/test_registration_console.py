"""The coordinators' console main page through the real app: every language, region reach."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import msgspec
import pytest
from registration_support import ADMIN, Harness, coordinator

from trainops_devtools.testing.events import session_scheduled
from trainops_devtools.testing.polling import eventually
from trainops_devtools.testing.tokens import token_for
from trainops_shared.console.pages import local_time
from trainops_shared.events import TrainingDefined

pytestmark = pytest.mark.integration

ALMATY = coordinator("almaty")
AKTOBE = coordinator("aktobe")
TITLES = {"kk": "Тіркеу: сессиялар", "ru": "Регистрация: сессии", "en": "Registration: sessions"}


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_main_page_lists_own_region_sessions_in_each_language(
    harness: Harness, lang: str
) -> None:
    session_id = await harness.schedule(capacity=3, cities=("almaty",))
    r = await harness.client.get("/", params={"lang": lang}, headers=ALMATY)
    assert r.status_code == 200, r.text
    assert r.headers["content-language"] == lang
    assert TITLES[lang] in r.text
    assert f'id="session-{session_id}"' in r.text
    # Every link of the page within this service leads to a page that exists.
    for path in set(re.findall(r'href="(/[^"#]*)"', r.text)):
        if not path.startswith("/assets/"):
            target = await harness.client.get(path, headers=ALMATY)
            assert target.status_code == 200, (path, target.status_code)
    # The start in Almaty's local time, as the session's zone gives it.
    assert local_time(datetime(2020, 12, 22, 4, 0, tzinfo=UTC), "Asia/Almaty") in r.text


async def test_other_region_and_roles_do_not_see_the_session(harness: Harness) -> None:
    session_id = await harness.schedule(capacity=3, cities=("almaty",))
    marker = f'id="session-{session_id}"'
    other = await harness.client.get("/", params={"lang": "en"}, headers=AKTOBE)
    assert other.status_code == 200, other.text
    assert marker not in other.text
    assert "No sessions." in other.text
    # A coordinator cannot widen their reach with the admin's region filter.
    widened = await harness.client.get("/", params={"region": "almaty"}, headers=AKTOBE)
    assert marker not in widened.text
    staff = {"Authorization": f"Bearer {token_for(role='programme_staff')}"}
    planner = await harness.client.get("/", params={"lang": "en"}, headers=staff)
    assert planner.status_code == 200
    assert marker not in planner.text
    assert "coordinators and admins only" in planner.text


async def test_admin_sees_every_region_and_filters(harness: Harness) -> None:
    session_id = await harness.schedule(capacity=3, cities=("almaty",))
    marker = f'id="session-{session_id}"'
    every = await harness.client.get("/", params={"lang": "ru"}, headers=ADMIN)
    assert marker in every.text
    assert 'id="region-filter"' in every.text
    almaty = await harness.client.get("/", params={"region": "almaty"}, headers=ADMIN)
    assert marker in almaty.text
    aktobe = await harness.client.get("/", params={"region": "aktobe"}, headers=ADMIN)
    assert marker not in aktobe.text


async def test_sessions_are_named_by_their_training_in_the_page_language(
    harness: Harness,
) -> None:
    """Scheduling's training definition names the session's training; one never defined shows
    its short id."""
    training_id = uuid.uuid4()
    await harness.publish(
        TrainingDefined(
            aggregate_id=training_id,
            aggregate_version=1,
            training_id=training_id,
            code="ETH-1",
            title={"kk": "Этикалық жариялау", "ru": "Этичное освещение", "en": "Ethical coverage"},
        )
    )
    named = msgspec.structs.replace(
        session_scheduled(cities=("almaty",), starts_at=datetime(2030, 3, 4, 5, 0, tzinfo=UTC)),
        training_id=training_id,
    )
    unnamed = session_scheduled(
        cities=("almaty",), starts_at=datetime(2030, 3, 5, 5, 0, tzinfo=UTC)
    )
    await harness.publish(named, unnamed)

    async def both_listed() -> bool:
        page = await harness.client.get("/", params={"lang": "en"}, headers=ALMATY)
        return f'id="session-{named.session_id}"' in page.text and (
            f'id="session-{unnamed.session_id}"' in page.text
        )

    await eventually(both_listed)
    for lang, title in (("kk", "Этикалық жариялау"), ("ru", "Этичное освещение")):
        page = await harness.client.get("/", params={"lang": lang}, headers=ALMATY)
        row = page.text.split(f'id="session-{named.session_id}"')[1].split("</tr>")[0]
        assert title in row
    page = await harness.client.get("/", params={"lang": "en"}, headers=ALMATY)
    row = page.text.split(f'id="session-{unnamed.session_id}"')[1].split("</tr>")[0]
    assert str(unnamed.training_id)[:8] in row
