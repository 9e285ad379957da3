"""People sign in once in a real browser (headless Chromium) and use two services' pages.

Identity, scheduling and reporting run as separate processes on a real nats-server, as
``trainops up`` runs them; the accounts are made with ``trainops users add``. Chromium and
ChromeDriver are Debian's packages (selenium-manager never downloads anything).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from trainops_devtools.testing.pytest_plugin import ServiceHarness
from trainops_shared.auth import SESSION_COOKIE

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.e2e]

PASSWORDS = {"aigerim": "steppe wind over aktobe", "dana": "quarterly numbers only"}


def users_add(database_url: str, username: str, role: str, region: str | None = None) -> str:
    command = [sys.executable, "-m", "trainops_cli.main", "users", "add", username]
    command += ["--role", role, "--password-stdin", "--database-url", database_url]
    if region:
        command += ["--region", region]
    done = subprocess.run(
        command, input=PASSWORDS[username] + "\n", capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert PASSWORDS[username] not in done.stdout + done.stderr
    return done.stdout


def wait_for(condition: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def journey(driver: Any, urls: dict[str, str], username: str) -> dict[str, Any]:
    """Sign in from scheduling's page, go to reporting's, sign out, try again."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    def text_of(element_id: str) -> str:
        return str(driver.find_element(By.ID, element_id).text)

    seen: dict[str, Any] = {}
    driver.get(f"{urls['scheduling']}/")
    wait_for(lambda: urlsplit(driver.current_url).path == "/sign-in")
    seen["sign_in_origin"] = urlsplit(driver.current_url).netloc
    seen["lang"] = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
    driver.find_element(By.ID, "lang-en").click()
    wait_for(lambda: driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    driver.find_element(By.ID, "username").send_keys(username)
    # Keyboard only: the password field, then Enter submits the form.
    password = driver.find_element(By.ID, "password")
    password.send_keys(PASSWORDS[username])
    password.send_keys(Keys.ENTER)
    wait_for(lambda: driver.current_url.startswith(urls["scheduling"]))
    seen["scheduling_user"] = text_of("username")
    seen["scheduling_title"] = text_of("page-title")
    cookie = driver.get_cookie(SESSION_COOKIE)
    seen["cookie"] = cookie
    driver.get(f"{urls['reporting']}/")
    wait_for(lambda: driver.current_url.startswith(urls["reporting"]))
    seen["reporting_user"] = text_of("username")
    seen["reporting_title"] = text_of("page-title")
    seen["resources"] = driver.execute_script(
        "return performance.getEntriesByType('navigation')"
        ".concat(performance.getEntriesByType('resource'))"
        ".map(function (e) { return e.name; })"
    )
    driver.find_element(By.ID, "sign-out").click()
    wait_for(lambda: "signed_out=true" in driver.current_url)
    seen["signed_out_notice"] = text_of("notice")
    driver.get(f"{urls['reporting']}/")
    wait_for(lambda: urlsplit(driver.current_url).path == "/sign-in")
    seen["after_sign_out"] = driver.current_url
    return seen


async def test_sign_in_once_use_two_services_sign_out_everywhere(
    chrome: Any, service_processes: ServiceHarness
) -> None:
    processes = await asyncio.to_thread(
        service_processes.start, ["identity", "scheduling", "reporting"]
    )
    urls = {name: p.url for name, p in processes.items()}
    identity_db = f"sqlite+aiosqlite:///{service_processes.data_dir / 'identity.db'}"
    assert "coordinator (aktobe)" in users_add(identity_db, "aigerim", "coordinator", "aktobe")
    users_add(identity_db, "dana", "reporting")

    for username, role in (("aigerim", "coordinator"), ("dana", "reporting")):
        seen = await asyncio.to_thread(journey, chrome, urls, username)
        assert seen["sign_in_origin"] == urlsplit(urls["identity"]).netloc
        assert seen["lang"] in ("kk", "ru", "en")
        assert seen["scheduling_user"] == username and seen["reporting_user"] == username
        assert seen["scheduling_title"] == "Schedule: sessions"
        assert seen["reporting_title"] == "Reports: programme dashboard"
        cookie = seen["cookie"]
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
        assert cookie["domain"] == "127.0.0.1" and cookie["path"] == "/"
        # Nothing the pages loaded came from anywhere but this machine.
        for resource in seen["resources"]:
            assert urlsplit(resource).hostname == "127.0.0.1", resource
        assert seen["signed_out_notice"]
        assert seen["after_sign_out"].startswith(f"{urls['identity']}/sign-in?next=")

        # The signed-out session's token has not expired, yet every service refuses it.
        old = {SESSION_COOKIE: cookie["value"]}
        async with httpx.AsyncClient(cookies=old, timeout=10) as http:
            for service in ("scheduling", "reporting", "identity"):
                deadline = time.monotonic() + 20
                while True:
                    answer = await http.get(f"{urls[service]}/")
                    if answer.status_code == 401:
                        break
                    assert time.monotonic() < deadline, (service, role, answer.status_code)
                    await asyncio.sleep(0.1)
