"""Helpers of the identity integration tests: a browser-like client's steps."""

from __future__ import annotations

import re
from typing import Any

import jwt
from litestar import Litestar
from litestar.testing import AsyncTestClient

from trainops_shared.auth import SESSION_COOKIE

HTML = {"accept": "text/html,application/xhtml+xml"}
_FORM_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

Client = AsyncTestClient[Litestar]


def form_csrf(html: str) -> str:
    found = _FORM_CSRF.search(html)
    assert found, "the page has no csrf_token field"
    return found.group(1)


async def sign_in(
    client: Client, username: str, password: str, next_url: str = "", **headers: str
) -> Any:
    """Open the sign-in page (gets the form's CSRF cookie) and post the form."""
    page = await client.get("/sign-in", headers=HTML)
    assert page.status_code == 200, page.text
    return await client.post(
        "/sign-in",
        data={
            "username": username,
            "password": password,
            "next": next_url,
            "csrf_token": form_csrf(page.text),
        },
        headers={**HTML, **headers},
        follow_redirects=False,
    )


def session_token(client: Client) -> str:
    return str(client.cookies.get(SESSION_COOKIE))


def set_session_cookie(client: Client, value: str) -> None:
    """Replace the session cookie the browser holds (as the server set it: host-only)."""
    host = client.base_url.host
    for cookie in list(client.cookies.jar):
        if cookie.name == SESSION_COOKIE:
            client.cookies.delete(cookie.name, domain=cookie.domain, path=cookie.path)
    client.cookies.set(SESSION_COOKIE, value, domain=host, path="/")


def claims(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded
