"""The shared auth middleware with browser sessions: cookie, CSRF, redirects, revocation.

A minimal Litestar app with the middleware as every service configures it, driven by
Litestar's test client (no servers): what any service answers a browser and a script.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar import Litestar, Request, get, post
from litestar.middleware import DefineMiddleware
from litestar.testing import TestClient

from trainops_shared.auth import SESSION_COOKIE, JwtAuthMiddleware, JwtConfig, issue_token
from trainops_shared.credentials import public_key_pem
from trainops_shared.events import SessionRevoked, encode_event, uuid7
from trainops_shared.revocations import RevocationSet

pytestmark = pytest.mark.unit

KEY = Ed25519PrivateKey.generate()
IDENTITY = "http://127.0.0.1:18005"
SERVICE = "http://127.0.0.1:18002"
HTML = {"accept": "text/html,application/xhtml+xml"}


def cookie_token(sid: str = "sid-1", csrf: str = "csrf-1", ttl: int = 300) -> str:
    return issue_token(
        key=KEY,
        role="programme_staff",
        subject="aigerim",
        session_id=sid,
        csrf=csrf,
        ttl_seconds=ttl,
    )


@get("/page", sync_to_thread=False)
def page(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {"user": request.user.subject}


@post("/change", sync_to_thread=False, status_code=200)
def change(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {"user": request.user.subject}


@post("/form", status_code=200)
async def form(request: Request[Any, Any, Any]) -> dict[str, str]:
    data = await request.form()
    return {"title": str(data.get("title"))}


@pytest.fixture
def revocations() -> RevocationSet:
    return RevocationSet()


@pytest.fixture
def client(revocations: RevocationSet) -> Iterator[TestClient[Litestar]]:
    app = Litestar(
        route_handlers=[page, change, form],
        middleware=[
            DefineMiddleware(
                JwtAuthMiddleware,
                config=JwtConfig(public_key_pem(KEY)),
                revocations=revocations,
                identity_url=IDENTITY,
                public_url=SERVICE,
            )
        ],
    )
    with TestClient(app, base_url=SERVICE) as test_client:
        yield test_client


def test_an_anonymous_page_request_goes_to_sign_in_and_an_api_call_gets_401(
    client: TestClient[Litestar],
) -> None:
    page = client.get("/page?x=1", headers=HTML, follow_redirects=False)
    assert page.status_code == 303
    location = urlsplit(page.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{IDENTITY}/sign-in"
    assert parse_qs(location.query)["next"] == [f"{SERVICE}/page?x=1"]
    assert client.get("/page").status_code == 401


def test_the_session_cookie_authenticates_reads(client: TestClient[Litestar]) -> None:
    client.cookies.set(SESSION_COOKIE, cookie_token())
    assert client.get("/page", headers=HTML).json() == {"user": "aigerim"}


def test_an_expired_cookie_token_sends_a_page_to_refresh(client: TestClient[Litestar]) -> None:
    claims = jwt.decode(cookie_token(), options={"verify_signature": False})
    past = int(time.time()) - 600
    expired = jwt.encode({**claims, "iat": past, "exp": past + 60}, KEY, algorithm="EdDSA")
    client.cookies.set(SESSION_COOKIE, expired)
    page = client.get("/page", headers=HTML, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith(f"{IDENTITY}/refresh?")
    assert client.get("/page").status_code == 401


def test_unsafe_cookie_requests_need_the_sessions_csrf_value(
    client: TestClient[Litestar],
) -> None:
    client.cookies.set(SESSION_COOKIE, cookie_token(csrf="the-value"))
    missing = client.post("/change")
    assert missing.status_code == 403 and "CSRF" in missing.text
    assert client.post("/change", headers={"X-CSRF-Token": "other"}).status_code == 403
    assert client.post("/change", headers={"X-CSRF-Token": "the-value"}).status_code == 200
    # A form's field works too, and the handler still reads the whole form.
    posted = client.post("/form", data={"csrf_token": "the-value", "title": "Қош келдіңіз"})
    assert posted.json() == {"title": "Қош келдіңіз"}
    assert client.post("/form", data={"csrf_token": "x", "title": "t"}).status_code == 403


def test_bearer_calls_need_no_csrf(client: TestClient[Litestar]) -> None:
    token = issue_token(key=KEY, role="admin", subject="script")
    answer = client.post("/change", headers={"Authorization": f"Bearer {token}"})
    assert answer.json() == {"user": "script"}


def test_a_revoked_session_is_refused_at_once(
    client: TestClient[Litestar], revocations: RevocationSet
) -> None:
    client.cookies.set(SESSION_COOKIE, cookie_token(sid="gone"))
    assert client.get("/page").status_code == 200
    event = SessionRevoked(
        aggregate_id=uuid7(),
        session_id="gone",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        reason="signed_out",
    )
    assert revocations.add_payload(encode_event(event))
    assert client.get("/page").status_code == 401
    page = client.get("/page", headers=HTML, follow_redirects=False)
    assert page.status_code == 303 and "/sign-in?" in page.headers["location"]
    assert not revocations.add_payload(b'{"type": "scheduling.session_cancelled.v1"}')
