"""Use-case and event handlers over an in-memory SQLite connection (no servers)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_devtools.testing.events import capacity_changed, session_scheduled
from trainops_registration.adapters import sessions
from trainops_registration.api import views
from trainops_registration.domain import Conflict as DomainConflict
from trainops_registration.domain import ParticipantInput
from trainops_registration.domain.records import Registration
from trainops_registration.handlers import events, registering, registrations
from trainops_registration.handlers.imports import ImportParticipants, import_participants
from trainops_shared.audit import AuditQuery, list_audit
from trainops_shared.auth import Principal
from trainops_shared.errors import Conflict, Forbidden, Invalid, NotFound
from trainops_shared.events import (
    Event,
    ParticipantRegistered,
    SessionRescheduled,
    SessionScheduled,
    WaitlistPromoted,
    decode_event,
)
from trainops_shared.inbox import RetryLater
from trainops_shared.tables import outbox

pytestmark = pytest.mark.unit

ADMIN = Principal("admin-1", "admin")
ALMATY = Principal("coord-almaty", "coordinator", "almaty")
AKTOBE = Principal("coord-aktobe", "coordinator", "aktobe")


def scheduled(capacity: int = 1, version: int = 1) -> SessionScheduled:
    return session_scheduled(
        version=version, capacity=capacity, cities=("Almaty", "aktobe"), mode="in_person"
    )


def register(
    conn: Connection, session_id: uuid.UUID, name: str, principal: Principal = ALMATY, **kw: str
) -> dict[str, object]:
    participant = ParticipantInput(
        full_name=name,
        sector="ngo",
        city=kw.pop("city", principal.region or "almaty"),
        language="ru",
        **kw,
    )
    command = registering.RegisterParticipant(session_id=session_id, participant=participant)
    registered = registering.register_participant(
        conn, command, principal, render=views.registration_json
    )
    assert isinstance(registered, Registration)
    return views.registration_json(registered)


def read(conn: Connection, registration_id: uuid.UUID, principal: Principal) -> dict[str, Any]:
    """The registration as GET /registrations/{id} answers it."""
    return views.registration_json(
        registrations.read_registration(conn, registration_id, principal)
    )


def outbox_events(conn: Connection) -> list[Event]:
    rows = conn.execute(sa.select(outbox.c.payload).order_by(outbox.c.id)).scalars()
    return [decode_event(bytes(p)) for p in rows]


def test_unknown_session_is_retried_later_and_registration_404s(conn: Connection) -> None:
    ev = scheduled()
    with pytest.raises(RetryLater):
        events.on_capacity_changed(
            conn,
            capacity_changed(ev.session_id, version=2, capacity=3, previous=1),
        )
    with pytest.raises(NotFound) as info:
        register(conn, ev.session_id, "Aida Ermekova")
    assert info.value.field == "session_id"


def test_older_event_never_rolls_the_copy_back(conn: Connection) -> None:
    ev = scheduled(capacity=1)
    events.on_session_scheduled(conn, ev)
    later = ev.starts_at + timedelta(days=1)
    events.on_session_rescheduled(
        conn,
        SessionRescheduled(
            aggregate_id=ev.session_id,
            aggregate_version=3,
            session_id=ev.session_id,
            starts_at=later,
            ends_at=later + timedelta(hours=1),
        ),
    )
    events.on_capacity_changed(  # version 2 arrives late: ignored
        conn,
        capacity_changed(ev.session_id, version=2, capacity=10, previous=1),
    )
    events.on_session_scheduled(conn, ev)  # a redelivered v1: ignored
    session = sessions.get_session(conn, ev.session_id)
    assert session is not None
    assert (session.capacity, session.version, session.starts_at) == (1, 3, later)
    assert session.cities == ["almaty", "aktobe"]


def test_capacity_cut_keeps_confirmed_and_increase_promotes_in_order(conn: Connection) -> None:
    ev = scheduled(capacity=2)
    events.on_session_scheduled(conn, ev)
    bodies = [register(conn, ev.session_id, f"Person {n}", email=f"p{n}@x.kz") for n in range(5)]
    assert [b["status"] for b in bodies] == ["confirmed"] * 2 + ["waitlisted"] * 3

    def change(capacity: int, previous: int, version: int) -> None:
        events.on_capacity_changed(
            conn,
            capacity_changed(ev.session_id, version=version, capacity=capacity, previous=previous),
        )

    change(1, 2, 2)
    listed = msgspec.to_builtins(
        views.registration_page(
            registrations.read_registrations(
                conn, ADMIN, session_id=ev.session_id, status="confirmed", limit=10, offset=0
            )
        )
    )
    assert listed["total"] == 2  # nobody is un-confirmed by a cut
    change(4, 1, 3)
    after = {b["id"]: read(conn, uuid.UUID(str(b["id"])), ADMIN) for b in bodies}
    statuses = [after[b["id"]]["status"] for b in bodies]
    assert statuses == ["confirmed"] * 4 + ["waitlisted"]
    assert after[bodies[4]["id"]]["waitlist_position"] == 1
    promoted = [e for e in outbox_events(conn) if isinstance(e, WaitlistPromoted)]
    assert [str(e.registration_id) for e in promoted] == [bodies[2]["id"], bodies[3]["id"]]
    assert all(e.causation_id is not None and e.aggregate_version == 2 for e in promoted)


def test_cancelling_a_waitlisted_registration_closes_the_gap(conn: Connection) -> None:
    ev = scheduled(capacity=1)
    events.on_session_scheduled(conn, ev)
    bodies = [register(conn, ev.session_id, f"Person {n}", email=f"q{n}@x.kz") for n in range(4)]
    middle = uuid.UUID(str(bodies[1]["id"]))
    registrations.cancel_registration(conn, middle, ALMATY, uuid.uuid4())
    positions = [
        read(conn, uuid.UUID(str(b["id"])), ADMIN).get("waitlist_position") for b in bodies[2:]
    ]
    assert positions == [1, 2]
    assert read(conn, uuid.UUID(str(bodies[0]["id"])), ADMIN)["status"] == "confirmed"


def test_region_rules(conn: Connection) -> None:
    ev = scheduled(capacity=3)
    events.on_session_scheduled(conn, ev)
    with pytest.raises(Forbidden):
        register(conn, ev.session_id, "Bolat Serikov", ALMATY, city="aktobe")
    body = register(conn, ev.session_id, "Bolat Serikov", AKTOBE)
    rid = uuid.UUID(str(body["id"]))
    with pytest.raises(NotFound):
        read(conn, rid, ALMATY)
    with pytest.raises(NotFound):
        registrations.cancel_registration(conn, rid, ALMATY, uuid.uuid4())
    # A coordinator token's region is compared case-insensitively.
    shouting = Principal("c", "coordinator", "AKTOBE")
    assert read(conn, rid, shouting)["participant"]["full_name"] == ("Bolat Serikov")


def test_registration_event_carries_the_profile_only(conn: Connection) -> None:
    ev = scheduled(capacity=3)
    events.on_session_scheduled(conn, ev)
    register(conn, ev.session_id, "Айгерім Сейтова", email="Aigerim@Mail.KZ", phone="87011234567")
    [event] = outbox_events(conn)
    assert isinstance(event, ParticipantRegistered)
    assert (event.profile.city, event.profile.sector, event.profile.language) == (
        "almaty",
        "ngo",
        "ru",
    )
    row = conn.execute(sa.select(outbox.c.payload)).scalar_one()
    text = bytes(row).decode()
    for secret in ("Айгерім", "aigerim", "Aigerim", "7011234567"):
        assert secret not in text


def test_attendance_on_a_completed_session_but_not_a_cancel(conn: Connection) -> None:
    ev = scheduled(capacity=3)
    events.on_session_scheduled(conn, ev)
    body = register(conn, ev.session_id, "Dina Sadykova")
    rid = uuid.UUID(str(body["id"]))
    from trainops_shared.events import SessionCompleted

    events.on_session_completed(
        conn,
        SessionCompleted(aggregate_id=ev.session_id, aggregate_version=2, session_id=ev.session_id),
    )
    out = views.registration_json(
        registrations.record_attendance(conn, rid, True, ALMATY, uuid.uuid4())
    )
    assert (out["attended"], out["version"]) == (True, 2)
    with pytest.raises(DomainConflict):
        registrations.cancel_registration(conn, rid, ALMATY, uuid.uuid4())


def test_duplicate_person_conflict_names_the_registration(conn: Connection) -> None:
    ev = scheduled(capacity=3)
    events.on_session_scheduled(conn, ev)
    body = register(conn, ev.session_id, "Yerzhan Nurlanov", phone="+7 701 000 11 22")
    with pytest.raises(Conflict) as info:
        register(conn, ev.session_id, "Ержан Нурланов")
    assert info.value.extra["registration_id"] == body["id"]


def test_csv_import_reports_every_bad_row_and_saves_nothing(conn: Connection) -> None:
    ev = scheduled(capacity=3)
    events.on_session_scheduled(conn, ev)
    csv_text = (
        "full_name,email,sector,city,language\n"
        "Aida Ermekova,aida@x.kz,media,almaty,ru\n"
        "\n"
        "X,,media,almaty,ru\n"
        "Berik Omarov,,media,almaty,de\n"
        "Too,Many,Values,almaty,ru,extra\n"
    )
    command = ImportParticipants(session_id=ev.session_id, file_bytes=csv_text.encode())
    with pytest.raises(Invalid) as info:
        import_participants(conn, command, ALMATY)
    problems = [(p["line"], p.get("field")) for p in info.value.extra["errors"]]
    assert problems == [(4, "full_name"), (5, "language"), (6, None)]
    assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one() == 0
    with pytest.raises(Invalid) as header:
        import_participants(
            conn,
            ImportParticipants(session_id=ev.session_id, file_bytes=b"name,city\nA,almaty\n"),
            ALMATY,
        )
    assert header.value.field == "header"
    with pytest.raises(Invalid):
        import_participants(
            conn, ImportParticipants(session_id=ev.session_id, file_bytes=b"\xff\xfe"), ALMATY
        )


def test_requests_name_their_actor_and_leave_an_audit_trail_without_personal_data(
    conn: Connection,
) -> None:
    ev = scheduled(capacity=1)
    events.on_session_scheduled(conn, ev)
    first = register(conn, ev.session_id, "Aigerim Seitova", email="aigerim@mail.kz")
    second = register(conn, ev.session_id, "Dana Abenova", phone="87010000009")
    registrations.cancel_registration(conn, uuid.UUID(str(first["id"])), ALMATY, uuid.uuid4())
    registrations.record_attendance(conn, uuid.UUID(str(second["id"])), True, ALMATY, uuid.uuid4())
    emitted = outbox_events(conn)
    kinds = [type(e).__name__ for e in emitted]
    assert kinds == [
        "ParticipantRegistered",
        "ParticipantRegistered",
        "RegistrationCancelled",
        "WaitlistPromoted",
        "AttendanceRecorded",
    ]
    assert {e.actor for e in emitted} == {ALMATY.subject}
    # Events caused by scheduling's events name nobody.
    events.on_capacity_changed(
        conn,
        capacity_changed(ev.session_id, version=2, capacity=3, previous=1),
    )
    entries = list_audit(conn, AuditQuery())
    assert sorted(e.action for e in entries) == [
        "registration.attendance_recorded",
        "registration.cancelled",
        "registration.registered",
        "registration.registered",
    ]
    assert {(e.actor, e.actor_role) for e in entries} == {(ALMATY.subject, "coordinator")}
    logged = msgspec.json.encode([e.detail for e in entries]).decode()
    for secret in ("Aigerim", "aigerim", "Dana", "7010000009"):
        assert secret not in logged
    cancelled = next(e for e in entries if e.action == "registration.cancelled")
    assert cancelled.detail == {
        "session_id": str(ev.session_id),
        "previous_status": "confirmed",
        "promoted": 1,
    }


def test_an_import_audits_each_registration_it_makes(conn: Connection) -> None:
    ev = scheduled(capacity=1)
    events.on_session_scheduled(conn, ev)
    csv_text = (
        "full_name,email,sector,city,language\n"
        "Aida Ermekova,aida@x.kz,media,almaty,ru\n"
        "Berik Omarov,berik@x.kz,media,almaty,ru\n"
    )
    command = ImportParticipants(session_id=ev.session_id, file_bytes=csv_text.encode())
    imported = import_participants(conn, command, ALMATY)
    entries = list_audit(conn, AuditQuery(action="registration.registered"))
    assert sorted(e.record_id for e in entries) == sorted(
        str(r.registration_id) for r in imported.registrations
    )
    assert sorted(str((e.detail or {})["status"]) for e in entries) == ["confirmed", "waitlisted"]
    assert all(e.actor == ALMATY.subject for e in outbox_events(conn))
