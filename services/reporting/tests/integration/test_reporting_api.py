"""The reporting service on a real nats-server and real SQLite and PostgreSQL.

Events are published to JetStream the way the three producers publish them (subject = tag,
``Nats-Msg-Id`` = event id), deliberately out of order across streams and with duplicates; the
API is polled until the projection shows them, then the figures, the suppression and the CSV are
asserted exactly. Finally the read model is rebuilt by a fresh consumer into an empty database and
must come out identical.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import nats
import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from reporting_programme import Programme, build_donor_scenario
from sqlalchemy.engine import Connection

from trainops_devtools.nats_server import NatsServer
from trainops_devtools.testing.polling import eventually
from trainops_devtools.testing.tokens import TEST_JWT_ENV, token_for
from trainops_reporting.adapters.state import read_generation
from trainops_reporting.adapters.tables import READ_MODEL_TABLES
from trainops_reporting.app import build_spec
from trainops_shared.events import Event, encode_event
from trainops_shared.events.streams import FEEDBACK, REGISTRATION, SCHEDULING
from trainops_shared.service import ServiceRuntime, create_app
from trainops_shared.settings import load_settings

pytestmark = pytest.mark.integration
T = TypeVar("T")


def bearer(role: str, region: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(role=role, region=region)}"}


REPORTING = bearer("reporting")

EXPECTED_SUMMARY = {
    "sessions_scheduled": 2,
    "sessions_delivered": 1,
    "registered": 20,
    "attended": 15,
    "feedback_responses": 9,
    "satisfaction_mean": 3.89,
    "cities_reached": 2,
    "suppressed": {},
    "k": 5,
    "unit": "registrations",
    "filters": {"period": "all", "training_id": None},
    "indicators": {"attendance_rate": 0.75, "feedback_completion": 0.6, "share_of_women": None},
    # the women's count is hidden in the by=sex table, so its share is hidden too
    "indicators_hidden": {"share_of_women": "suppressed"},
}
"""Registrations, not people: one of the 19 people sits in both sessions."""


async def publish(nats_url: str, events: Sequence[Event], *, msg_ids: Sequence[str] = ()) -> None:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for index, event in enumerate(events):
            msg_id = msg_ids[index] if index < len(msg_ids) else str(event.event_id)
            ack = await js.publish(
                event.subject, encode_event(event), headers={"Nats-Msg-Id": msg_id}, timeout=5
            )
            assert ack.stream
    finally:
        await nc.close()


def make_app(nats_url: str, database_url: str, data_dir: Path) -> Litestar:
    settings = load_settings(
        "reporting",
        {
            "NATS_URL": nats_url,
            "DATABASE_URL": database_url,
            **TEST_JWT_ENV,
            "TRAINOPS_DATA_DIR": str(data_dir),
        },
    )
    app: Litestar = create_app(build_spec(settings), settings)
    return app


def dump(conn: Connection) -> dict[str, list[str]]:
    out = {}
    for table in READ_MODEL_TABLES:
        rows = conn.execute(sa.select(table)).all()
        out[table.name] = sorted(repr(tuple(row)) for row in rows)
    return out


async def read_in_app(
    client: AsyncTestClient[Any], runtime: ServiceRuntime, fn: Callable[[Connection], T]
) -> T:
    """Run ``runtime.read(fn)`` on the app's own event loop (the test client's portal thread):
    an asyncpg engine belongs to the loop it was created on."""
    return await asyncio.to_thread(client.blocking_portal.call, runtime.read, fn)


def second_database(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{tmp_path / 'replay.db'}"
    factory: Callable[[], str] = request.getfixturevalue("postgres_database")
    return factory()


async def test_reports_from_a_realistic_event_mix(
    request: pytest.FixtureRequest,
    database_url: str,
    fresh_nats_server: NatsServer,
    tmp_path: Path,
) -> None:
    programme = Programme()
    ids = build_donor_scenario(programme)
    events = programme.events
    scheduling = [e for e in events if e.subject.startswith("scheduling.")]
    others = [e for e in events if not e.subject.startswith("scheduling.")]
    nats_url = fresh_nats_server.url
    app = make_app(nats_url, database_url, tmp_path)
    async with AsyncTestClient(app) as client:
        runtime: ServiceRuntime = app.state.runtime
        # registrations, attendance and feedback first: they wait (RetryLater) for the sessions
        await publish(nats_url, others)
        await publish(nats_url, scheduling)
        # a duplicate redelivery: same event id under a new message id (passes JetStream's
        # duplicate window, stopped by the inbox) and a plain re-publish (stopped by JetStream)
        await publish(nats_url, others[5:8], msg_ids=[f"again-{i}" for i in range(3)])
        await publish(nats_url, others[5:8])

        async def summary_complete() -> dict[str, Any] | None:
            r = await client.get("/reports/summary", headers=REPORTING)
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            assert body.pop("definitions")["unit"].startswith("every count is of registrations")
            assert body.pop("indicators_version") == "2"
            assert "attendance_rate" in {d["code"] for d in body.pop("indicator_definitions")}
            assert body.pop("evidence")["knowledge_gain"]["pairs"] is None  # no tests taken
            return body if body == EXPECTED_SUMMARY else None

        await eventually(summary_complete)
        generation = await read_in_app(client, runtime, read_generation)
        assert generation == len(events)  # every event applied exactly once

        # --- summary filters
        r = await client.get(
            "/reports/summary", params={"training_id": str(ids["t2"])}, headers=REPORTING
        )
        assert r.status_code == 200
        t2 = r.json()
        # two registrations: the summary obeys the same suppression as the donor tables
        assert (t2["sessions_scheduled"], t2["registered"]) == (1, None)
        assert t2["suppressed"] == {"registered": "primary"}
        assert t2["satisfaction_mean"] is None
        assert t2["filters"]["training_id"] == str(ids["t2"])
        r = await client.get(
            "/reports/summary",
            params={"from": "2020-12-22", "to": "2020-12-23T00:00:00+00:00"},
            headers=REPORTING,
        )
        assert r.status_code == 422 and "period=" in r.json()["detail"]

        # --- donor report, JSON
        r = await client.get("/reports/donor", params={"by": "city"}, headers=REPORTING)
        assert r.status_code == 200, r.text
        donor = r.json()
        assert donor["by"] == ["city"] and donor["k"] == 5
        assert donor["rows"] == [
            {
                "city": "aktau",
                "registered": 10,
                "attended": None,  # 8 = female 3 (primary) + male 5 (shown by sex)
                "feedback_responses": None,
                "satisfaction_mean": None,
                "suppressed": {
                    "attended": "complementary",
                    "feedback_responses": "complementary",
                },
                # ratios from published counts only: aktau's women (5) are shown by city,sex
                "indicators": {
                    "attendance_rate": None,
                    "feedback_completion": None,
                    "share_of_women": 0.5,
                },
                "indicators_hidden": {
                    "attendance_rate": "suppressed",
                    "feedback_completion": "suppressed",
                },
            },
            {
                "city": "almaty",
                "registered": 10,
                "attended": None,
                "feedback_responses": None,
                "satisfaction_mean": None,
                "suppressed": {"attended": "complementary", "feedback_responses": "primary"},
                "indicators": dict.fromkeys(
                    ("attendance_rate", "feedback_completion", "share_of_women")
                ),
                "indicators_hidden": dict.fromkeys(
                    ("attendance_rate", "feedback_completion", "share_of_women"), "suppressed"
                ),
            },
        ]
        assert donor["unit"] == "registrations"
        assert donor["totals"] == {
            "registered": 20,
            "attended": 15,
            "feedback_responses": 9,
            "satisfaction_mean": 3.89,
            "suppressed": {},
            "indicators": EXPECTED_SUMMARY["indicators"],
            "indicators_hidden": EXPECTED_SUMMARY["indicators_hidden"],
        }
        assert donor["suppressed_cells"] == 4

        r = await client.get(
            "/reports/donor", params={"by": "city,sex", "k": "5"}, headers=REPORTING
        )
        cells = {(row["city"], row["sex"]): row for row in r.json()["rows"]}
        assert cells["almaty", "male"]["registered"] is None
        assert cells["almaty", "male"]["suppressed"]["registered"] == "primary"
        assert cells["almaty", "male"]["suppressed"]["attended"] == "primary"
        assert cells["aktau", "female"]["suppressed"]["attended"] == "primary"
        assert cells["almaty", "female"]["suppressed"]["registered"] == "complementary"
        # aktau's 5 + 5 are shown; the sex margins (13, 7) are hidden instead, or they would
        # give almaty's counts away
        assert [cells["aktau", sex]["registered"] for sex in ("female", "male")] == [5, 5]
        margins = {row["sex"]: row for row in r.json()["column_totals"]}
        assert [margins[sex]["registered"] for sex in ("female", "male")] == [None, None]
        assert r.json()["totals"]["registered"] == 20  # the same total for every breakdown

        for other in ("1", "6"):  # lower or higher: k is the server's setting
            r = await client.get(
                "/reports/donor", params={"by": "city", "k": other}, headers=REPORTING
            )
            assert r.status_code == 422
            assert "REPORT_MIN_CELL=5" in r.json()["detail"]

        # --- donor report, CSV
        r = await client.get(
            "/reports/donor", params={"by": "city", "format": "csv"}, headers=REPORTING
        )
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/csv; charset=utf-8"
        assert r.headers["content-disposition"] == 'attachment; filename="donor-report.csv"'
        table, evidence = r.text.split("\r\n\r\n")
        assert evidence.startswith("section,item,figure,value\r\nevidence,knowledge_gain,pairs,")
        assert list(csv.reader(io.StringIO(table))) == [
            [
                "city",
                "registered",
                "attended",
                "feedback_responses",
                "satisfaction_mean",
                "attendance_rate",
                "feedback_completion",
                "share_of_women",
            ],
            ["aktau", "10", "x", "x", "x", "x", "x", "0.5"],
            ["almaty", "10", "x", "<5", "x", "x", "x", "x"],
            ["TOTAL", "20", "15", "9", "3.89", "0.75", "0.6", "x"],
        ]

        # --- auth: 401 without a token, 403 for a coordinator, 200 for the report roles
        for path in ("/reports/summary", "/reports/donor"):
            assert (await client.get(path)).status_code == 401
            r = await client.get(path, headers=bearer("coordinator", "almaty"))
            assert r.status_code == 403
            assert r.json()["error"] == "forbidden"
            for role in ("reporting", "programme_staff", "admin"):
                assert (await client.get(path, headers=bearer(role))).status_code == 200

        # --- bad parameters: 422 naming the parameter
        bad = [
            ("/reports/donor", {"by": "city,colour"}, "by"),
            ("/reports/donor", {"by": "city,city"}, "by"),
            ("/reports/donor", {"k": "0"}, "k"),
            ("/reports/donor", {"k": "five"}, "k"),
            ("/reports/donor", {"format": "docx"}, "format"),
            ("/reports/summary", {"format": "csv"}, "format"),
            ("/reports/donor", {"k": "4"}, "k"),
            ("/reports/summary", {"k": "6"}, "k"),
            ("/reports/donor", {"by": "sex,age_band"}, "by"),
            ("/reports/donor", {"by": "city,sex,mode"}, "by"),
            ("/reports/summary", {"from": "2020-12-22"}, "from"),
            ("/reports/summary", {"to": "2020-12-23"}, "to"),
            ("/reports/donor", {"from": "2021-02-01", "to": "2021-01-01"}, "from"),
            ("/reports/summary", {"period": "2021"}, "period"),
            ("/reports/donor", {"period": "last-year"}, "period"),
            ("/reports/summary", {"training_id": "T1"}, "training_id"),
        ]
        for path, params, field in bad:
            r = await client.get(path, params=params, headers=REPORTING)
            assert r.status_code == 422, (params, r.text)
            assert r.json()["field"] == field, (params, r.json())
            assert field in r.json()["detail"]

        first_model = await read_in_app(client, runtime, dump)

    # --- replay: a fresh consumer over the same streams into an empty database
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for spec in (SCHEDULING, REGISTRATION, FEEDBACK):  # the streams the projection reads
            await js.delete_consumer(spec.name, "reporting")
    finally:
        await nc.close()
    replay_app = make_app(nats_url, second_database(request, database_url, tmp_path), tmp_path)
    async with AsyncTestClient(replay_app) as client:
        replay_runtime: ServiceRuntime = replay_app.state.runtime

        async def caught_up() -> bool:
            return bool(await read_in_app(client, replay_runtime, read_generation) == generation)

        await eventually(caught_up)
        assert await read_in_app(client, replay_runtime, dump) == first_model
        r = await client.get("/reports/summary", headers=REPORTING)
        body = r.json()
        for described in ("definitions", "indicator_definitions", "indicators_version"):
            body.pop(described)
        items = (await client.get("/reports/items", headers=REPORTING)).json()["items"]
        assert body.pop("evidence")["items"] == items and items  # replayed with the rest
        assert body == EXPECTED_SUMMARY
