"""A participant cancels through the link in their confirmation, in a real browser (headless
Chromium, phone width, keyboard only, not signed in): the page shows the session in its local
time in the participant's language, the cancellation frees the seat, and the next person
waiting is promoted and told.

Scheduling and registration run as processes on a real nats-server with the development mail
catcher; Chromium and ChromeDriver are Debian's packages.
"""

from __future__ import annotations

import asyncio
import re
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

import httpx
import pytest
from test_registration_console_browser import scheduled_session

from trainops_devtools.testing import consoles
from trainops_devtools.testing.browser import assert_stayed_local
from trainops_devtools.testing.polling import eventually
from trainops_devtools.testing.pytest_plugin import ServiceHarness

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.e2e]

LINK = re.compile(r"(http://127\.0\.0\.1:\d+/r/[A-Za-z0-9_-]{43})")


def cancel_in_browser(driver: Any, link: str) -> dict[str, Any]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    seen: dict[str, Any] = {}
    driver.get(link)
    consoles.wait_for(lambda: driver.find_element(By.ID, "link-form"), what="the link page")
    seen["lang"] = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
    seen["when"] = consoles.text_of(driver, "link-when")
    seen["page_shot"] = consoles.phone_screenshot(driver, "registration-own-link")
    button = driver.find_element(By.ID, "answer-cancelled")
    # Keyboard only: the language links, then the button.
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    for _ in range(6):
        if driver.switch_to.active_element == button:
            break
        driver.switch_to.active_element.send_keys(Keys.TAB)
    seen["button_focused"] = driver.switch_to.active_element == button
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    consoles.wait_for(lambda: driver.find_element(By.ID, "outcome"), what="the outcome")
    seen["outcome"] = consoles.text_of(driver, "outcome")
    seen["form_left"] = len(driver.find_elements(By.ID, "link-form"))
    seen["done_shot"] = consoles.phone_screenshot(driver, "registration-own-link-done")
    driver.get(link + "?lang=en")
    consoles.wait_for(lambda: driver.find_element(By.ID, "outcome"), what="the used link")
    seen["again"] = consoles.text_of(driver, "outcome")
    seen["requested"] = assert_stayed_local(driver)
    return seen


async def test_a_participant_cancels_through_the_link_in_chromium(
    chrome: Any, service_processes: ServiceHarness
) -> None:
    catcher = service_processes.mail_catcher()
    processes = await asyncio.to_thread(
        service_processes.start,
        ["scheduling", "registration"],
        extra_env={"MAIL_FROM": "Programme <no-reply@example.org>"},
    )
    scheduling, registration = processes["scheduling"].url, processes["registration"].url
    session_id = await scheduled_session(service_processes, scheduling, registration, capacity=1)
    almaty = {"Authorization": f"Bearer {service_processes.token('coordinator', 'almaty')}"}
    async with httpx.AsyncClient(timeout=10) as http:

        async def register(name: str, email: str) -> httpx.Response:
            return await http.post(
                f"{registration}/registrations",
                json={
                    "session_id": session_id,
                    "participant": {
                        "full_name": name,
                        "sector": "media",
                        "city": "almaty",
                        "language": "kk",
                        "email": email,
                    },
                },
                headers=almaty,
            )

        first = await register("Әсел Нұрланқызы", "asel@example.org")
        assert first.status_code == 201 and first.json()["status"] == "confirmed"
        waiting = await register("Ерлан Сапаров", "erlan@example.org")
        assert waiting.status_code == 201 and waiting.json()["status"] == "waitlisted"

    async def both_told() -> bool:
        return len(catcher.files()) == 2

    await eventually(both_told, what="the confirmation and the waiting-list message")
    messages = [message_from_bytes(p.read_bytes(), policy=default_policy) for p in catcher.files()]
    confirmation = next(m for m in messages if "asel@" in str(m["To"]))
    text = confirmation.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = LINK.search(text)
    assert found, text

    seen = await asyncio.to_thread(cancel_in_browser, chrome, found.group(1))
    assert seen["lang"] == "kk"
    assert seen["when"].startswith("04.03.2030 10:00 UTC+5")
    assert seen["button_focused"] is True
    assert seen["outcome"] == "Тіркелуіңіз тоқтатылды. Орныңыз келесі адамға берілді."
    assert seen["form_left"] == 0
    assert seen["again"] == "This link has been used already."
    for shot in ("page_shot", "done_shot"):
        assert seen[shot].stat().st_size > 5_000, shot

    async def promoted_and_told() -> bool:
        return len(catcher.files()) == 3

    await eventually(promoted_and_told, what="the promotion message")
    last = [message_from_bytes(p.read_bytes(), policy=default_policy) for p in catcher.files()]
    assert [str(m["To"]) for m in last if "Орын босады" in str(m["Subject"])] == [
        "Ерлан Сапаров <erlan@example.org>"
    ]
