"""The identity service through its HTTP API, on a real nats-server, on SQLite and PostgreSQL.

Accounts are made through the admin API; people sign in through the form as a browser does
(CSRF cookie, form fields, redirects, the session cookie) and what they are refused is checked
to have changed nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt as pyjwt
import msgspec
import nats
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from support import (
    HTML,
    Client,
    claims,
    form_csrf,
    session_token,
    set_session_cookie,
    sign_in,
)

from trainops_devtools.testing.tokens import TEST_SIGNING_KEY, token_for
from trainops_identity.adapters.tables import accounts, api_tokens, sessions
from trainops_shared.auth import SESSION_COOKIE
from trainops_shared.events import decode_event
from trainops_shared.events.identity import SessionRevoked

pytestmark = pytest.mark.integration

ADMIN = {"Authorization": f"Bearer {token_for('admin', subject='root')}"}
OTHER_SERVICE = "http://127.0.0.1:18001"
PASSWORD = "a long and unusual phrase"


async def add(client: Client, username: str, role: str, region: str | None = None) -> None:
    body: dict[str, Any] = {"username": username, "role": role, "password": PASSWORD}
    if region:
        body["region"] = region
    response = await client.post("/accounts", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text


async def count(database_url: str, table: sa.Table, *where: Any) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            query = sa.select(sa.func.count()).select_from(table)
            for clause in where:
                query = query.where(clause)
            return int((await conn.execute(query)).scalar_one())
    finally:
        await engine.dispose()


async def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def identity_events(nats_url: str) -> list[Any]:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jsm()
        info = await js.stream_info("IDENTITY")
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            message = await js.get_msg("IDENTITY", seq)
            assert message.data is not None
            found.append(decode_event(message.data))
        return found
    finally:
        await nc.close()


async def test_sign_in_sets_a_short_lived_session_cookie_and_goes_back(
    open_identity: Callable[..., Any],
) -> None:
    async with open_identity() as client:
        await add(client, "aigerim", "coordinator", "aktobe")
        response = await sign_in(client, "Aigerim", PASSWORD, f"{OTHER_SERVICE}/sessions?x=1")
        assert response.status_code == 303, response.text
        assert response.headers["location"] == f"{OTHER_SERVICE}/sessions?x=1"
        cookie = next(
            v
            for k, v in response.headers.multi_items()
            if k == "set-cookie" and SESSION_COOKIE in v
        )
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
        assert {"httponly", "path", "max-age"} <= attributes
        assert "samesite=lax" in cookie.lower() and "domain" not in attributes
        assert "secure" not in attributes  # plain http here; TRAINOPS_COOKIE_SECURE / https
        token = session_token(client)
        found = claims(token)
        assert found["sub"] == "aigerim" and found["role"] == "coordinator"
        assert found["region"] == "aktobe" and found["sid"] and found["csrf"]
        assert found["exp"] - found["iat"] <= 5 * 60
        me = await client.get("/me")
        assert me.json() == {
            "username": "aigerim",
            "role": "coordinator",
            "region": "aktobe",
            "session": True,
        }
        page = await client.get("/", headers=HTML)
        assert page.status_code == 200 and "aigerim" in page.text and 'id="sign-out"' in page.text


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example", "/\\evil"])
async def test_next_never_leaves_our_services(
    open_identity: Callable[..., Any], target: str
) -> None:
    async with open_identity() as client:
        await add(client, "staff1", "programme_staff")
        response = await sign_in(client, "staff1", PASSWORD, target)
        assert response.status_code == 303
        assert response.headers["location"] == "http://testserver.local/"


async def test_wrong_password_unknown_user_and_disabled_user_get_one_answer(
    open_identity: Callable[..., Any], database_url: str
) -> None:
    async with open_identity() as client:
        await add(client, "known", "reporting")
        await add(client, "gone", "reporting")
        assert (await client.post("/accounts/gone/disable", headers=ADMIN)).status_code == 200
        answers = [
            await sign_in(client, "known", "not the password at all"),
            await sign_in(client, "nobody-here", PASSWORD),
            await sign_in(client, "gone", PASSWORD),
        ]
        for answer in answers:
            assert answer.status_code == 401
            assert "Неверное имя пользователя или пароль" in answer.text  # default: Russian
            assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")
        assert await count(database_url, sessions) == 0
        audit = (await client.get("/audit", headers=ADMIN)).json()
        entries = audit["entries"] if isinstance(audit, dict) else audit
        failed = [e for e in entries if e["action"] == "identity.sign_in_failed"]
        assert len(failed) == 3
        assert all(PASSWORD not in str(e) for e in entries)


async def test_sign_in_form_needs_its_csrf_cookie(
    open_identity: Callable[..., Any], database_url: str
) -> None:
    async with open_identity() as client:
        await add(client, "forged", "reporting")
        response = await client.post(
            "/sign-in",
            data={"username": "forged", "password": PASSWORD, "csrf_token": "guess"},
            headers=HTML,
        )
        assert response.status_code == 400 and "The form expired" not in response.text
        assert "Форма устарела" in response.text
        assert await count(database_url, sessions) == 0


async def test_failed_sign_ins_are_limited_per_account_with_retry_after(
    open_identity: Callable[..., Any],
) -> None:
    async with open_identity() as client:
        await add(client, "target", "admin")
        for _ in range(5):
            assert (await sign_in(client, "target", "wrong guess number x")).status_code == 401
        limited = await sign_in(client, "target", PASSWORD)  # even the right password now
        assert limited.status_code == 429
        assert 0 < int(limited.headers["retry-after"]) <= 15 * 60
        assert "Слишком много неудачных попыток" in limited.text
        # Another account from the same address is still allowed (20 per address).
        await add(client, "bystander", "reporting")
        assert (await sign_in(client, "bystander", PASSWORD)).status_code == 303


async def test_failed_sign_ins_are_limited_per_client_address(
    open_identity: Callable[..., Any],
) -> None:
    """Many usernames tried from one address: after 20 failures in the window, every sign-in
    from there waits, including one of a real account with its right password."""
    async with open_identity() as client:
        await add(client, "real", "reporting")
        for attempt in range(20):
            answer = await sign_in(client, f"guess{attempt}", "some password or other")
            assert answer.status_code == 401
        limited = await sign_in(client, "real", PASSWORD)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0


async def test_languages_switch_and_are_remembered(open_identity: Callable[..., Any]) -> None:
    async with open_identity() as client:
        kazakh = await client.get("/sign-in", headers={**HTML, "accept-language": "kk-KZ,ru;q=0.5"})
        assert '<html lang="kk">' in kazakh.text and "Құпиясөз" in kazakh.text
        assert '<label for="username">' in kazakh.text and '<label for="password">' in kazakh.text
        english = await client.get("/sign-in?lang=en", headers=HTML)
        assert '<html lang="en">' in english.text and "Password" in english.text
        remembered = await client.get("/sign-in", headers={**HTML, "accept-language": "kk"})
        assert '<html lang="en">' in remembered.text


async def test_csrf_is_required_for_cookie_authenticated_changes(
    open_identity: Callable[..., Any], database_url: str
) -> None:
    async with open_identity() as client:
        await add(client, "maker", "programme_staff")
        assert (await sign_in(client, "maker", PASSWORD)).status_code == 303
        body = {"name": "script", "expires_in_days": 30}
        refused = await client.post("/tokens", json=body)
        assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
        wrong = await client.post("/tokens", json=body, headers={"X-CSRF-Token": "nope"})
        assert wrong.status_code == 403
        form = await client.post("/account/tokens", data={"name": "x", "expires_in_days": "5"})
        assert form.status_code == 403
        assert await count(database_url, api_tokens) == 0
        csrf = claims(session_token(client))["csrf"]
        made = await client.post("/tokens", json=body, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201, made.text
        page = await client.get("/", headers=HTML)
        via_form = await client.post(
            "/account/tokens",
            data={"name": "form", "expires_in_days": "5", "csrf_token": form_csrf(page.text)},
        )
        assert via_form.status_code == 201 and 'id="new-token"' in via_form.text
        assert await count(database_url, api_tokens) == 2


async def test_expired_cookie_token_is_refreshed_while_the_session_lives(
    open_identity: Callable[..., Any], database_url: str
) -> None:
    async with open_identity(SESSION_TOKEN_MINUTES="1") as client:
        await add(client, "idle", "reporting")
        assert (await sign_in(client, "idle", PASSWORD)).status_code == 303
        # What the browser holds minutes later: the same claims, signed by the same key, past
        # their expiry (waiting out even a one-minute token would slow the suite down).
        current = claims(session_token(client))
        expired = pyjwt.encode(
            {**current, "iat": current["iat"] - 600, "exp": current["iat"] - 300},
            TEST_SIGNING_KEY,
            algorithm="EdDSA",
        )
        set_session_cookie(client, expired)
        page = await client.get("/", headers=HTML, follow_redirects=False)
        assert page.status_code == 303
        location = urlsplit(page.headers["location"])
        assert location.path == "/refresh"
        assert parse_qs(location.query)["next"] == ["http://testserver.local/"]
        api = await client.get("/me")
        assert api.status_code == 401
        refreshed = await client.get(page.headers["location"], follow_redirects=False)
        assert refreshed.status_code == 303
        assert refreshed.headers["location"] == "http://testserver.local/"
        assert claims(session_token(client))["sid"] == current["sid"]
        assert (await client.get("/me")).status_code == 200
        # Idle past its expiry: refresh refuses and sends the browser to sign in again.
        engine = create_async_engine(database_url)
        async with engine.begin() as conn:
            await conn.execute(
                sessions.update().values(idle_expires_at=sa.func.current_timestamp())
            )
        await engine.dispose()
        set_session_cookie(client, expired)
        ended = await client.get("/refresh?next=/", follow_redirects=False)
        assert ended.status_code == 303 and "/sign-in?" in ended.headers["location"]
        assert "ended=true" in ended.headers["location"]


async def test_sign_out_revokes_the_session_everywhere(
    open_identity: Callable[..., Any], nats_url: str, database_url: str
) -> None:
    async with open_identity() as client:
        await add(client, "leaver", "admin")
        assert (await sign_in(client, "leaver", PASSWORD)).status_code == 303
        token = session_token(client)
        sid = claims(token)["sid"]
        no_csrf = await client.post("/sign-out", data={})
        assert no_csrf.status_code == 403
        assert (await client.get("/me")).status_code == 200
        out = await client.post(
            "/sign-out", data={"csrf_token": claims(token)["csrf"]}, follow_redirects=False
        )
        assert out.status_code == 303 and out.headers["location"].startswith("/sign-in?")
        assert await count(database_url, sessions, sessions.c.revoked_at.is_not(None)) == 1

        async def revoked_event() -> bool:
            events = await identity_events(nats_url)
            return any(isinstance(e, SessionRevoked) and e.session_id == sid for e in events)

        await eventually(revoked_event)
        for event in await identity_events(nats_url):
            assert token not in msgspec.json.encode(event).decode()
        # The cookie's token has not expired, yet the service refuses it once the event is in.
        set_session_cookie(client, token)

        async def refused() -> bool:
            return (await client.get("/me")).status_code == 401

        await eventually(refused)
        page = await client.get("/", headers=HTML, follow_redirects=False)
        assert page.status_code == 303 and "/sign-in?" in page.headers["location"]
        refresh = await client.get("/refresh", follow_redirects=False)
        assert "/sign-in?" in refresh.headers["location"]


async def test_personal_token_carries_its_owner_scope_until_revoked(
    open_identity: Callable[..., Any], database_url: str
) -> None:
    async with open_identity() as client:
        await add(client, "scripter", "coordinator", "almaty")
        assert (await sign_in(client, "scripter", PASSWORD)).status_code == 303
        csrf = {"X-CSRF-Token": claims(session_token(client))["csrf"]}
        too_long = await client.post(
            "/tokens", json={"name": "x", "expires_in_days": 400}, headers=csrf
        )
        assert too_long.status_code == 422
        made = (
            await client.post(
                "/tokens", json={"name": "nightly import", "expires_in_days": 30}, headers=csrf
            )
        ).json()
        token = made["token"]
        found = claims(token)
        assert found["jti"] == made["token_id"] and found["role"] == "coordinator"
        assert found["region"] == "almaty" and "sid" not in found
        digest = hashlib.sha256(token.encode()).hexdigest()
        assert await count(database_url, api_tokens, api_tokens.c.token_hash == digest) == 1
        listed = (await client.get("/tokens")).json()
        assert [t["name"] for t in listed] == ["nightly import"] and "token" not in listed[0]
        bearer = {"Authorization": f"Bearer {token}"}
        client.cookies.clear()
        me = await client.get("/me", headers=bearer)
        assert me.json()["username"] == "scripter" and me.json()["region"] == "almaty"
        assert (await client.get("/accounts", headers=bearer)).status_code == 403
        revoked = await client.post(f"/tokens/{made['token_id']}/revoke", headers=bearer)
        assert revoked.status_code == 204

        async def refused() -> bool:
            return (await client.get("/me", headers=bearer)).status_code == 401

        await eventually(refused)


async def test_admin_api_checks_accounts_and_disabling_revokes_everything(
    open_identity: Callable[..., Any], nats_url: str, database_url: str
) -> None:
    async with open_identity() as client:
        weak = {"username": "weak", "role": "reporting", "password": "password1234"}
        assert (await client.post("/accounts", json=weak, headers=ADMIN)).status_code == 422
        short = {**weak, "password": "short"}
        assert (await client.post("/accounts", json=short, headers=ADMIN)).status_code == 422
        same = {**weak, "password": "weak-weak-weak-weak"}
        assert (await client.post("/accounts", json=same, headers=ADMIN)).status_code == 422
        lost = {"username": "c1", "role": "coordinator", "password": PASSWORD}
        answer = await client.post("/accounts", json=lost, headers=ADMIN)
        assert answer.status_code == 422 and answer.json()["field"] == "region"
        assert await count(database_url, accounts) == 0
        await add(client, "victim", "programme_staff")
        again = {"username": "victim", "role": "reporting", "password": PASSWORD}
        assert (await client.post("/accounts", json=again, headers=ADMIN)).status_code == 409
        staff = {"Authorization": f"Bearer {token_for('programme_staff')}"}
        assert (await client.get("/accounts", headers=staff)).status_code == 403
        assert (await sign_in(client, "victim", PASSWORD)).status_code == 303
        sid = claims(session_token(client))["sid"]
        client.cookies.clear()
        disabled = await client.post("/accounts/victim/disable", headers=ADMIN)
        assert disabled.status_code == 200 and disabled.json()["disabled"] is True

        async def revoked() -> bool:
            events = await identity_events(nats_url)
            return any(
                isinstance(e, SessionRevoked)
                and e.session_id == sid
                and e.reason == "account_disabled"
                for e in events
            )

        await eventually(revoked)
        assert (await sign_in(client, "victim", PASSWORD)).status_code == 401
        assert (await client.post("/accounts/victim/enable", headers=ADMIN)).status_code == 200
        assert (await sign_in(client, "victim", PASSWORD)).status_code == 303
        listed = (await client.get("/accounts", headers=ADMIN)).json()
        assert [a["username"] for a in listed] == ["victim"]
        assert "password" not in str(listed) and "hash" not in str(listed)


async def test_owner_changes_their_password_with_the_current_one(
    open_identity: Callable[..., Any], nats_url: str
) -> None:
    async with open_identity() as client:
        await add(client, "owner", "reporting")
        assert (await sign_in(client, "owner", PASSWORD)).status_code == 303
        elsewhere = claims(session_token(client))["sid"]  # e.g. a forgotten browser
        client.cookies.clear()
        assert (await sign_in(client, "owner", PASSWORD)).status_code == 303
        here = claims(session_token(client))["sid"]
        csrf = {"X-CSRF-Token": claims(session_token(client))["csrf"]}
        wrong = await client.post(
            "/me/password",
            json={"current_password": "not it at all", "new_password": "another fine phrase"},
            headers=csrf,
        )
        assert wrong.status_code == 422 and wrong.json()["field"] == "current_password"
        ok = await client.post(
            "/me/password",
            json={"current_password": PASSWORD, "new_password": "another fine phrase"},
            headers=csrf,
        )
        assert ok.status_code == 204
        assert (await client.get("/me")).status_code == 200  # the session it was changed from

        async def other_session_ended() -> bool:
            return any(
                isinstance(e, SessionRevoked)
                and e.session_id == elsewhere
                and e.reason == "password_changed"
                for e in await identity_events(nats_url)
            )

        await eventually(other_session_ended)
        assert not any(
            isinstance(e, SessionRevoked) and e.session_id == here
            for e in await identity_events(nats_url)
        )
        client.cookies.clear()
        assert (await sign_in(client, "owner", PASSWORD)).status_code == 401
        assert (await sign_in(client, "owner", "another fine phrase")).status_code == 303
