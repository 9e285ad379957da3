"""Programme staff plan a session in a real browser (headless Chromium), by keyboard only.

Identity and scheduling run as processes on a real nats-server; ``bolat`` is made with
``trainops users add``. He schedules a session, sees it in the list and the calendar, and
moves it, each change previewed before it is saved; a second session for the same trainer at an
overlapping time shows the clash and offers no confirmation, and so does one in another city
too soon after the first to travel there (the travel time needed spelled out). Last he gives
the session seat quotas, previewed and then shown with the session. Cancelling a session,
he picks the session of the same training its people are offered instead, sees it in the
preview and confirms, all by keyboard.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from trainops_devtools.testing import consoles
from trainops_devtools.testing.browser import assert_stayed_local
from trainops_devtools.testing.pytest_plugin import ServiceHarness

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.e2e]


def plan_and_move(driver: Any, base: str) -> dict[str, Any]:
    """Bolat's journey: what the pages showed, and the size of each phone screenshot."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    seen: dict[str, Any] = {}

    def field(element_id: str) -> Any:
        return driver.find_element(By.ID, element_id)

    consoles.sign_in(driver, f"{base}/programme/sessions/new?lang=en", "bolat")
    consoles.wait_for(lambda: field("session-form"), what="the new session form")
    field("f-training_id").send_keys("Ethical")
    field("f-mode").send_keys("In person")
    driver.find_element(By.CSS_SELECTOR, "input[name=cities][value=aktobe]").send_keys(Keys.SPACE)
    field("f-starts_at").send_keys("2027-03-02 10:00")
    field("f-ends_at").send_keys("2027-03-02 13:00")
    field("f-capacity").send_keys("25")
    field("f-language").send_keys("Russian")
    field("f-trainer_ids-1").send_keys(Keys.SPACE)
    field("f-venue").send_keys("Aktobe press centre", Keys.ENTER)
    consoles.wait_for(lambda: field("preview-ok"), what="the preview")
    seen["preview"] = consoles.text_of(driver, "preview")
    seen["preview_shot"] = consoles.phone_screenshot(driver, "scheduling-new-session-preview")
    field("confirm").send_keys(Keys.ENTER)
    consoles.wait_for(lambda: "saved=1" in driver.current_url, what="the saved session")
    seen["session_url"] = driver.current_url.split("?", 1)[0]
    seen["saved_notice"] = consoles.text_of(driver, "notice")
    seen["local"] = consoles.text_of(driver, "local-aktobe")

    driver.get(f"{base}/")
    consoles.wait_for(lambda: field("upcoming"), what="the sessions list")
    seen["list"] = consoles.text_of(driver, "upcoming")
    seen["list_shot"] = consoles.phone_screenshot(driver, "scheduling-sessions")
    driver.get(f"{base}/calendar?view=week&date=2027-03-02")
    consoles.wait_for(lambda: field("calendar"), what="the week")
    seen["week"] = consoles.text_of(driver, "calendar")
    field("cal-next").send_keys(Keys.ENTER)
    consoles.wait_for(lambda: "date=2027-03-08" in driver.current_url, what="the next week")
    seen["next_week"] = consoles.text_of(driver, "calendar")
    field("cal-previous").send_keys(Keys.ENTER)
    consoles.wait_for(lambda: "date=2027-03-01" in driver.current_url, what="back a week")
    seen["calendar_shot"] = consoles.phone_screenshot(driver, "scheduling-calendar-week")

    driver.get(seen["session_url"])
    starts = consoles.wait_for(lambda: field("f-starts_at"), what="the reschedule form")
    starts.clear()
    starts.send_keys("2027-03-04 15:00")
    ends = field("f-ends_at")
    ends.clear()
    ends.send_keys("2027-03-04 18:00", Keys.ENTER)
    consoles.wait_for(lambda: field("preview-change"), what="the reschedule preview")
    seen["reschedule_preview"] = consoles.text_of(driver, "preview-change")
    seen["reschedule_shot"] = consoles.phone_screenshot(driver, "scheduling-reschedule-preview")
    field("confirm").send_keys(Keys.ENTER)
    consoles.wait_for(lambda: "saved=1" in driver.current_url, what="the moved session")
    seen["moved"] = consoles.text_of(driver, "local-aktobe")
    # A second session for the same trainer at an overlapping time: the clash, before saving.
    driver.get(f"{base}/programme/sessions/new?lang=en")
    consoles.wait_for(lambda: field("session-form"), what="the new session form again")
    field("f-training_id").send_keys("Ethical")
    driver.find_element(By.CSS_SELECTOR, "input[name=cities][value=almaty]").send_keys(Keys.SPACE)
    field("f-starts_at").send_keys("2027-03-04 16:00")
    field("f-ends_at").send_keys("2027-03-04 17:00")
    field("f-capacity").send_keys("10")
    field("f-language").send_keys("Russian")
    field("f-trainer_ids-1").send_keys(Keys.SPACE, Keys.ENTER)
    consoles.wait_for(lambda: field("clashes"), what="the trainer clash")
    seen["clash"] = consoles.text_of(driver, "clashes")
    seen["clash_links"] = [
        a.get_attribute("href") for a in field("clashes").find_elements(By.TAG_NAME, "a")
    ]
    seen["clash_can_confirm"] = bool(driver.find_elements(By.ID, "confirm"))
    seen["clash_shot"] = consoles.phone_screenshot(driver, "scheduling-trainer-clash")
    # In Almaty 90 minutes after the Aktobe session ends: not enough time to travel there.
    starts = field("f-starts_at")
    starts.clear()
    starts.send_keys("2027-03-04 19:30")
    ends = field("f-ends_at")
    ends.clear()
    ends.send_keys("2027-03-04 20:30", Keys.ENTER)
    consoles.wait_for(
        lambda: driver.find_elements(By.CLASS_NAME, "travel"), what="the travel clash"
    )
    seen["travel"] = consoles.text_of(driver, "clashes")
    seen["travel_can_confirm"] = bool(driver.find_elements(By.ID, "confirm"))
    seen["travel_shot"] = consoles.phone_screenshot(driver, "scheduling-travel-clash")
    driver.get(f"{base}/calendar?view=month&date=2027-03-04&lang=kk")
    consoles.wait_for(lambda: field("calendar"), what="the month in Kazakh")
    seen["kk_title"] = consoles.text_of(driver, "page-title")
    seen["kk_month"] = consoles.text_of(driver, "calendar")
    seen["kk_shot"] = consoles.phone_screenshot(driver, "scheduling-calendar-month-kk")
    driver.get(seen["session_url"] + "?lang=en")
    quotas = consoles.wait_for(lambda: field("f-quotas"), what="the quota field")
    seen["quotas_before"] = consoles.text_of(driver, "session-quotas")
    quotas.send_keys("media=10, aktobe=5", Keys.ENTER)
    consoles.wait_for(lambda: field("preview-quotas"), what="the quota preview")
    seen["quotas_preview"] = consoles.text_of(driver, "preview-quotas")
    seen["quotas_shot"] = consoles.phone_screenshot(driver, "scheduling-quotas-preview")
    field("confirm").send_keys(Keys.ENTER)
    consoles.wait_for(lambda: "saved=1" in driver.current_url, what="the saved quotas")
    seen["quotas_after"] = consoles.text_of(driver, "session-quotas")
    seen["quotas_field"] = field("f-quotas").get_attribute("value")
    assert_stayed_local(driver)
    for name in (
        "preview_shot",
        "list_shot",
        "calendar_shot",
        "reschedule_shot",
        "clash_shot",
        "travel_shot",
        "kk_shot",
        "quotas_shot",
    ):
        seen[name] = seen[name].stat().st_size
    return seen


