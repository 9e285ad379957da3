"""A participant takes the pre-test in headless Chromium on a weak connection: the answers
survive a reload from the server-side draft alone, a submit while offline waits in the browser,
and goes out by itself when the connection is back (offline toggled through the DevTools
protocol's ``Network.emulateNetworkConditions``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar

from trainops_devtools.testing.browser import assert_stayed_local
from trainops_devtools.testing.consoles import phone_screenshot, wait_for
from trainops_devtools.testing.tokens import token_for
from trainops_shared.events import KnowledgeTestSubmitted

pytestmark = [pytest.mark.integration, pytest.mark.browser]

STAFF = {"Authorization": f"Bearer {token_for(role='programme_staff')}"}
ADMIN = {"Authorization": f"Bearer {token_for(role='admin')}"}
TEXTS = {"kk": "Дереккөзді қалай тексересіз?", "ru": "Как проверить источник?", "en": "Source?"}


def option(key: str, correct: bool = False) -> dict[str, Any]:
    return {"key": key, "text": {"kk": key, "ru": key, "en": key}, "correct": correct}


def definition(training_id: str) -> dict[str, Any]:
    return {
        "code": "browser-test",
        "purpose": "knowledge_test",
        "training_id": training_id,
        "title": TEXTS,
        "items": [
            {
                "key": "source",
                "kind": "single",
                "text": TEXTS,
                "scored": True,
                "options": [option("reverse_image", True), option("caption")],
            },
            {
                "key": "flags",
                "kind": "multiple",
                "text": TEXTS,
                "scored": True,
                "options": [option("no_author", True), option("all_caps", True), option("long")],
            },
            {"key": "remark", "kind": "text", "text": TEXTS, "required": False},
        ],
    }


def network(driver: Any, *, offline: bool) -> None:
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def reload_from_server_draft(driver: Any, form_id: str) -> None:
    """Wait until the page says the draft is on the server, then drop the browser's copy and
    reload, so whatever the page shows next came from the server-side draft alone."""
    from selenium.webdriver.common.by import By

    status = driver.find_element(By.ID, "answers-status")
    saved_text = status.get_attribute("data-saved")
    wait_for(lambda: status.text == saved_text, what="the draft saved on the server")
    driver.execute_script("localStorage.clear()")
    driver.refresh()
    wait_for(lambda: driver.find_element(By.ID, form_id), what="the reloaded page")


def submit_offline_then_reconnect(
    driver: Any, form_id: str, answer_more: Callable[[], None], screenshot: str
) -> dict[str, Any]:
    """Go offline, ``answer_more``, submit: the page must hold the answers (pending) and say
    so; back online it must send them by itself and the thank-you page drop the copy."""
    from selenium.webdriver.common.by import By

    network(driver, offline=True)
    wait_for(lambda: driver.execute_script("return navigator.onLine") is False, what="offline")
    answer_more()
    driver.find_element(By.ID, "submit").click()
    status = driver.find_element(By.ID, "answers-status")
    offline_text = status.get_attribute("data-offline")
    wait_for(lambda: status.text == offline_text, what="the offline notice")
    held = driver.execute_script(
        "return JSON.parse(localStorage.getItem('trainops-answers:' +"
        f" document.getElementById('{form_id}').getAttribute('action')))"
    )
    still_here = bool(driver.find_elements(By.ID, form_id))
    shot = phone_screenshot(driver, screenshot)

    network(driver, offline=False)
    thanks = wait_for(lambda: driver.find_element(By.ID, "thanks"), timeout=30, what="sent")
    return {
        "held": held,
        "still_here": still_here,
        "thanks": thanks.text,
        "kept_after": driver.execute_script("return localStorage.length"),
        "offline_screenshot": str(shot),
        "requests": assert_stayed_local(driver),
    }


def _journey(driver: Any, url: str) -> dict[str, Any]:
    from selenium.webdriver.common.by import By

    def checked(element_id: str) -> bool:
        return bool(driver.find_element(By.ID, element_id).is_selected())

    def tap(option: str) -> None:
        driver.find_element(By.CSS_SELECTOR, f'label[for="{option}"]').click()

    driver.get(url)
    wait_for(lambda: driver.find_element(By.ID, "test-form"), what="the test page")
    tap("source-reverse_image")
    tap("flags-no_author")
    driver.find_element(By.ID, "remark-text").send_keys("Пайдалы")
    reload_from_server_draft(driver, "test-form")
    restored = {
        "source": checked("source-reverse_image"),
        "flags": checked("flags-no_author") and not checked("flags-all_caps"),
        "remark": driver.find_element(By.ID, "remark-text").get_attribute("value"),
    }
    shot = phone_screenshot(driver, "knowledge-test")
    sent = submit_offline_then_reconnect(
        driver, "test-form", lambda: tap("flags-all_caps"), "knowledge-test-offline"
    )
    return {"restored": restored, "screenshot": str(shot), **sent}


async def test_draft_survives_a_reload_and_an_offline_submit(
    chrome: Any,
    served: tuple[str, Litestar],
    events: Any,
    bus: Any,
    eventually: Callable[..., Awaitable[Any]],
) -> None:
    base_url, _ = served
    training = events.training()
    session = events.session(training.training_id, starts_at=datetime.now(UTC) + timedelta(days=1))
    reg = events.register(session.session_id, city="almaty", language="kk")
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        created = await http.post(
            "/surveys", json=definition(str(training.training_id)), headers=STAFF
        )
        assert created.status_code == 201, created.text
        survey_id = created.json()["survey_id"]
        published = await http.post(f"/surveys/{survey_id}/versions/1/publish", headers=STAFF)
        assert published.status_code == 200, published.text
        await bus.publish(training, session, reg)

        async def link() -> str | None:
            r = await http.get(f"/sessions/{session.session_id}/invitations", headers=ADMIN)
            rows = r.json() if r.status_code == 200 else []
            return next((row["url"] for row in rows if row["kind"] == "pre_test"), None)

        url = await eventually(link)

    shown = await asyncio.to_thread(_journey, chrome, url)
    assert shown["restored"] == {"source": True, "flags": True, "remark": "Пайдалы"}
    assert shown["held"]["pending"] is True
    assert shown["held"]["answers"]["flags"] == ["no_author", "all_caps"]
    assert shown["still_here"], "an offline submit keeps the page and its answers"
    assert "Рахмет" in shown["thanks"]
    assert shown["kept_after"] == 0, "the thank-you page drops the browser's copy"

    async def scored() -> KnowledgeTestSubmitted | None:
        for event in await bus.stream("FEEDBACK", "feedback.>"):
            if isinstance(event, KnowledgeTestSubmitted) and event.session_id == session.session_id:
                return event
        return None

    event = await eventually(scored)
    assert (event.phase, event.score, event.max_score) == ("pre", 2, 2)
    assert event.participant_id == reg.participant_id
