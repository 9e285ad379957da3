"""The relying party against a real OpenID provider (``oidc-provider`` on Node.js): the happy
path, and every way an ID token must be refused, with the provider really rotating its keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from trainops_devtools.testing.oidc_provider import (
    OidcAccount,
    OidcProvider,
    OidcProviderFactory,
    sign_in_at_provider,
)
from trainops_identity.adapters.oidc_client import AuthorizationRequest, OidcClient
from trainops_identity.domain.oidc_errors import OidcProviderUnavailable, OidcSignInRefused
from trainops_identity.oidc_settings import load_oidc_settings

pytestmark = pytest.mark.integration

REDIRECT = "http://identity.test/sign-in/oidc/callback"
ALICE = OidcAccount(
    sub="alice-0001",
    password="provider-password-1",
    claims={"email": "alice@org.example", "role": "coordinator", "region": "aktobe"},
)


@pytest.fixture
def provider(oidc_provider_factory: OidcProviderFactory) -> OidcProvider:
    return oidc_provider_factory(redirect_uris=[REDIRECT], accounts=[ALICE])


def settings_env(provider: OidcProvider, **extra: str) -> dict[str, str]:
    return {
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": provider.client_id,
        "OIDC_CLIENT_SECRET": provider.client_secret,
        "OIDC_SCOPES": "openid email profile trainops",
        "OIDC_REDIRECT_URL": REDIRECT,
        **extra,
    }


@pytest.fixture
async def client(provider: OidcProvider) -> AsyncIterator[OidcClient]:
    settings = load_oidc_settings(
        settings_env(provider), public_url="http://identity.test", development=True
    )
    assert settings is not None
    oidc = OidcClient(settings)
    try:
        yield oidc
    finally:
        await oidc.close()


async def authorize(
    oidc: OidcClient, account: OidcAccount = ALICE, *, url_params: dict[str, str] | None = None
) -> tuple[AuthorizationRequest, dict[str, str]]:
    """Start a sign-in, sign in at the provider, return the request and the callback's query."""
    request = await oidc.start()
    url = request.url
    if url_params:
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()} | url_params
        url = parts._replace(query=str(httpx.QueryParams(query))).geturl()
    back = await sign_in_at_provider(
        url, login=account.sub, password=account.password, redirect_uri=REDIRECT
    )
    return request, {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}


async def signed_in_claims(oidc: OidcClient) -> dict[str, Any]:
    request, callback = await authorize(oidc)
    assert callback["state"] == request.state
    id_token = await oidc.exchange_code(callback["code"], request.code_verifier)
    verified = await oidc.verify_id_token(id_token, nonce=request.nonce)
    return dict(verified.claims)


