"""A real OpenID provider for tests: ``devtools/oidc-provider`` (the certified ``oidc-provider``
npm package) run with the machine's Node.js.

Organisation sign-in is only worth testing against a provider that behaves like the real ones
(discovery, PKCE enforcement, signed ID tokens, a JWKS that changes), so nothing here imitates
one. The provider's dependencies are installed by ``.ci/run`` (``npm ci``), never at test time:
without them the fixtures skip and say which command installs them.

* :class:`OidcProvider`: start/stop one provider process; its test-only admin API rotates the
  signing keys and makes the next ID token broken (tampered, signed by an unknown key, ...).
* :func:`sign_in_at_provider`: what a person's browser does at the provider (follow redirects,
  post the login form) until the provider sends it back to the client's redirect URI.
* ``oidc_provider_factory`` (function fixture): ``factory(redirect_uris=..., accounts=...)``.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin

import httpx
import pytest

from trainops_devtools.testing.ports import free_port
from trainops_devtools.testing.processes import tail_text

PROVIDER_DIR = Path(__file__).resolve().parents[3] / "oidc-provider"
"""``devtools/oidc-provider``: the provider program, its package.json and lock file."""

INSTALL_COMMAND = "npm ci --prefix devtools/oidc-provider --no-audit --no-fund"
ADDRESS_IN_USE_EXIT = 3
"""The provider program's exit code when its port was taken between our probe and its bind."""

SabotageMode = Literal["tamper", "unknown-key", "foreign-key-same-kid", "claims"]


class OidcProviderUnavailable(RuntimeError):
    """Node.js or the provider's installed dependencies are missing on this machine."""


class OidcProviderStartError(RuntimeError):
    """The provider exited or did not answer discovery in time; the message ends with its log."""


@dataclass(frozen=True, slots=True)
class OidcAccount:
    """A person the provider vouches for: ``sub``, a password for its login form, and claims."""

    sub: str
    password: str
    claims: Mapping[str, Any] = field(default_factory=dict)


def provider_unavailable_reason() -> str | None:
    """Why the provider cannot run here, or ``None`` when it can."""
    if shutil.which("node") is None:
        return "Node.js (node) is not on PATH; the OpenID provider tests need Node.js >= 20"
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return f"{PROVIDER_DIR / 'node_modules'} is missing: run `{INSTALL_COMMAND}` (.ci/run does)"
    return None


