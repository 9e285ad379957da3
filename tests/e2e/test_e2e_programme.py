"""The whole programme end to end: schedule → register → attend → feedback → donor report.

The four services run as separate processes on a real NATS server; the test drives them only
over HTTP and asserts that reporting shows exactly what the test computes from what it sent:
the summary, the donor table by city and sex unsuppressed (k=1), then, reporting restarted with
its threshold set to 3 and to 5 (k is the server's setting), primary suppression exactly and
complementary suppression by its invariants, in JSON and in CSV.

The scenario: two trainings; people of the eight cities (Kazakh and Russian names, some typed
again in Latin letters for a second training); an online session for everyone, an in-person
session with capacity 2 (two waitlisted, one cancellation promotes the first of them), an
in-person session cancelled after registration (its registrations must not count), a second
online session with one cancelled registration; attendance (some absent, some not recorded),
completion, feedback from most attendees.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
from e2e_checks import (
    check_csv_matches_json,
    check_donor_report,
    check_unsuppressed,
    summary_of,
    wait_equal,
)

from trainops_cli.api_client import ApiError, TrainopsClient, token_of
from trainops_devtools.demo_data import (
    Fact,
    Person,
    SessionFact,
    expected_cells,
    expected_summary,
    make_people,
)

pytestmark = pytest.mark.e2e

OVERALL_SCORES = (5, 4, 5, 3, 4, 5, 2, 5, 4, 1, 5, 4)


@dataclass
class Reg:
    session: str
    person: Person
    id: str
    participant_id: str
    status: str
    attended: bool = False
    overall: tuple[int, ...] = ()
    waitlist_position: int | None = None


@dataclass(frozen=True)
class Sess:
    key: str
    training: str
    id: str
    starts_at: datetime
    mode: str


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def run_programme(client: TrainopsClient, set_k: Callable[[int], None]) -> None:
    """``set_k(k)`` restarts reporting with ``REPORT_MIN_CELL=k`` on the same read model."""
    suffix = uuid.uuid4().hex[:8]
    ta = client.define_training(
        f"e2e-ethics-{suffix}",
        {"en": "Ethical coverage", "ru": "Этичное освещение", "kk": "Этикалық жариялау"},
        ["media", "blogger"],
    )["id"]
    tb = client.define_training(
        f"e2e-violence-{suffix}", {"en": "Violence against children"}, ["ngo", "akimat"]
    )["id"]
    with pytest.raises(ApiError) as duplicate:
        client.define_training(f"e2e-ethics-{suffix}", {"en": "again"}, [])
    assert duplicate.value.status == 409
    expert = client.register_trainer("Sarah Whitfield", "Geneva")["id"]
    local = client.register_trainer("Есенова Гүлнар", "almaty")["id"]

    everywhere = ["almaty", "astana", "shymkent", "oskemen", "almaty_region", "aktobe", "aktau"]
    everywhere.append("kostanay")
    plans = {
        "S1": (ta, "online", everywhere, "2021-03-01T10:00", "2021-03-01T13:00", 100, [expert]),
        "S2": (ta, "in_person", ["almaty"], "2021-03-03T10:00", "2021-03-03T16:00", 2, [local]),
        "S3": (tb, "in_person", ["aktobe"], "2021-03-05T10:00", "2021-03-05T16:00", 50, []),
        "S4": (
            tb,
            "online",
            ["almaty", "kostanay", "shymkent", "aktobe"],
            "2021-03-10T10:00",
            "2021-03-10T13:00",
            100,
            [expert, local],
        ),
    }
    sessions: dict[str, Sess] = {}
    for key, (training, mode, cities, start, end, capacity, trainers) in plans.items():
        body = client.schedule_session(
            {
                "training_id": training,
                "mode": mode,
                "cities": cities,
                "starts_at": start,
                "ends_at": end,
                "capacity": capacity,
                "language": "ru",
                "trainer_ids": trainers,
            }
        )
        assert body["status"] == "scheduled"
        sessions[key] = Sess(key, training, body["id"], _utc(body["starts_at_utc"]), mode)
    # The contract's example: 10:00 in Asia/Almaty on a 2020/2021 date is 04:00Z, 09:00 Aktobe.
    s1 = client.get_session(sessions["S1"].id)
    assert s1["starts_at_utc"].startswith("2021-03-01T04:00")
    assert s1["local_times"]["aktobe"].startswith("2021-03-01T09:00")
    assert s1["local_times"]["kostanay"].startswith("2021-03-01T10:00")

    people = make_people(random.Random(1221), 70)
    regs: list[Reg] = []

    def register(session: str, person: Person, variant: str = "canonical") -> Reg:
        body = client.register(sessions[session].id, person.participant(variant))
        reg = Reg(session, person, body["id"], body["participant_id"], body["status"])
        reg.waitlist_position = body.get("waitlist_position")
        regs.append(reg)
        return reg

    # S1: the first 48 people, whatever their city.
    first_pid = {p.key: register("S1", p).participant_id for p in people[:48]}
    assert all(r.status == "confirmed" for r in regs)
    # S2 (capacity 2): four people of Almaty: two confirmed, two waitlisted in order.
    almaty = [p for p in people if p.city == "almaty"][:4]
    s2 = [register("S2", p) for p in almaty]
    assert [r.status for r in s2] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert [r.waitlist_position for r in s2[2:]] == [1, 2]
    client.cancel_registration(s2[0].id, region="almaty")
    s2[0].status = "cancelled"
    assert client.get_registration(s2[2].id)["status"] == "confirmed"  # promoted
    s2[2].status = "confirmed"
    assert client.get_registration(s2[3].id)["status"] == "waitlisted"
    # Another region's registration is invisible to a coordinator (404, not 403).
    client.request(
        "GET",
        f"{client.urls.registration}/registrations/{s2[1].id}",
        role="coordinator",
        region="aktobe",
        expect=(404,),
    )
    # S3 (in person, Aktobe): registered, then the session is cancelled.
    s3 = [register("S3", p) for p in [p for p in people if p.city == "aktobe"][:8]]
    assert s3 and all(r.status == "confirmed" for r in s3)
    # S4: people 30.. from its cities; three of those already in S1 are typed in Latin letters.
    s4_cities = set(plans["S4"][2])
    latin_typed = 0
    for p in people[30:]:
        if p.city not in s4_cities:
            continue
        variant = "canonical"
        if p.key in first_pid and latin_typed < 3:
            variant, latin_typed = "latin", latin_typed + 1
        reg = register("S4", p, variant)
        if p.key in first_pid:
            assert reg.participant_id == first_pid[p.key], f"{p.name_latin} not matched"
    assert latin_typed == 3
    s4 = [r for r in regs if r.session == "S4"]
    client.cancel_registration(s4[1].id)
    s4[1].status = "cancelled"

    client.cancel_session(sessions["S3"].id, "venue unavailable")
    s3_ids = sorted(reg.id for reg in s3)
    wait_equal(
        lambda: [client.get_registration(rid)["status"] for rid in s3_ids],
        ["cancelled"] * len(s3_ids),
        "registrations of the cancelled session cancelled",
    )
    for reg in s3:
        reg.status = "cancelled"
    with pytest.raises(ApiError) as illegal:
        client.complete_session(sessions["S3"].id)
    assert illegal.value.status == 409

    # Attendance of the confirmed: most attend, some absent, some not recorded.
    for key in ("S1", "S2", "S4"):
        confirmed = [r for r in regs if r.session == key and r.status == "confirmed"]
        for j, reg in enumerate(confirmed):
            if j % 9 == 8:
                continue
            reg.attended = j % 6 != 5
            client.record_attendance(reg.id, reg.attended, region=reg.person.city)
        client.complete_session(sessions[key].id)

    # Feedback from most attendees, through their invitation links.
    by_id = {r.id: r for r in regs}
    answered = 0
    for key in ("S1", "S2", "S4"):
        attendees = [r for r in regs if r.session == key and r.attended]
        invitations = client.wait_invitations(sessions[key].id, len(attendees), timeout=90)
        assert sorted(str(i["registration_id"]) for i in invitations) == sorted(
            r.id for r in attendees
        )
        for j, invitation in enumerate(sorted(invitations, key=lambda i: i["registration_id"])):
            if j % 4 == 3:
                continue
            score = OVERALL_SCORES[answered % len(OVERALL_SCORES)]
            token = token_of(invitation["url"])
            client.submit_response(
                token,
                {"overall": score, "relevance": score, "trainer": 5, "knowledge_gain": 4},
            )
            by_id[str(invitation["registration_id"])].overall = (score,)
            answered += 1
            if answered == 1:
                with pytest.raises(ApiError) as twice:
                    client.submit_response(token, {"overall": 1, "relevance": 1, "trainer": 1,
                                                   "knowledge_gain": 1})  # fmt: skip
                assert twice.value.status == 409

    # The service's final states are the ones the test predicted.
    for reg in regs:
        assert client.get_registration(reg.id)["status"] == reg.status, reg

    facts = [
        Fact(
            participant_id=r.participant_id,
            training=sessions[r.session].training,
            session=r.session,
            session_status="cancelled" if r.session == "S3" else "completed",
            starts_at=sessions[r.session].starts_at,
            mode=sessions[r.session].mode,
            status=r.status,
            attended=r.attended,
            overall=r.overall,
            city=r.person.city,
            sector=r.person.sector,
            sex=r.person.sex,
            age_band=r.person.age_band,
            language=r.person.language,
        )
        for r in regs
    ]
    session_facts = [
        SessionFact(s.key, s.training, s.starts_at, "cancelled" if s.key == "S3" else "completed")
        for s in sessions.values()
    ]
    want = expected_summary(facts, session_facts)
    assert want["registered"] > 40 and want["feedback_responses"] > 20
    by = ("city", "sex")
    cells = expected_cells(facts, by)
    wait_equal(lambda: summary_of(client), want, "reporting summary")
    wait_equal(
        lambda: {
            tuple(str(r[d]) for d in by): {
                m: r[m]
                for m in ("registered", "attended", "feedback_responses", "satisfaction_mean")
            }
            for r in client.donor(by="city,sex", k=1)["rows"]
        },
        cells,
        "donor cells by city and sex",
    )

    # Summary: per training and per window.
    for training in (ta, tb):
        assert summary_of(client, training_id=training) == expected_summary(
            facts, session_facts, training=training
        )
    assert summary_of(client, period="all") == want
    with pytest.raises(ApiError) as refused:  # windows are refused, years not offered here
        client.summary(from_="2021-03-04", to="2021-04-01")
    assert refused.value.status == 422

    # Donor tables: unsuppressed, then at the server's k of 3 and of 5, JSON and CSV.
    check_unsuppressed(client.donor(by="city,sex", k=1), cells, by)
    default = client.donor(by="city,sex")
    assert default["k"] == 1  # the server's setting in this test system
    with pytest.raises(ApiError) as refused:  # k is the server's, not the request's
        client.donor(by="city,sex", k=3)
    assert refused.value.status == 422
    for k in (3, 5):
        set_k(k)
        report = client.donor(by="city,sex", k=k)
        check_donor_report(report, cells, by, k)
        check_csv_matches_json(client.donor_csv(by="city,sex", k=k), report)
        for training in (ta, tb):
            part = client.donor(by="city", k=k, training_id=training)
            check_donor_report(
                part, expected_cells(facts, ("city",), training=training), ("city",), k
            )
    set_k(3)
    for dims in (("sector",), ("age_band", "city"), ("city", "training")):
        report = client.donor(by=",".join(dims), k=3)
        want_cells = expected_cells(facts, dims)
        if "training" in dims:  # reporting labels trainings by code
            codes = {ta: f"e2e-ethics-{suffix}", tb: f"e2e-violence-{suffix}"}
            want_cells = {
                tuple(codes.get(v, v) for v in key): value for key, value in want_cells.items()
            }
        check_donor_report(report, want_cells, dims, 3)
        check_csv_matches_json(client.donor_csv(by=",".join(dims), k=3), report)


def _restart_reporting(system: Any, k: int) -> None:
    reporting = system.processes["reporting"]
    reporting.env["REPORT_MIN_CELL"] = str(k)
    reporting.restart(timeout=60.0)


@pytest.mark.parametrize(
    "database",
    [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def test_programme_reports_equal_what_was_sent(start_system: Any, database: str) -> None:
    system = start_system(database)
    try:
        run_programme(system.client, partial(_restart_reporting, system))
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n\nservice logs:\n{system.logs()}") from exc