async def start_with_staff(
    service_processes: ServiceHarness,
) -> tuple[str, dict[str, str], str, str]:
    """Identity and scheduling as processes, ``bolat`` as programme staff, the training
    "Ethical coverage" and the trainer Aigerim: the base URL, API headers and the two ids."""
    processes = await asyncio.to_thread(service_processes.start, ["identity", "scheduling"])
    base = processes["scheduling"].url
    consoles.add_staff(consoles.identity_database(service_processes.data_dir), "bolat")
    staff = {"Authorization": f"Bearer {service_processes.token('programme_staff')}"}
    async with httpx.AsyncClient(base_url=base, headers=staff, timeout=30) as api:
        training = await api.post(
            "/trainings", json={"code": "ethics", "title": {"en": "Ethical coverage"}}
        )
        assert training.status_code == 201, training.text
        trainer = await api.post("/trainers", json={"name": "Aigerim", "home_city": "Almaty"})
        assert trainer.status_code == 201, trainer.text
    return base, staff, training.json()["id"], trainer.json()["id"]


async def test_programme_staff_plan_and_move_a_session(
    chrome: Any, service_processes: ServiceHarness
) -> None:
    base, _, _, _ = await start_with_staff(service_processes)

    seen = await asyncio.to_thread(plan_and_move, chrome, base)

    assert "02.03.2027 10:00 UTC+5 – 02.03.2027 13:00 UTC+5" in seen["preview"]
    assert "Aigerim" in seen["preview"]
    assert seen["saved_notice"] == "Saved."
    assert seen["local"] == "02.03.2027 10:00 UTC+5 – 02.03.2027 13:00 UTC+5"
    assert "Ethical coverage" in seen["list"] and "Aktobe" in seen["list"]
    assert "10:00–13:00 Ethical coverage" in seen["week"]
    assert "Ethical coverage" not in seen["next_week"]
    assert "02.03.2027 10:00 UTC+5 → 04.03.2027 15:00 UTC+5" in seen["reschedule_preview"]
    assert seen["moved"] == "04.03.2027 15:00 UTC+5 – 04.03.2027 18:00 UTC+5"
    assert "Aigerim" in seen["clash"]
    assert any(link.startswith(seen["session_url"]) for link in seen["clash_links"])
    assert seen["clash_can_confirm"] is False
    assert "needs 3 h 0 min to travel between the cities" in seen["travel"], seen["travel"]
    assert "Aigerim" in seen["travel"] and "Aktobe" in seen["travel"]
    assert seen["travel_can_confirm"] is False
    assert seen["quotas_before"] == "None"
    assert seen["quotas_preview"] == "Media ≤ 10; Aktobe ≤ 5", seen["quotas_preview"]
    assert seen["quotas_after"] == "Media ≤ 10; Aktobe ≤ 5"
    assert seen["quotas_field"] == "media=10, aktobe=5"
    assert seen["kk_title"] == "Кесте: күнтізбе"
    assert "15:00–18:00 Ethical coverage" in seen["kk_month"] and "Ақтөбе" in seen["kk_month"]
    for shot in (
        "preview_shot",
        "list_shot",
        "calendar_shot",
        "reschedule_shot",
        "clash_shot",
        "travel_shot",
        "kk_shot",
        "quotas_shot",
    ):
        assert seen[shot] > 0


