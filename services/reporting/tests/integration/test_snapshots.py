"""Frozen snapshots on a real nats-server and real SQLite and PostgreSQL.

A snapshot is taken, more events follow (late attendance, a cancellation, new registrations);
the snapshot still downloads the same bytes in every format, a second snapshot differs, their
diff names the changed cells and the events between them, and a rebuild of the read model
from the streams up to the first snapshot's positions, into an empty database, reproduces its
content byte for byte.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import msgspec
import nats
import pytest
from litestar.testing import AsyncTestClient
from reporting_programme import Programme, build_donor_scenario
from test_reporting_api import (
    REPORTING,
    bearer,
    make_app,
    publish,
    read_in_app,
    second_database,
)

from trainops_devtools.nats_server import NatsServer
from trainops_devtools.testing.polling import eventually
from trainops_reporting.adapters.migrations import MIGRATIONS
from trainops_reporting.adapters.replay import replay_until
from trainops_reporting.adapters.state import read_generation
from trainops_reporting.domain.snapshots import canonical
from trainops_reporting.handlers.events import EVENT_HANDLERS
from trainops_reporting.handlers.reports import ReportReader, ReportRequest
from trainops_shared.service import ServiceRuntime
from trainops_shared.storage import open_database
from trainops_shared.tables import PLUMBING_MIGRATIONS

pytestmark = pytest.mark.integration
ASKED = {"by": ["city"], "period": "all"}
FORMATS = ("json", "csv", "xlsx", "pdf")


async def downloads(client: AsyncTestClient[Any], snapshot_id: str) -> dict[str, bytes]:
    out = {}
    for fmt in FORMATS:
        r = await client.get(
            f"/reports/snapshots/{snapshot_id}",
            params={"format": fmt, "lang": "ru"},
            headers=REPORTING,
        )
        assert r.status_code == 200, (fmt, r.text)
        out[fmt] = r.content
    return out


async def test_a_snapshot_is_frozen_compared_and_reproduced_from_the_streams(
    request: pytest.FixtureRequest,
    database_url: str,
    fresh_nats_server: NatsServer,
    tmp_path: Path,
) -> None:
    programme = Programme()
    ids = build_donor_scenario(programme)
    for text in ("useful", "Clear", "long", "fun", "hard"):
        programme.comment(ids["s1"], text)
    first_events = list(programme.events)
    late = [programme.register(ids["s1"], city="aktau", sector="blogger") for _ in range(6)]
    for registration in late:
        programme.attend(registration)
    programme.cancel(late[0])
    for registration in late[1:]:  # their answers, tests and one more comment
        programme.feedback(registration, 5)
        programme.knowledge_test(registration, "pre", 4)
        programme.knowledge_test(registration, "post", 8)
    programme.comment(ids["s1"], "more please")
    more_events = programme.events[len(first_events) :]
    nats_url = fresh_nats_server.url
    app = make_app(nats_url, database_url, tmp_path)
    async with AsyncTestClient(app) as client:
        runtime: ServiceRuntime = app.state.runtime

        async def applied(count: int) -> bool:
            return bool(await read_in_app(client, runtime, read_generation) == count)

        scheduling = [e for e in first_events if e.subject.startswith("scheduling.")]
        await publish(nats_url, scheduling)
        await publish(nats_url, [e for e in first_events if e not in scheduling])
        await eventually(lambda: applied(len(first_events)))

        # --- bad bodies change nothing; the roles are reporting and admin
        for body, field in (
            ({"by": ["colour"]}, "by"),
            ({"from": "2020-12-01"}, "from"),
            ({"period": "2020"}, "period"),
            ({"training_id": "nope"}, "training_id"),
        ):
            r = await client.post("/reports/snapshots", json=body, headers=REPORTING)
            assert r.status_code == 422 and r.json()["field"] == field, r.text
        r = await client.post("/reports/snapshots", json={"k": 1}, headers=REPORTING)
        assert r.status_code == 422 and r.json()["field"] == "k", r.text  # k is the server's
        for role in ("programme_staff", "coordinator"):
            r = await client.post("/reports/snapshots", json=ASKED, headers=bearer(role, "almaty"))
            assert r.status_code == 403
        assert (await client.get("/reports/snapshots", headers=REPORTING)).json() == []

        # --- freeze
        r = await client.post("/reports/snapshots", json=ASKED, headers=bearer("admin"))
        assert r.status_code == 201, r.text
        first = r.json()
        assert first["parameters"] == {**ASKED, "training_id": None}
        assert first["k"] == 5 and first["definitions_version"] == "2"
        assert first["created_by"] and "@" not in first["created_by"]
        assert set(first["positions"]) == {"SCHEDULING", "REGISTRATION", "FEEDBACK"}
        assert sum(first["positions"].values()) == len(first_events)
        live = (await client.get("/reports/donor", params={"by": "city"}, headers=REPORTING)).json()
        frozen = await downloads(client, first["id"])
        body: dict[str, Any] = msgspec.json.decode(frozen["json"])
        assert body["report"] == live
        assert body["report"]["evidence"]["comments"] == [
            {"item": "comment", "respondents": 9, "comments": ["Clear", "fun", "hard", "long",
             "useful"], "suppressed": None}
        ]  # fmt: skip
        assert hashlib.sha256(canonical(live)).hexdigest() == first["content_sha256"]
        assert frozen["xlsx"].startswith(b"PK") and frozen["pdf"].startswith(b"%PDF-")

        # --- more events: late attendance, a cancellation, new registrations
        await publish(nats_url, more_events)
        await eventually(lambda: applied(len(first_events) + len(more_events)))
        assert await downloads(client, first["id"]) == frozen  # byte-identical, every format
        r = await client.post("/reports/snapshots", json=ASKED, headers=REPORTING)
        assert r.status_code == 201, r.text
        second = r.json()
        assert second["content_sha256"] != first["content_sha256"]
        listed = (await client.get("/reports/snapshots", headers=REPORTING)).json()
        assert [s["id"] for s in listed] == [second["id"], first["id"]]  # newest first

        r = await client.get(
            f"/reports/snapshots/{first['id']}/diff/{second['id']}", headers=REPORTING
        )
        assert r.status_code == 200, r.text
        diff = r.json()
        assert diff["same_parameters"] and not diff["same_content"]
        changed = {(c["table"], c["cell"].get("city"), c["figure"]) for c in diff["changes"]}
        assert ("rows", "aktau", "registered") in changed
        assert ("totals", None, "registered") in changed
        assert not any(c["cell"].get("city") == "almaty" for c in diff["changes"])
        between = {e["event"]: e["count"] for e in diff["events_between"]}
        assert between == {
            "registration.participant_registered.v1": 6,
            "registration.attendance_recorded.v1": 6,
            "registration.registration_cancelled.v1": 1,
            "feedback.feedback_submitted.v1": 5,
            "feedback.knowledge_test_submitted.v1": 10,
            "feedback.comment_given.v1": 1,
        }
        evidence = {
            (c["section"], c["item"], c["figure"]): (c["before"], c["after"], c["reasons"])
            for c in diff["evidence_changes"]
        }
        tests = ["feedback.knowledge_test_submitted.v1"]
        assert evidence["knowledge_gain", None, "pairs"] == (None, 5, tests)
        assert evidence["knowledge_gain", None, "mean_gain"] == (None, 40.0, tests)
        answers = ["feedback.feedback_submitted.v1"]
        assert evidence["items", "overall", "respondents"] == (9, 14, answers)
        assert evidence["items", "overall", "mean"] == (3.89, 4.29, answers)
        assert evidence["items", "overall", "answer:5"][2] == answers
        comments = ["feedback.comment_given.v1", "feedback.feedback_submitted.v1"]
        assert evidence["comments", "comment", "comments"] == (5, 6, comments)
        assert evidence["comments", "comment", "respondents"] == (9, 14, comments)
        missing = uuid.uuid4()
        r = await client.get(f"/reports/snapshots/{missing}", headers=REPORTING)
        assert r.status_code == 404
        r = await client.get(f"/reports/snapshots/{first['id']}/diff/{missing}", headers=REPORTING)
        assert r.status_code == 404

    # --- rebuild from the streams up to the first snapshot's positions, into a fresh database
    rebuilt = open_database(second_database(request, database_url, tmp_path))
    await rebuilt.start([PLUMBING_MIGRATIONS, MIGRATIONS])
    nc = await nats.connect(nats_url)
    try:
        count = await replay_until(nc, rebuilt, EVENT_HANDLERS, first["positions"])
        assert count == len(first_events)
        reader = ReportReader(("all",), cache=False)
        report = await rebuilt.read(
            lambda conn: reader.donor(conn, ReportRequest("all", None, ("city",), 5))
        )
        assert canonical(report) == canonical(body["report"])
        assert hashlib.sha256(canonical(report)).hexdigest() == first["content_sha256"]
    finally:
        await nc.close()
        await rebuilt.close()
