"""Organisation sign-in end to end: the identity service (in-process, on SQLite and PostgreSQL)
and a real OpenID provider (``oidc-provider`` on Node.js) started by the test.

Each refusal is checked for what it must not do: no session cookie, and no account, session or
external identity written.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient

from trainops_devtools.testing.oidc_provider import (
    OidcAccount,
    OidcProvider,
    OidcProviderFactory,
    sign_in_at_provider,
)
from trainops_devtools.testing.ports import free_port
from trainops_devtools.testing.tokens import TEST_PUBLIC_KEY_PEM, bearer
from trainops_identity.api import oidc as oidc_api
from trainops_shared.auth import SESSION_COOKIE
from trainops_shared.storage import open_database

pytestmark = pytest.mark.integration

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


@pytest.fixture
def provider(oidc_provider_factory: OidcProviderFactory) -> OidcProvider:
    return oidc_provider_factory(redirect_uris=[CALLBACK], accounts=[ALICE, BOB, CAROL])


def oidc_env(provider: OidcProvider, **extra: str) -> dict[str, str]:
    return {
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": provider.client_id,
        "OIDC_CLIENT_SECRET": provider.client_secret,
        "OIDC_SCOPES": "openid email profile trainops",
        "OIDC_ORGANISATION": "Example Org",
        **extra,
    }


@pytest.fixture
def identity(open_identity: Callable[..., Any], provider: OidcProvider) -> Callable[..., Any]:
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


# ------------------------------------------------------------------ signing in


async def test_sign_in_page_offers_the_organisation(identity: Callable[..., Any]) -> None:
    async with identity() as client:
        page = await client.get("/sign-in", params={"next": "/"}, headers=HTML)
        assert page.status_code == 200
        assert "Sign in with Example Org" in page.text or "Войти через Example Org" in page.text
        assert 'href="/sign-in/oidc?next=' in page.text
        assert 'name="username"' in page.text  # the password form stays
        russian = await client.get("/sign-in", params={"lang": "ru"}, headers=HTML)
        assert "Войти через Example Org" in russian.text
        kazakh = await client.get("/sign-in", params={"lang": "kk"}, headers=HTML)
        assert "Example Org арқылы кіру" in kazakh.text


async def test_coordinator_signs_in_with_role_and_region_from_claims(
    identity: Callable[..., Any], database_url: str
) -> None:
    async with identity() as client:
        response = await sign_in(client, ALICE)
        claims = session_claims(response)
        assert (claims["sub"], claims["role"], claims["region"]) == (
            "alice",
            "coordinator",
            "aktobe",
        )
        assert response.headers["location"] == f"{BASE_URL}/"
        page = await client.get("/", headers=HTML)
        assert page.status_code == 200 and "alice" in page.text
        assert await rows(database_url) == {
            "id_accounts": 1,
            "id_sessions": 1,
            "id_oidc_identities": 1,
        }
        # The second sign-in finds the same account: one account, two sessions.
        client.cookies.clear()
        again = session_claims(await sign_in(client, ALICE))
        assert again["sub"] == "alice" and again["sid"] != claims["sid"]
        assert await rows(database_url) == {
            "id_accounts": 1,
            "id_sessions": 2,
            "id_oidc_identities": 1,
        }


async def test_reporting_role_from_a_mapped_group_claim(identity: Callable[..., Any]) -> None:
    role_map = '{"kz-donor-reports": "reporting", "kz-coordinators": "coordinator"}'
    async with identity(OIDC_ROLE_CLAIM="groups", OIDC_ROLE_MAP=role_map) as client:
        claims = session_claims(await sign_in(client, BOB))
        assert claims["role"] == "reporting" and "region" not in claims
        assert claims["sub"] == "bob"  # from the e-mail's local part
        client.cookies.clear()
        claims = session_claims(await sign_in(client, ALICE))
        assert (claims["role"], claims["region"]) == ("coordinator", "aktobe")


async def test_next_goes_back_to_another_service(identity: Callable[..., Any]) -> None:
    async with identity() as client:
        url = await begin(client, "http://127.0.0.1:18001/sessions")
        response = await client.get(
            await at_provider(url, BOB), headers=HTML, follow_redirects=False
        )
        assert response.status_code == 303
        assert response.headers["location"] == "http://127.0.0.1:18001/sessions"
        url = await begin(client, "https://evil.example/")
        response = await client.get(
            await at_provider(url, BOB), headers=HTML, follow_redirects=False
        )
        assert response.headers["location"] == f"{BASE_URL}/"


async def test_local_account_of_the_same_name_is_not_taken_over(
    identity: Callable[..., Any], database_url: str
) -> None:
    async with identity() as client:
        created = await client.post(
            "/accounts",
            json={"username": "alice", "role": "admin", "password": "a long local passphrase"},
            headers=bearer("admin"),
        )
        assert created.status_code == 201, created.text
        claims = session_claims(await sign_in(client, ALICE))
        assert claims["sub"].startswith("alice-") and claims["role"] == "coordinator"


async def test_a_role_changed_at_the_provider_applies_and_ends_old_sessions(
    identity: Callable[..., Any], database_url: str
) -> None:
    async with identity() as client:
        first = await sign_in(client, ALICE)
        assert session_claims(first)["role"] == "coordinator"
        old_cookie = first.cookies[SESSION_COOKIE]
    # The organisation moves Alice: the same person now maps to reporting.
    role_map = '{"kz-staff": "reporting"}'
    async with identity(OIDC_ROLE_CLAIM="groups", OIDC_ROLE_MAP=role_map) as client:
        claims = session_claims(await sign_in(client, ALICE))
        assert (claims["sub"], claims["role"]) == ("alice", "reporting")
        assert "region" not in claims
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, old_cookie)
        refreshed = await client.get("/refresh", headers=HTML, follow_redirects=False)
        assert refreshed.status_code == 303
        assert "/sign-in" in refreshed.headers["location"]  # the old session was revoked
        assert (await rows(database_url))["id_accounts"] == 1


# ------------------------------------------------------------------ admin assigns


async def test_admin_assigns_role_and_region_on_first_sign_in(
    identity: Callable[..., Any], database_url: str
) -> None:
    async with identity(OIDC_ROLE_MODE="admin-assigns") as client:
        first = await sign_in(client, CAROL)
        assert first.status_code == 200, first.text
        assert "Example Org confirmed who you are" in first.text
        assert SESSION_COOKIE not in first.cookies
        assert await rows(database_url) == {
            "id_accounts": 0,
            "id_sessions": 0,
            "id_oidc_identities": 1,
        }
        # Pending again on a second try, still one person in the list.
        await sign_in(client, CAROL)
        listed = await client.get("/admin/oidc/pending", headers=bearer("admin"))
        assert listed.status_code == 200
        pending = listed.json()["pending"]
        assert [p["label"] for p in pending] == ["carol"]
        refused = await client.get("/admin/oidc/pending", headers=bearer("coordinator", "almaty"))
        assert refused.status_code == 403

        person = pending[0]["identity_id"]
        bad = await client.post(
            f"/admin/oidc/pending/{person}",
            json={"username": "carol", "role": "coordinator"},
            headers=bearer("admin"),
        )
        assert bad.status_code == 422 and "region" in bad.json()["detail"]
        assigned = await client.post(
            f"/admin/oidc/pending/{person}",
            json={"username": "carol", "role": "coordinator", "region": "almaty"},
            headers=bearer("admin"),
        )
        assert assigned.status_code == 201, assigned.text
        assert assigned.json() == {"username": "carol", "role": "coordinator", "region": "almaty"}
        twice = await client.post(
            f"/admin/oidc/pending/{person}",
            json={"username": "carol2", "role": "reporting"},
            headers=bearer("admin"),
        )
        assert twice.status_code == 422
        assert (await client.get("/admin/oidc/pending", headers=bearer("admin"))).json() == {
            "pending": []
        }

        claims = session_claims(await sign_in(client, CAROL))
        assert (claims["sub"], claims["role"], claims["region"]) == (
            "carol",
            "coordinator",
            "almaty",
        )


async def test_admin_gives_access_from_the_admin_page(identity: Callable[..., Any]) -> None:
    async with identity(OIDC_ROLE_MODE="admin-assigns") as client:
        accounts_page = await client.get("/admin/accounts", headers={**HTML, **bearer("admin")})
        assert 'href="/admin/oidc"' in accounts_page.text
        empty = await client.get("/admin/oidc", headers={**HTML, **bearer("admin")})
        assert empty.status_code == 200 and "Nobody is waiting." in empty.text
        await sign_in(client, CAROL)
        page = await client.get("/admin/oidc", headers={**HTML, **bearer("admin")})
        assert "Waiting for access after signing in with Example Org" in page.text
        assert "carol" in page.text and "carol@org.example" not in page.text
        action = re.search(r'action="(/admin/oidc/pending/[^"]+/assign)"', page.text)
        assert action is not None
        refused = await client.post(
            action.group(1),
            data={"username": "carol", "role": "coordinator"},
            headers={**HTML, **bearer("admin")},
        )
        assert refused.status_code == 422 and "region" in refused.text
        done = await client.post(
            action.group(1),
            data={"username": "carol", "role": "coordinator", "region": "aktobe"},
            headers={**HTML, **bearer("admin")},
        )
        assert done.status_code == 200, done.text
        assert "carol can now sign in." in done.text and "Nobody is waiting." in done.text
        not_admin = await client.get("/admin/oidc", headers={**HTML, **bearer("reporting")})
        assert not_admin.status_code == 403
        claims = session_claims(await sign_in(client, CAROL))
        assert (claims["role"], claims["region"]) == ("coordinator", "aktobe")


async def test_admin_assigned_role_is_not_overridden_by_claims(
    identity: Callable[..., Any],
) -> None:
    async with identity(OIDC_ROLE_MODE="admin-assigns") as client:
        await sign_in(client, ALICE)
        person = (await client.get("/admin/oidc/pending", headers=bearer("admin"))).json()
        identity_id = person["pending"][0]["identity_id"]
        await client.post(
            f"/admin/oidc/pending/{identity_id}",
            json={"username": "alice", "role": "reporting"},
            headers=bearer("admin"),
        )
        claims = session_claims(await sign_in(client, ALICE))
        assert claims["role"] == "reporting" and "region" not in claims


# ------------------------------------------------------------------ refusals change nothing


async def test_tampered_id_token_is_refused(
    identity: Callable[..., Any], provider: OidcProvider, database_url: str
) -> None:
    async with identity() as client:
        callback = await at_provider(await begin(client), BOB)
        provider.sabotage_next_id_token("tamper", {"role": "admin"})
        response = await client.get(callback, headers=HTML)
        assert_refused(response, "signature does not match")
        assert await rows(database_url) == {
            "id_accounts": 0,
            "id_sessions": 0,
            "id_oidc_identities": 0,
        }


async def test_id_token_signed_by_an_unknown_key_is_refused(
    identity: Callable[..., Any], provider: OidcProvider, database_url: str
) -> None:
    async with identity() as client:
        callback = await at_provider(await begin(client), BOB)
        provider.sabotage_next_id_token("unknown-key")
        assert_refused(
            await client.get(callback, headers=HTML), "signed by a key the provider does not"
        )
        assert (await rows(database_url))["id_accounts"] == 0


async def test_wrong_nonce_is_refused(identity: Callable[..., Any], database_url: str) -> None:
    async with identity() as client:
        url = with_params(await begin(client), nonce="a-nonce-of-the-attacker")
        response = await client.get(await at_provider(url, BOB), headers=HTML)
        assert_refused(response, "nonce does not belong to this sign-in")
        assert (await rows(database_url))["id_accounts"] == 0


async def test_replayed_state_is_refused(identity: Callable[..., Any], database_url: str) -> None:
    async with identity() as client:
        callback = await at_provider(await begin(client), BOB)
        session_claims(await client.get(callback, headers=HTML, follow_redirects=False))
        before = await rows(database_url)
        client.cookies.clear()
        replay = await client.get(callback, headers=HTML)
        assert_refused(replay, "unknown, expired or already used")
        assert await rows(database_url) == before


async def test_a_state_older_than_ten_minutes_is_refused(
    identity: Callable[..., Any], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with identity() as client:
        callback = await at_provider(await begin(client), BOB)
        later = datetime.now(UTC) + timedelta(minutes=11)
        monkeypatch.setattr(oidc_api, "_now", lambda: later)
        assert_refused(await client.get(callback, headers=HTML), "unknown, expired")
        assert (await rows(database_url))["id_accounts"] == 0


async def test_unknown_or_missing_state_is_refused(
    identity: Callable[..., Any], database_url: str
) -> None:
    async with identity() as client:
        unknown = await client.get(
            "/sign-in/oidc/callback",
            params={"state": "made-up-state", "code": "made-up-code"},
            headers=HTML,
        )
        assert_refused(unknown, "unknown, expired or already used")
        missing = await client.get("/sign-in/oidc/callback", params={"code": "x"}, headers=HTML)
        assert_refused(missing, "no state parameter")
        assert await rows(database_url) == {
            "id_accounts": 0,
            "id_sessions": 0,
            "id_oidc_identities": 0,
        }


async def test_provider_error_and_foreign_issuer_are_refused(
    identity: Callable[..., Any],
) -> None:
    async with identity() as client:
        state = parse_qs(urlsplit(await begin(client)).query)["state"][0]
        denied = await client.get(
            "/sign-in/oidc/callback",
            params={"state": state, "error": "access_denied"},
            headers=HTML,
        )
        assert_refused(denied, "did not sign you in (access_denied)")
        state = parse_qs(urlsplit(await begin(client)).query)["state"][0]
        mixed_up = await client.get(
            "/sign-in/oidc/callback",
            params={"state": state, "code": "c", "iss": "https://other.example"},
            headers=HTML,
        )
        assert_refused(mixed_up, "another identity provider")


async def test_claims_without_a_role_are_refused(
    identity: Callable[..., Any], database_url: str
) -> None:
    async with identity() as client:
        response = await sign_in(client, CAROL)
        assert_refused(response, "has no &#39;role&#39; claim")
        assert await rows(database_url) == {
            "id_accounts": 0,
            "id_sessions": 0,
            "id_oidc_identities": 0,
        }


async def test_disabled_account_gets_no_session(
    identity: Callable[..., Any], database_url: str
) -> None:
    async with identity() as client:
        session_claims(await sign_in(client, BOB))
        disabled = await client.post("/accounts/bob/disable", headers=bearer("admin"))
        assert disabled.status_code == 200, disabled.text
        before = await rows(database_url)
        client.cookies.clear()
        assert_refused(await sign_in(client, BOB), "disabled")
        assert await rows(database_url) == before


# ------------------------------------------------------------------ keys, outages, secrets


async def test_jwks_rotation_between_two_sign_ins(
    identity: Callable[..., Any], provider: OidcProvider
) -> None:
    async with identity() as client:
        first = session_claims(await sign_in(client, ALICE))
        old = provider.signing_kids()
        new = provider.rotate_keys()
        assert new not in old
        client.cookies.clear()
        second = session_claims(await sign_in(client, ALICE))
        assert second["sub"] == first["sub"] == "alice"


async def test_unreachable_provider_is_503_with_retry_after(
    open_identity: Callable[..., Any], provider: OidcProvider
) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    async with open_identity(**oidc_env(provider, OIDC_ISSUER=down)) as client:
        response = await client.get("/sign-in/oidc", headers=HTML, follow_redirects=False)
        assert response.status_code == 503
        assert int(response.headers["retry-after"]) > 0
        assert "cannot be reached" in response.text


async def test_without_settings_there_is_no_organisation_sign_in(
    open_identity: Callable[..., Any],
) -> None:
    async with open_identity() as client:
        page = await client.get("/sign-in", headers=HTML)
        assert "/sign-in/oidc" not in page.text
        assert (await client.get("/sign-in/oidc", follow_redirects=False)).status_code == 404


async def test_secret_codes_and_tokens_never_reach_the_log(
    identity: Callable[..., Any], provider: OidcProvider, capfd: pytest.CaptureFixture[str]
) -> None:
    async with identity() as client:
        callback = await at_provider(await begin(client), ALICE)
        code = parse_qs(urlsplit(callback).query)["code"][0]
        response = await client.get(callback, headers=HTML, follow_redirects=False)
        session_claims(response)
        token = response.cookies[SESSION_COOKIE]
        provider.sabotage_next_id_token("tamper")
        client.cookies.clear()
        await sign_in(client, ALICE)
    out, err = capfd.readouterr()
    logged = out + err
    assert "oidc_sign_in_refused" in logged  # the log is captured here at all
    for secret in (provider.client_secret, code, token, str(ALICE.claims["email"])):
        assert secret not in logged
    assert "eyJ" not in logged  # no JWT at all: neither an ID token nor a session token