async def test_authorization_request_uses_pkce_s256_state_and_nonce(client: OidcClient) -> None:
    request = await client.start()
    query = parse_qs(urlsplit(request.url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] == [request.state] and query["nonce"] == [request.nonce]
    assert request.code_verifier not in request.url
    assert query["response_type"] == ["code"] and query["redirect_uri"] == [REDIRECT]


async def test_sign_in_gives_verified_claims(client: OidcClient) -> None:
    claims = await signed_in_claims(client)
    assert claims["sub"] == ALICE.sub
    assert claims["role"] == "coordinator" and claims["region"] == "aktobe"
    assert claims["aud"] == client.settings.client_id


async def test_wrong_password_at_provider_never_reaches_us(client: OidcClient) -> None:
    request = await client.start()
    with pytest.raises(AssertionError, match="401"):
        await sign_in_at_provider(
            request.url, login=ALICE.sub, password="not-it", redirect_uri=REDIRECT
        )


async def test_code_without_its_pkce_verifier_is_refused(client: OidcClient) -> None:
    _, callback = await authorize(client)
    other = await client.start()
    with pytest.raises(OidcSignInRefused, match="refused the sign-in code") as caught:
        await client.exchange_code(callback["code"], other.code_verifier)
    assert caught.value.kind == "code"
    assert callback["code"] not in str(caught.value)


async def test_a_code_works_once(client: OidcClient) -> None:
    request, callback = await authorize(client)
    await client.exchange_code(callback["code"], request.code_verifier)
    with pytest.raises(OidcSignInRefused, match="invalid_grant"):
        await client.exchange_code(callback["code"], request.code_verifier)


async def test_nonce_of_another_sign_in_is_refused(client: OidcClient) -> None:
    # Someone injects an authorization response made for a nonce of their choosing.
    request, callback = await authorize(client, url_params={"nonce": "attacker-chosen-nonce"})
    id_token = await client.exchange_code(callback["code"], request.code_verifier)
    with pytest.raises(OidcSignInRefused, match="nonce does not belong"):
        await client.verify_id_token(id_token, nonce=request.nonce)


@pytest.mark.parametrize(
    ("mode", "claims", "message"),
    [
        ("tamper", {"role": "admin"}, "signature does not match"),
        ("foreign-key-same-kid", None, "signature does not match"),
        ("unknown-key", None, "key the provider does not publish"),
        ("claims", {"aud": "another-client"}, "aud claim is wrong"),
        ("claims", {"iss": "https://evil.example"}, "iss claim is wrong"),
        ("claims", {"exp": 1_000_000_000}, "expired"),
        ("claims", {"iat": None}, "lacks the iat claim"),
        ("claims", {"nonce": None}, "nonce does not belong"),
        ("claims", {"azp": "another-client"}, "azp claim names another client"),
        ("claims", {"aud": ["trainops", "someone-else"]}, "several audiences"),
        ("claims", {"sub": "x" * 256}, "longer than 255"),
        ("claims", {"iat": 2_000_000_000_0}, "iat claim is wrong"),
    ],
)
async def test_broken_id_tokens_are_refused(
    provider: OidcProvider,
    client: OidcClient,
    mode: Any,
    claims: dict[str, Any] | None,
    message: str,
) -> None:
    request, callback = await authorize(client)
    provider.sabotage_next_id_token(mode, claims)
    id_token = await client.exchange_code(callback["code"], request.code_verifier)
    with pytest.raises(OidcSignInRefused, match=message) as caught:
        await client.verify_id_token(id_token, nonce=request.nonce)
    assert caught.value.kind == "id_token"
    assert id_token not in str(caught.value)


async def test_unknown_kid_refetches_the_jwks_once_then_refuses(
    provider: OidcProvider, client: OidcClient
) -> None:
    await signed_in_claims(client)
    assert client.jwks_fetches == 1
    request, callback = await authorize(client)
    provider.sabotage_next_id_token("unknown-key")
    id_token = await client.exchange_code(callback["code"], request.code_verifier)
    with pytest.raises(OidcSignInRefused, match="does not publish"):
        await client.verify_id_token(id_token, nonce=request.nonce)
    assert client.jwks_fetches == 2


async def test_key_rotation_between_two_sign_ins(
    provider: OidcProvider, client: OidcClient
) -> None:
    await signed_in_claims(client)
    old_kids = provider.signing_kids()
    new_kid = provider.rotate_keys()
    assert provider.signing_kids() == [new_kid] and new_kid not in old_kids
    # The published set really changed: the old key is gone, the new one is first.
    async with httpx.AsyncClient() as http:
        jwks = (await http.get(f"{provider.issuer}/jwks")).json()
    assert [key["kid"] for key in jwks["keys"]] == [new_kid]

    claims = await signed_in_claims(client)
    assert claims["sub"] == ALICE.sub
    assert client.jwks_fetches == 2  # one refetch for the new kid, not one per request
    claims = await signed_in_claims(client)
    assert client.jwks_fetches == 2


async def test_discovery_of_another_issuer_is_an_outage_not_a_sign_in(
    provider: OidcProvider,
) -> None:
    settings = load_oidc_settings(
        settings_env(provider, OIDC_ISSUER=provider.issuer + "/other"),
        public_url="http://identity.test",
        development=True,
    )
    assert settings is not None
    oidc = OidcClient(settings)
    try:
        with pytest.raises(OidcProviderUnavailable):
            await oidc.start()
    finally:
        await oidc.close()


async def test_wrong_client_secret_is_our_misconfiguration(provider: OidcProvider) -> None:
    settings = load_oidc_settings(
        settings_env(provider, OIDC_CLIENT_SECRET="not-the-secret"),
        public_url="http://identity.test",
        development=True,
    )
    assert settings is not None
    oidc = OidcClient(settings)
    try:
        request, callback = await authorize(oidc)
        with pytest.raises(OidcProviderUnavailable, match="does not accept our client"):
            await oidc.exchange_code(callback["code"], request.code_verifier)
    finally:
        await oidc.close()
