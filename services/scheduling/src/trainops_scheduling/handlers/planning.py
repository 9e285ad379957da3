"""The read use cases behind the programme staff's pages: the board and the previews.

A preview runs the same domain checks as the change it announces (times, capacity, cities,
trainers, the trainer-overlap rule) inside a read transaction, without locking or writing, so
a planner sees the clash before saving; the change itself re-checks everything under its locks.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from trainops_scheduling.adapters import registrations, sessions, trainers, trainings
from trainops_scheduling.domain import (
    DEFAULT_MAX_CAPACITY,
    MAX_SESSION_LENGTH,
    CityCatalogue,
    InvalidField,
    Session,
    SessionMode,
    TrainerConflict,
    TravelTimes,
    find_trainer_conflicts,
    find_travel_conflicts,
    parse_interval,
    search_window,
)
from trainops_scheduling.domain.cities import load_zone
from trainops_scheduling.domain.records import SessionFilter, TrainerRecord, TrainingRecord
from trainops_scheduling.domain.registrations import RegistrationCounts
from trainops_shared.errors import Invalid, NotFound
from trainops_shared.events import SeatQuota


@dataclass(frozen=True)
class Board:
    """Sessions with what a page needs to name them (trainings and trainers by id) and how
    many people registration holds for each."""

    sessions: list[Session]
    trainings: dict[uuid.UUID, TrainingRecord]
    trainers: dict[uuid.UUID, TrainerRecord]
    counts: dict[uuid.UUID, RegistrationCounts]

    def counts_of(self, session: Session) -> RegistrationCounts:
        return self.counts.get(session.id, RegistrationCounts()).shown()


@dataclass(frozen=True)
class Clash:
    """A trainer conflict with the other session itself, so the page can show and link it."""

    conflict: TrainerConflict
    session: Session


@dataclass(frozen=True)
class Preview:
    """The session as the change would leave it, and every trainer clash that would refuse it."""

    session: Session
    clashes: list[Clash]
    board: Board
    alternative: Session | None = None
    """For a cancellation, the session its people are offered instead."""


def _board(conn: Connection, found: list[Session]) -> Board:
    return Board(
        sessions=found,
        trainings={t.id: t for t in trainings.list_trainings(conn)},
        trainers={t.id: t for t in trainers.list_trainers(conn)},
        counts=registrations.counts_of(conn, [s.id for s in found]),
    )


def read_board(conn: Connection, flt: SessionFilter) -> Board:
    """Sessions matching ``flt`` (earliest first) with every training and trainer."""
    return _board(conn, sessions.find_sessions(conn, flt))


def read_session(conn: Connection, session_id: uuid.UUID) -> Board:
    """One session (404 if unknown) with every training and trainer."""
    session = sessions.get_session(conn, session_id)
    if session is None:
        raise NotFound(f"no session {session_id}", field="session_id")
    return _board(conn, [session])


def _clashes(conn: Connection, session: Session, travel: TravelTimes) -> list[Clash]:
    """Double bookings first, then sessions too close in another city to travel between."""
    nearby = sessions.sessions_overlapping(
        conn, session.trainer_ids, search_window(session, travel)
    )
    by_id = {s.id: s for s in nearby}
    overlapping = [s for s in nearby if s.interval.overlaps(session.interval)]
    found = find_trainer_conflicts(session.trainer_ids, session.interval, overlapping, session.id)
    found += find_travel_conflicts(session, nearby, travel)
    return [Clash(c, by_id[c.session_id]) for c in found]


def preview_schedule(
    conn: Connection,
    *,
    catalogue: CityCatalogue,
    training_id: uuid.UUID,
    mode: SessionMode,
    cities: Sequence[str],
    starts_at: str,
    ends_at: str,
    capacity: int,
    language: str,
    trainer_ids: Sequence[uuid.UUID],
    venue: str | None,
    max_capacity: int = DEFAULT_MAX_CAPACITY,
    travel: TravelTimes | None = None,
    quotas: Sequence[SeatQuota] = (),
) -> Preview:
    """The session ``schedule_session`` would create from these values, and its clashes.

    Times are wall times in the first city's zone, as the scheduling use case reads them.
    """
    for i, city in enumerate(cities):
        catalogue.validate(city, field=f"cities[{i}]")
    if not cities:
        raise InvalidField("cities", "at least one city is required")
    zone_name = catalogue.timezone_of(cities[0])
    interval = parse_interval(starts_at, ends_at, load_zone(zone_name))
    if trainings.get_training(conn, training_id) is None:
        raise Invalid(f"unknown training {training_id}", field="training_id")
    session = Session.schedule(
        id=uuid.uuid4(),
        training_id=training_id,
        mode=mode,
        cities=cities,
        starts_at=interval.starts_at,
        ends_at=interval.ends_at,
        capacity=capacity,
        language=language,
        catalogue=catalogue,
        timezone=zone_name,
        trainer_ids=trainer_ids,
        venue=venue,
        max_capacity=max_capacity,
        quotas=quotas,
    )
    known = {t.id for t in trainers.list_trainers(conn)}
    for i, trainer_id in enumerate(session.trainer_ids):
        if trainer_id not in known:
            raise Invalid(f"unknown trainer {trainer_id}", field=f"trainer_ids[{i}]")
    clashes = _clashes(conn, session, travel or TravelTimes())
    return Preview(session, clashes, _board(conn, [session]))


def preview_reschedule(
    conn: Connection,
    *,
    session_id: uuid.UUID,
    starts_at: str,
    ends_at: str,
    travel: TravelTimes | None = None,
) -> Preview:
    """The session moved as ``reschedule_session`` would move it, and its clashes."""
    before = read_session(conn, session_id).sessions[0]
    interval = parse_interval(starts_at, ends_at, before.timezone)
    after = before.reschedule(interval.starts_at, interval.ends_at)
    clashes = _clashes(conn, after, travel or TravelTimes()) if after is not before else []
    return Preview(after, clashes, _board(conn, [after]))


def preview_capacity(
    conn: Connection,
    *,
    session_id: uuid.UUID,
    capacity: int,
    max_capacity: int,
    quotas: Sequence[SeatQuota] | None = None,
) -> Preview:
    before = read_session(conn, session_id).sessions[0]
    after = before.change_capacity(capacity, max_capacity, quotas)
    return Preview(after, [], _board(conn, [after]))


def cancel_alternatives(conn: Connection, session: Session, now: datetime) -> list[Session]:
    """The sessions a cancelled one's people can be offered instead: the same training's other
    sessions still scheduled and not yet started, those in one of its cities first, then by
    start, so the nearest fit heads the list."""
    found = sessions.find_sessions(
        conn,
        SessionFilter(training_id=session.training_id, status="scheduled", starts_from=now),
    )
    others = [s for s in found if s.id != session.id]
    cities = set(session.cities)
    return sorted(others, key=lambda s: (not cities & set(s.cities), s.starts_at))


def preview_cancel(
    conn: Connection,
    *,
    session_id: uuid.UUID,
    reason: str,
    alternative_session_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Preview:
    """The session cancelled, and the alternative offered, which must be one of
    :func:`cancel_alternatives` as of ``now`` (else 422 naming the field)."""
    before = read_session(conn, session_id).sessions[0]
    after = before.cancel(reason)
    alternative = None
    if alternative_session_id is not None:
        offered = cancel_alternatives(conn, before, now or datetime.now(UTC))
        alternative = next((s for s in offered if s.id == alternative_session_id), None)
        if alternative is None:
            raise InvalidField(
                "alternative_session_id",
                "not a scheduled, coming session of the same training",
            )
    return Preview(after, [], _board(conn, [after]), alternative)


def preview_complete(conn: Connection, *, session_id: uuid.UUID) -> Preview:
    before = read_session(conn, session_id).sessions[0]
    after = before.complete()
    return Preview(after, [], _board(conn, [after]))


def read_home(
    conn: Connection, flt: SessionFilter, now: datetime, upcoming: int, past: int
) -> tuple[Board, list[Session], list[Session]]:
    """Up to ``upcoming`` sessions still to end, earliest first, and up to ``past`` that have
    ended, latest first, matching ``flt``'s city, training and status.

    Two queries, so a long history never pushes the coming sessions off the page: a session
    that started up to :data:`MAX_SESSION_LENGTH` ago may still be running.
    """
    coming = sessions.find_sessions(
        conn, replace(flt, starts_from=now - MAX_SESSION_LENGTH, limit=upcoming)
    )
    # Sessions still running started before now too; they are left out of the past, so the
    # query asks for as many more as the first list may hold.
    ended = sessions.find_sessions(
        conn, replace(flt, starts_before=now, newest_first=True, limit=past + upcoming)
    )
    ahead = [s for s in coming if s.ends_at > now]
    behind = [s for s in ended if s.ends_at <= now][:past]
    return _board(conn, [*ahead, *behind]), ahead, behind
