"""Organisation sign-in in a real browser (headless Chromium): the identity service runs as a
process configured only by ``OIDC_*`` environment variables, as ``trainops up`` runs it, and
the provider is the real ``oidc-provider`` on Node.js."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from trainops_devtools.testing.oidc_provider import (
    OidcAccount,
    OidcProvider,
    OidcProviderFactory,
)
from trainops_devtools.testing.pytest_plugin import ServiceHarness
from trainops_shared.auth import SESSION_COOKIE

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.e2e]

AIGERIM = OidcAccount(
    sub="00u-aigerim",
    password="aigerim-at-the-provider",
    claims={"preferred_username": "aigerim", "role": "coordinator", "region": "aktobe"},
)


def wait_for(condition: Any, what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def journey(driver: Any, identity: str, provider: OidcProvider) -> dict[str, Any]:
    """From the sign-in page, through the provider's login form, back to the account page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    seen: dict[str, Any] = {}
    driver.get(f"{identity}/sign-in?lang=en")
    link = driver.find_element(By.ID, "sign-in-oidc")
    seen["link_text"] = link.text
    link.click()
    wait_for(lambda: driver.current_url.startswith(provider.issuer), "the provider's page")
    seen["provider_url"] = driver.current_url
    driver.find_element(By.NAME, "login").send_keys(AIGERIM.sub)
    password = driver.find_element(By.NAME, "password")
    password.send_keys(AIGERIM.password)
    password.send_keys(Keys.ENTER)
    wait_for(
        lambda: (
            driver.current_url.startswith(identity) and urlsplit(driver.current_url).path == "/"
        ),
        "the account page",
    )
    seen.update(
        {name: driver.find_element(By.ID, name).text for name in ("username", "role", "region")}
    )
    seen["cookie"] = driver.get_cookie(SESSION_COOKIE)
    return seen


async def test_organisation_sign_in_in_a_real_browser(
    chrome: Any,
    service_processes: ServiceHarness,
    oidc_provider_factory: OidcProviderFactory,
) -> None:
    # The identity service picks its port when it starts: the provider learns the redirect
    # URI afterwards.
    provider = oidc_provider_factory(
        redirect_uris=["http://127.0.0.1:9/sign-in/oidc/callback"], accounts=[AIGERIM]
    )
    env = {
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": provider.client_id,
        "OIDC_CLIENT_SECRET": provider.client_secret,
        "OIDC_SCOPES": "openid profile trainops",
        "OIDC_ORGANISATION": "Akimat Staff",
    }
    processes = await asyncio.to_thread(service_processes.start, ["identity"], extra_env=env)
    identity = processes["identity"]
    provider.set_redirect_uris([f"{identity.url}/sign-in/oidc/callback"])

    seen = await asyncio.to_thread(journey, chrome, identity.url, provider)
    assert seen["link_text"] == "Sign in with Akimat Staff"
    # The provider requires PKCE (S256 only): its login form is reached only with a challenge.
    assert "/interaction/" in seen["provider_url"]
    assert (seen["username"], seen["role"], seen["region"]) == (
        "aigerim",
        "coordinator",
        "aktobe",
    )
    cookie = seen["cookie"]
    assert cookie is not None and cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"

    log = identity.log_path.read_text(errors="replace")
    assert "oidc_configured" in log
    assert provider.client_secret not in log
    assert "eyJ" not in log  # neither the ID token nor the session token
