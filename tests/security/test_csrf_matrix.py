"""Every state-changing route of every service, sent by a signed-in browser without the CSRF value.

A browser sends the session cookie to our services whatever site made it post, so a change
authenticated by the cookie alone must be refused: the session's CSRF value (form field
``csrf_token`` or header ``X-CSRF-Token``) proves the request came from one of our own pages.
The routes come from each service's OpenAPI document, so a new route is attacked as soon as it
exists; only the public routes (no session needed: sign-in, sign-out, the participant's form)
are left out. One real admin session, signed in through identity's form, sends them all: the
admin may use every route, so the only thing that can refuse these requests is the CSRF check.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx
import pytest
from security_support import PUBLIC_ROUTES, SecuritySystem, Seed

from trainops_devtools.testing.attack import Operation, UnknownParameter, fill_path, operations
from trainops_devtools.testing.processes import SERVICES

pytestmark = pytest.mark.e2e

SESSION_COOKIE = "trainops_session"
CSRF_HEADER = "X-CSRF-Token"
HTML = {"Accept": "text/html,application/xhtml+xml"}
JSON = {"Accept": "application/json"}
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PASSWORD = "a long and unusual csrf phrase"
_FORM_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_csrf(html: str) -> str:
    found = _FORM_CSRF.search(html)
    assert found, f"the page has no csrf_token field: {html[:300]}"
    return found.group(1)


class BrowserSession:
    """A signed-in browser: its session cookie and the CSRF value our pages put in their forms."""

    def __init__(self, cookie: str, csrf: str) -> None:
        self.cookie = cookie
        self.csrf = csrf

    def headers(self, *extra: dict[str, str]) -> dict[str, str]:
        merged = {"Cookie": f"{SESSION_COOKIE}={self.cookie}"}
        for more in extra:
            merged.update(more)
        return merged


@pytest.fixture(scope="module")
def browser(security_system: SecuritySystem) -> BrowserSession:
    """An admin account made through identity's admin API, signed in through the sign-in form
    as a browser does (the form's own CSRF cookie and field), then the account page's CSRF."""
    identity = security_system.url("identity")
    username = f"csrf-admin-{uuid.uuid4().hex[:8]}"
    made = httpx.post(
        f"{identity}/accounts",
        json={"username": username, "role": "admin", "password": PASSWORD},
        headers=security_system.headers("admin"),
        timeout=30,
    )
    assert made.status_code == 201, made.text
    with httpx.Client(base_url=identity, timeout=30, follow_redirects=False) as client:
        page = client.get("/sign-in", headers=HTML)
        assert page.status_code == 200, page.text[:300]
        signed_in = client.post(
            "/sign-in",
            data={
                "username": username,
                "password": PASSWORD,
                "next": "",
                "csrf_token": form_csrf(page.text),
            },
            headers=HTML,
        )
        assert signed_in.status_code == 303, signed_in.text[:300]
        cookie = signed_in.cookies.get(SESSION_COOKIE)
        assert cookie, signed_in.headers
    account = httpx.get(
        f"{identity}/", headers={"Cookie": f"{SESSION_COOKIE}={cookie}", **HTML}, timeout=30
    )
    assert account.status_code == 200, account.text[:300]
    return BrowserSession(cookie, form_csrf(account.text))


def body_for(op: Operation) -> tuple[dict[str, str], bytes | None]:
    """A body of the kind the route reads, without any CSRF value: a form for page routes (the
    check reads the form), JSON otherwise. Its content is irrelevant: the check comes first."""
    media = op.body_media_types
    if any(m.startswith("application/x-www-form-urlencoded") for m in media):
        return {"Content-Type": "application/x-www-form-urlencoded", **HTML}, b"name=csrf-probe"
    if any(m.startswith("multipart/form-data") for m in media):
        boundary = "trainops-csrf-probe"
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\ncsrf-probe\r\n'
            f"--{boundary}--\r\n"
        )
        return {"Content-Type": f"multipart/form-data; boundary={boundary}", **HTML}, body.encode()
    if op.method == "DELETE" and not media:
        return JSON, None
    return {"Content-Type": "application/json", **JSON}, json.dumps({}).encode()


def unsafe_operations(system: SecuritySystem, service: str) -> list[Operation]:
    return [
        op
        for op in operations(service, system.openapi(service))
        if op.method in UNSAFE and op.key not in PUBLIC_ROUTES[service]
    ]


def send(
    system: SecuritySystem, seed: Seed, op: Operation, headers: dict[str, str]
) -> httpx.Response:
    values = seed.path_values()
    params = {}
    for name in op.required_query:
        if name not in values:
            raise UnknownParameter(f"no value for required query parameter {name!r} of {op}")
        params[name] = values[name]
    kind, content = body_for(op)
    return httpx.request(
        op.method,
        system.url(op.service) + fill_path(op.path, values),
        params=params,
        headers={**headers, **kind},
        content=content,
        timeout=30,
    )


def is_csrf_refusal(response: httpx.Response) -> bool:
    return response.status_code == 403 and "CSRF" in response.text


@pytest.mark.parametrize("service", SERVICES)
def test_every_change_without_the_csrf_value_is_refused(
    security_system: SecuritySystem, seed: Seed, browser: BrowserSession, service: str
) -> None:
    """Each unsafe route with the admin's session cookie and no CSRF value: 403 naming the
    missing CSRF value, never a success, a redirect or a server error."""
    ops = unsafe_operations(security_system, service)
    problems: list[str] = []
    for op in ops:
        try:
            response = send(security_system, seed, op, browser.headers())
        except UnknownParameter as exc:
            problems.append(f"{op}: cannot be exercised: {exc}")
            continue
        if not is_csrf_refusal(response):
            problems.append(f"{op} -> {response.status_code}: {response.text[:200]}")
    assert not problems, "accepted without the CSRF value:\n" + "\n".join(problems)


def test_the_services_have_changes_to_protect(security_system: SecuritySystem) -> None:
    """The matrix above attacks something: registration, scheduling and identity have changes
    a session may make (feedback's only change is the participant's public form, reporting
    only reads), so a misread OpenAPI document cannot let the matrix pass on no routes."""
    counts = {service: len(unsafe_operations(security_system, service)) for service in SERVICES}
    assert all(counts[s] > 0 for s in ("registration", "scheduling", "identity")), counts


def token_names(system: SecuritySystem, browser: BrowserSession) -> list[str]:
    """The signed-in admin's own API tokens, read with the cookie (a safe request)."""
    answer = httpx.get(
        f"{system.url('identity')}/tokens", headers=browser.headers(JSON), timeout=30
    )
    assert answer.status_code == 200, answer.text[:300]
    listed: Any = answer.json()
    items = listed["items"] if isinstance(listed, dict) else listed
    return sorted(str(item["name"]) for item in items)


def account_names(system: SecuritySystem) -> list[str]:
    answer = httpx.get(
        f"{system.url('identity')}/accounts", headers=system.headers("admin"), timeout=30
    )
    assert answer.status_code == 200, answer.text[:300]
    listed: Any = answer.json()
    items = listed["items"] if isinstance(listed, dict) else listed
    return sorted(str(item["username"]) for item in items)


def test_a_refused_change_changes_nothing_and_the_right_value_is_accepted(
    security_system: SecuritySystem, browser: BrowserSession
) -> None:
    """Creating a token and an account with the cookie but a missing or wrong CSRF value
    leaves both lists as they were; the same token request carrying the session's value (as
    header, and as the account page's form field) is made: the refusals are the check's."""
    identity = security_system.url("identity")
    tokens_before = token_names(security_system, browser)
    accounts_before = account_names(security_system)
    name = f"csrf-{uuid.uuid4().hex[:8]}"
    body = {"name": name, "expires_in_days": 5}
    refused = [
        httpx.post(f"{identity}/tokens", json=body, headers=browser.headers(JSON), timeout=30),
        httpx.post(
            f"{identity}/tokens",
            json=body,
            headers=browser.headers(JSON, {CSRF_HEADER: browser.csrf[::-1]}),
            timeout=30,
        ),
        httpx.post(
            f"{identity}/account/tokens",
            data={"name": name, "expires_in_days": "5", "csrf_token": "guessed"},
            headers=browser.headers(HTML),
            timeout=30,
        ),
        httpx.post(
            f"{identity}/accounts",
            json={"username": name, "role": "admin", "password": PASSWORD},
            headers=browser.headers(JSON),
            timeout=30,
        ),
    ]
    for answer in refused:
        assert is_csrf_refusal(answer), f"{answer.request.url} -> {answer.status_code}"
    assert token_names(security_system, browser) == tokens_before
    assert account_names(security_system) == accounts_before

    made = httpx.post(
        f"{identity}/tokens",
        json=body,
        headers=browser.headers(JSON, {CSRF_HEADER: browser.csrf}),
        timeout=30,
    )
    assert made.status_code == 201, made.text[:300]
    via_form = httpx.post(
        f"{identity}/account/tokens",
        data={"name": f"{name}-form", "expires_in_days": "5", "csrf_token": browser.csrf},
        headers=browser.headers(HTML),
        timeout=30,
    )
    assert via_form.status_code == 201, via_form.text[:300]
    assert token_names(security_system, browser) == sorted([*tokens_before, name, f"{name}-form"])
