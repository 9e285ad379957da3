"""A participant follows their join link of an online session (headless Chromium at phone
width): with script off, the page shows the join button in their language and records nothing
until it is pressed (by keyboard), then leads to the meeting; with script on, the page presses
it by itself. Scheduling and registration run as processes on a real nats-server.
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

PARTICIPANT = {
    "sector": "media",
    "sex": "female",
    "age_band": "25-34",
    "city": "almaty",
    "language": "kk",
}


def follow_links(driver: Any, by_hand: str, by_script: str, meeting: str) -> dict[str, Any]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    seen: dict[str, Any] = {}
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    driver.get(by_hand)
    button = consoles.wait_for(lambda: driver.find_element(By.ID, "join-submit"), what="button")
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
    seen["title"] = consoles.text_of(driver, "page-title")
    seen["button"] = button.text
    seen["lang"] = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
    seen["shot"] = consoles.phone_screenshot(driver, "registration-join-link")
    seen["url_before"] = driver.current_url
    button = driver.find_element(By.ID, "join-submit")
    button.send_keys(Keys.ENTER)
    consoles.wait_for(lambda: driver.current_url == meeting, what="the meeting (pressed)")
    driver.get(by_script)
    consoles.wait_for(lambda: driver.current_url == meeting, what="the meeting (by script)")
    assert_stayed_local(driver)
    return seen


async def test_a_join_link_records_presence_only_when_its_button_is_pressed(
    chrome: Any, service_processes: ServiceHarness
) -> None:
    processes = await asyncio.to_thread(service_processes.start, ["scheduling", "registration"])
    registration = processes["registration"].url
    session_id = await scheduled_session(
        service_processes, processes["scheduling"].url, registration, 5, "join-journey", "online"
    )
    coordinator = {"Authorization": f"Bearer {service_processes.token('coordinator', 'almaty')}"}
    secrets = service_processes.data_dir / SECRETS_DIRNAME / REGISTRATION_LINK_KEY_FILE
    tokens = checkin_tokens(secrets.read_text().strip())
    meeting = f"{registration}/health"  # stands in for the meeting's own site
    async with httpx.AsyncClient(base_url=registration, headers=coordinator, timeout=30) as http:
        ids = []
        for name in ("Әсел Нұрланқызы", "Дана Серікқызы"):
            made = await http.post(
                "/registrations",
                json={"session_id": session_id, "participant": {"full_name": name, **PARTICIPANT}},
            )
            assert made.status_code == 201, made.text
            ids.append(made.json()["id"])
        saved = await http.post(f"/sessions/{session_id}/meeting", data={"meeting_url": meeting})
        assert saved.status_code == 200, saved.text
        by_hand, by_script = (f"{registration}/join/{tokens.token(rid)}" for rid in ids)

        # A scanner's fetch of the link changes nothing.
        async with httpx.AsyncClient(timeout=30) as scanner:
            assert (await scanner.get(by_hand)).status_code == 200
        assert (await http.get(f"/registrations/{ids[0]}")).json()["attended"] is None

        seen = await asyncio.to_thread(follow_links, chrome, by_hand, by_script, meeting)
        assert seen["lang"] == "kk" and seen["title"] == "Сабаққа қосылу"
        assert seen["button"] == "Сабаққа қосылу" and seen["url_before"] == by_hand
        for rid in ids:
            assert (await http.get(f"/registrations/{rid}")).json()["attended"] is True
    assert seen["shot"].stat().st_size > 5_000
