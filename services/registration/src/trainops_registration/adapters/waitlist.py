"""The waiting list of a session: its head and tail, promotions, and closing gaps.

Positions stay 1..n: every exit from the waitlist (promotion, cancellation) moves the people
behind it up, in the same transaction, together with the session's seat counters.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_registration.adapters.registrations import registration_from_row
from trainops_registration.adapters.sessions import adjust_seats
from trainops_registration.adapters.tables import registrations
from trainops_registration.domain.records import Registration, SessionCopy
from trainops_registration.domain.seats import SessionSeats, WaitlistEntry

_r = registrations.c


def seat_snapshot(conn: Connection, session: SessionCopy, *, head: int) -> SessionSeats:
    """Capacity, confirmed count and the waitlist's first ``head`` and last entries.

    ``session`` must have been read under its row lock in this transaction: its seat counters
    are then the current ones.

    Only those entries are ever needed (promotions take at most the free seats from the head;
    a new registration goes after the last), so a long waitlist is never loaded whole, unless
    the session has quotas: then a promotion may pass over anyone, so the whole waitlist comes
    with each entry's city and sector, and the confirmed seats per city and sector too.
    """
    if session.quotas:
        return _quota_snapshot(conn, session)
    sid = str(session.session_id)
    waiting = sa.select(_r.registration_id, _r.waitlist_position).where(
        _r.session_id == sid, _r.status == "waitlisted"
    )
    entries: dict[uuid.UUID, int] = {}
    if head > 0:
        for rid, pos in conn.execute(waiting.order_by(_r.waitlist_position).limit(head)).all():
            entries[rid] = int(pos)
    last = conn.execute(waiting.order_by(_r.waitlist_position.desc()).limit(1)).first()
    if last is not None:
        entries[last[0]] = int(last[1])
    return SessionSeats(
        capacity=session.capacity,
        confirmed_count=session.confirmed_count,
        waitlist=tuple(WaitlistEntry(rid, pos) for rid, pos in entries.items()),
    )


def _quota_snapshot(conn: Connection, session: SessionCopy) -> SessionSeats:
    sid = str(session.session_id)
    waiting = conn.execute(
        sa.select(_r.registration_id, _r.waitlist_position, _r.city, _r.sector)
        .where(_r.session_id == sid, _r.status == "waitlisted")
        .order_by(_r.waitlist_position)
    ).all()
    held = conn.execute(
        sa.select(_r.city, _r.sector, sa.func.count())
        .where(_r.session_id == sid, _r.status == "confirmed")
        .group_by(_r.city, _r.sector)
    ).all()
    return SessionSeats(
        capacity=session.capacity,
        confirmed_count=session.confirmed_count,
        waitlist=tuple(WaitlistEntry(r, int(p), c, s) for r, p, c, s in waiting),
        quotas=session.quotas,
        held=tuple((c, s, int(n)) for c, s, n in held),
    )


def promote(
    conn: Connection, session_id: uuid.UUID, registration_ids: Sequence[uuid.UUID], now: datetime
) -> list[Registration]:
    """Confirm the head of the waitlist and close the gap they leave (positions stay 1..n);
    the session's seat counters move with them."""
    if not registration_ids:
        return []
    ids = [str(r) for r in registration_ids]
    conn.execute(
        registrations.update()
        .where(_r.registration_id.in_(ids))
        .values(
            status="confirmed",
            waitlist_position=None,
            version=_r.version + 1,
            updated_at=now,
        )
    )
    conn.execute(
        registrations.update()
        .where(_r.session_id == str(session_id), _r.status == "waitlisted")
        .values(waitlist_position=_r.waitlist_position - len(ids))
    )
    adjust_seats(
        conn, session_id, confirmed=len(ids), waitlisted=-len(ids), last_position=-len(ids)
    )
    rows = conn.execute(sa.select(registrations).where(_r.registration_id.in_(ids))).mappings()
    by_id = {r["registration_id"]: registration_from_row(r) for r in rows.all()}
    return [by_id[i] for i in registration_ids]


def leave_waitlist(conn: Connection, session_id: uuid.UUID, position: int | None) -> None:
    """A waitlisted registration left: everyone behind it moves up one place, and the queue
    ends one place earlier."""
    if position is not None:
        conn.execute(
            registrations.update()
            .where(
                _r.session_id == str(session_id),
                _r.status == "waitlisted",
                _r.waitlist_position > position,
            )
            .values(waitlist_position=_r.waitlist_position - 1)
        )
    adjust_seats(conn, session_id, waitlisted=-1, last_position=-1)