def cancel_with_alternative(driver: Any, base: str, session_id: str) -> dict[str, Any]:
    """Bolat cancels a session by keyboard, picking the alternative offered in its place."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    seen: dict[str, Any] = {}

    def field(element_id: str) -> Any:
        return driver.find_element(By.ID, element_id)

    consoles.sign_in(driver, f"{base}/programme/sessions/{session_id}?lang=en", "bolat")
    reason = consoles.wait_for(lambda: field("f-reason"), what="the cancel form")
    picker = field("f-alternative_session_id")
    seen["options"] = [o.text for o in picker.find_elements(By.TAG_NAME, "option")]
    seen["label"] = driver.find_element(By.CSS_SELECTOR, "label[for=f-alternative_session_id]").text
    reason.send_keys("The trainer is ill", Keys.TAB)
    # Focus moved on to the picker; typing the start of an option chooses it.
    driver.switch_to.active_element.send_keys("09.03")
    driver.switch_to.active_element.send_keys(Keys.TAB)
    seen["focused_after_picker"] = driver.switch_to.active_element.get_attribute("id")
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    consoles.wait_for(lambda: field("preview-alternative"), what="the cancel preview")
    seen["preview"] = consoles.text_of(driver, "preview-alternative")
    seen["preview_shot"] = consoles.phone_screenshot(driver, "scheduling-cancel-alternative")
    field("confirm").send_keys(Keys.ENTER)
    consoles.wait_for(lambda: "saved=1" in driver.current_url, what="the cancelled session")
    seen["status"] = consoles.text_of(driver, "session-status")
    assert_stayed_local(driver)
    seen["preview_shot"] = seen["preview_shot"].stat().st_size
    return seen


async def test_programme_staff_cancel_a_session_offering_another(
    chrome: Any, service_processes: ServiceHarness
) -> None:
    base, staff, training_id, trainer_id = await start_with_staff(service_processes)
    async with httpx.AsyncClient(base_url=base, headers=staff, timeout=30) as api:
        ids = []
        for city, day, mode in (("aktobe", "02", "in_person"), ("almaty", "09", "online")):
            session = await api.post(
                "/sessions",
                json={
                    "training_id": training_id,
                    "mode": mode,
                    "cities": [city],
                    "starts_at": f"2027-03-{day}T10:00",
                    "ends_at": f"2027-03-{day}T13:00",
                    "capacity": 20,
                    "language": "ru",
                    "trainer_ids": [trainer_id],
                },
            )
            assert session.status_code == 201, session.text
            ids.append(session.json()["id"])

    seen = await asyncio.to_thread(cancel_with_alternative, chrome, base, ids[0])

    assert seen["label"] == "Session offered instead"
    assert seen["options"] == ["No alternative session", "09.03.2027 10:00 UTC+5 — Almaty (Online)"]
    assert seen["focused_after_picker"] == "cancel-submit"
    assert seen["preview"] == "Its people are offered instead: 09.03.2027 10:00 UTC+5, Almaty"
    assert seen["status"] == "Cancelled: The trainer is ill"
    assert seen["preview_shot"] > 0
    async with httpx.AsyncClient(base_url=base, headers=staff, timeout=30) as api:
        state = (await api.get(f"/sessions/{ids[0]}")).json()
    assert state["status"] == "cancelled"
