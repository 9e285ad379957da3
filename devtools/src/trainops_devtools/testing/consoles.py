"""What every console's browser journey needs: accounts on a running identity service, signing
in through its page in Chromium, waiting on the page, and a phone-width screenshot.

The services run as processes (``service_processes``); accounts are made with the real
``trainops users add`` command, the way an operator makes them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

STAFF: dict[str, tuple[str, str | None, str]] = {
    "amina": ("admin", None, "admin of the whole programme"),
    "bolat": ("programme_staff", None, "plans trainings and sessions"),
    "aigerim": ("coordinator", "almaty", "registers Almaty's participants"),
    "yerlan": ("coordinator", "aktobe", "registers Aktobe's participants"),
    "dana": ("reporting", None, "pulls donor reports"),
}
"""``username → (role, region, who)`` of the staff a console journey signs in as."""

PASSWORDS: dict[str, str] = {
    "amina": "eight cities one programme",
    "bolat": "trainers never double booked",
    "aigerim": "apples along the mountains",
    "yerlan": "wind over the western steppe",
    "dana": "quarterly numbers only please",
}
"""Each test account's password (long, and free of its username, as the policy wants)."""

REPO_ROOT = Path(__file__).resolve().parents[4]
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"


def password_of(username: str) -> str:
    return PASSWORDS[username]


def identity_database(data_dir: Path) -> str:
    """The identity service's SQLite database under a ``ServiceHarness`` data directory."""
    return f"sqlite+aiosqlite:///{data_dir / 'identity.db'}"


def add_staff(database_url: str, *usernames: str) -> None:
    """Create the named :data:`STAFF` accounts with ``trainops users add``."""
    for username in usernames or tuple(STAFF):
        role, region, _ = STAFF[username]
        command = [sys.executable, "-m", "trainops_cli.main", "users", "add", username]
        command += ["--role", role, "--password-stdin", "--database-url", database_url]
        if region:
            command += ["--region", region]
        done = subprocess.run(
            command, input=password_of(username) + "\n", capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr


def wait_for(condition: Callable[[], T], timeout: float = 20.0, what: str = "") -> T:
    """Poll ``condition`` until it returns something truthy (browser code is synchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        result: T | None
        try:
            result = condition()
        except Exception:  # an element not there yet, a stale reference mid-navigation
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not met in {timeout}s: {what or condition}")
        time.sleep(0.05)


def sign_in(driver: Any, page_url: str, username: str, *, lang: str | None = None) -> None:
    """Open ``page_url``; on the identity sign-in page it redirects to, sign in as ``username``
    by keyboard, and wait until the browser is back on ``page_url``'s origin."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(page_url)
    wait_for(lambda: urlsplit(driver.current_url).path == "/sign-in", what="sign-in page")
    if lang:
        driver.find_element(By.ID, f"lang-{lang}").click()
        wait_for(lambda: driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang)
    driver.find_element(By.ID, "username").send_keys(username)
    password = driver.find_element(By.ID, "password")
    password.send_keys(password_of(username))
    password.send_keys(Keys.ENTER)
    origin = urlsplit(page_url).netloc
    wait_for(
        lambda: (
            urlsplit(driver.current_url).netloc == origin
            and urlsplit(driver.current_url).path != "/sign-in"
        ),
        what=f"back on {origin} signed in",
    )


def text_of(driver: Any, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.ID, element_id).text)


def phone_screenshot(driver: Any, name: str, directory: Path | None = None) -> Path:
    """Save the whole page at phone width as ``<directory>/<name>.png``.

    ``directory`` defaults to ``docs/screenshots`` when ``TRAINOPS_UPDATE_SCREENSHOTS=1`` (how
    the README's pictures are retaken) and to a temporary folder otherwise, so a test run never
    changes the working tree.
    """
    if directory is None:
        if os.environ.get("TRAINOPS_UPDATE_SCREENSHOTS") == "1":
            directory = SCREENSHOTS
        else:
            directory = Path(tempfile.gettempdir()) / "trainops-screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    # Headless Chromium may open wider than asked: measure the page at phone width, where it
    # is taller, or the bottom of it is cut off.
    driver.set_window_size(412, 915)
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(412, min(max(height + 120, 915), 4000))
    try:
        driver.save_screenshot(str(path))
    finally:
        driver.set_window_size(412, 915)
    return path
