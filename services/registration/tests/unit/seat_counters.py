"""The seat-counter invariant and a random scenario of every use case and event, shared by the
counter tests and the migration tests (the scenario drives the real handlers)."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from trainops_devtools.testing.events import capacity_changed, session_scheduled
from trainops_registration.adapters.tables import registrations, sessions
from trainops_registration.api.views import registration_json
from trainops_registration.domain import ParticipantInput
from trainops_registration.handlers import events, registering
from trainops_registration.handlers import registrations as changes
from trainops_registration.handlers.imports import ImportParticipants, import_participants
from trainops_shared.auth import Principal
from trainops_shared.errors import AppError
from trainops_shared.events import (
    SessionCancelled,
    SessionCompleted,
)

ADMIN = Principal("admin-1", "admin")
CITIES = ("almaty", "aktobe")
PEOPLE = 70  # a small pool, so people re-register after cancelling and duplicates are tried
STEPS = 300

# What a rejected use case raises (a 4xx answer); anything else is a bug and fails the test.
REJECTED = (AppError,)

Step = Callable[[Connection], object]


# --------------------------------------------------------------------------------------------
# The invariant


def counter_problems(conn: Connection) -> list[str]:
    """Every disagreement between a session's counters and its registration rows."""
    r = registrations.c
    rows = conn.execute(
        sa.select(
            sessions.c.session_id,
            sessions.c.status,
            sessions.c.capacity,
            sessions.c.confirmed_count,
            sessions.c.waitlisted_count,
            sessions.c.last_waitlist_position,
        )
    ).all()
    positions: dict[str, list[int | None]] = {}
    confirmed: Counter[str] = Counter()
    bad_rows: list[str] = []
    for sid, status, position in conn.execute(
        sa.select(r.session_id, r.status, r.waitlist_position).where(r.status != "cancelled")
    ).all():
        if status == "confirmed":
            confirmed[sid] += 1
            if position is not None:
                bad_rows.append(f"{sid}: a confirmed registration has position {position}")
        elif status == "waitlisted":
            positions.setdefault(sid, []).append(position)
        else:
            bad_rows.append(f"{sid}: unknown registration status {status!r}")
    problems = list(bad_rows)
    for sid, status, capacity, c_count, w_count, last in rows:
        waiting = positions.get(sid, [])
        if None in waiting:
            problems.append(f"{sid}: a waitlisted registration has no position")
            continue
        ordered = sorted(p for p in waiting if p is not None)
        actual = (confirmed[sid], len(ordered), max(ordered, default=0))
        stored = (c_count, w_count, last)
        if stored != actual:
            problems.append(
                f"{sid} ({status}): counters (confirmed, waitlisted, last position) = {stored}, "
                f"rows say {actual}"
            )
        if ordered != list(range(1, len(ordered) + 1)):
            problems.append(f"{sid}: waitlist positions {ordered} are not 1..{len(ordered)}")
        if status == "scheduled" and ordered and confirmed[sid] < capacity:
            problems.append(
                f"{sid}: {len(ordered)} waiting while only {confirmed[sid]} of {capacity} "
                "seats are taken"
            )
    return problems


# --------------------------------------------------------------------------------------------
# The random scenario


@dataclass(slots=True)
class SessionState:
    session_id: uuid.UUID
    version: int
    capacity: int
    status: str


def person(n: int) -> ParticipantInput:
    return ParticipantInput(
        full_name=f"Person {n}",
        sector="ngo",
        city=CITIES[n % len(CITIES)],
        language="ru",
        email=f"p{n}@x.kz",
    )


def pick_registration(conn: Connection, session_id: uuid.UUID, status: str | None, r: float) -> Any:
    """A registration of the session (of ``status``, if given) chosen by the pre-drawn ``r``.

    The choice is drawn before the step runs, so a retried transaction picks the same row.
    """
    query = sa.select(registrations.c.registration_id).where(
        registrations.c.session_id == str(session_id)
    )
    if status is not None:
        query = query.where(registrations.c.status == status)
    ids = conn.execute(query.order_by(registrations.c.registration_id)).scalars().all()
    if not ids:
        return None
    return ids[int(r * len(ids))]


def applied(handler: Callable[[Connection, Any], None], event: Any) -> Step:
    """An event handler as a step whose result says it ran (handlers return nothing)."""

    def step(conn: Connection) -> object:
        handler(conn, event)
        return True

    return step


