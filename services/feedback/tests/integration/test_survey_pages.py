"""The survey definition pages through the real app on a real nats-server, SQLite and
PostgreSQL: the list, a draft's form (add a question, save, every problem at once), and
publishing after a confirm step; what the pages save is what the JSON API then returns."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from trainops_devtools.testing.tokens import token_for

pytestmark = pytest.mark.integration

STAFF = {"Authorization": f"Bearer {token_for(role='programme_staff')}"}
REPORTING = {"Authorization": f"Bearer {token_for(role='reporting')}"}
ALMATY = {"Authorization": f"Bearer {token_for(role='coordinator', region='almaty')}"}
LIST_TITLES = {
    "kk": "Сауалнамалар мен білім тесттері",
    "ru": "Анкеты и тесты знаний",
    "en": "Surveys and knowledge tests",
}


def texts(en: str) -> dict[str, str]:
    return {"kk": f"{en} (kk)", "ru": f"{en} (ru)", "en": en}


def knowledge_test(training_id: uuid.UUID) -> dict[str, Any]:
    return {
        "code": "media-test",
        "purpose": "knowledge_test",
        "training_id": str(training_id),
        "title": texts("Media test"),
        "items": [
            {
                "key": "source",
                "kind": "single",
                "text": texts("Check a source?"),
                "scored": True,
                "options": [
                    {"key": "reverse", "text": texts("reverse"), "correct": True},
                    {"key": "caption", "text": texts("caption")},
                ],
            },
            {"key": "confidence", "kind": "likert", "text": texts("Confident?")},
        ],
    }


def form(title: str, rows: list[dict[str, str]], action: str = "save") -> dict[str, str]:
    data = {f"title_{lang}": text for lang, text in texts(title).items()}
    data |= {"rows": str(len(rows)), "action": action}
    for n, row in enumerate(rows):
        data |= {f"item-{n}-{name}": value for name, value in row.items()}
    return data


def row(key: str, kind: str, en: str, options: str = "", scored: bool = False) -> dict[str, str]:
    fields = {"key": key, "kind": kind, "options": options, "required": "1"}
    fields |= {lang: text for lang, text in texts(en).items()}
    return fields | ({"scored": "1"} if scored else {})


BLANK = {"key": "", "kind": "likert", "kk": "", "ru": "", "en": "", "options": ""}
OPTIONS = "caption | caption kk | caption ru | caption\n*lateral | check kk | check ru | check"


async def test_staff_edit_and_publish_a_draft_through_the_pages(
    open_client: Callable[[], Any],
) -> None:
    async with open_client() as client:
        c: AsyncTestClient[Litestar] = client
        created = await c.post("/surveys", json=knowledge_test(uuid.uuid4()), headers=STAFF)
        assert created.status_code == 201, created.text
        survey_id = created.json()["survey_id"]
        page = f"/surveys/{survey_id}/versions/1/page"

        for lang, title in LIST_TITLES.items():
            listed = await c.get("/surveys/page", params={"lang": lang}, headers=STAFF)
            assert listed.status_code == 200, listed.text
            assert title in listed.text
            assert f'href="{page}?lang={lang}"' in listed.text
        ru = await c.get("/surveys/page", params={"lang": "ru"}, headers=STAFF)
        assert re.search(
            r'id="version-media-test-1">Версия 1: <span class="status">черновик', ru.text
        )
        for who in (REPORTING, ALMATY):
            assert (await c.get("/surveys/page", headers=who)).status_code == 403
            assert (await c.get(page, headers=who)).status_code == 403

        shown = await c.get(page, params={"lang": "en"}, headers=STAFF)
        assert shown.status_code == 200, shown.text
        assert 'name="rows" value="3"' in shown.text  # two items and one blank row
        assert "*reverse | reverse (kk) | reverse (ru) | reverse" in shown.text
        assert 'name="csrf_token"' in shown.text

        # "Add a question" keeps what was typed, adds a row and saves nothing.
        typed = form("Media test v1", [row("source", "single", "Typed", OPTIONS, True), BLANK])
        added = await c.post(page, data=typed | {"action": "add"}, headers=STAFF)
        assert added.status_code == 200, added.text
        assert 'name="rows" value="3"' in added.text
        assert 'value="Typed"' in added.text
        again = await c.post(page, data=form("x", [BLANK, BLANK, BLANK], "add"), headers=STAFF)
        assert 'name="rows" value="4"' in again.text
        stored = (await c.get(f"/surveys/{survey_id}/versions", headers=STAFF)).json()
        assert stored[0]["title"]["en"] == "Media test"

        # Every problem at once: an option line without its four parts, a scored likert.
        bad = form(
            "Broken",
            [row("source", "single", "Q", "only | two"), row("mood", "likert", "M", scored=True)],
        )
        refused = await c.post(page, data=bad, headers=STAFF)
        assert refused.status_code == 422, refused.text
        assert "items[0].options" in refused.text and 'value="Broken"' in refused.text
        domain_bad = form("Broken", [row("mood", "likert", "M", scored=True)])
        refused = await c.post(page, data=domain_bad, headers=STAFF)
        assert refused.status_code == 422
        assert "items[0].scored" in refused.text
        stored = (await c.get(f"/surveys/{survey_id}/versions", headers=STAFF)).json()
        assert stored[0]["title"]["en"] == "Media test"

        good = form(
            "Media test v1",
            [row("source", "single", "Which check?", OPTIONS, True), row("mood", "text", "Say")],
        )
        del good["item-1-required"]  # an unticked box is not sent at all
        saved = await c.post(page, data=good, headers=STAFF, follow_redirects=False)
        assert saved.status_code == 303, saved.text
        assert saved.headers["location"].endswith("done=saved")
        version = (await c.get(f"/surveys/{survey_id}/versions", headers=STAFF)).json()[0]
        assert version["title"] == texts("Media test v1")
        source, mood = version["items"]
        assert source["scored"] and source["kind"] == "single"
        assert [(o["key"], o["correct"]) for o in source["options"]] == [
            ("caption", False),
            ("lateral", True),
        ]
        assert source["options"][1]["text"] == {"kk": "check kk", "ru": "check ru", "en": "check"}
        assert mood == {
            "key": "mood",
            "kind": "text",
            "text": texts("Say"),
            "required": False,
            "options": [],
            "scored": False,
        }

        confirm = await c.get(f"/surveys/{survey_id}/versions/1/publish/page", headers=STAFF)
        assert confirm.status_code == 200
        assert 'id="publish-form"' in confirm.text
        publish = f"/surveys/{survey_id}/versions/1/publish/page"
        done = await c.post(publish, data={}, headers=STAFF, follow_redirects=False)
        assert done.status_code == 303, done.text
        assert done.headers["location"].endswith("done=published")
        version = (await c.get(f"/surveys/{survey_id}/versions", headers=STAFF)).json()[0]
        assert version["status"] == "published"

        # Frozen: the form is shown disabled, a save or a second publish is a conflict.
        view = await c.get(page, headers=STAFF)
        assert '<fieldset id="item-0" disabled>' in view.text
        assert 'id="save"' not in view.text
        assert (await c.post(page, data=good, headers=STAFF)).status_code == 409
        assert (await c.post(publish, data={}, headers=STAFF)).status_code == 409
        after = (await c.get(f"/surveys/{survey_id}/versions", headers=STAFF)).json()[0]
        assert after == version

        missing = f"/surveys/{uuid.uuid4()}/versions/1/page"
        assert (await c.get(missing, headers=STAFF)).status_code == 404
        assert (
            await c.get(f"/surveys/{survey_id}/versions/9/page", headers=STAFF)
        ).status_code == 404
