"""A coordinator imports a list in a real browser (headless Chromium, phone width): a file
from Russian Excel with mistakes shows every problem in a table, the corrected one registers.

Identity, scheduling and registration run as processes on a real nats-server, as
``trainops up`` runs them; the account is made with ``trainops users add``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from trainops_devtools.testing import consoles
from trainops_devtools.testing.pytest_plugin import ServiceHarness

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.e2e]

GOOD = (
    "ФИО;Электронная почта;Телефон;Сектор;Пол;Возрастная группа;Город;Язык\r\n"
    "Айгерим Сейткали;aigerim@example.kz;+7 701 123 45 67;СМИ;Женский;25–34;Алматы;Русский\r\n"
    "Берик Омаров;;87017654321;НКО;Мужской;35–44;Алматы;Казахский\r\n"
)
BAD = GOOD + "Х;не-почта;;Пресса;;;Актобе;Русский\r\n"


def schedule_almaty_session(harness: ServiceHarness) -> str:
    staff = {"Authorization": f"Bearer {harness.token('programme_staff')}"}
    with httpx.Client(base_url=harness.url("scheduling"), headers=staff, timeout=30) as http:
        training = http.post(
            "/trainings",
            json={
                "code": "import-browser",
                "title": {"en": "Fact checking"},
                "target_sectors": ["media"],
            },
        )
        assert training.status_code == 201, training.text
        session = http.post(
            "/sessions",
            json={
                "training_id": training.json()["id"],
                "mode": "online",
                "cities": ["almaty"],
                "starts_at": "2031-03-01T10:00",
                "ends_at": "2031-03-01T13:00",
                "capacity": 1,
                "language": "ru",
            },
        )
        assert session.status_code == 201, session.text
        return str(session.json()["id"])


def upload(driver: Any, session_id: str, path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, "f-session_id")).select_by_value(session_id)
    driver.find_element(By.ID, "f-file").send_keys(str(path))
    driver.find_element(By.ID, "import-submit").click()


async def test_a_coordinator_fixes_and_imports_a_list_on_the_phone(
    chrome: Any, service_processes: ServiceHarness, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    from trainops_devtools.testing.browser import assert_stayed_local

    await asyncio.to_thread(service_processes.start, ["identity", "scheduling", "registration"])
    consoles.add_staff(consoles.identity_database(service_processes.data_dir), "aigerim")
    session_id = schedule_almaty_session(service_processes)
    registration = service_processes.url("registration")
    coordinator = {"Authorization": f"Bearer {service_processes.token('coordinator', 'almaty')}"}

    def session_arrived() -> bool:
        page = httpx.get(f"{registration}/import", headers=coordinator, timeout=10)
        return session_id in page.text

    await asyncio.to_thread(
        consoles.wait_for, session_arrived, 60.0, "the session reached registration"
    )
    bad, good = tmp_path / "список.csv", tmp_path / "список-исправлен.csv"
    bad.write_bytes(BAD.encode("cp1251"))
    good.write_bytes(GOOD.encode("cp1251"))

    def journey() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        consoles.sign_in(chrome, f"{registration}/?lang=ru", "aigerim", lang="ru")
        chrome.find_element(By.ID, "import-link").click()
        consoles.wait_for(lambda: chrome.find_element(By.ID, "import-form"), what="the import form")
        upload(chrome, session_id, bad)
        consoles.wait_for(
            lambda: chrome.find_element(By.ID, "problem-table"), what="the problem table"
        )
        seen["problems"] = [
            [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in chrome.find_elements(By.CSS_SELECTOR, "#problem-table tbody tr")
        ]
        seen["bad_shot"] = consoles.phone_screenshot(chrome, "registration-import-problems")
        upload(chrome, session_id, good)
        consoles.wait_for(lambda: chrome.find_element(By.ID, "notice"), what="the result")
        seen["done"] = consoles.text_of(chrome, "notice")
        seen["done_shot"] = consoles.phone_screenshot(chrome, "registration-import-done")
        chrome.find_element(By.ID, "again").click()
        consoles.wait_for(lambda: chrome.find_element(By.ID, "import-form"), what="the form again")
        chrome.find_element(By.ID, "lang-kk").click()
        consoles.wait_for(
            lambda: consoles.text_of(chrome, "page-title") == "Тізімді файлдан жүктеу", what="kk"
        )
        seen["form_shot"] = consoles.phone_screenshot(chrome, "registration-import-form-kk")
        assert_stayed_local(chrome)
        return seen

    seen = await asyncio.to_thread(journey)
    assert [row[:2] for row in seen["problems"]] == [
        ["4", "ФИО"],
        ["4", "Электронная почта"],
        ["4", "Сектор"],
        ["4", "Город"],
    ]
    assert seen["problems"][3][2] == "Актобе"
    assert seen["problems"][3][3] == "Вы можете загружать только участников из региона Алматы."
    assert seen["done"] == ("Зарегистрировано участников: 2. Подтверждено: 1, в листе ожидания: 1.")
    assert seen["bad_shot"].stat().st_size > 0 and seen["done_shot"].stat().st_size > 0
