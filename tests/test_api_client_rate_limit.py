"""The CLI's HTTP client waits out a 429 as the service asks (the demo loads in bulk)."""

from __future__ import annotations

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trainops_cli import api_client
from trainops_cli.api_client import ApiError, ServiceUrls, TokenIssuer, TrainopsClient

pytestmark = pytest.mark.unit


def client_answering(statuses: list[int], seen: list[str]) -> TrainopsClient:
    answers = iter(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        status = next(answers)
        headers = {"Retry-After": "7"} if status == 429 else {}
        return httpx.Response(status, json={"status": status}, headers=headers)

    client = TrainopsClient(ServiceUrls.from_base(), TokenIssuer(Ed25519PrivateKey.generate()))
    client.http = httpx.Client(transport=httpx.MockTransport(handler))
    return client


def test_a_429_is_retried_after_the_wait_it_names(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(api_client.time, "sleep", waits.append)
    seen: list[str] = []
    client = client_answering([429, 429, 201], seen)
    assert client.request("POST", "http://feedback/responses", role=None).status_code == 201
    assert (seen, waits) == (["/responses"] * 3, [7.0, 7.0])


def test_a_429_that_persists_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_client.time, "sleep", lambda _s: None)
    seen: list[str] = []
    client = client_answering([429] * 4, seen)
    with pytest.raises(ApiError) as caught:
        client.request("GET", "http://reporting/reports/summary")
    assert caught.value.status == 429 and len(seen) == 4
