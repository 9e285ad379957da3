"""A coordinator deals with what did not go and with a full session, in a real browser
(headless Chromium, phone width, keyboard after signing in): the page of messages not sent
shows their region's failed confirmation with its reason and sends it again; the full
session's page moves a ticked person to another session.

Identity, scheduling and registration run as processes on a real nats-server (no SMTP server:
messages wait in the outbox; the one the relay would have given up after a 5xx is recorded so
in registration's database, as the relay records it).
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import httpx
import pytest
from test_registration_console_browser import scheduled_session

from trainops_devtools.testing import consoles
from trainops_devtools.testing.browser import assert_stayed_local
from trainops_devtools.testing.pytest_plugin import ServiceHarness

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.e2e]


def coordinator_fixes(driver: Any, registration: str, session_id: str) -> dict[str, Any]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    seen: dict[str, Any] = {}
    consoles.sign_in(driver, f"{registration}/", "aigerim", lang="en")
    driver.get(f"{registration}/")
    link = consoles.wait_for(lambda: driver.find_element(By.ID, "to-messages"), what="link")
    link.send_keys(Keys.ENTER)
    consoles.wait_for(lambda: driver.find_element(By.ID, "stuck-messages"), what="stuck list")
    seen["reason"] = driver.find_element(By.CSS_SELECTOR, "td.message-reason").text
    seen["messages_shot"] = consoles.phone_screenshot(driver, "registration-messages")
    retry = driver.find_element(By.CSS_SELECTOR, "button[id^='retry-']")
    retry.send_keys(Keys.ENTER)
    consoles.wait_for(lambda: driver.find_element(By.ID, "notice"), what="queued again")
    seen["retried"] = consoles.text_of(driver, "notice")
    seen["left"] = len(driver.find_elements(By.ID, "stuck-messages"))

    driver.get(f"{registration}/sessions/{session_id}")
    consoles.wait_for(lambda: driver.find_element(By.ID, "move-form"), what="move form")
    tick = driver.find_element(By.CSS_SELECTOR, "#move-form input[name='registration_id']")
    tick.send_keys(Keys.SPACE)
    seen["move_shot"] = consoles.phone_screenshot(driver, "registration-move-people")
    driver.find_element(By.ID, "move-people-button").send_keys(Keys.ENTER)
    consoles.wait_for(lambda: driver.find_element(By.ID, "notice"), what="moved")
    seen["moved"] = consoles.text_of(driver, "notice")
    seen["requested"] = assert_stayed_local(driver)
    return seen


async def test_coordinator_sends_a_failed_message_again_and_moves_people_in_chromium(
    chrome: Any, service_processes: ServiceHarness
) -> None:
    processes = await asyncio.to_thread(
        service_processes.start, ["identity", "scheduling", "registration"]
    )
    registration = processes["registration"].url
    consoles.add_staff(consoles.identity_database(service_processes.data_dir), "aigerim")
    scheduling = processes["scheduling"].url
    full = await scheduled_session(service_processes, scheduling, registration, capacity=1)
    await scheduled_session(service_processes, scheduling, registration, capacity=5, code="other")
    almaty = {"Authorization": f"Bearer {service_processes.token('coordinator', 'almaty')}"}
    async with httpx.AsyncClient(timeout=10) as http:
        for name in ("Дана Ержанқызы", "Ерлан Сапаров"):
            answer = await http.post(
                f"{registration}/registrations",
                json={
                    "session_id": full,
                    "participant": {
                        "full_name": name,
                        "sector": "media",
                        "city": "almaty",
                        "language": "kk",
                        "email": f"{name.split()[0].lower()}@example.org",
                    },
                },
                headers=almaty,
            )
            assert answer.status_code == 201, answer.text
    database = service_processes.data_dir / "registration.db"
    with sqlite3.connect(database) as conn:
        conn.execute(
            "UPDATE message_outbox SET status = 'failed', attempts = 1, "
            "last_error = 'SMTP 550: recipient refused' WHERE kind = 'confirmed'"
        )

    seen = await asyncio.to_thread(coordinator_fixes, chrome, registration, full)
    assert seen["reason"] == "SMTP 550: recipient refused"
    assert seen["retried"] == "The message is queued again."
    assert seen["left"] == 0
    assert seen["moved"] == "Moved: 1."
    for shot in ("messages_shot", "move_shot"):
        assert seen[shot].stat().st_size > 10_000, shot
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        statuses = sorted(
            str(s)
            for (s,) in conn.execute("SELECT status FROM message_outbox WHERE kind = 'confirmed'")
        )
    # The retried confirmation waits again; the moved person's new confirmation is queued.
    assert statuses == ["pending", "pending"]