@dataclass(eq=False)
class OidcProvider:
    """One provider process with one confidential client and a few accounts."""

    redirect_uris: Sequence[str]
    accounts: Sequence[OidcAccount]
    workdir: Path
    client_id: str = "trainops"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    claims_scope: str = "trainops"
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def log_path(self) -> Path:
        return self.workdir / "oidc-provider.log"

    def log_tail(self, lines: int = 40) -> str:
        return tail_text(self.log_path, lines)

    def _write_config(self) -> Path:
        path = self.workdir / "oidc-provider.json"
        config = {
            "port": self.port,
            "issuer": self.issuer,
            "client": {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "redirect_uris": list(self.redirect_uris),
            },
            "accounts": [
                {"sub": a.sub, "password": a.password, "claims": dict(a.claims)}
                for a in self.accounts
            ],
            "admin_token": self.admin_token,
            "claims_scope": self.claims_scope,
        }
        path.write_text(json.dumps(config))
        path.chmod(0o600)
        return path

    def start(self, timeout: float = 20.0) -> OidcProvider:
        """Start the program on a free port; wait (polling discovery, with a deadline) until it
        answers. A port taken between our probe and its bind is retried once on a new port."""
        reason = provider_unavailable_reason()
        if reason is not None:
            raise OidcProviderUnavailable(reason)
        self.workdir.mkdir(parents=True, exist_ok=True)
        for attempt in range(2):
            self.port = free_port()
            config = self._write_config()
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(
                    ["node", str(PROVIDER_DIR / "provider.mjs"), str(config)],
                    cwd=PROVIDER_DIR,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            try:
                self._wait_ready(timeout)
            except OidcProviderStartError:
                code = self.process.poll()
                self.stop()
                if code == ADDRESS_IN_USE_EXIT and attempt == 0:
                    continue
                raise
            return self
        raise AssertionError("unreachable")

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.05
        with httpx.Client(timeout=2.0) as client:
            while True:
                assert self.process is not None
                code = self.process.poll()
                if code is not None:
                    raise OidcProviderStartError(
                        f"OpenID provider exited with code {code} during start-up; "
                        f"log {self.log_path}:\n{self.log_tail()}"
                    )
                try:
                    if client.get(self.discovery_url).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise OidcProviderStartError(
                        f"OpenID provider did not answer {self.discovery_url} within "
                        f"{timeout:g} s; log {self.log_path}:\n{self.log_tail()}"
                    )
                time.sleep(delay)
                delay = min(delay * 1.5, 0.5)

    def stop(self, timeout: float = 5.0) -> None:
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _admin(self, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(
            f"{self.issuer}{path}",
            json=dict(body or {}),
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=10.0,
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def rotate_keys(self) -> str:
        """A new signing key, first in the JWKS; the old one is dropped. Returns the new kid."""
        kid: str = self._admin("/admin/rotate-keys")["kid"]
        return kid

    def set_redirect_uris(self, redirect_uris: Sequence[str]) -> None:
        """Register new redirect URIs for the client (a service started after the provider
        on a port it picked itself)."""
        self._admin("/admin/redirect-uris", {"redirect_uris": list(redirect_uris)})
        self.redirect_uris = list(redirect_uris)

    def signing_kids(self) -> list[str]:
        kids: list[str] = self._admin("/admin/keys")["kids"]
        return kids

    def sabotage_next_id_token(
        self, mode: SabotageMode, claims: Mapping[str, Any] | None = None
    ) -> None:
        """Make the next token response carry a broken ID token.

        ``tamper``: claims changed (``claims``, default ``role: admin``), signature kept;
        ``unknown-key``: re-signed by a never-published key under a new kid;
        ``foreign-key-same-kid``: the same, under the current kid;
        ``claims``: validly re-signed with ``claims`` replacing the real ones (``None`` removes).
        """
        body: dict[str, Any] = {"mode": mode}
        if claims is not None:
            body["claims"] = dict(claims)
        self._admin("/admin/sabotage-next-id-token", body)


_FORM = re.compile(r'<form[^>]*\baction="([^"]+)"', re.IGNORECASE)


async def sign_in_at_provider(
    authorization_url: str,
    *,
    login: str,
    password: str,
    redirect_uri: str,
    client: httpx.AsyncClient | None = None,
    max_steps: int = 12,
) -> str:
    """Act as the person's browser at the provider: follow its redirects, post the login form,
    and return the URL it finally sends the browser to (the client's ``redirect_uri`` with
    ``code``/``state`` or an ``error``). The browser's provider cookies live in ``client``."""
    own = client is None
    browser = client or httpx.AsyncClient(timeout=10.0)
    try:
        url = authorization_url
        method = "GET"
        data: dict[str, str] | None = None
        for _ in range(max_steps):
            if url.startswith(redirect_uri):
                return url
            response = await browser.request(method, url, data=data)
            method, data = "GET", None
            if response.is_redirect:
                url = urljoin(url, response.headers["location"])
                continue
            match = _FORM.search(response.text)
            if response.status_code == 200 and match:
                url = urljoin(url, unescape(match.group(1)))
                method, data = "POST", {"login": login, "password": password}
                continue
            raise AssertionError(
                f"provider answered {response.status_code} at {url}: {response.text[:500]}"
            )
        raise AssertionError(f"no redirect to {redirect_uri} within {max_steps} steps")
    finally:
        if own:
            await browser.aclose()


class OidcProviderFactory:
    """``factory(redirect_uris=..., accounts=...)`` -> a started :class:`OidcProvider`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.providers: list[OidcProvider] = []

    def __call__(
        self,
        *,
        redirect_uris: Sequence[str],
        accounts: Sequence[OidcAccount],
        client_id: str = "trainops",
    ) -> OidcProvider:
        provider = OidcProvider(
            redirect_uris=redirect_uris,
            accounts=accounts,
            client_id=client_id,
            workdir=self.root / f"provider{len(self.providers) + 1}",
        )
        self.providers.append(provider)
        return provider.start()

    def stop_all(self) -> None:
        for provider in self.providers:
            provider.stop()


@pytest.fixture
def oidc_provider_factory(tmp_path: Path) -> Iterator[OidcProviderFactory]:
    """Started OpenID providers, stopped after the test; skips (naming the install command) when
    Node.js or the provider's ``node_modules`` is missing."""
    reason = provider_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    factory = OidcProviderFactory(tmp_path / "oidc")
    try:
        yield factory
    finally:
        factory.stop_all()
