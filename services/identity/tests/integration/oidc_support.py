"""What the organisation sign-in tests share: the provider's test accounts, the identity service
wired to it, and the browser's steps (begin, sign in at the provider, come back)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient

from trainops_devtools.testing.oidc_provider import (
    OidcAccount,
    OidcProvider,
    OidcProviderFactory,
    sign_in_at_provider,
)
from trainops_devtools.testing.tokens import TEST_PUBLIC_KEY_PEM
from trainops_shared.auth import SESSION_COOKIE
from trainops_shared.storage import open_database

BASE_URL = "http://testserver.local"
CALLBACK = f"{BASE_URL}/sign-in/oidc/callback"
HTML = {"accept": "text/html", "accept-language": "en"}

ALICE = OidcAccount(
    sub="00u-alice",
    password="alice-at-the-provider",
    claims={
        "preferred_username": "alice",
        "email": "alice@org.example",
        "role": "coordinator",
        "region": "Aktobe",
        "groups": ["kz-staff", "kz-coordinators"],
    },
)
BOB = OidcAccount(
    sub="00u-bob",
    password="bob-at-the-provider",
    claims={"email": "bob@org.example", "role": "reporting", "groups": ["kz-donor-reports"]},
)
CAROL = OidcAccount(
    sub="00u-carol",
    password="carol-at-the-provider",
    claims={"preferred_username": "carol", "email": "carol@org.example"},
)
Client = AsyncTestClient[Litestar]
Identity = Callable[..., AbstractAsyncContextManager[Client]]


def start_provider(factory: OidcProviderFactory) -> OidcProvider:
    return factory(redirect_uris=[CALLBACK], accounts=[ALICE, BOB, CAROL])


def oidc_env(provider: OidcProvider, **extra: str) -> dict[str, str]:
    return {
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": provider.client_id,
        "OIDC_CLIENT_SECRET": provider.client_secret,
        "OIDC_SCOPES": "openid email profile trainops",
        "OIDC_ORGANISATION": "Example Org",
        **extra,
    }


def identity_for(open_identity: Callable[..., Any], provider: OidcProvider) -> Identity:
    """``async with identity(**extra_env) as client``: the service wired to ``provider``."""

    @asynccontextmanager
    async def factory(**extra: str) -> AsyncIterator[Client]:
        async with open_identity(**oidc_env(provider, **extra)) as client:
            yield client

    return factory


async def rows(database_url: str) -> dict[str, int]:
    """How many accounts, sessions and external identities the service's database holds."""
    db = open_database(database_url)
    await db.start([])
    try:

        def count(conn: sa.Connection) -> dict[str, int]:
            return {
                table: int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
                for table in ("id_accounts", "id_sessions", "id_oidc_identities")
            }

        return await db.read(count)
    finally:
        await db.close()


async def begin(client: Client, next_path: str = "/") -> str:
    """``GET /sign-in/oidc``: the provider URL the browser is sent to."""
    response = await client.get(
        "/sign-in/oidc", params={"next": next_path}, headers=HTML, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"{urlsplit(location).scheme}://127.0.0.1:")
    return location


def with_params(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | params
    return parts._replace(query=str(httpx.QueryParams(query))).geturl()


async def at_provider(url: str, account: OidcAccount) -> str:
    """The callback URL (path and query) the provider sends the browser back to."""
    back = await sign_in_at_provider(
        url, login=account.sub, password=account.password, redirect_uri=CALLBACK
    )
    return back[len(BASE_URL) :]


async def sign_in(client: Client, account: OidcAccount) -> httpx.Response:
    callback = await at_provider(await begin(client), account)
    return await client.get(callback, headers=HTML, follow_redirects=False)


def session_claims(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 303, response.text
    cookie = response.cookies.get(SESSION_COOKIE)
    assert cookie, response.headers
    claims: dict[str, Any] = jwt.decode(
        cookie,
        TEST_PUBLIC_KEY_PEM,
        algorithms=["EdDSA"],
        audience="trainops",
        options={"verify_exp": True},
    )
    return claims


def assert_refused(response: httpx.Response, message: str) -> None:
    assert response.status_code == 400, response.text
    assert "text/html" in response.headers["content-type"]
    assert message in response.text
    assert SESSION_COOKIE not in response.cookies
    assert "no-store" in response.headers["cache-control"]
