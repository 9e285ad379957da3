"""Organisation sign-in end to end: the identity service (in-process, on SQLite and PostgreSQL)
and a real OpenID provider (``oidc-provider`` on Node.js) started by the test: claims mapping,
admin-assigns, key rotation, outages and what never reaches the log."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from oidc_support import (
    ALICE,
    BASE_URL,
    BOB,
    CAROL,
    HTML,
    Identity,
    at_provider,
    begin,
    oidc_env,
    rows,
    session_claims,
    sign_in,
)

from trainops_devtools.testing.oidc_provider import OidcProvider
from trainops_devtools.testing.ports import free_port
from trainops_devtools.testing.tokens import bearer
from trainops_shared.auth import SESSION_COOKIE

pytestmark = pytest.mark.integration


# ------------------------------------------------------------------ signing in


async def test_sign_in_page_offers_the_organisation(identity: Identity) -> None:
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
    identity: Identity, database_url: str
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


async def test_reporting_role_from_a_mapped_group_claim(identity: Identity) -> None:
    role_map = '{"kz-donor-reports": "reporting", "kz-coordinators": "coordinator"}'
    async with identity(OIDC_ROLE_CLAIM="groups", OIDC_ROLE_MAP=role_map) as client:
        claims = session_claims(await sign_in(client, BOB))
        assert claims["role"] == "reporting" and "region" not in claims
        assert claims["sub"] == "bob"  # from the e-mail's local part
        client.cookies.clear()
        claims = session_claims(await sign_in(client, ALICE))
        assert (claims["role"], claims["region"]) == ("coordinator", "aktobe")


async def test_next_goes_back_to_another_service(identity: Identity) -> None:
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
    identity: Identity, database_url: str
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
    identity: Identity, database_url: str
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
    identity: Identity, database_url: str
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


async def test_admin_gives_access_from_the_admin_page(identity: Identity) -> None:
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
    identity: Identity,
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


# ------------------------------------------------------------------ keys, outages, secrets


async def test_jwks_rotation_between_two_sign_ins(
    identity: Identity, provider: OidcProvider
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
    open_identity: Identity, provider: OidcProvider
) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    async with open_identity(**oidc_env(provider, OIDC_ISSUER=down)) as client:
        response = await client.get("/sign-in/oidc", headers=HTML, follow_redirects=False)
        assert response.status_code == 503
        assert int(response.headers["retry-after"]) > 0
        assert "cannot be reached" in response.text


async def test_without_settings_there_is_no_organisation_sign_in(
    open_identity: Identity,
) -> None:
    async with open_identity() as client:
        page = await client.get("/sign-in", headers=HTML)
        assert "/sign-in/oidc" not in page.text
        assert (await client.get("/sign-in/oidc", follow_redirects=False)).status_code == 404


async def test_secret_codes_and_tokens_never_reach_the_log(
    identity: Identity, provider: OidcProvider, capfd: pytest.CaptureFixture[str]
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
