"""A participant merge on a real nats-server, SQLite and PostgreSQL: reporting's consumer reads
``registration.participants_merged.v1`` from the REGISTRATION stream and counts the merged
person once, whether the merge arrives before or after the registrations it folds, and a
redelivery of the merge (same event id under a new message id, past JetStream's duplicate
window) changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from reporting_programme import Programme, december
from sqlalchemy.engine import Connection
from test_reporting_api import REPORTING, make_app, publish, read_in_app

from trainops_devtools.nats_server import NatsServer
from trainops_devtools.testing.polling import eventually
from trainops_reporting.adapters.state import read_generation
from trainops_reporting.adapters.tables import facts
from trainops_shared.service import ServiceRuntime

pytestmark = pytest.mark.integration


def _people(conn: Connection) -> dict[str, Any]:
    """Distinct people with a counted registration, and the cities their registrations are in."""
    rows = conn.execute(sa.select(facts.c.participant_id, facts.c.city, facts.c.registered)).all()
    return {
        "reach": len({r.participant_id for r in rows if r.registered}),
        "cities": sorted({r.city for r in rows}),
        "facts": len(rows),
    }


async def test_a_merge_from_the_stream_counts_the_person_once(
    database_url: str, fresh_nats_server: NatsServer, tmp_path: Path
) -> None:
    programme = Programme()
    t1 = programme.training("T1")
    first = programme.session(t1, december(22))
    second = programme.session(t1, december(28), mode="in_person")
    old = programme.register(first, city="aktau")
    programme.attend(old)
    new = programme.register(second, city="almaty")
    programme.register(second, city="almaty", sex="male")
    before = list(programme.events)
    merge = programme.merge(keep=new, merge=old)
    nats_url = fresh_nats_server.url
    app = make_app(nats_url, database_url, tmp_path)
    async with AsyncTestClient(app) as client:
        runtime: ServiceRuntime = app.state.runtime
        # The merge first: the registrations it folds arrive after it.
        await publish(nats_url, [merge])
        await publish(nats_url, before)
        await publish(nats_url, [merge], msg_ids=["merge-again"])

        async def merged() -> dict[str, Any] | None:
            seen = await read_in_app(client, runtime, _people)
            applied = await read_in_app(client, runtime, read_generation)
            return seen if applied == len(programme.events) and seen["facts"] == 3 else None

        people = await eventually(merged)
        assert people == {"reach": 2, "cities": ["almaty"], "facts": 3}
        r = await client.get("/reports/donor", params={"by": "city"}, headers=REPORTING)
        assert r.status_code == 200, r.text
        assert [row["city"] for row in r.json()["rows"]] == ["almaty"]
