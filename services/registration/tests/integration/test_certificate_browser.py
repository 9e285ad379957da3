"""Anyone checks a certificate in a real browser (headless Chromium, phone width): the URL
printed on the certificate opens, without signing in, a page that says it is genuine and what
it certifies — never the holder's name or address; a made-up URL says it is not genuine.

Scheduling and registration run as processes on a real nats-server with the development mail
catcher; the certificate comes the way a participant gets it: attendance of a completed
session, then the mail with the PDF.
"""

from __future__ import annotations

import asyncio
import re
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import httpx
import pytest
from test_registration_console_browser import scheduled_session

from trainops_devtools.testing import consoles
from trainops_devtools.testing.browser import assert_stayed_local
from trainops_devtools.testing.pytest_plugin import ServiceHarness

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.e2e]

NAME = "Әсел Нұрланқызы"
EMAIL = "asel.cert@mail.kz"
VERIFY = re.compile(r"(http://127\.0\.0\.1:\d+/certificates/[A-Za-z0-9_-]+)")


async def certificate_url(harness: ServiceHarness, scheduling: str, registration: str) -> str:
    """An Almaty session; register, attend, complete: the verification URL of the certificate
    that is mailed."""
    session_id = await scheduled_session(harness, scheduling, registration)
    staff = {"Authorization": f"Bearer {harness.token('programme_staff')}"}
    admin = {"Authorization": f"Bearer {harness.token('admin')}"}
    async with httpx.AsyncClient(timeout=10) as http:
        body = {
            "session_id": session_id,
            "participant": {
                "full_name": NAME,
                "sector": "media",
                "city": "almaty",
                "language": "kk",
                "email": EMAIL,
            },
        }
        reg = await http.post(f"{registration}/registrations", json=body, headers=admin)
        assert reg.status_code == 201, reg.text
        attended = await http.post(
            f"{registration}/registrations/{reg.json()['id']}/attendance",
            json={"attended": True},
            headers=admin,
        )
        assert attended.status_code == 200, attended.text
        done = await http.post(f"{scheduling}/sessions/{session_id}/complete", headers=staff)
        assert done.status_code == 200, done.text
    catcher = harness.mail_catcher()
    deadline = time.monotonic() + 90
    while True:
        for path in catcher.files():
            message = message_from_bytes(path.read_bytes(), policy=default_policy)
            assert isinstance(message, EmailMessage)
            if any(p.get_content_type() == "application/pdf" for p in message.iter_attachments()):
                text = message.get_body(preferencelist=("plain",))
                found = VERIFY.search(str(text.get_content()) if text else "")
                assert found is not None
                return found.group(1)
        assert time.monotonic() < deadline, "no certificate was mailed"
        await asyncio.sleep(0.3)


def check_in_browser(driver: Any, url: str, registration: str) -> dict[str, Any]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    seen: dict[str, Any] = {}
    driver.get(f"{url}?lang=kk")
    consoles.wait_for(lambda: driver.find_element(By.ID, "certificate-facts"), what="facts")
    seen["notice"] = consoles.text_of(driver, "notice")
    seen["training"] = consoles.text_of(driver, "cert-training")
    seen["where"] = consoles.text_of(driver, "cert-where")
    seen["body"] = consoles.text_of(driver, "main")
    seen["lang"] = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
    seen["shot"] = consoles.phone_screenshot(driver, "registration-certificate")
    # Keyboard: the language switch is reachable and reloads the page in Russian.
    driver.find_element(By.ID, "lang-ru").send_keys(Keys.ENTER)
    consoles.wait_for(
        lambda: driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ru" or None,
        what="the page in Russian",
    )
    seen["notice_ru"] = consoles.text_of(driver, "notice")
    seen["requested"] = assert_stayed_local(driver)
    driver.get(f"{registration}/certificates/{'Z' * 22}?lang=en")
    consoles.wait_for(lambda: driver.find_element(By.ID, "notice"), what="not genuine")
    seen["forged"] = consoles.text_of(driver, "notice")
    seen["forged_shot"] = consoles.phone_screenshot(driver, "registration-certificate-forged")
    return seen


async def test_a_certificate_is_checked_by_anyone_in_chromium(
    chrome: Any, service_processes: ServiceHarness
) -> None:
    service_processes.mail_catcher()
    processes = await asyncio.to_thread(service_processes.start, ["scheduling", "registration"])
    registration = processes["registration"].url
    url = await certificate_url(service_processes, processes["scheduling"].url, registration)
    assert url.startswith(registration)

    seen = await asyncio.to_thread(check_in_browser, chrome, url, registration)
    assert seen["lang"] == "kk"
    assert seen["notice"] == "Бұл сертификат түпнұсқа."
    assert seen["training"] == "Fact-checking"  # titled in English only: shown as it is
    assert seen["where"] == "Алматы"
    assert NAME not in seen["body"] and EMAIL not in seen["body"]
    assert seen["notice_ru"] == "Этот сертификат подлинный."
    assert seen["forged"].startswith("No certificate has this number")
    assert seen["shot"].stat().st_size > 10_000
    async with httpx.AsyncClient(timeout=10) as http:
        page = await http.get(url)
        assert page.status_code == 200 and NAME not in page.text
        assert page.headers["cache-control"] == "no-store"
        assert (await http.get(f"{registration}/certificates/{'Z' * 22}")).status_code == 404
