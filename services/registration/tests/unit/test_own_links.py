"""The participant's own link and moving people, on an in-memory SQLite database: cancel and
decline free the seat for the next person (who is to be told), a link answers once, and nothing
changes on a refused answer; a reschedule queues one message per confirmed person, once per
version; moved people are each told once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_devtools.testing.events import session_scheduled
from trainops_registration.adapters import links
from trainops_registration.adapters.outbox import message_outbox
from trainops_registration.adapters.tables import registrations
from trainops_registration.domain import ParticipantInput
from trainops_registration.domain.links import LinkPurpose, message_link_tokens
from trainops_registration.domain.records import Registration
from trainops_registration.handlers import events, registering
from trainops_registration.handlers.moving import move_registrations
from trainops_registration.handlers.own_links import answer_own_link, read_own_link
from trainops_shared.auth import Principal
from trainops_shared.errors import Conflict, Invalid, NotFound
from trainops_shared.events import SessionCancelled, SessionRescheduled
from trainops_shared.link_tokens import hash_token

pytestmark = pytest.mark.unit

ALMATY = Principal("coord-almaty", "coordinator", "almaty")
START = datetime(2031, 5, 20, 4, 0, tzinfo=UTC)
BEFORE = START - timedelta(days=3)
TOKENS = message_link_tokens("a test link key that is long enough")


def setup(conn: Connection, capacity: int, people: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    event = session_scheduled(
        capacity=capacity, cities=("almaty",), mode="in_person", starts_at=START, hours=3
    )
    events.on_session_scheduled(conn, event)
    ids = []
    for n in range(people):
        participant = ParticipantInput(
            full_name=f"Person {n}",
            sector="ngo",
            city="almaty",
            language="ru",
            email=f"p{n}@x.kz",
        )
        command = registering.RegisterParticipant(event.session_id, participant)
        done = registering.register_participant(conn, command, ALMATY, render=lambda r: {})
        assert isinstance(done, Registration)
        ids.append(done.registration_id)
    return event.session_id, ids


def messages(conn: Connection) -> list[tuple[str, uuid.UUID, int]]:
    m = message_outbox.c
    rows = conn.execute(sa.select(m.kind, m.registration_id, m.sequence).order_by(m.created_at))
    return [(str(k), r, int(s)) for k, r, s in rows.all()]


def link_for(conn: Connection, registration_id: uuid.UUID, kind: str) -> str:
    """What the relay does when it renders the ``kind`` message: derive and store the link."""
    m = message_outbox.c
    message_id = conn.execute(
        sa.select(m.message_id).where(m.registration_id == registration_id, m.kind == kind)
    ).scalar_one()
    purpose: LinkPurpose = "cancel"
    token = TOKENS[purpose].token(str(message_id))
    for _ in range(2):  # a resend of the same message finds its row
        links.ensure_link(
            conn,
            token_hash=hash_token(token),
            message_id=message_id,
            purpose=purpose,
            expires_at=START,
            now=BEFORE,
        )
    return token


def status(conn: Connection, registration_id: uuid.UUID) -> Any:
    r = registrations.c
    return conn.execute(
        sa.select(r.status).where(r.registration_id == registration_id)
    ).scalar_one()


def test_the_cancel_link_cancels_once_and_promotes_the_next_person(conn: Connection) -> None:
    _, (first, second) = setup(conn, capacity=1, people=2)
    token = link_for(conn, first, "confirmed")
    view = read_own_link(conn, token, BEFORE)
    assert view is not None and (view.purpose, view.verdict) == ("cancel", "open")
    with pytest.raises(Invalid):
        answer_own_link(conn, token, "declined", BEFORE, uuid.uuid4())
    assert status(conn, first) == "confirmed"
    done = answer_own_link(conn, token, "cancelled", BEFORE, uuid.uuid4())
    assert (done.verdict, done.answer) == ("used", "cancelled")
    assert (status(conn, first), status(conn, second)) == ("cancelled", "confirmed")
    assert ("promoted", second, 1) in messages(conn)
    with pytest.raises(Conflict):
        answer_own_link(conn, token, "cancelled", BEFORE, uuid.uuid4())
    with pytest.raises(NotFound):
        answer_own_link(conn, "B" * 43, "cancelled", BEFORE, uuid.uuid4())
    assert read_own_link(conn, "not a token", BEFORE) is None


def test_an_expired_link_changes_nothing(conn: Connection) -> None:
    _, (first,) = setup(conn, capacity=1, people=1)
    token = link_for(conn, first, "confirmed")
    with pytest.raises(Conflict, match="expired"):
        answer_own_link(conn, token, "cancelled", START, uuid.uuid4())
    assert status(conn, first) == "confirmed"


def test_a_reschedule_tells_each_confirmed_person_once_per_version(conn: Connection) -> None:
    session_id, (first, second, waiting) = setup(conn, capacity=2, people=3)

    def moved(version: int, hours: int) -> SessionRescheduled:
        return SessionRescheduled(
            aggregate_id=session_id,
            aggregate_version=version,
            session_id=session_id,
            starts_at=START + timedelta(hours=hours),
            ends_at=START + timedelta(hours=hours + 3),
        )

    events.on_session_rescheduled(conn, moved(2, 1))
    events.on_session_rescheduled(conn, moved(2, 1))  # redelivered: already applied
    events.on_session_rescheduled(conn, moved(3, 2))
    told = [(r, s) for k, r, s in messages(conn) if k == "rescheduled"]
    assert sorted(told, key=str) == sorted(
        [(first, 2), (second, 2), (first, 3), (second, 3)], key=str
    )
    assert waiting not in {r for r, _ in told}

    # Declining the new time through its link frees the seat for the waiting person.
    token = link_for_version(conn, second, 3)
    with pytest.raises(Invalid):
        answer_own_link(conn, token, "cancelled", BEFORE, uuid.uuid4())
    answer_own_link(conn, token, "declined", BEFORE, uuid.uuid4())
    assert (status(conn, second), status(conn, waiting)) == ("cancelled", "confirmed")
    # The older update's link has nothing left to do now.
    older = link_for_version(conn, second, 2)
    view = read_own_link(conn, older, BEFORE)
    assert view is not None and view.verdict == "closed"


def link_for_version(conn: Connection, registration_id: uuid.UUID, sequence: int) -> str:
    m = message_outbox.c
    message_id = conn.execute(
        sa.select(m.message_id).where(
            m.registration_id == registration_id,
            m.kind == "rescheduled",
            m.sequence == sequence,
        )
    ).scalar_one()
    token = TOKENS["reschedule"].token(str(message_id))
    links.ensure_link(
        conn,
        token_hash=hash_token(token),
        message_id=message_id,
        purpose="reschedule",
        expires_at=START,
        now=BEFORE,
    )
    return token


def test_moving_people_of_a_full_session_tells_each_once_and_promotes_there(
    conn: Connection,
) -> None:
    """Two of a full session's three confirmed people go to another session with one seat:
    the first is confirmed there, the second waitlisted; each gets one message (the new
    registration's); the two seats freed go to the two people waiting in the full one."""
    source, (a, b, c, wait1, wait2) = setup(conn, capacity=3, people=5)
    target, _ = setup(conn, capacity=1, people=0)
    before = len(messages(conn))
    outsider = Principal("coord-aktobe", "coordinator", "aktobe")
    with pytest.raises(NotFound):
        move_registrations(conn, source, target, [a], outsider, uuid.uuid4())
    moved = move_registrations(conn, source, target, [a, b], ALMATY, uuid.uuid4())
    assert [m.registration.status for m in moved] == ["confirmed", "waitlisted"]
    assert (status(conn, a), status(conn, b), status(conn, c)) == ("cancelled",) * 2 + (
        "confirmed",
    )
    assert (status(conn, wait1), status(conn, wait2)) == ("confirmed", "confirmed")
    new = messages(conn)[before:]
    assert sorted(k for k, _, _ in new) == ["confirmed", "promoted", "promoted", "waitlisted"]
    assert {r for k, r, _ in new if k in ("confirmed", "waitlisted")} == {
        m.registration.registration_id for m in moved
    }
    # Full again (the two promoted): a registration moved out already cannot move twice.
    with pytest.raises(Conflict, match="cancelled"):
        move_registrations(conn, source, target, [a], ALMATY, uuid.uuid4())
    with pytest.raises(Invalid):
        move_registrations(conn, source, source, [c], ALMATY, uuid.uuid4())


def test_moving_people_of_a_cancelled_session(conn: Connection) -> None:
    source, (a, b) = setup(conn, capacity=1, people=2)
    target, _ = setup(conn, capacity=5, people=0)
    with pytest.raises(Conflict, match="cancelled or full"):  # 0 of 5 seats taken
        move_registrations(conn, target, source, [a], ALMATY, uuid.uuid4())
    events.on_session_cancelled(
        conn,
        SessionCancelled(aggregate_id=source, aggregate_version=2, session_id=source, reason="x"),
    )
    moved = move_registrations(conn, source, target, [a, b], ALMATY, uuid.uuid4())
    assert [m.registration.status for m in moved] == ["confirmed", "confirmed"]
    with pytest.raises(Conflict):  # already registered there
        move_registrations(conn, source, target, [a], ALMATY, uuid.uuid4())
