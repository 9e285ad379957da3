"""Dana (reporting) freezes the donor table she opened, by keyboard, and downloads the frozen
file from the frozen-reports page.

Identity and reporting run as processes on a nats-server of the test's own; Chromium and
ChromeDriver are Debian's packages.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from test_reporting_browser import _download, _laptop_screenshot, start_with_scenario

from trainops_devtools.nats_server import NatsServer
from trainops_devtools.testing import consoles
from trainops_devtools.testing.browser import assert_stayed_local
from trainops_devtools.testing.pytest_plugin import ServiceHarness

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.e2e]


def test_dana_freezes_a_donor_table_and_downloads_the_frozen_file(
    chrome: Any, service_processes: ServiceHarness, fresh_nats_server: NatsServer
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    reporting, api = start_with_scenario(service_processes, fresh_nats_server)

    def projected() -> bool:
        body = api.get("/reports/donor", params={"by": "city"}).json()
        return bool(body["totals"]["registered"] == 20 and body["totals"]["feedback_responses"])

    consoles.wait_for(projected, timeout=60, what="the scenario projected")
    driver = chrome
    consoles.sign_in(driver, f"{reporting}/donor?by=city&period=all", "dana", lang="kk")
    consoles.wait_for(lambda: driver.find_element(By.ID, "donor-table"), what="the table")
    assert api.get("/reports/snapshots").json() == []

    # Freeze by keyboard: the form carries the table's question and the session's CSRF value.
    button = driver.find_element(By.CSS_SELECTOR, "#freeze-form button[type=submit]")
    assert button.text == "Осы есепті бекіту"
    button.send_keys(Keys.ENTER)
    listing = consoles.wait_for(lambda: driver.find_element(By.ID, "snapshots"), what="the list")
    snapshots = api.get("/reports/snapshots").json()
    assert len(snapshots) == 1
    frozen = snapshots[0]
    assert frozen["parameters"] == {"by": ["city"], "period": "all", "training_id": None}
    assert consoles.text_of(driver, "page-title") == "Бекітілген есептер"
    item = driver.find_element(By.ID, f"snapshot-{frozen['id']}")
    assert "Есеп бекітілді." in driver.page_source
    assert frozen["content_sha256"][:16] in item.text and "Қала" in item.text
    assert len(listing.find_elements(By.CSS_SELECTOR, "li.snapshot")) == 1
    consoles.phone_screenshot(driver, "reporting-snapshots-kk")
    _laptop_screenshot(driver, "reporting-snapshots-laptop")

    downloads = Path(tempfile.mkdtemp(prefix="trainops-downloads-"))
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    saved = _download(driver, downloads, "CSV", ".csv")
    from_api = api.get(f"/reports/snapshots/{frozen['id']}", params={"format": "csv"})
    assert saved == from_api.content  # the very bytes frozen
    assert saved.decode().splitlines()[0].startswith("city,registered,")

    # The page in English: same snapshot, other words.
    driver.find_element(By.ID, "lang-en").send_keys(Keys.ENTER)
    consoles.wait_for(lambda: consoles.text_of(driver, "page-title") == "Frozen reports")
    assert "Stream positions" in driver.find_element(By.ID, f"snapshot-{frozen['id']}").text
    assert assert_stayed_local(driver)
    api.close()
