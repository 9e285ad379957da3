"""Limit settings, uvicorn's proxy trust, the limiters' memory and the vendored docs files
(no servers)."""

from __future__ import annotations

import hashlib
import re

import pytest
import uvicorn
from litestar import Litestar
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from trainops_devtools.testing.polling import eventually
from trainops_shared.http_security import (
    STATIC_DIR,
    SWAGGER_UI_VERSION,
    HttpLimits,
    load_http_limits,
    rate_limit_middlewares,
    rate_limit_sweeper,
    uvicorn_proxy_options,
)
from trainops_shared.settings import SettingsError

pytestmark = pytest.mark.unit


def test_defaults_and_overrides() -> None:
    assert load_http_limits({}) == HttpLimits()
    limits = load_http_limits(
        {
            "RATE_LIMIT_PRINCIPAL": "100000/second",
            "RATE_LIMIT_ANONYMOUS": " 30/Minute ",
            "RATE_LIMIT_FAILED_AUTH": "off",
            "TRAINOPS_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.2,",
        }
    )
    assert limits == HttpLimits(
        principal=(100000, "second"),
        anonymous=(30, "minute"),
        failed_auth=None,
        trusted_proxies=("10.0.0.1", "10.0.0.2"),
    )


@pytest.mark.parametrize("raw", ["100", "0/minute", "-1/minute", "10/day", "ten/minute", "5/"])
def test_a_malformed_rate_names_the_variable(raw: str) -> None:
    with pytest.raises(SettingsError, match=r"RATE_LIMIT_ANONYMOUS=.* is not a rate"):
        load_http_limits({"RATE_LIMIT_ANONYMOUS": raw})


def _loaded_app(limits: HttpLimits) -> object:
    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("not called")

    config = uvicorn.Config(app, lifespan="off", **uvicorn_proxy_options(limits))
    config.load()
    return config.loaded_app


def _wrapped_in(app: object, kind: type) -> bool:
    while app is not None:
        if isinstance(app, kind):
            return True
        app = getattr(app, "app", None)
    return False


def test_forwarded_for_is_believed_only_from_configured_proxies() -> None:
    # uvicorn's own default trusts X-Forwarded-For from 127.0.0.1: any local client could then
    # pick a new address per request and never meet the per-address limits.
    assert not _wrapped_in(_loaded_app(HttpLimits()), ProxyHeadersMiddleware)
    trusted = _loaded_app(HttpLimits(trusted_proxies=("10.0.0.1",)))
    assert _wrapped_in(trusted, ProxyHeadersMiddleware)


def test_vendored_files_match_the_recorded_sums() -> None:
    readme = (STATIC_DIR / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(swagger-ui/[^`]+)` \| [^|]+ \| `([0-9a-f]{64})` \|$", readme, re.M)
    assert len(rows) == 4
    for name, digest in rows:
        assert f"/{SWAGGER_UI_VERSION}/" in name
        assert hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest() == digest, name


async def test_the_sweeper_forgets_expired_windows() -> None:
    # Litestar's memory store drops an expired key only when that key is read again: without the
    # sweeper, every address ever seen would stay in memory.
    stores = rate_limit_middlewares(HttpLimits(), public_paths=[], unlimited_paths=[]).stores
    app = Litestar(route_handlers=[], stores=stores)
    store = app.stores.get("rate_limit_anonymous")
    await store.set("RateLimitMiddleware::203.0.113.7", b"{}", expires_in=1)
    await store.set("RateLimitMiddleware::203.0.113.8", b"{}", expires_in=3600)
    async with rate_limit_sweeper(app, every=0.05):

        async def forgotten() -> bool:
            return not await store.exists("RateLimitMiddleware::203.0.113.7")

        await eventually(forgotten, timeout=10, what="the expired window to be swept")
    assert await store.exists("RateLimitMiddleware::203.0.113.8")
