"""Dana (reporting) signs in, reads the dashboard and builds a donor table by keyboard.

Identity and reporting run as processes on a nats-server of the test's own, which carries the
events of ``build_donor_scenario``; Chromium and ChromeDriver are Debian's packages.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from reporting_programme import Programme, build_donor_scenario

from trainops_devtools.nats_server import NatsServer
from trainops_devtools.testing import consoles
from trainops_devtools.testing.browser import assert_stayed_local
from trainops_devtools.testing.pytest_plugin import ServiceHarness
from trainops_shared.events import Event, encode_event

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.e2e]


async def _publish(nats_url: str, events: list[Event]) -> None:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for event in events:
            await js.publish(
                event.subject,
                encode_event(event),
                headers={"Nats-Msg-Id": str(event.event_id)},
                timeout=5,
            )
    finally:
        await nc.close()


def _download(driver: Any, directory: Path, link_text: str, suffix: str) -> bytes:
    """Follow the page's download link by keyboard; the bytes of the file the browser saved."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    before = set(directory.iterdir())
    driver.find_element(By.PARTIAL_LINK_TEXT, link_text).send_keys(Keys.ENTER)

    def saved() -> Path | None:
        new = [p for p in set(directory.iterdir()) - before if p.suffix == suffix]
        return new[0] if new else None  # a partial download ends in .crdownload

    path = consoles.wait_for(saved, what=f"the {suffix} download")
    return path.read_bytes()


def _workbook(data: bytes) -> list[list[Any]]:
    """Every row of the workbook's sheet as values (openpyxl refuses a file that is not one)."""
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _pdf_text(data: bytes) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


