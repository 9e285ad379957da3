"""The audit log through HTTP: a change and its entry commit together, only admins read them.

A small service stands in for the four (one route that changes a record and records who did it,
one that records and then fails), on SQLite and PostgreSQL; the real scheduling service shows
that ``create_app`` gives every service the route and its typed answer in the OpenAPI document.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from litestar import Litestar, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import Connection

from trainops_devtools.testing.tokens import bearer, in_process_settings
from trainops_scheduling.app import build_spec as build_scheduling
from trainops_shared.audit import record_audit
from trainops_shared.auth import Principal, requires
from trainops_shared.errors import Conflict
from trainops_shared.service import ServiceRuntime, ServiceSpec, create_app
from trainops_shared.storage import Migration, MigrationSet

pytestmark = pytest.mark.integration

metadata = sa.MetaData()
things = sa.Table(
    "things",
    metadata,
    sa.Column("thing_id", sa.String(36), primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
)


@post("/things/{thing_id:uuid}/close", guards=[requires("admin", "coordinator")], status_code=200)
async def close_thing(
    thing_id: FromPath[uuid.UUID],
    runtime: NamedDependency[ServiceRuntime],
    principal: NamedDependency[Principal],
) -> dict[str, str]:
    def change(conn: Connection) -> None:
        conn.execute(things.insert().values(thing_id=str(thing_id), status="closed"))
        record_audit(conn, principal, "thing.closed", "thing", thing_id, {"status": "closed"})

    await runtime.write(change)
    return {"status": "closed"}


@post("/things/{thing_id:uuid}/break", guards=[requires("admin")], status_code=200)
async def break_thing(
    thing_id: FromPath[uuid.UUID],
    runtime: NamedDependency[ServiceRuntime],
    principal: NamedDependency[Principal],
) -> dict[str, str]:
    def change(conn: Connection) -> None:
        conn.execute(things.insert().values(thing_id=str(thing_id), status="broken"))
        record_audit(conn, principal, "thing.broken", "thing", thing_id)
        raise Conflict("the thing cannot break", field="thing_id")

    await runtime.write(change)
    return {"status": "broken"}


SPEC = ServiceSpec(
    name="auditcheck",
    title="audit check",
    description="one audited change",
    migrations=MigrationSet("auditcheck", (Migration(1, "things", metadata.create_all),)),
    route_handlers=[close_thing, break_thing],
)

ADMIN = bearer("admin", subject="acct-admin-1")
COORDINATOR = bearer("coordinator", "almaty", subject="acct-coord-7")


@pytest.fixture
async def client(
    nats_url: str, database_url: str, tmp_path: Path
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = in_process_settings(
        "feedback", nats_url=nats_url, database_url=database_url, data_dir=tmp_path
    )
    async with AsyncTestClient(create_app(SPEC, settings)) as test_client:
        yield test_client


async def _audit(client: AsyncTestClient[Litestar], **params: Any) -> dict[str, Any]:
    response = await client.get("/audit", params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_change_and_its_entry_commit_together_and_admins_read_them(
    client: AsyncTestClient[Litestar],
) -> None:
    started = datetime.now(UTC) - timedelta(seconds=1)
    ids = [uuid.uuid4() for _ in range(3)]
    for thing_id, who in zip(ids, (COORDINATOR, ADMIN, COORDINATOR), strict=True):
        closed = await client.post(f"/things/{thing_id}/close", headers=who)
        assert closed.status_code == 200, closed.text
    refused = await client.post(f"/things/{uuid.uuid4()}/break", headers=ADMIN)
    assert refused.status_code == 409

    page = await _audit(client)
    assert page["limit"] == 100
    assert page["next_before"] is None
    entries = page["entries"]
    assert [e["record_id"] for e in entries] == [str(i) for i in reversed(ids)]
    assert {e["action"] for e in entries} == {"thing.closed"}  # the failed change left none
    newest = entries[0]
    assert newest["actor"] == "acct-coord-7"
    assert newest["actor_role"] == "coordinator"
    assert newest["record_type"] == "thing"
    assert newest["detail"] == {"status": "closed"}
    assert datetime.fromisoformat(newest["occurred_at"]) >= started

    mine = await _audit(client, actor="acct-coord-7")
    assert [e["record_id"] for e in mine["entries"]] == [str(ids[2]), str(ids[0])]
    assert (await _audit(client, action="thing.broken"))["entries"] == []
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await _audit(client, since=future))["entries"] == []
    assert len((await _audit(client, since=started.isoformat()))["entries"]) == 3

    first = await _audit(client, limit=2)
    assert [e["record_id"] for e in first["entries"]] == [str(ids[2]), str(ids[1])]
    rest = await _audit(client, limit=2, before=first["next_before"])
    assert [e["record_id"] for e in rest["entries"]] == [str(ids[0])]
    assert rest["next_before"] is None


async def test_only_admins_read_the_log(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.get("/audit")).status_code == 401
    for role, region in (
        ("coordinator", "almaty"),
        ("programme_staff", None),
        ("reporting", None),
    ):
        response = await client.get("/audit", headers=bearer(role, region))
        assert response.status_code == 403, (role, response.text)
        assert response.json()["error"] == "forbidden"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"since": "1800-01-01T00:00:00Z"}, "since"),
        ({"action": "Thing Closed"}, "action"),
        ({"actor": "two words"}, "actor"),
        ({"before": "0"}, "before"),
        ({"before": str(2**63)}, "before"),
        ({"who": "acct-1"}, "who"),
    ],
)
async def test_bad_filters_are_refused_naming_the_parameter(
    client: AsyncTestClient[Litestar], params: dict[str, str], field: str
) -> None:
    response = await client.get("/audit", params=params, headers=ADMIN)
    assert response.status_code in (400, 422), response.text
    body = response.json()
    assert body["status"] == response.status_code
    assert field in (body.get("field") or body["detail"]), body


async def test_every_service_serves_the_route_with_a_typed_answer(
    nats_url: str, tmp_path: Path
) -> None:
    settings = in_process_settings(
        "scheduling",
        nats_url=nats_url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'scheduling.db'}",
        data_dir=tmp_path,
    )
    async with AsyncTestClient(create_app(build_scheduling(settings), settings)) as client:
        answer = await client.get("/audit", headers=ADMIN)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"entries": [], "limit": 100, "next_before": None}
        assert (await client.get("/audit", headers=bearer("programme_staff"))).status_code == 403
        schema = (await client.get("/schema/openapi.json", headers=ADMIN)).json()
    operation = schema["paths"]["/audit"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AuditPage"
    }
    assert {"401", "403", "422", "429", "503"} <= set(operation["responses"])
    assert {p["name"] for p in operation["parameters"]} == {
        "since",
        "action",
        "actor",
        "before",
        "limit",
    }
    entry = schema["components"]["schemas"]["AuditEntry"]
    assert {"actor", "action", "record_type", "record_id", "occurred_at"} <= set(
        entry["properties"]
    )
