"""Organisation sign-in refusals, against the real provider: each is a 400 page naming the check
that failed, with no session cookie and no account, session or external identity written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from oidc_support import (
    BOB,
    CAROL,
    HTML,
    Identity,
    assert_refused,
    at_provider,
    begin,
    rows,
    session_claims,
    sign_in,
    with_params,
)

from trainops_devtools.testing.oidc_provider import OidcProvider
from trainops_devtools.testing.tokens import bearer
from trainops_identity.api import oidc as oidc_api

pytestmark = pytest.mark.integration


# ------------------------------------------------------------------ refusals change nothing


async def test_tampered_id_token_is_refused(
    identity: Identity, provider: OidcProvider, database_url: str
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
    identity: Identity, provider: OidcProvider, database_url: str
) -> None:
    async with identity() as client:
        callback = await at_provider(await begin(client), BOB)
        provider.sabotage_next_id_token("unknown-key")
        assert_refused(
            await client.get(callback, headers=HTML), "signed by a key the provider does not"
        )
        assert (await rows(database_url))["id_accounts"] == 0


async def test_wrong_nonce_is_refused(identity: Identity, database_url: str) -> None:
    async with identity() as client:
        url = with_params(await begin(client), nonce="a-nonce-of-the-attacker")
        response = await client.get(await at_provider(url, BOB), headers=HTML)
        assert_refused(response, "nonce does not belong to this sign-in")
        assert (await rows(database_url))["id_accounts"] == 0


async def test_replayed_state_is_refused(identity: Identity, database_url: str) -> None:
    async with identity() as client:
        callback = await at_provider(await begin(client), BOB)
        state = parse_qs(urlsplit(callback).query)["state"][0]
        first = await client.get(callback, headers=HTML, follow_redirects=False)
        session_claims(first)
        assert first.cookies.get(oidc_api.STATE_COOKIE) in (None, "")  # the state cookie has served
        before = await rows(database_url)
        client.cookies.clear()
        # Even with the browser's state cookie put back, the state works only once.
        client.cookies.set(oidc_api.STATE_COOKIE, state, path=oidc_api.STATE_COOKIE_PATH)
        replay = await client.get(callback, headers=HTML)
        assert_refused(replay, "unknown, expired or already used")
        assert await rows(database_url) == before


async def test_a_callback_from_another_browser_is_refused(
    identity: Identity, database_url: str
) -> None:
    """Login CSRF: an attacker signs in at the provider and sends the callback URL to a victim,
    whose browser never started that sign-in (it has no state cookie, or another one)."""
    async with identity() as attacker:
        callback = await at_provider(await begin(attacker), BOB)
    async with identity() as victim:
        await begin(victim)  # a sign-in of the victim's own, with its own state cookie
        for cookies in (True, False):
            if not cookies:
                victim.cookies.clear()
            refused = await victim.get(callback, headers=HTML)
            assert_refused(refused, "not started in this browser")
        assert (await rows(database_url))["id_accounts"] == 0
        # The attacker's own attempt was not consumed by the refusals.
        attacker_state = parse_qs(urlsplit(callback).query)["state"][0]
        victim.cookies.set(oidc_api.STATE_COOKIE, attacker_state, path=oidc_api.STATE_COOKIE_PATH)
        assert (
            session_claims(await victim.get(callback, headers=HTML, follow_redirects=False))["sub"]
            == "bob"
        )


async def test_a_state_older_than_ten_minutes_is_refused(
    identity: Identity, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with identity() as client:
        callback = await at_provider(await begin(client), BOB)
        later = datetime.now(UTC) + timedelta(minutes=11)
        monkeypatch.setattr(oidc_api, "_now", lambda: later)
        assert_refused(await client.get(callback, headers=HTML), "unknown, expired")
        assert (await rows(database_url))["id_accounts"] == 0


async def test_unknown_or_missing_state_is_refused(identity: Identity, database_url: str) -> None:
    async with identity() as client:
        client.cookies.set(oidc_api.STATE_COOKIE, "made-up-state", path=oidc_api.STATE_COOKIE_PATH)
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
    identity: Identity,
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


async def test_claims_without_a_role_are_refused(identity: Identity, database_url: str) -> None:
    async with identity() as client:
        response = await sign_in(client, CAROL)
        assert_refused(response, "has no &#39;role&#39; claim")
        assert await rows(database_url) == {
            "id_accounts": 0,
            "id_sessions": 0,
            "id_oidc_identities": 0,
        }


async def test_disabled_account_gets_no_session(identity: Identity, database_url: str) -> None:
    async with identity() as client:
        session_claims(await sign_in(client, BOB))
        disabled = await client.post("/accounts/bob/disable", headers=bearer("admin"))
        assert disabled.status_code == 200, disabled.text
        before = await rows(database_url)
        client.cookies.clear()
        assert_refused(await sign_in(client, BOB), "disabled")
        assert await rows(database_url) == before
