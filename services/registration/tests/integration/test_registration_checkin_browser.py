"""A coordinator checks a participant in with a phone (headless Chromium at phone width, by
keyboard): prints the session's attendance sheet with its QR codes, opens the address a code
holds (what the phone's camera does with it) and presses the check-in button; then makes the
participant's calendar feed on their page, whose address a calendar app reads.

Identity, scheduling and registration run as processes on a real nats-server.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from test_registration_console_browser import scheduled_session

from trainops_devtools.testing import consoles
from trainops_devtools.testing.browser import assert_stayed_local
from trainops_devtools.testing.pytest_plugin import ServiceHarness
from trainops_registration.handlers.checkin import checkin_tokens
from trainops_shared.credentials import REGISTRATION_LINK_KEY_FILE, SECRETS_DIRNAME

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.e2e]

NAME = "Әсел Нұрланқызы"


def check_in(
    driver: Any, base: str, session_id: str, code: str, participant_id: str
) -> dict[str, Any]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    seen: dict[str, Any] = {}
    consoles.sign_in(driver, f"{base}/sessions/{session_id}", "aigerim", lang="en")
    link = consoles.wait_for(lambda: driver.find_element(By.ID, "attendance-sheet"), what="link")
    link.send_keys(Keys.ENTER)
    consoles.wait_for(lambda: driver.find_element(By.ID, "sheet"), what="the attendance sheet")
    seen["sheet"] = consoles.text_of(driver, "sheet")
    seen["qr_codes"] = len(driver.find_elements(By.CSS_SELECTOR, "#sheet svg.segno"))
    seen["sheet_shot"] = consoles.phone_screenshot(driver, "registration-attendance-sheet")
    driver.get(f"{base}/checkin/{code}")
    button = consoles.wait_for(lambda: driver.find_element(By.ID, "checkin-submit"), what="page")
    seen["before"] = consoles.text_of(driver, "checkin-summary")
    button.send_keys(Keys.ENTER)
    consoles.wait_for(lambda: driver.find_element(By.ID, "notice"), what="the check-in notice")
    seen["notice"] = consoles.text_of(driver, "notice")
    seen["attended"] = driver.find_element(By.ID, "checkin-attended").get_attribute("data-attended")
    seen["button_left"] = bool(driver.find_elements(By.ID, "checkin-submit"))
    seen["checkin_shot"] = consoles.phone_screenshot(driver, "registration-checkin")
    driver.get(f"{base}/people/{participant_id}?lang=en")
    feed = consoles.wait_for(lambda: driver.find_element(By.ID, "person-feed"), what="person")
    feed.send_keys(Keys.ENTER)
    made = consoles.wait_for(lambda: driver.find_element(By.ID, "feed-new-submit"), what="feed")
    made.send_keys(Keys.ENTER)
    address = consoles.wait_for(lambda: driver.find_element(By.ID, "feed-url"), what="address")
    seen["feed_url"] = address.get_attribute("value")
    seen["feed_notice"] = consoles.text_of(driver, "notice")
    seen["feed_shot"] = consoles.phone_screenshot(driver, "registration-participant-feed")
    assert_stayed_local(driver)
    return seen


async def test_coordinator_checks_a_participant_in_from_the_qr(
    chrome: Any, service_processes: ServiceHarness
) -> None:
    processes = await asyncio.to_thread(
        service_processes.start, ["identity", "scheduling", "registration"]
    )
    registration = processes["registration"].url
    consoles.add_staff(consoles.identity_database(service_processes.data_dir), "aigerim")
    session_id = await scheduled_session(
        service_processes, processes["scheduling"].url, registration
    )
    coordinator = {"Authorization": f"Bearer {service_processes.token('coordinator', 'almaty')}"}
    participant = {
        "full_name": NAME,
        "sector": "media",
        "sex": "female",
        "age_band": "25-34",
        "city": "almaty",
        "language": "kk",
    }
    async with httpx.AsyncClient(base_url=registration, headers=coordinator, timeout=30) as http:
        made = await http.post(
            "/registrations", json={"session_id": session_id, "participant": participant}
        )
        assert made.status_code == 201, made.text
        registration_id = made.json()["id"]
        secrets = service_processes.data_dir / SECRETS_DIRNAME / REGISTRATION_LINK_KEY_FILE
        code = checkin_tokens(secrets.read_text().strip()).token(registration_id)

        participant_id = made.json()["participant_id"]
        seen = await asyncio.to_thread(
            check_in, chrome, registration, session_id, code, participant_id
        )

        assert NAME in seen["sheet"] and seen["qr_codes"] == 1
        assert NAME in seen["before"]
        assert seen["notice"] == "Checked in."
        assert seen["attended"] == "yes" and seen["button_left"] is False
        assert (await http.get(f"/registrations/{registration_id}")).json()["attended"] is True
        assert seen["feed_notice"] == "A new calendar address was made."
        async with httpx.AsyncClient(timeout=30) as anonymous:  # a calendar app: no token
            calendar = await anonymous.get(seen["feed_url"])
        assert calendar.status_code == 200, calendar.text
        assert f"UID:{session_id}@trainops" in calendar.text
    for shot in ("sheet_shot", "checkin_shot", "feed_shot"):
        assert seen[shot].stat().st_size > 5_000, shot