class Scenario:
    """Draws the next use case or scheduling event; the scheduling side is modelled here
    (versions, capacity, status) because registration only ever receives it as events."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.sessions: list[SessionState] = []
        self.start = datetime(2021, 1, 20, 4, 0, tzinfo=UTC)

    def scheduled(self) -> list[SessionState]:
        return [s for s in self.sessions if s.status == "scheduled"]

    def any_session(self) -> SessionState:
        live = self.scheduled()
        if live and self.rng.random() < 0.9:
            return self.rng.choice(live)
        return self.rng.choice(self.sessions)

    def next_step(self) -> tuple[str, Step]:
        if len(self.scheduled()) < 2:
            return self._schedule()
        kinds = [
            ("register", 40),
            ("cancel_confirmed", 12),
            ("cancel_waitlisted", 12),
            ("cancel_any", 3),
            ("capacity", 10),
            ("import", 8),
            ("attendance", 6),
            ("session_cancel", 2),
            ("session_complete", 2),
        ]
        kind = self.rng.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]
        return kind, getattr(self, f"_{kind}")()

    def _schedule(self) -> tuple[str, Step]:
        sid = uuid.uuid4()
        capacity = self.rng.randint(0, 4)
        self.sessions.append(SessionState(sid, 1, capacity, "scheduled"))
        event = session_scheduled(
            session_id=sid,
            capacity=capacity,
            cities=CITIES,
            mode="in_person",
            starts_at=self.start,
        )
        return "schedule", applied(events.on_session_scheduled, event)

    def _register(self) -> Step:
        command = registering.RegisterParticipant(
            session_id=self.any_session().session_id,
            participant=person(self.rng.randrange(PEOPLE)),
        )
        return lambda conn: registering.register_participant(
            conn, command, ADMIN, render=registration_json
        )

    def _cancel(self, status: str | None) -> Step:
        sid = self.any_session().session_id
        r = self.rng.random()

        def step(conn: Connection) -> object:
            rid = pick_registration(conn, sid, status, r)
            if rid is None:
                return None
            return changes.cancel_registration(conn, rid, ADMIN, uuid.uuid4())

        return step

    def _cancel_confirmed(self) -> Step:
        return self._cancel("confirmed")

    def _cancel_waitlisted(self) -> Step:
        return self._cancel("waitlisted")

    def _cancel_any(self) -> Step:
        return self._cancel(None)

    def _attendance(self) -> Step:
        sid = self.any_session().session_id
        r, attended = self.rng.random(), self.rng.random() < 0.7

        def step(conn: Connection) -> object:
            rid = pick_registration(conn, sid, None, r)
            if rid is None:
                return None
            return changes.record_attendance(conn, rid, attended, ADMIN, uuid.uuid4())

        return step

    def _capacity(self) -> Step:
        session = self.any_session()
        previous, session.capacity = session.capacity, self.rng.randint(0, 6)
        session.version += 1
        event = capacity_changed(
            session.session_id,
            version=session.version,
            capacity=session.capacity,
            previous=previous,
        )
        return applied(events.on_capacity_changed, event)

    def _session_cancel(self) -> Step:
        session = self.rng.choice(self.scheduled())
        session.version += 1
        session.status = "cancelled"
        event = SessionCancelled(
            aggregate_id=session.session_id,
            aggregate_version=session.version,
            session_id=session.session_id,
            reason="trainer unavailable",
        )
        return applied(events.on_session_cancelled, event)

    def _session_complete(self) -> Step:
        session = self.rng.choice(self.scheduled())
        session.version += 1
        session.status = "completed"
        event = SessionCompleted(
            aggregate_id=session.session_id,
            aggregate_version=session.version,
            session_id=session.session_id,
        )
        return applied(events.on_session_completed, event)

    def _import(self) -> Step:
        rows = [person(self.rng.randrange(PEOPLE)) for _ in range(self.rng.randint(1, 4))]
        csv_text = "full_name,email,sector,city,language\n" + "".join(
            f"{p.full_name},{p.email},{p.sector},{p.city},{p.language}\n" for p in rows
        )
        command = ImportParticipants(
            session_id=self.any_session().session_id, file_bytes=csv_text.encode()
        )
        return lambda conn: import_participants(conn, command, ADMIN)


def tally(outcomes: Counter[str], kind: str, result: object) -> None:
    outcomes[f"{kind}:{'noop' if result is None else 'ok'}"] += 1


def assert_exercised(outcomes: Counter[str]) -> None:
    """The sequence really went through the interesting paths (not a vacuous pass)."""
    for kind in ("register", "cancel_confirmed", "cancel_waitlisted", "capacity", "import"):
        assert outcomes[f"{kind}:ok"] > 0, outcomes
    assert outcomes["register:rejected"] + outcomes["import:rejected"] > 0, outcomes


def sqlite_engine() -> Engine:
    """In-memory SQLite with pysqlite's own transaction handling off (as the service's storage
    does) so that the handlers' SAVEPOINTs work; one shared connection (StaticPool)."""
    engine = sa.create_engine("sqlite://", poolclass=StaticPool)

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine
