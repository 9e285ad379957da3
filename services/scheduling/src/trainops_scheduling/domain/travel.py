"""Trainer travel time between in-person sessions in different cities.

Overlap checking (:mod:`trainops_scheduling.domain.overlap`) only keeps a trainer out of two
rooms at once; a trainer who ends in Astana at 12:00 cannot start in Shymkent at 12:30 either.
An in-person session in one city therefore needs a gap of the travel time between the two cities
after the trainer's previous in-person session elsewhere, and before the next one. Online
sessions need no gap (the trainer joins from wherever they are), and nor does a second session
in the same city. The times are installation settings, a default plus values per pair of cities
(the same in both directions), because only the programme knows its flights and roads.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from trainops_scheduling.domain.cities import CityCatalogue
from trainops_scheduling.domain.errors import InvalidField, TrainerDoubleBooked
from trainops_scheduling.domain.overlap import TrainerConflict
from trainops_scheduling.domain.session import Session
from trainops_scheduling.domain.times import TimeRange

DEFAULT_TRAVEL: Final[timedelta] = timedelta(hours=3)
"""A working day's margin for a domestic flight or a regional drive, door to door."""
MAX_TRAVEL: Final[timedelta] = timedelta(days=7)
"""No configured travel time goes above this: a typo of minutes for hours is refused at start-up."""


def _pair(a: str, b: str) -> frozenset[str]:
    return frozenset((a, b))


def parse_minutes(raw: str, field: str) -> timedelta:
    """A whole number of minutes in ``0..MAX_TRAVEL``, as the settings write it."""
    text = raw.strip().replace("_", "")
    if not text.isdigit():
        raise InvalidField(field, f"{raw.strip()!r} is not a whole number of minutes")
    value = timedelta(minutes=int(text[:9]))
    if value > MAX_TRAVEL or len(text) > 9:
        raise InvalidField(field, f"at most {int(MAX_TRAVEL.total_seconds() // 60)} minutes")
    return value


@dataclass(frozen=True)
class TravelTimes:
    """The gap a trainer needs between in-person sessions in two cities."""

    default: timedelta = DEFAULT_TRAVEL
    pairs: Mapping[frozenset[str], timedelta] = field(default_factory=dict)

    def between(self, a: str, b: str) -> timedelta:
        """Zero within one city; the pair's own value, else the default."""
        if a == b:
            return timedelta(0)
        return self.pairs.get(_pair(a, b), self.default)

    @property
    def longest(self) -> timedelta:
        """The widest gap any pair needs: how far around a session other bookings matter."""
        return max([self.default, *self.pairs.values()])

    @classmethod
    def parse(cls, default: str, pairs: str, catalogue: CityCatalogue) -> TravelTimes:
        """Read ``"180"`` and ``"almaty:astana=120, astana:oskemen=240"`` (minutes).

        Both cities of a pair must be in the catalogue and distinct, and a pair is given once
        (in either order), so a setting cannot silently contradict itself.
        """
        base = parse_minutes(default, "default") if default.strip() else DEFAULT_TRAVEL
        found: dict[frozenset[str], timedelta] = {}
        for item in (part.strip() for part in pairs.split(",")):
            if not item:
                continue
            cities, sep, minutes = item.partition("=")
            first, colon, second = cities.strip().partition(":")
            first, second = first.strip(), second.strip()
            if not sep or not colon or not first or not second:
                raise InvalidField("pairs", f"{item!r}: write city:city=minutes")
            catalogue.validate(first, field="pairs")
            catalogue.validate(second, field="pairs")
            if first == second:
                raise InvalidField("pairs", f"{item!r}: a pair needs two different cities")
            key = _pair(first, second)
            if key in found:
                raise InvalidField("pairs", f"{item!r}: {first}:{second} is given twice")
            found[key] = parse_minutes(minutes, "pairs")
        return cls(default=base, pairs=found)


def _place(session: Session) -> str | None:
    """The one city an in-person session happens in; ``None`` for online (no travel)."""
    return session.cities[0] if session.mode == "in_person" else None


def search_window(session: Session, travel: TravelTimes) -> TimeRange:
    """The interval in which other bookings of the session's trainers can matter (its own
    slot widened by the longest travel time, kept inside the calendar)."""
    margin = travel.longest
    low = datetime.min.replace(tzinfo=session.starts_at.tzinfo)
    high = datetime.max.replace(tzinfo=session.ends_at.tzinfo)
    starts = session.starts_at - margin if session.starts_at - low > margin else low
    ends = session.ends_at + margin if high - session.ends_at > margin else high
    return TimeRange(starts, ends)


def find_travel_conflicts(
    session: Session, existing: Iterable[Session], travel: TravelTimes
) -> list[TrainerConflict]:
    """Other in-person sessions of the same trainers, in another city, too close before or
    after ``session`` to travel between; earliest other session first.

    Overlapping sessions are left to the double-booking rule, and cancelled ones and the session
    itself (a reschedule) are skipped.
    """
    here = _place(session)
    if here is None or not session.trainer_ids:
        return []
    conflicts: list[TrainerConflict] = []
    for other in existing:
        there = _place(other)
        if other.status == "cancelled" or other.id == session.id or there in (None, here):
            continue
        assert there is not None
        need = travel.between(here, there)
        if other.ends_at <= session.starts_at:
            gap = session.starts_at - other.ends_at
        elif session.ends_at <= other.starts_at:
            gap = other.starts_at - session.ends_at
        else:
            continue
        if gap >= need:
            continue
        booked = set(other.trainer_ids)
        conflicts.extend(
            TrainerConflict(other.id, trainer, other.starts_at, other.ends_at, travel=need)
            for trainer in session.trainer_ids
            if trainer in booked
        )
    order = {trainer: i for i, trainer in enumerate(session.trainer_ids)}
    conflicts.sort(key=lambda c: (c.starts_at, c.session_id, order[c.trainer_id]))
    return conflicts


def travel_text(need: timedelta) -> str:
    """``3 h 30 min`` style, for error messages (pages localise their own)."""
    minutes = int(need.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


class TrainerTravelTooShort(TrainerDoubleBooked):
    """A trainer could not travel between this in-person session and another one in a
    different city in time (409 naming the other session and the travel time needed)."""

    def __init__(
        self,
        trainer_id: uuid.UUID,
        conflicting_session_id: uuid.UUID,
        travel: timedelta,
        field: str = "trainer_ids",
    ) -> None:
        self.trainer_id = trainer_id
        self.conflicting_session_id = conflicting_session_id
        self.travel = travel
        minutes = int(travel.total_seconds() // 60)
        super(TrainerDoubleBooked, self).__init__(
            field,
            f"trainer {trainer_id} needs {travel_text(travel)} to travel between this session "
            f"and session {conflicting_session_id} in another city",
            conflicting_session_id=str(conflicting_session_id),
            trainer_id=str(trainer_id),
            travel_minutes=minutes,
        )


def ensure_travel_possible(
    session: Session, existing: Iterable[Session], travel: TravelTimes
) -> None:
    """Raise :class:`TrainerTravelTooShort` for the first travel conflict, if any."""
    conflicts = find_travel_conflicts(session, existing, travel)
    if conflicts:
        first = conflicts[0]
        index = session.trainer_ids.index(first.trainer_id)
        need = first.travel if first.travel is not None else travel.default
        raise TrainerTravelTooShort(
            first.trainer_id, first.session_id, need, field=f"trainer_ids[{index}]"
        )