def _laptop_screenshot(driver: Any, name: str) -> Path:
    """The whole page at a laptop's width, beside the phone screenshots."""
    directory = (
        consoles.SCREENSHOTS
        if os.environ.get("TRAINOPS_UPDATE_SCREENSHOTS") == "1"
        else Path(tempfile.gettempdir()) / "trainops-screenshots"
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    driver.set_window_size(1366, 900)
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(1366, min(max(height + 120, 900), 4000))
    try:
        driver.save_screenshot(str(path))
    finally:
        driver.set_window_size(412, 915)
    return path


def start_with_scenario(
    service_processes: ServiceHarness, nats: NatsServer, extra_env: dict[str, str] | None = None
) -> tuple[str, httpx.Client]:
    """Identity and reporting as processes, Dana's account, the scenario's events published;
    the reporting URL and an API client with a reporting token."""
    service_processes.start(["identity", "reporting"], nats_url=nats.url, extra_env=extra_env or {})
    consoles.add_staff(consoles.identity_database(service_processes.data_dir), "dana")
    programme = Programme()
    build_donor_scenario(programme)
    asyncio.run(_publish(nats.url, programme.events))
    reporting = service_processes.url("reporting")
    api = httpx.Client(
        base_url=reporting,
        headers={"Authorization": f"Bearer {service_processes.token('reporting')}"},
        timeout=10,
    )
    return reporting, api


def test_dana_reads_the_dashboard_and_builds_a_donor_table(
    chrome: Any, service_processes: ServiceHarness, fresh_nats_server: NatsServer
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    reporting, api = start_with_scenario(
        service_processes, fresh_nats_server, {"REPORT_PERIODS": "all,month"}
    )

    def projected() -> bool:
        body = api.get("/reports/summary").json()
        return bool(body.get("sessions_delivered") == 1 and body.get("registered") == 20)

    consoles.wait_for(projected, timeout=60, what="the scenario projected")
    # The feedback stream is the last to settle: wait until the donor table stops changing.
    previous: list[Any] = [None]

    def settled() -> bool:
        now = api.get("/reports/donor", params={"by": "city,sex"}).json()
        same = now == previous[0]
        previous[0] = now
        return same and now["totals"]["registered"] == 20

    consoles.wait_for(settled, timeout=60, what="the donor table settled")
    driver = chrome

    consoles.sign_in(driver, f"{reporting}/", "dana", lang="en")
    consoles.wait_for(
        lambda: consoles.text_of(driver, "page-title") == "Reports: programme dashboard"
    )
    charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert [c.get_attribute("id") for c in charts] == [
        "chart-city",
        "chart-sex",
        "chart-age_band",
        "chart-sector",
        "chart-months",
    ]
    assert "Almaty" in charts[0].text and "Attended: hidden" in charts[0].text
    assert consoles.text_of(driver, "username") == "dana"
    phone = consoles.phone_screenshot(driver, "reporting-dashboard")
    _laptop_screenshot(driver, "reporting-dashboard-laptop")
    assert phone.stat().st_size > 10_000

    # To the builder by keyboard: the link, then the breakdown checkboxes, then the button.
    link = driver.find_element(By.LINK_TEXT, "Build a donor report")
    link.send_keys(Keys.ENTER)
    consoles.wait_for(lambda: driver.find_element(By.ID, "donor-form"), what="the donor form")
    for code in ("city", "sex"):
        box = driver.find_element(By.ID, f"by-{code}")
        box.send_keys(Keys.SPACE)
        assert box.is_selected()
    driver.find_element(By.CSS_SELECTOR, "#donor-form button[type=submit]").send_keys(Keys.ENTER)
    table = consoles.wait_for(lambda: driver.find_element(By.ID, "donor-table"), what="the table")
    report = api.get("/reports/donor", params={"by": "city,sex"}).json()
    small = driver.find_element(By.ID, "row-almaty-male")
    cells = small.find_elements(By.CSS_SELECTOR, "td[data-measure=registered]")
    assert [c.text for c in cells] == ["<5"]
    shown_rows = table.find_elements(By.CSS_SELECTOR, "tbody:first-of-type tr")
    assert len(shown_rows) == len(report["rows"])
    total = driver.find_element(By.CSS_SELECTOR, "#total-total td[data-measure=registered]")
    assert total.text == str(report["totals"]["registered"])
    download = driver.find_element(By.PARTIAL_LINK_TEXT, "CSV")
    assert download.get_attribute("href").endswith(
        "/reports/donor?period=all&by=city%2Csex&format=csv"
    )
    # The three downloads, each taken by the browser itself (its session cookie) and opened.
    downloads = Path(tempfile.mkdtemp(prefix="trainops-downloads-"))
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    csv_text = _download(driver, downloads, "CSV", ".csv").decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("city,sex,")
    assert any(line.startswith("almaty,male,<5") for line in csv_text.splitlines())
    workbook = _workbook(_download(driver, downloads, "Excel", ".xlsx"))
    assert any(row[:3] == ["Almaty", "Male", "<5"] for row in workbook), workbook
    cities = {row["city"] for row in report["rows"]}
    assert cities <= {row[0].lower() for row in workbook if row and isinstance(row[0], str)}
    totals = [row for row in workbook if row and row[0] == "Total"]
    assert totals and report["totals"]["registered"] in totals[-1], workbook
    consoles.phone_screenshot(driver, "reporting-donor")
    _laptop_screenshot(driver, "reporting-donor-laptop")
    # The same table in Kazakh: the language link keeps the question.
    driver.find_element(By.ID, "lang-kk").send_keys(Keys.ENTER)
    consoles.wait_for(
        lambda: driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "kk"
    )
    assert consoles.text_of(driver, "page-title") == "Донорға арналған есеп"
    assert driver.find_element(By.ID, "row-almaty-male").text.startswith("Алматы Ер")
    consoles.phone_screenshot(driver, "reporting-donor-kk")
    pdf_text = _pdf_text(_download(driver, downloads, "PDF", ".pdf"))
    assert "Донорлық есеп" in pdf_text and "Алматы" in pdf_text

    # A refused breakdown comes back as the form with the error beside the field.
    for code in ("city", "sex"):
        driver.find_element(By.ID, f"by-{code}").send_keys(Keys.SPACE)  # off again
    for code in ("sex", "age_band"):
        driver.find_element(By.ID, f"by-{code}").send_keys(Keys.SPACE)
    driver.find_element(By.CSS_SELECTOR, "#donor-form button[type=submit]").send_keys(Keys.ENTER)
    error = consoles.wait_for(lambda: driver.find_element(By.ID, "f-by-error"), what="the by error")
    assert "біреуі қала" in error.text
    assert not driver.find_elements(By.ID, "donor-table")
    assert assert_stayed_local(driver)
    api.close()
