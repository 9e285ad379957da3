"""Rate limits, response headers and the docs UI of an app built by ``create_app``.

A small service spec stands in for the four (an authenticated JSON route, public routes named
the way feedback names its own) so the limits can be set low and reached in a few requests; the
headers are also checked on the real iCal (scheduling) and CSV (reporting) answers.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.testing import AsyncTestClient

from trainops_devtools.testing.tokens import TEST_JWT_ENV, bearer
from trainops_shared.auth import Principal
from trainops_shared.errors import NotFound
from trainops_shared.http_security import HttpLimits
from trainops_shared.service import ServiceSpec, create_app
from trainops_shared.settings import load_settings
from trainops_shared.storage import MigrationSet

pytestmark = pytest.mark.integration

ClientFactory = Callable[..., AbstractAsyncContextManager[AsyncTestClient[Litestar]]]


@get("/me", sync_to_thread=False)
def me(principal: NamedDependency[Principal]) -> dict[str, str]:
    return {"subject": principal.subject, "role": principal.role}


@get("/f/{token:str}", sync_to_thread=False, media_type="text/html")
def page(token: FromPath[str]) -> Response[str]:
    """Like feedback's page: an unknown link is a 404 page, not an exception."""
    if token.startswith("unknown"):
        return Response("<p>not found</p>", status_code=404, media_type="text/html")
    return Response(f"<p>{len(token)}</p>", media_type="text/html")


@post("/responses", sync_to_thread=False, status_code=201)
def respond(data: JSONBody[dict[str, Any]]) -> dict[str, bool]:
    """Like feedback's JSON route: an unknown token raises the shared 404."""
    if str(data.get("token", "")).startswith("unknown"):
        raise NotFound("no invitation has this token", field="token")
    return {"ok": True}


SPEC = ServiceSpec(
    name="httpcheck",
    title="http security check",
    description="routes shaped like the services' own",
    migrations=MigrationSet("httpcheck"),
    route_handlers=[me, page, respond],
    public_paths=["^/f/", "^/responses$"],
)


def _env(nats_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **TEST_JWT_ENV,
        "NATS_URL": nats_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'http.db'}",
        "TRAINOPS_DATA_DIR": str(tmp_path),
    }


@pytest.fixture
def open_client(nats_url: str, tmp_path: Path) -> ClientFactory:
    """``async with open_client(HttpLimits(...)) as client``: the small app with those limits."""
    settings = load_settings("feedback", _env(nats_url, tmp_path))

    @asynccontextmanager
    async def factory(
        limits: HttpLimits, spec: ServiceSpec = SPEC
    ) -> AsyncIterator[AsyncTestClient[Litestar]]:
        app = create_app(spec, settings, limits)
        async with AsyncTestClient(app) as client:
            yield client

    return factory


def _assert_429(response: Any, *, limit: int, window: int) -> None:
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= window
    body = response.json()
    assert body["status"] == 429 and body["error"] == "rate_limited"
    assert body["retry_after"] == retry_after
    assert f"at most {limit} per {window} s" in body["detail"]
    assert response.headers["ratelimit-limit"] == str(limit)
    assert response.headers["cache-control"] == "no-store"


async def test_anonymous_routes_are_limited_per_client_address(open_client: ClientFactory) -> None:
    async with open_client(HttpLimits(anonymous=(5, "minute"))) as client:
        guesses = [await client.get(f"/f/guess-{n}") for n in range(5)]
        assert [r.status_code for r in guesses] == [200] * 5
        assert guesses[-1].headers["ratelimit-remaining"] == "0"
        _assert_429(await client.get("/f/guess-5"), limit=5, window=60)
        # POST /responses shares the address's budget: guessing through the JSON route is no
        # way around the page's limit.
        _assert_429(await client.post("/responses", json={"token": "x"}), limit=5, window=60)
        # Authenticated routes and health are not counted against the anonymous budget.
        assert (await client.get("/me", headers=bearer("admin"))).status_code == 200
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/ready")).status_code == 200


