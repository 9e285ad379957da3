"""The headless Chromium every browser test drives: Debian's chromium through its chromedriver.

One throw-away profile per test, phone-sized (412 × 915, the pages must work there), nothing
the browser would fetch on its own (sync, component updates, background networking), so a test
that asserts no request leaves the machine sees only what the page asked for.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PHONE_WINDOW = "412,915"


@pytest.fixture
def chrome() -> Iterator[Any]:
    """A headless Chromium (selenium WebDriver); skips naming the packages when absent."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(
            "Debian packages chromium and chromium-driver are not installed: "
            "apt-get install -y chromium chromium-driver"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="trainops-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--window-size={PHONE_WINDOW}",
    ):
        options.add_argument(flag)
    # Every request the page makes is logged, so a test can assert none left the machine.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
NETWORK_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp"})


def requested_urls(driver: Any) -> list[str]:
    """Every URL the browser requested since the last call (the performance log drains)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(str(message["params"]["request"]["url"]))
    return urls


def assert_stayed_local(driver: Any) -> list[str]:
    """Fail naming any network request that went anywhere but this machine (the browser's own
    ``chrome:`` pages and inline ``data:`` URLs are not network); returns the URLs requested, so
    a test can also check that something was."""
    urls = requested_urls(driver)
    away = [
        url
        for url in urls
        if urlsplit(url).scheme in NETWORK_SCHEMES and urlsplit(url).hostname not in LOCAL_HOSTS
    ]
    assert away == [], f"requests left the machine: {away}"
    return urls
