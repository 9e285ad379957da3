"""A participant answers the survey in a real browser (headless Chromium), in Kazakh.

The app runs under a real uvicorn server on a free port, on a real nats-server and SQLite;
Chromium and ChromeDriver are Debian's packages (selenium-manager never downloads anything).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar

from trainops_devtools.testing.tokens import token_for
from trainops_feedback.adapters.tables import responses
from trainops_shared.events import FeedbackSubmitted
from trainops_shared.service import ServiceRuntime

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ADMIN = {"Authorization": f"Bearer {token_for(role='admin')}"}


def _fill_in_kazakh(driver: Any, url: str) -> dict[str, str]:
    """What a participant does on the phone; returns what the pages showed."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, 20)
    driver.get(url)
    wait.until(ec.presence_of_element_located((By.ID, "feedback-form")))
    first_lang = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
    driver.find_element(By.ID, "lang-kk").click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "kk")
    submit_text = driver.find_element(By.ID, "submit").text
    for item, value in (("overall", 5), ("relevance", 4), ("trainer", 5), ("knowledge_gain", 3)):
        driver.find_element(By.CSS_SELECTOR, f'label[for="{item}-{value}"]').click()
        assert driver.find_element(By.ID, f"{item}-{value}").is_selected()
    driver.find_element(By.ID, "comment").send_keys("Өте пайдалы болды, рахмет!")
    driver.find_element(By.ID, "submit").click()
    thanks = wait.until(ec.presence_of_element_located((By.ID, "thanks")))
    return {
        "first_lang": first_lang or "",
        "submit_text": submit_text,
        "thanks": thanks.text,
        "final_lang": driver.find_element(By.TAG_NAME, "html").get_attribute("lang") or "",
    }


async def test_participant_answers_in_kazakh_in_chromium(
    chrome: Any,
    served: tuple[str, Litestar],
    events: Any,
    bus: Any,
    eventually: Callable[..., Awaitable[Any]],
) -> None:
    base_url, app = served
    training = events.training()
    session = events.session(training.training_id)
    reg = events.register(session.session_id, city="aktobe", language="ru")
    await bus.publish(training, session, reg, events.attend(reg))
    await bus.publish(events.complete(session.session_id))

    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:

        async def invitation_url() -> str | None:
            r = await http.get(f"/sessions/{session.session_id}/invitations", headers=ADMIN)
            rows = r.json() if r.status_code == 200 else []
            return rows[0]["url"] if rows else None

        url = await eventually(invitation_url)
    assert url.startswith(f"{base_url}/f/")

    shown = await asyncio.to_thread(_fill_in_kazakh, chrome, url)
    assert shown["first_lang"] == "ru"  # the registered language first
    assert shown["submit_text"] == "Пікірді жіберу"
    assert shown["final_lang"] == "kk"
    assert "Рахмет" in shown["thanks"]

    runtime = app.state.runtime
    assert isinstance(runtime, ServiceRuntime)
    rows = await runtime.read(
        lambda conn: conn.execute(
            sa.select(responses).where(responses.c.session_id == str(session.session_id))
        ).all()
    )
    assert len(rows) == 1
    assert rows[0].registration_id == reg.registration_id
    assert rows[0].language == "kk"
    assert rows[0].answers == {"overall": 5, "relevance": 4, "trainer": 5, "knowledge_gain": 3}
    assert rows[0].comment == "Өте пайдалы болды, рахмет!"

    async def published() -> FeedbackSubmitted | None:
        for event in await bus.stream("FEEDBACK", "feedback.>"):
            if isinstance(event, FeedbackSubmitted) and event.session_id == session.session_id:
                return event
        return None

    event = await eventually(published)
    assert event.response_id == rows[0].response_id
    assert event.language == "kk"
    assert event.has_comment is True
    assert event.answers == rows[0].answers