async def test_repeated_failed_authentication_from_one_address_gets_429(
    open_client: ClientFactory,
) -> None:
    async with open_client(HttpLimits(failed_auth=(3, "minute"))) as client:
        good = bearer("reporting")
        bad = [{"Authorization": f"Bearer not-a-jwt-{n}"} for n in range(3)]
        # Valid tokens are not failures: any number of them leaves the budget whole.
        for _ in range(10):
            assert (await client.get("/me", headers=good)).status_code == 200
        assert [(await client.get("/me", headers=h)).status_code for h in bad] == [401] * 3
        assert (await client.get("/me")).status_code == 429  # no token at all: refused too
        locked_out = await client.get("/me", headers={"Authorization": "Bearer another-guess"})
        _assert_429(locked_out, limit=3, window=60)
        assert "refused credentials" in locked_out.json()["detail"]
        # The address is locked out of the public routes too, never out of health and docs.
        _assert_429(await client.get("/f/some-token"), limit=3, window=60)
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/schema/openapi.json")).status_code == 200


async def test_guessing_links_from_one_address_gets_429(open_client: ClientFactory) -> None:
    async with open_client(HttpLimits(failed_auth=(4, "minute"))) as client:
        # Links that work are not refusals: a room full of participants behind one address.
        for n in range(20):
            assert (await client.get(f"/f/live-{n}")).status_code == 200
            assert (await client.post("/responses", json={"token": f"live-{n}"})).status_code == 201
        guesses = [await client.get(f"/f/unknown-{n}") for n in range(2)]
        guesses += [
            await client.post("/responses", json={"token": f"unknown-{n}"}) for n in range(2)
        ]
        assert [r.status_code for r in guesses] == [404] * 4
        _assert_429(await client.get("/f/unknown-5"), limit=4, window=60)
        _assert_429(await client.get("/f/live-1"), limit=4, window=60)
        # A 404 of an authenticated route is no guess (another region's record answers 404).
        async with open_client(HttpLimits(failed_auth=(2, "minute"))) as other:
            admin = bearer("admin")
            for _ in range(5):
                assert (await other.get("/nowhere", headers=admin)).status_code == 404
            assert (await other.get("/me", headers=admin)).status_code == 200


async def test_authenticated_requests_are_limited_per_principal(
    open_client: ClientFactory,
) -> None:
    async with open_client(HttpLimits(principal=(4, "minute"))) as client:
        almaty = bearer("coordinator", "almaty", subject="coordinator-1")
        aktobe = bearer("coordinator", "aktobe", subject="coordinator-2")
        for _ in range(4):
            assert (await client.get("/me", headers=almaty)).status_code == 200
        _assert_429(await client.get("/me", headers=almaty), limit=4, window=60)
        # Another principal from the same address has its own budget, untouched.
        for _ in range(4):
            assert (await client.get("/me", headers=aktobe)).status_code == 200
        _assert_429(await client.get("/me", headers=aktobe), limit=4, window=60)
        # A new token of the first principal is still the same principal.
        again = bearer("coordinator", "almaty", subject="coordinator-1")
        _assert_429(await client.get("/me", headers=again), limit=4, window=60)
        # Public routes and health are not counted against principals.
        assert (await client.get("/f/t")).status_code == 200
        assert (await client.get("/health")).status_code == 200


async def test_limits_off_never_answer_429(open_client: ClientFactory) -> None:
    off = HttpLimits(principal=None, anonymous=None, failed_auth=None)
    async with open_client(off) as client:
        admin = bearer("admin")
        for _ in range(30):
            assert (await client.get("/me", headers=admin)).status_code == 200
            assert (await client.get("/f/t")).status_code == 200
            assert (
                await client.get("/me", headers={"Authorization": "Bearer x"})
            ).status_code == 401


