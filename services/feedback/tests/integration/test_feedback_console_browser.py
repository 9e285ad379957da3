"""A coordinator signs in and reads a session's feedback links on a phone (headless Chromium).

Identity and feedback run as processes on the session's nats-server, as ``trainops up`` runs
them; the invitations come from scheduling and registration events published to JetStream, and
the account is made with ``trainops users add``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from trainops_devtools.testing import consoles
from trainops_devtools.testing.browser import assert_stayed_local
from trainops_devtools.testing.pytest_plugin import ServiceHarness

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.e2e]


def read_session_page(driver: Any, feedback_url: str, session_id: str) -> dict[str, Any]:
    """Sign in on the main page in Russian, follow the session's link, take the picture."""
    from selenium.webdriver.common.by import By

    consoles.sign_in(driver, f"{feedback_url}/", "aigerim", lang="ru")
    row = consoles.wait_for(lambda: driver.find_element(By.ID, f"session-{session_id}"), what="row")
    seen: dict[str, Any] = {
        "row": row.text,
        "home": consoles.phone_screenshot(driver, "feedback-home"),
    }
    row.find_element(By.TAG_NAME, "a").click()
    consoles.wait_for(lambda: driver.find_elements(By.ID, "invitations"), what="invitations table")
    seen["title"] = consoles.text_of(driver, "page-title")
    seen["rate"] = consoles.text_of(driver, "rate")
    seen["links"] = [
        field.get_attribute("value")
        for field in driver.find_elements(By.CSS_SELECTOR, "td.fb-link input")
    ]
    seen["labels"] = [
        label.get_attribute("textContent")
        for label in driver.find_elements(By.CSS_SELECTOR, "td.fb-link label")
    ]
    # Headless Chromium starts no narrower than 500 px whatever the flag; resized, it obeys.
    driver.set_window_size(412, 915)
    seen["widths"] = driver.execute_script(
        "var e = document.documentElement; return [window.innerWidth, e.scrollWidth, e.clientWidth]"
    )
    seen["screenshot"] = consoles.phone_screenshot(driver, "feedback-session")
    assert_stayed_local(driver)
    return seen


async def test_coordinator_reads_the_links_on_a_phone(
    chrome: Any,
    service_processes: ServiceHarness,
    events: Any,
    bus: Any,
    eventually: Callable[..., Awaitable[Any]],
) -> None:
    processes = await asyncio.to_thread(service_processes.start, ["identity", "feedback"])
    feedback = processes["feedback"].url
    consoles.add_staff(consoles.identity_database(service_processes.data_dir), "aigerim")

    training = events.training()
    session = events.session(training.training_id, cities=["almaty", "aktobe"])
    regs = [
        events.register(session.session_id, city="almaty", language="kk"),
        events.register(session.session_id, city="almaty", language="ru"),
        events.register(session.session_id, city="aktobe", language="ru"),
    ]
    await bus.publish(training, session, *regs, *(events.attend(r) for r in regs))
    await bus.publish(events.complete(session.session_id))
    admin = {"Authorization": f"Bearer {service_processes.token('admin')}"}
    async with httpx.AsyncClient(base_url=feedback, timeout=10) as http:

        async def links() -> dict[str, str] | None:
            r = await http.get(f"/sessions/{session.session_id}/invitations", headers=admin)
            rows = r.json() if r.status_code == 200 else []
            return {row["registration_id"]: row["url"] for row in rows} if len(rows) == 3 else None

        urls = await eventually(links)
        first = urls[str(regs[0].registration_id)]
        answered = await http.post(
            "/responses",
            json={
                "token": first.rsplit("/", 1)[1],
                "answers": {"overall": 5, "relevance": 4, "trainer": 5, "knowledge_gain": 4},
            },
        )
        assert answered.status_code == 201, answered.text

    seen = await asyncio.to_thread(read_session_page, chrome, feedback, str(session.session_id))
    assert "50 %" in seen["row"]
    assert seen["title"] == "Обратная связь: приглашения сессии"
    assert seen["rate"] == "50 %"
    # Almaty's coordinator gets the one link still to send: not the answered one, not Aktobe's.
    assert seen["links"] == [urls[str(regs[1].registration_id)]]
    assert seen["labels"] == [f"Ссылка для участника {regs[1].participant_id.hex[-8:]}"]
    viewport, content, visible = seen["widths"]
    assert viewport <= 412, seen["widths"]
    assert content <= visible, f"the page scrolls sideways on a phone: {seen['widths']}"
    assert seen["screenshot"].stat().st_size > 0
