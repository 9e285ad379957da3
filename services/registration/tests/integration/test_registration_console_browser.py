"""A coordinator does a day's registration work in a real browser (headless Chromium, phone
width): signs in, registers a participant by keyboard, sees the seat decision, finds them,
marks attendance; a coordinator of another region cannot open that person.

Identity, scheduling and registration run as processes on a real nats-server, the accounts are
made with ``trainops users add``; Chromium and ChromeDriver are Debian's packages.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from trainops_devtools.testing import consoles
from trainops_devtools.testing.browser import assert_stayed_local
from trainops_devtools.testing.pytest_plugin import ServiceHarness

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.e2e]

NAME = "Әсел Нұрланқызы"


async def scheduled_session(
    harness: ServiceHarness,
    scheduling: str,
    registration: str,
    capacity: int = 10,
    code: str = "console-journey",
    mode: str = "in_person",
) -> str:
    """An upcoming Almaty session, once registration has its copy."""
    staff = {"Authorization": f"Bearer {harness.token('programme_staff')}"}
    coordinator = {"Authorization": f"Bearer {harness.token('coordinator', 'almaty')}"}
    async with httpx.AsyncClient(timeout=10) as http:
        training = await http.post(
            f"{scheduling}/trainings",
            json={"code": code, "title": {"en": "Fact-checking"}},
            headers=staff,
        )
        assert training.status_code == 201, training.text
        session = await http.post(
            f"{scheduling}/sessions",
            json={
                "training_id": training.json()["id"],
                "mode": mode,
                "cities": ["almaty"],
                "starts_at": "2030-03-04T10:00",
                "ends_at": "2030-03-04T16:00",
                "capacity": capacity,
                "language": "kk",
            },
            headers=staff,
        )
        assert session.status_code == 201, session.text
        session_id = str(session.json()["id"])
        deadline = time.monotonic() + 60
        page = f"{registration}/sessions/{session_id}"
        while (await http.get(page, headers=coordinator)).status_code != 200:
            assert time.monotonic() < deadline, "registration never heard of the session"
            await asyncio.sleep(0.2)
    return session_id


def coordinator_day(driver: Any, registration: str, session_id: str) -> dict[str, Any]:
    """Aigerim's journey, keyboard only after signing in; returns what the pages showed."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    seen: dict[str, Any] = {}
    consoles.sign_in(driver, f"{registration}/", "aigerim", lang="kk")
    # Signed in: the main page itself, wherever the sign-in sent the browser back to.
    driver.get(f"{registration}/")
    consoles.wait_for(
        lambda: driver.find_element(By.ID, f"session-{session_id}"),
        timeout=60,
        what="session row",
    )
    seen["home_shot"] = consoles.phone_screenshot(driver, "registration-home")
    driver.find_element(By.ID, "to-register").send_keys(Keys.ENTER)
    consoles.wait_for(lambda: driver.find_element(By.ID, "register-form"), what="registration form")
    seen["form_lang"] = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
    driver.find_element(By.ID, "f-session_id").send_keys(Keys.ARROW_DOWN)
    driver.find_element(By.ID, "f-full_name").send_keys(NAME)
    active = driver.switch_to.active_element
    active.send_keys(Keys.TAB)  # to the e-mail field
    driver.switch_to.active_element.send_keys("asel.n@mail.kz")
    driver.switch_to.active_element.send_keys(Keys.TAB)
    driver.switch_to.active_element.send_keys("8 701 765 43 21")
    driver.switch_to.active_element.send_keys(Keys.TAB)
    driver.switch_to.active_element.send_keys("Алматы ақшамы")
    driver.find_element(By.ID, "f-sector").send_keys(Keys.ARROW_DOWN)
    # Taking part is ticked already; she also agrees to hear of future trainings.
    driver.find_element(By.ID, "f-consent-future_trainings").send_keys(Keys.SPACE)
    seen["form_shot"] = consoles.phone_screenshot(driver, "registration-console-form")
    driver.find_element(By.ID, "f-organisation").send_keys(Keys.ENTER)
    result = consoles.wait_for(lambda: driver.find_element(By.ID, "result"), what="result")
    seen["result_status"] = result.get_attribute("data-status")
    seen["result_text"] = result.text
    seen["result_shot"] = consoles.phone_screenshot(driver, "registration-console-result")
    person_url = driver.find_element(By.ID, "open-person").get_attribute("href")
    seen["person_path"] = urlsplit(person_url).path

    driver.get(f"{registration}/people")
    search = consoles.wait_for(lambda: driver.find_element(By.ID, "f-q"), what="search field")
    search.send_keys("Асель Нурланкызы")  # typed the Russian way: the same person
    search.send_keys(Keys.ENTER)
    consoles.wait_for(lambda: driver.find_element(By.ID, "results"), what="search results")
    link = driver.find_element(By.LINK_TEXT, NAME)
    seen["search_shot"] = consoles.phone_screenshot(driver, "registration-console-search")
    link.send_keys(Keys.ENTER)
    consoles.wait_for(lambda: driver.find_element(By.ID, "correct-form"), what="person page")
    seen["person_title"] = consoles.text_of(driver, "page-title")
    seen["person_shot"] = consoles.phone_screenshot(driver, "registration-console-person")
    # She withdraws the future-trainings consent on the person's behalf, by keyboard.
    driver.find_element(By.ID, "withdraw-future_trainings").send_keys(Keys.ENTER)
    consoles.wait_for(lambda: driver.find_element(By.ID, "notice"), what="consent withdrawn")
    seen["withdrawn_notice"] = consoles.text_of(driver, "notice")
    seen["withdraw_left"] = len(driver.find_elements(By.ID, "withdraw-future_trainings"))
    driver.execute_script("document.getElementById('personal-data').scrollIntoView()")
    seen["consents_shot"] = consoles.phone_screenshot(driver, "registration-console-consents")

    driver.find_element(By.CSS_SELECTOR, f'a[href="/sessions/{session_id}"]').send_keys(Keys.ENTER)
    consoles.wait_for(lambda: driver.find_element(By.ID, "attendance-form"), what="session page")
    tick = driver.find_element(By.CSS_SELECTOR, 'input[name="registration_id"]')
    tick.send_keys(Keys.SPACE)
    seen["ticked"] = tick.is_selected()
    driver.find_element(By.ID, "mark-attended").send_keys(Keys.ENTER)
    consoles.wait_for(lambda: driver.find_element(By.ID, "notice"), what="attendance saved")
    seen["attendance_notice"] = consoles.text_of(driver, "notice")
    seen["attended"] = driver.find_element(By.CSS_SELECTOR, "td.attended").get_attribute(
        "data-attended"
    )
    seen["session_shot"] = consoles.phone_screenshot(driver, "registration-console-session")
    seen["requested"] = assert_stayed_local(driver)

    driver.find_element(By.ID, "sign-out").send_keys(Keys.ENTER)
    consoles.wait_for(lambda: "signed_out=true" in driver.current_url, what="signed out")
    return seen


