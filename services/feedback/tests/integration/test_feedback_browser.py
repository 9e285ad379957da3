"""A participant answers the survey in a real browser (headless Chromium), in Kazakh.

The app runs under a real uvicorn server on a free port, on a real nats-server and SQLite;
Chromium and ChromeDriver are Debian's packages (selenium-manager never downloads anything).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from litestar import Litestar

from trainops_devtools.testing.ports import free_port
from trainops_devtools.testing.tokens import TEST_JWT_ENV, token_for
from trainops_feedback.adapters.tables import responses
from trainops_feedback.app import build_spec
from trainops_shared.events import FeedbackSubmitted
from trainops_shared.service import ServiceRuntime, create_app
from trainops_shared.settings import load_settings

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ADMIN = {"Authorization": f"Bearer {token_for(role='admin')}"}


@pytest.fixture
async def served(nats_url: str, tmp_path: Path) -> AsyncIterator[tuple[str, Litestar]]:
    """The app under uvicorn on a free port: ``(base_url, app)``."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = load_settings(
        "feedback",
        {
            "NATS_URL": nats_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'feedback.db'}",
            **TEST_JWT_ENV,
            "TRAINOPS_DATA_DIR": str(tmp_path),
            "TRAINOPS_PORT": str(port),
            "TRAINOPS_PUBLIC_URL": base_url,
        },
    )
    app = create_app(build_spec(settings), settings)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
        )
    )
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            task.cancel()
            raise AssertionError("uvicorn did not start")
        await asyncio.sleep(0.05)
    try:
        yield base_url, app
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)


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
