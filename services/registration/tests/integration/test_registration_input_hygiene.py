"""Hostile input to the registration API: each is a clear 4xx, stores nothing and logs no bytes.

The service's log records are captured while the requests run, so a body quoted into a log
(the bytes of an invalid UTF-8 string, a participant's name) fails the test.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from trainops_devtools.testing.tokens import in_process_settings, token_for
from trainops_registration.app import build_spec
from trainops_shared.service import create_app

pytestmark = pytest.mark.integration

ADMIN = {"Authorization": f"Bearer {token_for(role='admin')}"}
REPORTING = {"Authorization": f"Bearer {token_for(role='reporting')}"}
CANARY = "Zhanargul Canarykyzy"


class _Capture(logging.Handler):
    """Every record reaching the root logger, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[_Capture]:
    """What the service logs while the test runs (attached after the app started, so whatever
    logging configuration the app installed stays in place)."""
    root = logging.getLogger()
    capture, level = _Capture(), root.level
    root.addHandler(capture)
    root.setLevel(logging.INFO)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(level)


@pytest.fixture
async def client(
    nats_url: str, database_url: str, tmp_path: Path
) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = in_process_settings(
        "registration", nats_url=nats_url, database_url=database_url, data_dir=tmp_path
    )
    async with AsyncTestClient(create_app(build_spec(settings), settings)) as test_client:
        yield test_client


def _body(**participant: Any) -> dict[str, Any]:
    person = {"full_name": CANARY, "sector": "media", "city": "almaty", "language": "kk"}
    person.update(participant)
    return {"session_id": str(uuid.uuid4()), "participant": person}


async def _count(client: AsyncTestClient[Any]) -> int:
    response = await client.get("/registrations", headers=ADMIN)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


async def test_invalid_utf8_is_a_400_that_logs_no_bytes(
    client: AsyncTestClient[Any], logs: _Capture
) -> None:
    raw = json.dumps(_body()).encode().replace(b"Canarykyzy", b"Canary\xff\xfe\xc3kyzy")
    response = await client.post(
        "/registrations", content=raw, headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json() == {
        "status": 400,
        "error": "malformed_json",
        "detail": "the JSON body is not valid UTF-8",
    }
    deep = await client.post(
        "/registrations",
        content=b'{"participant": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert deep.status_code == 400, deep.text
    assert await _count(client) == 0
    assert any("HTTP Request" in line for line in logs.lines), "the capture works"
    text = "\n".join(logs.lines)
    for needle in ("\\xff", "xff", "Canary", "[[[[", "unhandled_error"):
        assert needle not in text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("full_name", f"{CANARY}\x00"),
        ("full_name", f"\u202e{CANARY}"),
        ("full_name", f"{CANARY}\u2067"),
        ("organisation", "NGO\x1b[2J"),
        ("city", "almaty\x00"),
        ("email", "a\u202e@example.kz"),
    ],
)
async def test_control_and_bidi_characters_are_refused(
    client: AsyncTestClient[Any], field: str, value: str
) -> None:
    response = await client.post("/registrations", json=_body(**{field: value}), headers=ADMIN)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == f"participant.{field}"
    assert "U+" in response.json()["detail"]


@pytest.mark.parametrize(
    "cell",
    ["Aigerim\x00Seitova", "\u202eavotieS", "Aigerim\x07"],
)
async def test_control_and_bidi_characters_are_refused_in_csv_cells(
    client: AsyncTestClient[Any], cell: str
) -> None:
    csv = f"full_name,sector,city,language\n{cell},media,almaty,kk\n".encode()
    response = await client.post(
        f"/registrations/import?session_id={uuid.uuid4()}",
        content=csv,
        headers={**ADMIN, "Content-Type": "text/csv"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "full_name"
    assert await _count(client) == 0


async def test_a_csv_cell_past_the_csv_modules_limit_is_a_422(
    client: AsyncTestClient[Any],
) -> None:
    csv = b'full_name,sector,city,language\n"' + b"x" * 140_000 + b'",media,almaty,kk\n'
    response = await client.post(
        f"/registrations/import?session_id={uuid.uuid4()}",
        content=csv,
        headers={**ADMIN, "Content-Type": "text/csv"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "file"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("offset=9223372036854775808", "offset"),
        ("limit=9223372036854775808", "limit"),
        ("cty=almaty", "cty"),
        ("q=", "q"),
    ],
)
async def test_bad_list_parameters_are_named(
    client: AsyncTestClient[Any], query: str, field: str
) -> None:
    response = await client.get(f"/registrations?{query}", headers=ADMIN)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


async def test_options_is_answered_without_a_500_or_internal_names(
    client: AsyncTestClient[Any],
) -> None:
    for headers, status in (({}, 401), (REPORTING, 403), (ADMIN, 204)):
        response = await client.options("/registrations", headers=headers)
        assert response.status_code == status, response.text
        assert "scope" not in response.text
    preflight = await client.options(
        "/registrations",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