PERSONAL = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def _assert_private(response: Any) -> None:
    for name, value in PERSONAL.items():
        assert response.headers.get(name) == value, (response.request.url, name, response.headers)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"] or (
        response.headers["x-frame-options"] == "DENY"
    )


async def test_every_answer_is_uncacheable_and_unsniffable(open_client: ClientFactory) -> None:
    async with open_client(HttpLimits()) as client:
        answers = [
            await client.get("/me", headers=bearer("admin")),  # JSON
            await client.get("/f/token"),  # a page
            await client.post("/responses", json={"token": "t"}),
            await client.get("/me"),  # 401
            await client.get("/nowhere", headers=bearer("admin")),  # 404 of the router
            await client.get("/health"),
            await client.get("/schema/openapi.json"),
        ]
        for response in answers:
            _assert_private(response)
        assert answers[0].headers["content-security-policy"] == (
            "default-src 'none'; frame-ancestors 'none'"
        )


async def test_schema_ui_uses_only_local_pinned_assets(open_client: ClientFactory) -> None:
    async with open_client(HttpLimits()) as client:
        for path in ("/schema", "/schema/swagger"):
            page = await client.get(path)
            assert page.status_code == 200
            assert page.headers["content-type"].startswith("text/html")
            _assert_private(page)
            csp = page.headers["content-security-policy"]
            assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
            html = page.text
            assert "SwaggerUIBundle" in html
            assert not re.search(r"https?://", html), re.findall(r"https?://[^\"' ]+", html)
            assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
            assert len(assets) >= 4, assets  # css, bundle, preset, favicon
            for asset in assets:
                assert asset.startswith("/schema/assets/swagger-ui/5.35.0/"), asset
                served = await client.get(asset)
                assert served.status_code == 200, asset
                assert len(served.content) > 500
                assert served.headers["x-content-type-options"] == "nosniff"
                # Versioned files: cacheable, unlike every answer that is data.
                assert "max-age=31536000" in served.headers["cache-control"]
        missing = await client.get("/schema/assets/swagger-ui/5.35.0/nothing.js")
        assert missing.status_code == 404


async def test_ical_and_csv_answers_of_the_services_carry_the_headers(
    nats_url: str, tmp_path: Path
) -> None:
    from trainops_reporting.app import build_spec as reporting_spec
    from trainops_scheduling.app import build_spec as scheduling_spec

    staff = bearer("programme_staff")
    settings = load_settings("scheduling", _env(nats_url, tmp_path / "scheduling"))
    async with AsyncTestClient(create_app(scheduling_spec(settings), settings)) as client:
        training = await client.post(
            "/trainings",
            json={
                "code": f"headers-{uuid.uuid4().hex[:8]}",
                "title": {"en": "Ethical coverage of children's issues"},
                "target_sectors": ["media"],
            },
            headers=staff,
        )
        assert training.status_code == 201, training.text
        session = await client.post(
            "/sessions",
            json={
                "training_id": training.json()["id"],
                "mode": "online",
                "cities": ["almaty"],
                "timezone": "Asia/Almaty",
                "starts_at": "2020-12-22T10:00",
                "ends_at": "2020-12-22T13:00",
                "capacity": 30,
                "language": "ru",
                "trainer_ids": [],
            },
            headers=staff,
        )
        assert session.status_code == 201, session.text
        _assert_private(session)
        ics = await client.get(
            f"/sessions/{session.json()['id']}/calendar.ics", headers=bearer("reporting")
        )
        assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
        _assert_private(ics)

    settings = load_settings("reporting", _env(nats_url, tmp_path / "reporting"))
    async with AsyncTestClient(create_app(reporting_spec(settings), settings)) as client:
        csv = await client.get(
            "/reports/donor", params={"by": "city", "format": "csv"}, headers=bearer("reporting")
        )
        assert csv.status_code == 200, csv.text
        assert csv.headers["content-type"].startswith("text/csv")
        _assert_private(csv)