def other_region_tries(driver: Any, person_url: str) -> dict[str, str]:
    from selenium.webdriver.common.by import By

    consoles.sign_in(driver, person_url, "yerlan", lang="en")
    consoles.wait_for(lambda: driver.find_element(By.ID, "errors"), what="not-found page")
    return {
        "title": consoles.text_of(driver, "page-title"),
        "body": consoles.text_of(driver, "main"),
    }


async def test_coordinator_registers_finds_and_marks_in_chromium(
    chrome: Any, service_processes: ServiceHarness
) -> None:
    processes = await asyncio.to_thread(
        service_processes.start, ["identity", "scheduling", "registration"]
    )
    registration = processes["registration"].url
    consoles.add_staff(consoles.identity_database(service_processes.data_dir), "aigerim", "yerlan")
    scheduling = processes["scheduling"].url
    session_id = await scheduled_session(service_processes, scheduling, registration)

    seen = await asyncio.to_thread(coordinator_day, chrome, registration, session_id)
    assert seen["form_lang"] == "kk"
    assert seen["result_status"] == "confirmed"
    assert NAME in seen["result_text"]
    assert seen["person_title"] == f"Қатысушы: {NAME}"
    assert seen["ticked"] is True
    assert seen["withdrawn_notice"] == "Келісім қайтарылды."
    assert seen["withdraw_left"] == 0
    assert seen["attendance_notice"] == "Қатысу сақталды: 1."
    assert seen["attended"] == "yes"
    for shot in (
        "home_shot",
        "form_shot",
        "result_shot",
        "search_shot",
        "person_shot",
        "consents_shot",
        "session_shot",
    ):
        assert seen[shot].stat().st_size > 10_000, shot

    person_url = f"{registration}{seen['person_path']}"
    other = await asyncio.to_thread(other_region_tries, chrome, person_url)
    assert NAME not in other["body"] and "asel.n" not in other["body"]
    yerlan = {"Authorization": f"Bearer {service_processes.token('coordinator', 'aktobe')}"}
    async with httpx.AsyncClient(timeout=10) as http:
        assert (await http.get(person_url, headers=yerlan)).status_code == 404
