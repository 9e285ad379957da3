"""A participant answers the feedback form in headless Chromium on a weak connection: the
answers survive a reload from the server-side draft alone, a submit while offline waits in the
browser and goes out by itself when the connection is back (offline toggled through the
DevTools protocol's ``Network.emulateNetworkConditions``); with JavaScript off the same form
is a plain post that still works."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from test_knowledge_browser import reload_from_server_draft, submit_offline_then_reconnect

from trainops_devtools.testing.consoles import phone_screenshot, wait_for
from trainops_devtools.testing.tokens import token_for
from trainops_shared.events import FeedbackSubmitted

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ADMIN = {"Authorization": f"Bearer {token_for(role='admin')}"}


def _tap(driver: Any, item: str, value: int) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, f'label[for="{item}-{value}"]').click()


def _journey(driver: Any, url: str) -> dict[str, Any]:
    from selenium.webdriver.common.by import By

    def checked(element_id: str) -> bool:
        return bool(driver.find_element(By.ID, element_id).is_selected())

    def answer_the_rest() -> None:
        _tap(driver, "trainer", 5)
        _tap(driver, "knowledge_gain", 3)

    driver.get(url)
    wait_for(lambda: driver.find_element(By.ID, "feedback-form"), what="the feedback form")
    _tap(driver, "overall", 5)
    _tap(driver, "relevance", 4)
    driver.find_element(By.ID, "comment").send_keys("Пайдалы")
    reload_from_server_draft(driver, "feedback-form")
    restored = {
        "overall": checked("overall-5"),
        "relevance": checked("relevance-4") and not checked("relevance-5"),
        "comment": driver.find_element(By.ID, "comment").get_attribute("value"),
    }
    shot = phone_screenshot(driver, "feedback-form-draft")
    sent = submit_offline_then_reconnect(
        driver, "feedback-form", answer_the_rest, "feedback-form-offline"
    )
    return {"restored": restored, "screenshot": str(shot), **sent}


def _without_javascript(driver: Any, url: str) -> str:
    from selenium.webdriver.common.by import By

    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        driver.get(url)
        wait_for(lambda: driver.find_element(By.ID, "feedback-form"), what="the form, no JS")
        for item, value in (("overall", 3), ("relevance", 3), ("trainer", 4)):
            _tap(driver, item, value)
        _tap(driver, "knowledge_gain", 2)
        driver.find_element(By.ID, "submit").click()
        thanks = wait_for(lambda: driver.find_element(By.ID, "thanks"), what="sent without JS")
        return str(thanks.text)
    finally:
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


async def test_form_draft_survives_a_reload_and_an_offline_submit(
    chrome: Any,
    served: tuple[str, Litestar],
    events: Any,
    bus: Any,
    eventually: Callable[..., Awaitable[Any]],
) -> None:
    base_url, _ = served
    training = events.training()
    session = events.session(training.training_id)
    regs = [events.register(session.session_id, city="almaty", language="kk") for _ in range(2)]
    await bus.publish(training, session, *regs, *(events.attend(r) for r in regs))
    await bus.publish(events.complete(session.session_id))
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:

        async def links() -> dict[str, str] | None:
            r = await http.get(f"/sessions/{session.session_id}/invitations", headers=ADMIN)
            rows = r.json() if r.status_code == 200 else []
            forms = [row for row in rows if row["kind"] == "feedback"]
            found = {row["registration_id"]: row["url"] for row in forms}
            return found if len(found) == len(regs) else None

        urls = await eventually(links)
    first, second = (urls[str(r.registration_id)] for r in regs)

    shown = await asyncio.to_thread(_journey, chrome, first)
    assert shown["restored"] == {"overall": True, "relevance": True, "comment": "Пайдалы"}
    assert shown["held"]["pending"] is True
    assert shown["held"]["answers"] == {
        "overall": "5",
        "relevance": "4",
        "trainer": "5",
        "knowledge_gain": "3",
        "comment": "Пайдалы",
    }
    assert shown["still_here"], "an offline submit keeps the page and its answers"
    assert "Рахмет" in shown["thanks"]
    assert shown["kept_after"] == 0, "the thank-you page drops the browser's copy"

    assert "Рахмет" in await asyncio.to_thread(_without_javascript, chrome, second)

    async def submitted() -> list[FeedbackSubmitted] | None:
        found = [
            e
            for e in await bus.stream("FEEDBACK", "feedback.>")
            if isinstance(e, FeedbackSubmitted) and e.session_id == session.session_id
        ]
        return found if len(found) == len(regs) else None

    by_registration = {e.registration_id: e for e in await eventually(submitted)}
    assert by_registration[regs[0].registration_id].answers == {
        "overall": 5,
        "relevance": 4,
        "trainer": 5,
        "knowledge_gain": 3,
    }
    assert by_registration[regs[0].registration_id].has_comment is True
    assert by_registration[regs[1].registration_id].answers == {
        "overall": 3,
        "relevance": 3,
        "trainer": 4,
        "knowledge_gain": 2,
    }
