"""Programme staff edit a survey draft and publish it on a phone, by keyboard alone (headless
Chromium at 412 px): sign in, open the draft from the list, type a new question into the blank
row, add a row (a server round trip), save, and publish through the confirm step.

Identity and feedback run as processes, as ``trainops up`` runs them; the account is made with
``trainops users add``.
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

TEXTS = {"kk": "Тренинг пайдалы болды ма?", "ru": "Тренинг был полезен?", "en": "Was it useful?"}
SURVEY = {
    "code": "phone-survey",
    "title": {"kk": "Сауалнама", "ru": "Анкета", "en": "Survey"},
    "items": [{"key": "useful", "kind": "likert", "text": TEXTS}],
}
NEW = {"kk": "Қайта келесіз бе?", "ru": "Придёте снова?", "en": "Will you come again?"}


def tab_to(driver: Any, element_id: str, limit: int = 80) -> None:
    """Press Tab until the element has the focus, as a keyboard user reaches it."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    for _ in range(limit):
        if driver.switch_to.active_element.get_attribute("id") == element_id:
            return
        ActionChains(driver).send_keys(Keys.TAB).perform()
    raise AssertionError(f"Tab never reached #{element_id}")


def type_keys(driver: Any, text: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(text).perform()


def press_enter(driver: Any) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).send_keys(Keys.ENTER).perform()


def edit_and_publish(driver: Any, feedback_url: str) -> dict[str, Any]:
    from selenium.webdriver.common.by import By

    consoles.sign_in(driver, f"{feedback_url}/surveys/page", "bolat", lang="ru")
    driver.set_window_size(412, 915)
    consoles.wait_for(lambda: driver.find_elements(By.ID, "surveys"), what="survey list")
    link = driver.find_element(By.CSS_SELECTOR, "#version-phone-survey-1 a")
    driver.execute_script("arguments[0].id = 'edit-link'", link)
    tab_to(driver, "edit-link")
    press_enter(driver)
    consoles.wait_for(lambda: driver.find_elements(By.ID, "survey-form"), what="draft form")
    seen: dict[str, Any] = {"title": consoles.text_of(driver, "page-title")}
    tab_to(driver, "f-item-1-key")
    type_keys(driver, "again")
    for lang in ("kk", "ru", "en"):
        tab_to(driver, f"f-item-1-{lang}")
        type_keys(driver, NEW[lang])
    tab_to(driver, "add-item")
    press_enter(driver)
    consoles.wait_for(lambda: driver.find_elements(By.ID, "item-2"), what="a third row")
    seen["kept"] = driver.find_element(By.ID, "f-item-1-ru").get_attribute("value")
    seen["widths"] = driver.execute_script(
        "var e = document.documentElement; return [window.innerWidth, e.scrollWidth, e.clientWidth]"
    )
    seen["form_shot"] = consoles.phone_screenshot(driver, "feedback-survey-edit")
    tab_to(driver, "save", limit=200)
    press_enter(driver)
    consoles.wait_for(lambda: driver.find_elements(By.ID, "notice"), what="saved notice")
    seen["saved"] = consoles.text_of(driver, "notice")
    tab_to(driver, "publish-link", limit=200)
    press_enter(driver)
    consoles.wait_for(lambda: driver.find_elements(By.ID, "publish-form"), what="confirm step")
    seen["confirm"] = consoles.text_of(driver, "confirm-text")
    seen["confirm_shot"] = consoles.phone_screenshot(driver, "feedback-survey-publish")
    tab_to(driver, "publish-yes")
    press_enter(driver)
    consoles.wait_for(lambda: driver.find_elements(By.ID, "notice"), what="published notice")
    seen["published"] = consoles.text_of(driver, "notice")
    seen["row"] = driver.find_element(By.ID, "version-phone-survey-1").text
    seen["list_shot"] = consoles.phone_screenshot(driver, "feedback-survey-list")
    assert_stayed_local(driver)
    return seen


async def test_staff_edit_and_publish_a_survey_by_keyboard_on_a_phone(
    chrome: Any, service_processes: ServiceHarness
) -> None:
    processes = await asyncio.to_thread(service_processes.start, ["identity", "feedback"])
    feedback = processes["feedback"].url
    consoles.add_staff(consoles.identity_database(service_processes.data_dir), "bolat")
    staff = {"Authorization": f"Bearer {service_processes.token('programme_staff')}"}
    async with httpx.AsyncClient(base_url=feedback, timeout=10) as http:
        created = await http.post("/surveys", json=SURVEY, headers=staff)
        assert created.status_code == 201, created.text
        survey_id = created.json()["survey_id"]

        seen = await asyncio.to_thread(edit_and_publish, chrome, feedback)

        stored = (await http.get(f"/surveys/{survey_id}/versions", headers=staff)).json()
    assert seen["title"] == "Правка версии анкеты"
    assert seen["kept"] == NEW["ru"]
    viewport, content, visible = seen["widths"]
    assert viewport <= 412, seen["widths"]
    assert content <= visible, f"the form scrolls sideways on a phone: {seen['widths']}"
    assert seen["saved"] == "Черновик сохранён."
    assert seen["confirm"].startswith("После публикации эту версию нельзя изменить")
    assert seen["published"] == "Версия опубликована."
    assert "опубликована" in seen["row"]
    [version] = stored
    assert version["status"] == "published"
    assert [item["key"] for item in version["items"]] == ["useful", "again"]
    assert version["items"][1]["text"] == NEW
    for shot in ("form_shot", "confirm_shot", "list_shot"):
        assert seen[shot].stat().st_size > 0
