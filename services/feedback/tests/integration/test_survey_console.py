"""Programme staff create a knowledge test through the console's forms, publish it, and start
a new version from it; refusals come back with each problem beside its field; an unknown survey
is the console's HTML "not found" page; the navigation leads to the pages. Real app, real
nats-server, SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from trainops_devtools.testing.tokens import token_for

pytestmark = pytest.mark.integration

STAFF = {"Authorization": f"Bearer {token_for(role='programme_staff')}"}
ALMATY = {"Authorization": f"Bearer {token_for(role='coordinator', region='almaty')}"}
OPTIONS = "caption | caption kk | caption ru | caption\n*lateral | check kk | check ru | check"


def texts(en: str) -> dict[str, str]:
    return {"kk": f"{en} (kk)", "ru": f"{en} (ru)", "en": en}


def new_form(code: str, training: str, rows: list[dict[str, str]]) -> dict[str, str]:
    data = {"code": code, "purpose": "knowledge_test", "training_id": training}
    data |= {f"title_{lang}": text for lang, text in texts("Media test").items()}
    data |= {"rows": str(len(rows) + 1), "action": "save"}
    for n, row in enumerate(rows):
        data |= {f"item-{n}-{name}": value for name, value in row.items()}
    return data


def row(key: str, kind: str, en: str, options: str = "", scored: bool = False) -> dict[str, str]:
    fields = {"key": key, "kind": kind, "options": options, "required": "1"}
    fields |= {lang: text for lang, text in texts(en).items()}
    return fields | ({"scored": "1"} if scored else {})


async def test_create_publish_and_revise_a_knowledge_test_through_the_console(
    open_client: Callable[[], Any],
    bus: Any,
    events: Any,
    eventually: Callable[..., Awaitable[Any]],
) -> None:
    training = events.training()
    async with open_client() as client:
        c: AsyncTestClient[Litestar] = client
        await bus.publish(training)

        async def offered() -> str | None:
            page = await c.get("/surveys/new/page", params={"lang": "en"}, headers=STAFF)
            return page.text if str(training.training_id) in page.text else None

        blank = await eventually(offered, timeout=30)
        assert '<option value="knowledge_test"' in blank and 'name="csrf_token"' in blank
        assert (await c.get("/surveys/new/page", headers=ALMATY)).status_code == 403

        # Every problem at once, each beside its control; nothing is created.
        no_text = row("mood", "likert", "Mood", scored=True) | {"kk": ""}
        bad = new_form("X!", "", [row("source", "single", "Q", "only | two"), no_text])
        refused = await c.post("/surveys/new/page?lang=en", data=bad, headers=STAFF)
        assert refused.status_code == 422, refused.text
        assert 'id="f-item-0-options-error"' in refused.text
        assert 'value="X!"' in refused.text  # what was typed is kept
        for code, training_id, control in (("x!", "", "code"), ("media-x", "", "training_id")):
            named = new_form(code, training_id, [no_text])
            refused = await c.post("/surveys/new/page?lang=en", data=named, headers=STAFF)
            assert refused.status_code == 422
            assert f'id="f-{control}-error"' in refused.text, control
        domain_bad = new_form("media-x", str(training.training_id), [no_text])
        refused = await c.post("/surveys/new/page?lang=en", data=domain_bad, headers=STAFF)
        assert refused.status_code == 422
        for control in ("item-0-scored", "item-0-kk"):
            assert f'id="f-{control}-error"' in refused.text, control
        assert 'id="f-item-0-ru-error"' not in refused.text  # only the empty text is flagged
        assert 'href="#item-0"' in refused.text  # the summary links to the question
        assert (await c.get("/surveys", headers=STAFF)).json() == []

        good = new_form(
            "media-test",
            str(training.training_id),
            [row("source", "single", "Which check?", OPTIONS, True), row("mood", "likert", "M")],
        )
        created = await c.post(
            "/surveys/new/page?lang=ru", data=good, headers=STAFF, follow_redirects=False
        )
        assert created.status_code == 303, created.text
        [survey] = (await c.get("/surveys", headers=STAFF)).json()
        survey_id = survey["survey_id"]
        assert created.headers["location"] == (
            f"/surveys/{survey_id}/versions/1/page?lang=ru&done=created"
        )
        assert survey["purpose"] == "knowledge_test" and survey["max_score"] == 1
        assert survey["training_id"] == str(training.training_id)
        opened = await c.get(created.headers["location"], headers=STAFF)
        assert "Анкета создана: версия 1 — черновик." in opened.text
        taken = await c.post("/surveys/new/page?lang=en", data=good, headers=STAFF)
        assert taken.status_code == 409
        assert 'id="f-code-error"' in taken.text
        assert len((await c.get("/surveys", headers=STAFF)).json()) == 1

        v1 = f"/surveys/{survey_id}/versions/1"
        published = await c.post(f"{v1}/publish/page", data={}, headers=STAFF)
        assert published.status_code == 200  # followed to the list
        again = await c.post(f"{v1}/publish/page?lang=en", data={}, headers=STAFF)
        assert again.status_code == 409 and "text/html" in again.headers["content-type"]
        view = await c.get(f"{v1}/page", params={"lang": "en"}, headers=STAFF)
        assert "This version is published and does not change." in view.text
        assert 'id="revise-form"' in view.text and 'id="save"' not in view.text

        revised = await c.post(f"{v1}/revise/page?lang=en", data={}, headers=STAFF)
        assert revised.status_code == 200, revised.text
        assert "New version created: this is its draft." in revised.text
        assert 'id="save"' in revised.text and "*lateral | check kk" in revised.text
        versions = (await c.get(f"/surveys/{survey_id}/versions", headers=STAFF)).json()
        assert [(v["version"], v["status"]) for v in versions] == [(1, "published"), (2, "draft")]
        assert versions[1]["items"] == versions[0]["items"]

        # One draft at a time: the published version's page points at it instead.
        twice = await c.post(f"{v1}/revise/page?lang=en", data={}, headers=STAFF)
        assert twice.status_code == 409
        assert f'href="/surveys/{survey_id}/versions/2/page?lang=en"' in twice.text
        assert 'id="revise-form"' not in twice.text
        assert len((await c.get(f"/surveys/{survey_id}/versions", headers=STAFF)).json()) == 2
        saved_over = await c.post(f"{v1}/page?lang=en", data=good, headers=STAFF)
        assert saved_over.status_code == 409 and 'id="errors"' in saved_over.text


@pytest.mark.parametrize(
    ("lang", "title"), [("kk", "Табылмады"), ("ru", "Не найдено"), ("en", "Not found")]
)
async def test_an_unknown_survey_is_the_consoles_not_found_page(
    open_client: Callable[[], Any], lang: str, title: str
) -> None:
    async with open_client() as client:
        for path in (
            f"/surveys/{uuid.uuid4()}/versions/1/page",
            f"/surveys/{uuid.uuid4()}/versions/1/publish/page",
        ):
            missing = await client.get(path, params={"lang": lang}, headers=STAFF)
            assert missing.status_code == 404
            assert missing.headers["content-type"].startswith("text/html")
            assert f'<h1 id="page-title">{title}</h1>' in missing.text
            assert f'id="back" href="/surveys/page?lang={lang}"' in missing.text
        posted = await client.post(
            f"/surveys/{uuid.uuid4()}/versions/1/revise/page", data={}, headers=STAFF
        )
        assert posted.status_code == 404 and "text/html" in posted.headers["content-type"]


async def test_the_navigation_leads_programme_staff_to_the_survey_pages(
    open_client: Callable[[], Any],
) -> None:
    async with open_client() as client:
        home = await client.get("/", params={"lang": "en"}, headers=STAFF)
        assert 'id="nav-surveys" href="/surveys/page"' in home.text
        assert 'id="surveys-link"' in home.text
        listed = await client.get("/surveys/page", params={"lang": "en"}, headers=STAFF)
        assert 'id="nav-surveys" href="/surveys/page" aria-current="page"' in listed.text
        assert 'id="new-survey"' in listed.text
        coordinator = await client.get("/", headers=ALMATY)
        assert "nav-surveys" not in coordinator.text and "surveys-link" not in coordinator.text
